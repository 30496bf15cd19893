"""search index for duty search

SQLite: an external-content FTS5 table over person_search, kept in step by triggers.
PostgreSQL: pg_trgm GIN indexes for LIKE '% token %' on the text columns, and a
pattern index on the date of birth for LIKE '2014-03-%'.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FTS = "person_search_fts"
COLUMNS = ("names", "phonetic", "address", "ids", "dob")
TRIGRAM_COLUMNS = ("names", "phonetic", "address", "ids")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        cols = ", ".join(COLUMNS)
        new = ", ".join(f"new.{c}" for c in COLUMNS)
        old = ", ".join(f"old.{c}" for c in COLUMNS)
        # prefix indexes make "m", "mo" and "moh" as cheap as a whole word while typing
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS} USING fts5({cols}, content='person_search', "
            "content_rowid='person_id', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')"
        )
        op.execute(
            f"CREATE TRIGGER person_search_ai AFTER INSERT ON person_search BEGIN "
            f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.person_id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER person_search_ad AFTER DELETE ON person_search BEGIN "
            f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.person_id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER person_search_au AFTER UPDATE ON person_search BEGIN "
            f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.person_id, {old}); "
            f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.person_id, {new}); END"
        )
        op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            op.execute(
                f"CREATE INDEX ix_person_search_{column}_trgm ON person_search USING gin ({column} gin_trgm_ops)"
            )
        op.execute("CREATE INDEX ix_person_search_dob ON person_search (dob varchar_pattern_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("person_search_ai", "person_search_ad", "person_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_person_search_dob")
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_person_search_{column}_trgm")
        # the extension stays: other objects may use it, and dropping it needs more rights
