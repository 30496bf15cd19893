"""The Case API's schema, as SQLAlchemy Core tables.

Timestamps are stored as ISO-8601 UTC text ("2026-11-21T09:30:00Z") and dates as
"YYYY-MM-DD": they sort correctly as text, read the same on SQLite and
PostgreSQL, bulk-load without per-row conversion, and carry no time-zone
ambiguity. The migrations in ``server/migrations`` create these tables; this
module is what queries are written against.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("team", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(20), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    # only a SHA-256 of each token is kept, so a database leak yields no live sessions
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # access | refresh
    Column("expires_at", String(20), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("ix_tokens_user", "user_id"),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("la_child_id", String(20), nullable=False, unique=True),
    Column("upn", String(13)),
    Column("nhs_number", String(10)),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),
    Column("aliases", Text, nullable=False),  # JSON list of strings
    Column("dob", String(10)),
    Column("expected_dob", String(10)),
    Column("gender", String(20), nullable=False),
    Column("ethnicity", String(10)),
    Column("disability", String(200)),
    Column("first_language", String(50)),
    Column("address", String(300)),
    Column("postcode", String(10)),
    Column("school", String(200)),
    Column("family_id", Integer),
    Index("ix_people_upn", "upn"),
    Index("ix_people_nhs", "nhs_number"),
    Index("ix_people_family", "family_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("status", String(10), nullable=False),  # open | closed
    Column("category", String(20), nullable=False),
    Column("legal_status", String(100)),
    Column("allocated_worker", String(64)),  # username
    Column("team", String(100), nullable=False),
    Column("opened_at", String(20), nullable=False),
    Column("closed_at", String(20)),
    Column("placement_type", String(100)),
    Column("whereabouts_address", String(300)),
    Column("carer", String(200)),
    Column("whereabouts_since", String(20)),
    Column("missing_since", String(20)),
    Column("restricted", Boolean, nullable=False),
    Column("restricted_contact", String(200)),
    Column("last_visit_at", String(20)),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(20), nullable=False),
    Index("ix_cases_worker", "allocated_worker", "status"),
    Index("ix_cases_team", "team", "status"),
    Index("ix_cases_person", "person_id"),
)

case_flags = Table(
    "case_flags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("code", String(30), nullable=False),
    Column("label", String(200), nullable=False),
    Column("severity", String(10), nullable=False),  # high | medium | low
    Column("since", String(10)),
    Index("ix_case_flags_case", "case_id"),
)

key_contacts = Table(
    "key_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("relationship", String(100)),
    Column("phone", String(30)),
    Index("ix_key_contacts_case", "case_id", "position"),
)

case_access = Table(
    "case_access",
    metadata,
    # the access list of a restricted case: only these users may read it
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    PrimaryKeyConstraint("case_id", "user_id"),
    Index("ix_case_access_user", "user_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("amends", Integer, ForeignKey("notes.id")),
    Index("ix_notes_case", "case_id", "id"),
)

chronology = Table(
    "chronology",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("occurred_at", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("source_agency", String(100)),
    Column("summary", String(500), nullable=False),
    Column("detail", Text),
    Column("key_event", Boolean, nullable=False),
    Column("author", String(64)),
    Column("note_id", Integer, ForeignKey("notes.id")),
    Index("ix_chronology_case_time", "case_id", "occurred_at", "id"),
    Index("ix_chronology_case_kind", "case_id", "kind", "occurred_at", "id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("assignee", String(64)),
    Column("status", String(10), nullable=False),  # open | done | snoozed
    Column("snoozed_until", String(10)),
    Column("priority", String(10), nullable=False),  # high | normal | low
    Column("completed_at", String(20)),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(20), nullable=False),
    Index("ix_tasks_assignee", "assignee", "status", "due_on", "id"),
    Index("ix_tasks_case", "case_id", "status"),
)

changes = Table(
    "changes",
    metadata,
    # the delta feed: one row per committed write, in commit order
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("type", String(20), nullable=False),  # case | task | note | user
    Column("entity_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("case_id", Integer),
    Column("at", String(20), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(20), nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("case_id", Integer),
    Column("source", String(10), nullable=False),  # server | cache
    Column("detail", String(500)),
    Index("ix_audit_case", "case_id", "at"),
    Index("ix_audit_user", "username", "at"),
    Index("ix_audit_at", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(300), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("location", String(300)),
    Column("created_at", String(20), nullable=False),
    PrimaryKeyConstraint("user_id", "key"),
    Index("ix_idempotency_created", "created_at"),
)

person_search = Table(
    "person_search",
    metadata,
    # denormalised search text, one row per person, kept by server.search
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("names", Text, nullable=False),
    Column("phonetic", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("ids", Text, nullable=False),
    Column("dob", String(10)),
)
