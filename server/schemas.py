"""Request and response bodies of the Case API, v1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.vocab import CaseStatus, Category, NoteKind, Priority, Role, Severity, TaskStatus

Timestamp = Annotated[str, Field(description="UTC, ISO-8601: 2026-11-21T09:30:00Z", examples=["2026-11-21T09:30:00Z"])]
DateText = Annotated[str, Field(description="YYYY-MM-DD", examples=["2026-11-21"])]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{1,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error and not silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- auth -----------------------------------------------------------------

class TokenRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int


# --- users ----------------------------------------------------------------

class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    team: str
    active: bool
    version: int


class UserCreate(Strict):
    username: Username
    display_name: ShortText
    role: Role
    team: ShortText
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class UserPatch(Strict):
    display_name: ShortText | None = None
    role: Role | None = None
    team: ShortText | None = None
    active: bool | None = None
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


# --- people and cases -------------------------------------------------------

class Person(BaseModel):
    id: int
    la_child_id: str
    upn: str | None
    nhs_number: str | None
    given_name: str
    family_name: str
    aliases: list[str]
    dob: DateText | None
    expected_dob: DateText | None
    gender: str
    ethnicity: str | None
    disability: str | None
    first_language: str | None
    address: str | None
    postcode: str | None
    school: str | None


class Whereabouts(BaseModel):
    placement_type: str | None
    address: str | None
    carer: str | None
    since: Timestamp | None
    missing_since: Timestamp | None


class Flag(BaseModel):
    code: str
    label: str
    severity: Severity
    since: DateText | None


class KeyContact(BaseModel):
    role: str
    name: str
    relationship: str | None
    phone: str | None


class Case(BaseModel):
    id: int
    person: Person
    status: CaseStatus
    category: Category
    legal_status: str | None
    allocated_worker: str | None
    allocated_worker_name: str | None
    team: str
    opened_at: Timestamp
    closed_at: Timestamp | None
    whereabouts: Whereabouts
    flags: list[Flag]
    key_contacts: list[KeyContact]
    last_visit_at: Timestamp | None
    restricted: bool
    version: int
    updated_at: Timestamp


class CaseSummary(BaseModel):
    id: int
    person_id: int
    given_name: str
    family_name: str
    dob: DateText | None
    status: CaseStatus
    category: Category
    allocated_worker: str | None
    team: str
    flags: list[Flag]
    placement_type: str | None
    missing_since: Timestamp | None
    next_task_due: DateText | None
    overdue_tasks: int
    last_visit_at: Timestamp | None
    restricted: bool
    version: int
    updated_at: Timestamp


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


# --- chronology and notes ---------------------------------------------------

class ChronologyEvent(BaseModel):
    id: int
    case_id: int
    occurred_at: Timestamp
    kind: str
    source_agency: str | None
    summary: str
    detail: str | None
    key_event: bool
    author: str | None
    note_id: int | None


class ChronologyPage(BaseModel):
    items: list[ChronologyEvent]
    next_cursor: str | None


class Note(BaseModel):
    id: int
    case_id: int
    kind: NoteKind
    occurred_at: Timestamp
    body: str
    author: str
    created_at: Timestamp
    amends: int | None


class NoteCreate(Strict):
    kind: NoteKind
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    occurred_at: dt.datetime | None = Field(
        default=None, description="When the visit or call happened; defaults to now. Not in the future."
    )
    amends: int | None = Field(default=None, ge=1, le=2_147_483_647, description="The id of the note this one corrects")


class NotePage(BaseModel):
    items: list[Note]
    next_cursor: str | None


# --- tasks ----------------------------------------------------------------

class Task(BaseModel):
    id: int
    case_id: int
    title: str
    kind: str
    due_on: DateText
    assignee: str | None
    status: TaskStatus
    snoozed_until: DateText | None
    priority: Priority
    completed_at: Timestamp | None
    version: int
    updated_at: Timestamp


class TaskPatch(Strict):
    status: TaskStatus | None = None
    snoozed_until: dt.date | None = None
    assignee: Username | None = None
    due_on: dt.date | None = None
    priority: Priority | None = None


class TaskPage(BaseModel):
    items: list[Task]
    next_cursor: str | None


# --- search, directory, changes -----------------------------------------------

class SearchHit(BaseModel):
    person_id: int | None = Field(description="absent for a restricted stub")
    case_id: int | None
    restricted: bool
    given_name: str | None = None
    family_name: str | None = None
    aliases: list[str] = []
    dob: DateText | None = None
    address: str | None = None
    postcode: str | None = None
    la_child_id: str | None = None
    category: Category | None = None
    status: CaseStatus | None = None
    flags: list[Flag] = []
    allocated_worker: str | None = None
    team: str | None = None
    message: str | None = Field(default=None, description="for a restricted stub: whom to contact")
    score: float


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit]


class DirectoryEntry(BaseModel):
    person_id: int | None
    case_id: int | None
    restricted: bool
    given_name: str | None
    family_name: str | None
    aliases: list[str]
    dob: DateText | None
    address: str | None
    postcode: str | None
    la_child_id: str | None
    upn: str | None
    nhs_number: str | None
    category: Category | None
    status: CaseStatus | None
    flags: list[str]
    allocated_worker: str | None
    team: str | None
    message: str | None


class DirectoryPage(BaseModel):
    items: list[DirectoryEntry]
    next_cursor: str | None


class Change(BaseModel):
    type: Literal["case", "task", "note", "user"]
    id: int
    version: int
    case_id: int | None


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str


# --- audit, health -----------------------------------------------------------

class AuditEvent(BaseModel):
    id: int
    at: Timestamp
    username: str
    action: str
    case_id: int | None
    source: Literal["server", "cache"]
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None


class CachedView(Strict):
    case_id: int = Field(ge=1, le=2_147_483_647)
    viewed_at: dt.datetime
    what: Literal["case", "chronology", "notes", "tasks"] = "case"


class CachedViews(Strict):
    views: Annotated[list[CachedView], Field(min_length=1, max_length=500)]


class Accepted(BaseModel):
    accepted: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: Literal["sqlite", "postgresql"]
    schema_revision: str
    time: Timestamp
