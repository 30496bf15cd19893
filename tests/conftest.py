"""Shared fixtures: a Case API on SQLite and on PostgreSQL, each test on its own copy of the data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sqlalchemy import select

from server import db
from server.auth import issue_tokens
from server.tables import users
from server.app import create_app
from tests import pg
from tests.server import dataset

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "casework.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    dataset.load(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = pg.unique_name("cw_tpl")
    pg.create_database(name)
    try:
        engine = db.make_engine(pg.sqlalchemy_url(name))
        db.migrate(engine)
        dataset.load(engine)
        engine.dispose()
        yield name
    finally:
        pg.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the test dataset on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "casework.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = pg.unique_name("cw_test")
    pg.create_database(name, template=template_name)
    try:
        yield pg.sqlalchemy_url(name)
    finally:
        pg.drop_database(name)


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    application = create_app(database_url)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def login(app) -> Callable[[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """login("pat") → Authorization headers for that dataset user.

    Tokens are issued directly: Argon2 is deliberately slow (~0.2 s a check), and
    sign-in itself has its own tests.
    """
    cache: dict[str, dict[str, str]] = {}

    def sign_in(username: str) -> dict[str, str]:
        if username not in cache:
            with app.state.engine.begin() as conn:
                user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
                pair = issue_tokens(conn, user_id, 900, 3600)
            cache[username] = {"Authorization": f"Bearer {pair['access_token']}"}
        return cache[username]

    return sign_in


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CASEWORK_TESTING", "1")
