"""A hypothesis state machine: the client and the real server, with a misbehaving network between them.

Faults: the server is down; an answer is lost after the server committed; a request is delivered twice.
Also: a colleague edits a task on the server; access to a case is revoked; the client is killed and its
store reopened from the same file with a new engine.

Invariants:
- every write acknowledged to the user (the store returned an outbox item) reaches the server at most once
  at every step, and exactly once when the network is good again, unless access to its case was revoked;
- the outbox and drafts survive restarts;
- a change refused with 412 is never sent again by itself (no 200 for its key after the 412): the
  colleague's edit is not overwritten;
- after a successful sync, nothing of a revoked or restricted case can be read from the store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import func, select

from client.api import CaseAPI
from client.credentials import MemoryTokenStore, Tokens
from client.outbox import BLOCKED, PENDING
from client.store import Store, StoreError
from client.sync import REFUSED, SyncEngine
from server.app import create_app
from server.tables import case_access, cases, changes, notes, tasks
from tests.client.conftest import BASE_URL, FaultyTransport, fast_settings
from tests.server.dataset import IDS, PASSWORD

CASES = (IDS.open_case, IDS.other_case)      # pat's own, and a colleague's pat may read and write notes on
TASKS = (IDS.pat_task, IDS.overdue_task)     # pat's tasks, on the open case
# the directory is refreshed on its own (hourly) schedule, so it is revalidating what the client holds that
# must remove a revoked case here, not a directory refresh that happens to mark it restricted
SETTINGS: dict[str, Any] = {}
FAULTS = st.sampled_from(["none", "server down", "answer lost", "delivered twice"])


def _run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


@pytest.fixture
def templates(sqlite_template: Path, tmp_path: Path) -> tuple[Path, Path, Tokens]:
    """A server database with pat signed in, and pat's store after the first full sync: every example starts
    from copies of these, so no example pays for Argon2 or a full sync."""
    server_db = tmp_path / "tpl-server.db"
    shutil.copyfile(sqlite_template, server_db)
    store_file = tmp_path / "tpl-client" / "pat.db"
    app = create_app(f"sqlite:///{server_db}")
    loop = asyncio.new_event_loop()
    try:
        api = CaseAPI(BASE_URL, transport=httpx.ASGITransport(app=app), tokens=MemoryTokenStore())
        tokens = _run(loop, api.sign_in("pat", PASSWORD))
        store = Store.open(store_file)
        engine = SyncEngine(api, store, username="pat", settings=fast_settings(**SETTINGS))
        # a neighbour as well, so that revoking it has something to remove
        assert _run(loop, engine.sync_once()).ok
        _run(loop, engine.prefetch_neighbours([IDS.other_case]))
        store.close()
        _run(loop, api.aclose())
    finally:
        loop.close()
        app.state.engine.dispose()
    return server_db, store_file, tokens


def test_client_and_server_under_faults(templates: tuple[Path, Path, Tokens], tmp_path: Path) -> None:
    server_tpl, store_tpl, tokens = templates
    counter = itertools.count()

    class ClientAndServer(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            n = next(counter)
            folder = tmp_path / f"ex{n}"
            (folder / "client").mkdir(parents=True, mode=0o700)
            shutil.copyfile(server_tpl, folder / "server.db")
            shutil.copy2(store_tpl, folder / "client" / "pat.db")  # with its 0600 mode: the store checks
            self.store_file = folder / "client" / "pat.db"
            self.app = create_app(f"sqlite:///{folder / 'server.db'}", run_migrations=False)
            self.server = self.app.state.engine
            self.api: CaseAPI | None = None
            self.loop = asyncio.new_event_loop()
            self.net = FaultyTransport(httpx.ASGITransport(app=self.app))
            self.tokens = MemoryTokenStore(tokens)
            self.store: Store = Store.open(self.store_file)
            self.engine = self._new_engine()
            self.markers: dict[str, int] = {}    # note marker -> its outbox item id
            self.drafts: dict[int, str] = {}     # draft id -> body
            self.revoked: set[int] = set()       # revoked on the server...
            self.confirmed: set[int] = set()     # ...and a sync has completed since
            self.serial = itertools.count()

        def _new_engine(self) -> SyncEngine:
            if self.api is not None:
                _run(self.loop, self.api.aclose())
            self.api = CaseAPI(BASE_URL, transport=self.net, tokens=self.tokens)
            return SyncEngine(self.api, self.store, username="pat", settings=fast_settings(**SETTINGS))

        def teardown(self) -> None:
            try:
                if hasattr(self, "engine"):
                    self._settle()
            finally:
                if hasattr(self, "loop"):
                    if self.api is not None:
                        _run(self.loop, self.api.aclose())
                    self.loop.close()
                if hasattr(self, "store"):
                    self.store.close()
                if hasattr(self, "app"):
                    self.app.state.engine.dispose()

        def _settle(self) -> None:
            """The network is good again: everything sendable goes, once."""
            self.net.clear()
            for _ in range(4):
                result = _run(self.loop, self.engine.sync_once())
                assert result.ok, result.error
                if not self.store.pending():
                    break
            self._confirm_revocations()
            self.check_revoked_unreadable()
            for marker, item_id in self.markers.items():
                item = self.store.outbox_item(item_id)
                assert item is not None
                # blocked: access ended before it could be sent (or before its lost answer could be replayed)
                expected = (0, 1) if item.state == BLOCKED else (1,)
                assert self._on_server(marker) in expected, (marker, item)
            sendable = {i.id for i in self.store.pending()}
            for item in self.store.unsent():
                # left: conflicts for the user, blocked work of revoked cases, changes the server refused, and
                # changes queued behind a conflict on the same task (the store holds them until it is resolved)
                assert (item.state != PENDING or item.id not in sendable
                        or (item.last_error or "").startswith(REFUSED)), item

        # --- helpers ----------------------------------------------------------------------------------------

        def _on_server(self, marker: str) -> int:
            with self.server.connect() as conn:
                return conn.execute(select(func.count()).select_from(notes)
                                    .where(notes.c.body.contains(marker))).scalar_one()

        def _confirm_revocations(self) -> None:
            self.confirmed |= self.revoked

        # --- the user -------------------------------------------------------------------------------------

        @rule(case_id=st.sampled_from(CASES), kind=st.sampled_from(["case_note", "home_visit", "phone_call"]))
        def add_note(self, case_id: int, kind: str) -> None:
            marker = f"MARK-{next(self.serial)}-"
            item = self.store.add_note(case_id, kind, f"Note {marker} written by the state machine")
            self.markers[marker] = item.id

        @rule(case_id=st.sampled_from(CASES))
        def save_draft(self, case_id: int) -> None:
            body = f"Draft {next(self.serial)}"
            self.drafts[self.store.save_draft(case_id, "case_note", body)] = body

        @rule(task_id=st.sampled_from(TASKS), action=st.sampled_from(["complete", "snooze", "reopen"]))
        def change_task(self, task_id: int, action: str) -> None:
            try:
                if action == "complete":
                    self.store.complete_task(task_id)
                elif action == "reopen":
                    self.store.reopen_task(task_id)
                else:
                    self.store.snooze_task(task_id, (dt.date.today() + dt.timedelta(days=5)).isoformat())
            except StoreError:
                assert IDS.open_case in self.revoked  # only a purged task is missing

        # --- the world ------------------------------------------------------------------------------------

        def _waiting_task_changes(self) -> bool:
            return any(i.task_id is not None for i in self.store.pending())

        # only while a change of mine waits: that is when a colleague's edit makes a conflict
        @precondition(lambda self: self._waiting_task_changes())
        @rule(task_id=st.sampled_from(TASKS), status=st.sampled_from(["open", "done"]))
        def colleague_edits_task(self, task_id: int, status: str) -> None:
            with self.server.begin() as conn:
                row = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().one()
                version = row["version"] + 1
                conn.execute(tasks.update().where(tasks.c.id == task_id).values(
                    version=version, status=status, snoozed_until=None, priority="low"))
                conn.execute(changes.insert().values(type="task", entity_id=task_id, version=version,
                                                     case_id=row["case_id"], at="2026-01-01T00:00:00Z"))

        @precondition(lambda self: len(self.revoked) < len(CASES))
        @rule(case_id=st.sampled_from(CASES))
        def revoke_access(self, case_id: int) -> None:
            with self.server.begin() as conn:
                conn.execute(case_access.delete().where(case_access.c.case_id == case_id))
                conn.execute(cases.update().where(cases.c.id == case_id).values(restricted=True))
            self.revoked.add(case_id)

        @rule()
        def kill_the_client(self) -> None:
            unsent = [(i.id, i.idempotency_key, i.state) for i in self.store.unsent()]
            drafts = {d.id: d.body for d in self.store.drafts()}
            self.store.close()
            self.store = Store.open(self.store_file)
            self.engine = self._new_engine()
            assert [(i.id, i.idempotency_key, i.state) for i in self.store.unsent()] == unsent
            assert {d.id: d.body for d in self.store.drafts()} == drafts

        # each sync goes through the network as it is at that moment; a fault is set just before, so that
        # every fault the machine draws is one the client meets (the second rule doubles syncs' share)
        @rule(fault=FAULTS)
        def sync(self, fault: str) -> None:
            self._sync(fault)

        @rule(fault=FAULTS)
        def sync_again(self, fault: str) -> None:
            self._sync(fault)

        def _sync(self, fault: str) -> None:
            self.net.clear()
            if fault == "server down":
                self.net.down = True
            elif fault == "answer lost":
                self.net.lose()
            elif fault == "delivered twice":
                self.net.duplicate()
            revoked_before = set(self.revoked)
            result = _run(self.loop, self.engine.sync_once())
            if result.ok:
                self.confirmed |= revoked_before
            elif not self.engine.online:
                _run(self.loop, self.engine.probe())

        # --- invariants -----------------------------------------------------------------------------------

        @invariant()
        def at_most_once_on_the_server(self) -> None:
            for marker in self.markers:
                assert self._on_server(marker) <= 1, marker

        @invariant()
        def drafts_are_never_lost(self) -> None:
            held = {d.id: d.body for d in self.store.drafts()}
            assert held == self.drafts

        @invariant()
        def a_412_is_never_sent_over(self) -> None:
            refused: set[str] = set()
            for request, status in self.net.delivered:
                if request.method != "PATCH":
                    continue
                key = request.headers.get("idempotency-key", "")
                if status == 412:
                    refused.add(key)
                elif status == 200:
                    assert key not in refused, f"a change refused with 412 was sent again: {key}"

        @invariant()
        def check_revoked_unreadable(self) -> None:
            for case_id in self.confirmed:
                assert self.store.case(case_id) is None
                # only the user's own notes written since (local, negative ids) may be there: never the server's
                assert all(e.id < 0 for e in self.store.chronology_window(case_id, 0, 1000))
                assert all(n.id < 0 for n in self.store.notes(case_id))
                assert not self.store.tasks(case_id=case_id, status=("open", "done", "snoozed"))
                assert all(s.id != case_id for s in self.store.caseload("pat"))
                entry = self.store.directory_entry(case_id)
                assert entry is None or entry.is_stub

    run_state_machine_as_test(ClientAndServer, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
