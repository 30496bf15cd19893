"""Fixtures for the TUI tests: a seeded Case API, stores filled by the real sync engine, an App factory.

The server database is seeded once per session with a fixed ``today``, and the
real ``SyncEngine`` fills one store for ``worker`` and one for ``duty`` over an
in-process ``httpx.ASGITransport``. Each test gets its own copy of a store file,
so it can write notes and drafts without touching the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.api import CaseAPI
from client.credentials import MemoryTokenStore, Tokens
from client.store import Store
from client.sync import SyncEngine

SEED_TODAY = dt.date(2026, 11, 21)
SEED_CASES = 300
BASE_URL = "http://casework.test"
DOWN_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once
PASSWORD = "demo"


# --- the server -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from server import db
    from server.seed import seed

    path = tmp_path_factory.mktemp("tui-server") / "server.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    seed(engine, cases=SEED_CASES, seed=1, today=SEED_TODAY)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def server_app(seeded_db: Path, tmp_path: Path) -> Iterator[Any]:
    """The Case API on this test's own copy of the seeded database (a live sync may write to it)."""
    from server.app import create_app

    target = tmp_path / "server.db"
    shutil.copyfile(seeded_db, target)
    application = create_app(f"sqlite:///{target}")
    yield application
    application.state.engine.dispose()


# --- stores filled by the real sync engine -------------------------------------------------------------------

async def _fill(app: Any, path: Path, username: str) -> None:
    store = Store.open(path)
    api = CaseAPI(BASE_URL, transport=httpx.ASGITransport(app=app))
    try:
        await api.sign_in(username, PASSWORD)
        result = await SyncEngine(api, store, username=username).sync_once(full=True)
        assert result.ok and result.full, result.error
    finally:
        await api.aclose()
        store.close()


@pytest.fixture(scope="session")
def synced_stores(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """username → a store file after a full initial sync (worker: caseload in detail; duty: the directory)."""
    import server.clock
    from server.app import create_app

    folder = tmp_path_factory.mktemp("tui-stores")
    folder.chmod(0o700)
    paths = {user: folder / f"{user}.db" for user in ("worker", "duty")}
    application = create_app(f"sqlite:///{seeded_db}")
    try:
        with pytest.MonkeyPatch.context() as patch:
            # overdue counts are worked out by the server against its calendar: use the seed's day, so the
            # caseload's order and the snapshots do not change with the date the suite runs on
            patch.setattr(server.clock, "today", lambda: SEED_TODAY)
            for user, path in paths.items():
                asyncio.run(_fill(application, path, user))
    finally:
        application.state.engine.dispose()
    return paths


StoreFactory = Callable[[str], Store]


@pytest.fixture
def make_store(synced_stores: dict[str, Path], tmp_path: Path) -> Iterator[StoreFactory]:
    """``make_store("worker")``: this test's own writable copy of that user's synced store."""
    folder = tmp_path / "client"
    folder.mkdir(mode=0o700, exist_ok=True)
    opened: list[Store] = []

    def make(username: str) -> Store:
        target = folder / f"{username}.db"
        shutil.copyfile(synced_stores[username], target)
        os.chmod(target, 0o600)
        store = Store.open(target)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def worker_store(make_store: StoreFactory) -> Store:
    return make_store("worker")


@pytest.fixture
def duty_store(make_store: StoreFactory) -> Store:
    return make_store("duty")


# --- APIs and the App ----------------------------------------------------------------------------------------

@pytest.fixture
async def apis() -> AsyncIterator[list[CaseAPI]]:
    """CaseAPIs made by a test, closed after it."""
    made: list[CaseAPI] = []
    yield made
    for api in made:
        await api.aclose()


@pytest.fixture
def down_api(apis: list[CaseAPI]) -> CaseAPI:
    """An API whose server is down: it holds (made-up) tokens, so every call fails as Offline, not signed-out."""
    api = CaseAPI(DOWN_URL, tokens=MemoryTokenStore(Tokens("stale-access", "stale-refresh")))
    apis.append(api)
    return api


@pytest.fixture
def live_api(server_app: Any, apis: list[CaseAPI]) -> Callable[[str], Any]:
    """``await live_api("duty")``: a CaseAPI signed in to the in-process server."""

    async def make(username: str) -> CaseAPI:
        api = CaseAPI(BASE_URL, transport=httpx.ASGITransport(app=server_app))
        apis.append(api)
        await api.sign_in(username, PASSWORD)
        return api

    return make


@pytest.fixture
async def engines() -> AsyncIterator[list[SyncEngine]]:
    """Sync engines made by a test, stopped after it (the App's own exit does not stop them)."""
    made: list[SyncEngine] = []
    yield made
    for engine in made:
        await engine.stop()


@pytest.fixture
def offline_api() -> Iterator[CaseAPI]:
    """For apps with no sync engine: an API that is never called (closing it needs no event loop)."""
    yield CaseAPI(DOWN_URL)


# --- deterministic clock for snapshots --------------------------------------------------------------------------

@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ages, "overdue 3d", "seen 12d ago" and "as of HH:MM" come from the real clock in screens.format;
    snapshots pin them to the seed's day and a fixed time, or they would change every day the suite runs."""
    from screens import format

    monkeypatch.setattr(format, "today", lambda: SEED_TODAY)
    monkeypatch.setattr(format, "as_of", lambda text: "as of 09:30" if text else "")
