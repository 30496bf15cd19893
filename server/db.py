"""Engines and migrations for the reference server (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseURLError(ValueError):
    """A database URL that the server cannot use, with a message a person can act on."""


def default_database_url() -> str:
    """CASEWORK_DATABASE_URL, or a SQLite file in the user data dir."""
    env = os.environ.get("CASEWORK_DATABASE_URL")
    if env:
        return env
    from platformdirs import user_data_path

    path = user_data_path("casework", appauthor=False, ensure_exists=True) / "server.db"
    return f"sqlite:///{path}"


def check_database_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseURLError(
            f"not a database URL: {url!r} (use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host/dbname)"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    url = check_database_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            parent = Path(database).expanduser().parent
            if not parent.is_dir():
                raise DatabaseURLError(f"the folder for the database does not exist: {parent}")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns that revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""


def reset(engine: Engine) -> None:
    """Drop every table, the search index and the migration record: for ``seed --fresh``."""
    from sqlalchemy import MetaData, text

    with engine.begin() as connection:
        if is_sqlite(engine):
            connection.execute(text("DROP TABLE IF EXISTS person_fts"))
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def sync_sequences(connection: Connection) -> None:
    """After rows were loaded with explicit ids, move PostgreSQL's id sequences past them."""
    if connection.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    from server.tables import metadata

    for table in metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].autoincrement in (True, "auto") and key[0].type.python_type is int:
            name = key[0].name
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{name}'), "
                f"COALESCE((SELECT MAX({name}) FROM {table.name}), 0) + 1, false)"
            ))
