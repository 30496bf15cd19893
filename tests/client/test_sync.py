"""The sync engine against the real server: full and incremental sync, revalidation, the outbox, conflicts,
lost answers, revoked access, offline and back."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from typing import Any

import httpx
import sqlalchemy
from sqlalchemy import func, select

from client import errors
from client.api import CaseAPI, new_idempotency_key
from client.credentials import MemoryTokenStore
from client.outbox import BLOCKED, PENDING, SENT
from client.sync import (CURSOR, Changed, Notice, Progress, Status, SyncEngine, backoff_delay)
from server.tables import audit_events, case_access, cases, notes, tasks
from tests.client.conftest import (CountingTransport, FaultyTransport, expire_access_tokens, fast_settings, writes)
from tests.server.dataset import IDS, PASSWORD


async def _engine(make_api, open_store, transport=None, user: str = "pat", **settings: Any):  # type: ignore[no-untyped-def]
    api = await make_api(user, transport_=transport)
    store = open_store()
    return api, store, SyncEngine(api, store, username=user, settings=fast_settings(**settings))


def _drain(engine: SyncEngine) -> list[Any]:
    out = []
    while not engine.events.empty():
        out.append(engine.events.get_nowait())
    return out


def _server_notes(engine_: sqlalchemy.Engine, marker: str) -> int:
    with engine_.connect() as conn:
        return conn.execute(select(func.count()).select_from(notes).where(notes.c.body.contains(marker))).scalar_one()


def _server_task(engine_: sqlalchemy.Engine, task_id: int) -> dict[str, Any]:
    with engine_.connect() as conn:
        return dict(conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().one())


def _colleague_edits_task(engine_: sqlalchemy.Engine, task_id: int, **values: Any) -> int:
    """A change made on the server by someone else: the version moves on and the change feed says so."""
    from server.tables import changes

    row = _server_task(engine_, task_id)
    version = row["version"] + 1
    with engine_.begin() as conn:
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(version=version, **values))
        conn.execute(changes.insert().values(type="task", entity_id=task_id, version=version,
                                             case_id=row["case_id"], at="2026-01-01T00:00:00Z"))
    return version


def _revoke(engine_: sqlalchemy.Engine, case_id: int) -> None:
    with engine_.begin() as conn:
        conn.execute(case_access.delete().where(case_access.c.case_id == case_id))
        conn.execute(cases.update().where(cases.c.id == case_id).values(restricted=True,
                                                                        restricted_contact="the duty manager"))


def _readable(store: Any, case_id: int) -> bool:
    """Anything of the case still on the device."""
    return (store.case(case_id) is not None or store.chronology_count(case_id) > 0 or bool(store.notes(case_id))
            or bool(store.tasks(case_id=case_id, status=("open", "done", "snoozed")))
            or any(s.id == case_id for s in store.caseload("pat")))


# --- full sync ---------------------------------------------------------------------------------------------------

async def test_initial_sync_fills_the_store(make_api, open_store) -> None:  # type: ignore[no-untyped-def]
    api, store, engine = await _engine(make_api, open_store)
    result = await engine.sync_once()
    assert result.ok and result.full, result.error
    assert [c.id for c in store.caseload("pat")] == [IDS.open_case]  # the restricted one is never kept
    cached = store.case(IDS.open_case)
    assert cached is not None and cached.value.person.given_name == "Mohammed" and cached.as_of
    assert store.chronology_count(IDS.open_case) == 251
    assert [e.id for e in store.chronology_window(IDS.open_case, 0, 3)] == [
        e.id for e in (await api.chronology(IDS.open_case, limit=3)).items]
    assert [n.id for n in store.notes(IDS.open_case)] == [IDS.note]
    assert {t.id for t in store.tasks(assignee="pat")} == {IDS.pat_task, IDS.overdue_task}
    assert store.task(IDS.restricted_task) is None and store.case(IDS.restricted_case) is None
    assert store.case(IDS.other_case) is None  # pam's case, South team: not pat's caseload nor team
    assert {u.username for u in store.users()} >= {"pat", "pam", "max"}
    hits = store.search("Okafor")
    assert hits and hits[0].case_id == IDS.other_case  # the directory: everyone pat may look up
    stub = store.directory_entry(IDS.restricted_case)
    assert stub is not None and stub.is_stub and stub.given_name is None
    assert store.get_meta(CURSOR) and engine.online
    events = _drain(engine)
    phases = [e.phase for e in events if isinstance(e, Progress)]
    assert phases[0] == "caseload" and "directory" in phases and phases[-1] == "done"
    caseload = [e for e in events if isinstance(e, Progress) and e.phase == "caseload"]
    assert caseload[-1].done == caseload[-1].total == 1
    assert any(isinstance(e, Status) and e.online and e.pending == 0 for e in events)


async def test_initial_sync_takes_the_changes_head_before_fetching(make_api, open_store, transport,
                                                                   server_engine) -> None:  # type: ignore[no-untyped-def]
    """A colleague's edit made while the first sync runs is picked up by the next pass, not lost."""
    colleague = await make_api("max")

    class EditMidway(httpx.AsyncBaseTransport):
        done = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/directory" and not self.done:
                self.done = True  # after the cases were fetched, before the sync finished
                await colleague.patch_task(IDS.pat_task, {"priority": "low"}, if_match='"1"')
            return await transport.handle_async_request(request)

    _, store, engine = await _engine(make_api, open_store, EditMidway())
    assert (await engine.sync_once()).ok
    assert store.task(IDS.pat_task).priority == "high"  # fetched before the edit
    await engine.sync_once()
    assert store.task(IDS.pat_task).priority == "low"


async def test_manager_syncs_the_team_and_admin_syncs_only_users(make_api, open_store,
                                                                 tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store, user="max")
    assert (await engine.sync_once()).ok
    assert store.case(IDS.open_case) is not None  # North team's case, allocated to pat
    admin_api = await make_api("ada")
    admin_store = open_store(tmp_path / "admin" / "ada.db")
    admin = SyncEngine(admin_api, admin_store, username="ada", settings=fast_settings())
    result = await admin.sync_once()
    assert result.ok, result.error
    assert admin_store.case(IDS.open_case) is None and admin_store.users()
    assert (await admin.sync_once()).ok


# --- revalidation and changes -----------------------------------------------------------------------------------

async def test_revalidation_sends_if_none_match_and_takes_304(make_api, open_store,
                                                              transport) -> None:  # type: ignore[no-untyped-def]
    counting = CountingTransport(transport)
    _, store, engine = await _engine(make_api, open_store, counting)
    await engine.sync_once()
    before = len(counting.requests)
    assert (await engine.sync_once(full=True)).ok  # everything again, but with the ETags held
    again = counting.exchanges()[before:]
    case_gets = [(r, s) for r, s in again if r.url.path == f"/v1/cases/{IDS.open_case}"]
    assert case_gets and all(r.headers.get("if-none-match") == '"1"' and s == 304 for r, s in case_gets)
    chronology = [(r, s) for r, s in again if r.url.path.endswith(f"/cases/{IDS.open_case}/chronology")]
    assert chronology and all(r.headers.get("if-none-match") and s == 304 for r, s in chronology)
    assert store.chronology_count(IDS.open_case) == 251  # a 304 keeps what is held
    before = len(counting.requests)
    result = await engine.sync_once()  # incremental: lists revalidated, nothing changed
    assert result.ok and not result.full
    quiet = counting.exchanges()[before:]
    lists = [(r, s) for r, s in quiet if r.url.path in ("/v1/cases", "/v1/tasks")]
    assert lists and all(s == 304 for _, s in lists)
    assert not [r for r, _ in quiet if r.url.path.startswith("/v1/directory")]  # the directory is fresh enough


async def test_directory_refresh_revalidates_each_page(make_api, open_store,
                                                       transport) -> None:  # type: ignore[no-untyped-def]
    counting = CountingTransport(transport)
    _, store, engine = await _engine(make_api, open_store, counting, directory_page=2, directory_max_age=0.0)
    await engine.sync_once()
    before = len(counting.requests)
    assert not await engine.sync_directory()
    pages = [(r, s) for r, s in counting.exchanges()[before:] if r.url.path == "/v1/directory"]
    assert len(pages) == 2 and all(s == 304 for _, s in pages)
    assert len(store.search("Smith")) >= 1


async def test_changes_feed_brings_a_colleagues_edits(make_api, open_store,
                                                      server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    _drain(engine)
    colleague = await make_api("max")
    await colleague.add_note(IDS.open_case, "phone_call", "Manager phoned mum. MARKER-feed",
                             idempotency_key=new_idempotency_key())
    await colleague.patch_task(IDS.pat_task, {"status": "done"}, if_match='"1"')
    assert (await engine.sync_once()).ok
    assert any("MARKER-feed" in n.body for n in store.notes(IDS.open_case))
    assert store.chronology_count(IDS.open_case, text="MARKER-feed") == 1
    assert store.task(IDS.pat_task).status == "done"
    changed = [e for e in _drain(engine) if isinstance(e, Changed)]
    assert any(IDS.pat_task in e.tasks for e in changed)
    assert any(IDS.open_case in e.timelines for e in changed)


async def test_a_task_reassigned_to_me_on_another_case_arrives(make_api, open_store,
                                                               tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    assert store.task(IDS.pam_task) is None
    manager = await make_api("dot")  # duty may change any task they can read
    await manager.patch_task(IDS.pam_task, {"assignee": "pat"}, if_match='"1"')
    await engine.sync_once()
    assert store.task(IDS.pam_task) is not None and store.task(IDS.pam_task).assignee == "pat"
    assert store.case(IDS.other_case) is not None  # its case came with it, for the tray's names


async def test_prefetch_neighbours(make_api, open_store) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    _drain(engine)
    changed = await engine.prefetch_neighbours([IDS.other_case, IDS.restricted_case, IDS.open_case, 999_999])
    assert IDS.other_case in changed.cases and store.case(IDS.other_case) is not None
    assert store.tasks(case_id=IDS.other_case)  # with its tasks
    assert store.case(IDS.restricted_case) is None  # restricted: never written to disk
    assert 999_999 in changed.purged
    again = await engine.prefetch_neighbours([IDS.other_case])  # fresh: not fetched again
    assert not again.cases


async def test_a_case_being_prefetched_is_not_fetched_again_meanwhile(make_api, open_store,
                                                                       transport) -> None:  # type: ignore[no-untyped-def]
    counting = CountingTransport(transport)
    _, store, engine = await _engine(make_api, open_store, transport=counting)
    await engine.sync_once()
    _drain(engine)
    path = f"/v1/cases/{IDS.other_case}"
    assert path not in counting.paths()
    # `]` pressed three times while the first fetch of a neighbour is still on its way
    first, second, third = await asyncio.gather(*(engine.prefetch_neighbours([IDS.other_case]) for _ in range(3)))
    assert counting.paths().count(path) == 1
    assert IDS.other_case in first.cases and not second.cases and not third.cases
    assert store.case(IDS.other_case) is not None
    # once that fetch is done, the case is asked for again when it is stale
    engine.settings = fast_settings(prefetch_max_age=-3600)
    await engine.prefetch_neighbours([IDS.other_case])
    assert counting.paths().count(path) == 2 and not engine._prefetching  # noqa: SLF001 - nothing left taken on


async def test_a_case_the_server_says_is_unchanged_counts_as_fetched_now(make_api, open_store, store_file,
                                                                         transport) -> None:  # type: ignore[no-untyped-def]
    counting = CountingTransport(transport)
    _, store, engine = await _engine(make_api, open_store, transport=counting)
    await engine.sync_once()
    await engine.prefetch_neighbours([IDS.other_case])
    ten_minutes_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(store_file) as conn:  # fetched ten minutes ago: older than prefetch_max_age
        conn.execute("UPDATE fetched SET as_of = ? WHERE id = ?", (ten_minutes_ago, IDS.other_case))
    conn.close()
    assert store.case(IDS.other_case).as_of == ten_minutes_ago
    path = f"/v1/cases/{IDS.other_case}"
    asked = counting.paths().count(path)
    changed = await engine.prefetch_neighbours([IDS.other_case])
    assert [status for request, status in counting.exchanges() if request.url.path == path][asked:] == [304]
    assert not changed.cases and changed.confirmed == {IDS.other_case}  # nothing new came...
    for kind in ("case", "chronology", "notes"):  # ...but what is held is now known to be current
        assert store.freshness(kind, IDS.other_case) > ten_minutes_ago, kind
    assert store.case(IDS.other_case).as_of > ten_minutes_ago  # the header's "as of" moves on
    await engine.prefetch_neighbours([IDS.other_case])
    assert counting.paths().count(path) == asked + 1  # and the next cursor move does not ask again


# --- the outbox ---------------------------------------------------------------------------------------------------

async def test_every_write_path_reaches_the_server(make_api, open_store,
                                                   server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    draft = store.save_draft(IDS.open_case, "home_visit", "Seen with mum. MARKER-w")
    store.add_note(IDS.open_case, "home_visit", "Seen with mum. MARKER-w", draft_id=draft)
    store.add_note(IDS.open_case, "case_note", "Backdated. MARKER-b", occurred_at="2025-06-01T10:00:00Z")
    store.complete_task(IDS.pat_task)
    until = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    store.snooze_task(IDS.overdue_task, until)
    assert store.outbox_counts()["pending"] == 4
    result = await engine.sync_once()
    assert result.ok and result.sent == 4, result
    assert _server_notes(server_engine, "MARKER-w") == 1 and _server_notes(server_engine, "MARKER-b") == 1
    assert _server_task(server_engine, IDS.pat_task)["status"] == "done"
    assert _server_task(server_engine, IDS.overdue_task)["snoozed_until"] == until
    assert store.outbox_counts()["pending"] == 0 and not store.drafts()
    assert all(n.id > 0 for n in store.notes(IDS.open_case))  # the server's ids replaced the local ones
    # reopen, reassign, and undo of a sent change
    store.reopen_task(IDS.pat_task)
    await engine.sync_once()
    assert _server_task(server_engine, IDS.pat_task)["status"] == "open"
    store.reassign_task(IDS.overdue_task, "pam")
    await engine.sync_once()
    assert _server_task(server_engine, IDS.overdue_task)["assignee"] == "pam"
    undo = store.undo_last()
    assert undo is not None and undo.op == "undo"
    await engine.sync_once()
    assert _server_task(server_engine, IDS.overdue_task)["assignee"] == "pat"
    # two changes to one task made offline go in order, the second on top of the first
    store.complete_task(IDS.pat_task)
    store.reopen_task(IDS.pat_task)
    result = await engine.sync_once()
    assert result.sent == 2 and result.conflicts == 0
    assert _server_task(server_engine, IDS.pat_task)["status"] == "open" and not store.conflicts()


async def test_conflict_is_kept_and_never_overwrites(make_api, open_store,
                                                     server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    store.complete_task(IDS.pat_task)  # made against version 1
    _colleague_edits_task(server_engine, IDS.pat_task, status="snoozed", snoozed_until="2030-01-01")
    _drain(engine)
    result = await engine.sync_once()
    assert result.conflicts == 1
    server = _server_task(server_engine, IDS.pat_task)
    assert server["status"] == "snoozed" and server["snoozed_until"] == "2030-01-01"  # not overwritten
    [conflict] = store.conflicts()
    assert conflict.theirs["status"] == "snoozed" and conflict.changes == {"status": "done"}
    assert any(isinstance(e, Notice) and "Nothing has been overwritten" in e.message for e in _drain(engine))
    await engine.sync_once()  # a conflict waits for the user: it is not sent again
    assert _server_task(server_engine, IDS.pat_task)["status"] == "snoozed"
    store.resolve_conflict(conflict.id, "mine")
    assert (await engine.sync_once()).sent == 1
    assert _server_task(server_engine, IDS.pat_task)["status"] == "done"


async def test_note_answer_lost_is_replayed_once(make_api, open_store, transport,
                                                 server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty)
    await engine.sync_once()
    store.add_note(IDS.open_case, "case_note", "Called school. MARKER-lost")
    faulty.lose(writes)
    result = await engine.sync_once()
    assert not result.ok and isinstance(result.error, errors.Offline) and not engine.online
    assert _server_notes(server_engine, "MARKER-lost") == 1  # it did arrive...
    [item] = store.pending()
    assert item.attempts == 1 and item.last_error  # ...but the client cannot know, so it is kept
    assert await engine.probe()
    assert (await engine.sync_once()).ok
    assert _server_notes(server_engine, "MARKER-lost") == 1  # the resend was answered from the first
    assert not store.pending() and store.outbox_item(item.id).state == SENT


async def test_task_answer_lost_is_not_a_conflict(make_api, open_store, transport,
                                                  server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty)
    await engine.sync_once()
    store.complete_task(IDS.pat_task)
    faulty.lose(writes)
    await engine.sync_once()
    await engine.probe()
    result = await engine.sync_once()
    assert result.ok and result.conflicts == 0 and not store.conflicts()
    assert _server_task(server_engine, IDS.pat_task)["version"] == 2  # applied once


async def test_duplicate_delivery_is_harmless(make_api, open_store, transport,
                                              server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty)
    await engine.sync_once()
    store.add_note(IDS.open_case, "case_note", "Twice? MARKER-dup")
    store.complete_task(IDS.pat_task)
    faulty.duplicate(writes, times=2)
    result = await engine.sync_once()
    assert result.ok and result.conflicts == 0, result
    assert _server_notes(server_engine, "MARKER-dup") == 1
    assert _server_task(server_engine, IDS.pat_task)["version"] == 2 and not store.conflicts()


async def test_offline_then_back(make_api, open_store, transport,
                                 server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty)
    await engine.sync_once()
    faulty.down = True
    store.add_note(IDS.open_case, "case_note", "Written on the train. MARKER-off")
    result = await engine.sync_once()
    assert not result.ok and not engine.online
    assert "could not be reached" in str(result.error)
    assert store.pending()[0].attempts == 1
    assert not await engine.probe()
    status = engine.status()
    assert not status.online and status.pending == 1 and status.failed == 1
    faulty.down = False
    assert await engine.probe() and engine.online
    assert (await engine.sync_once()).ok
    assert _server_notes(server_engine, "MARKER-off") == 1


async def test_server_errors_back_off_and_retry(make_api, open_store, transport,
                                                server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty, backoff_base=30.0)
    await engine.sync_once()
    store.add_note(IDS.open_case, "case_note", "Through a flaky gateway. MARKER-5xx")
    faulty.fail(503, writes)
    result = await engine.sync_once()
    assert result.ok and result.failed == 1
    [item] = store.pending()
    assert item.attempts == 1 and item.next_attempt_at > dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    await engine.sync_once()  # not due yet: not sent
    assert _server_notes(server_engine, "MARKER-5xx") == 0
    engine.settings = fast_settings()
    store.mark_failed(item.id, "retry now", "2000-01-01T00:00:00Z")
    await engine.sync_once()
    assert _server_notes(server_engine, "MARKER-5xx") == 1


def test_backoff_grows_caps_and_jitters() -> None:
    assert backoff_delay(1, 2, 60, lambda: 0.0) == 1.0 and backoff_delay(1, 2, 60, lambda: 1.0) == 2.0
    assert backoff_delay(4, 2, 60, lambda: 1.0) == 16.0
    assert backoff_delay(30, 2, 60, lambda: 1.0) == 60.0 and backoff_delay(30, 2, 60, lambda: 0.0) == 30.0
    assert backoff_delay(3, 0, 60) == 0.0


async def test_refused_write_is_kept_with_the_reason(make_api, open_store,
                                                     server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store, invalid_retry=3600.0)
    await engine.sync_once()
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.add_note(IDS.open_case, "case_note", "Clock is wrong. MARKER-422", occurred_at=future)
    store.add_note(IDS.open_case, "case_note", "A later note still goes. MARKER-after")
    _drain(engine)
    result = await engine.sync_once()
    assert result.failed == 1
    [kept] = store.unsent()
    assert kept.state == PENDING and "future" in (kept.last_error or "")
    assert _server_notes(server_engine, "MARKER-after") == 1 and _server_notes(server_engine, "MARKER-422") == 0
    assert any(isinstance(e, Notice) and "not deleted" in e.message for e in _drain(engine))


async def test_revoked_access_purges_and_blocks_unsent_work(make_api, open_store,
                                                            server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    assert _readable(store, IDS.open_case)
    _revoke(server_engine, IDS.open_case)
    store.add_note(IDS.open_case, "case_note", "Written just before. MARKER-rev")
    _drain(engine)
    await engine.sync_once()
    assert not _readable(store, IDS.open_case)
    assert not any(hit.case_id == IDS.open_case and not hit.is_stub for hit in store.search("Mohammed Smith"))
    [blocked] = store.unsent()
    assert blocked.state == BLOCKED and blocked.body["body"].endswith("MARKER-rev")  # kept, not sent
    notices = [e for e in _drain(engine) if isinstance(e, Notice)]
    assert any("no longer have access" in n.message and n.case_id == IDS.open_case for n in notices)
    assert _server_notes(server_engine, "MARKER-rev") == 0


async def test_revocation_found_by_revalidation_without_a_write(make_api, open_store,
                                                                server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    await engine.prefetch_neighbours([IDS.other_case])  # a neighbour, not on pat's lists
    assert store.case(IDS.other_case) is not None
    _revoke(server_engine, IDS.other_case)
    await engine.sync_once()
    assert store.case(IDS.other_case) is None and not store.tasks(case_id=IDS.other_case)


async def test_cached_views_are_uploaded_once(make_api, open_store, transport,
                                              server_engine) -> None:  # type: ignore[no-untyped-def]
    faulty = FaultyTransport(transport)
    _, store, engine = await _engine(make_api, open_store, faulty)
    await engine.sync_once()
    store.record_view(IDS.open_case, "case")
    store.record_view(IDS.open_case, "chronology")
    faulty.lose(lambda r: r.url.path == "/v1/audit/views")
    await engine.sync_once()
    assert len(store.pending_views()) == 2  # the answer was lost: still queued
    await engine.probe()
    store.record_view(IDS.open_case, "notes")  # a new view, after the batch was sent
    assert (await engine.sync_once()).ok
    assert store.pending_views() == []
    with server_engine.connect() as conn:
        rows = conn.execute(select(audit_events.c.action).where(audit_events.c.source == "cache")).scalars().all()
    assert sorted(rows) == ["case.read", "chronology.read", "notes.read"]  # each exactly once


async def test_session_expiry_stops_until_sign_in(make_api, open_store, server_engine) -> None:  # type: ignore[no-untyped-def]
    api, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    store.add_note(IDS.open_case, "case_note", "Typed as the session ended. MARKER-exp")
    expire_access_tokens(server_engine, refresh_too=True)
    result = await engine.sync_once()
    assert isinstance(result.error, errors.SessionExpired) and engine.session_expired
    assert engine.status().session_expired and store.pending()  # the outbox is untouched
    await api.sign_in("pat", PASSWORD)
    engine.signed_in_again()
    assert not engine.session_expired
    assert (await engine.sync_once()).ok
    assert _server_notes(server_engine, "MARKER-exp") == 1


async def test_background_loop_syncs_sends_and_stops(make_api, open_store,
                                                     server_engine) -> None:  # type: ignore[no-untyped-def]
    _, store, engine = await _engine(make_api, open_store)
    seen: list[Any] = []
    engine.subscribe(seen.append)
    await engine.start()
    try:
        async def until(predicate) -> None:  # type: ignore[no-untyped-def]
            for _ in range(200):
                if predicate():
                    return
                await asyncio.sleep(0.02)
            raise AssertionError("timed out")

        await until(lambda: any(isinstance(e, Progress) and e.phase == "done" for e in seen))
        store.add_note(IDS.open_case, "case_note", "Sent by the loop. MARKER-loop")
        engine.wake()
        await until(lambda: _server_notes(server_engine, "MARKER-loop") == 1)
    finally:
        await engine.stop()
    assert engine._task is None


async def test_end_to_end_over_loopback(live_server, open_store, server_engine) -> None:  # type: ignore[no-untyped-def]
    async with CaseAPI(live_server, tokens=MemoryTokenStore()) as api:
        await api.sign_in("pat", PASSWORD)
        store = open_store()
        engine = SyncEngine(api, store, username="pat", settings=fast_settings())
        assert (await engine.sync_once()).ok
        assert store.chronology_count(IDS.open_case) == 251
        store.add_note(IDS.open_case, "case_note", "Over loopback. MARKER-e2e")
        assert (await engine.sync_once()).sent == 1
    assert _server_notes(server_engine, "MARKER-e2e") == 1


async def test_outbox_and_drafts_survive_a_restart(make_api, open_store, store_file,
                                                   server_engine) -> None:  # type: ignore[no-untyped-def]
    api, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    store.add_note(IDS.open_case, "case_note", "Before the crash. MARKER-restart")
    draft = store.save_draft(IDS.open_case, "home_visit", "Half typed")
    store.close()
    reopened = open_store()
    assert [d.id for d in reopened.drafts()] == [draft] and len(reopened.pending()) == 1
    again = SyncEngine(api, reopened, username="pat", settings=fast_settings())
    result = await again.sync_once()
    assert result.ok and not result.full  # the cursor survived too
    assert _server_notes(server_engine, "MARKER-restart") == 1 and reopened.drafts()


async def test_a_forbidden_change_on_a_readable_case_is_refused_not_purged(
        make_api, open_store) -> None:  # type: ignore[no-untyped-def]
    """pat may read pam's case but not change pam's task: the 403 is about the change, not the case."""
    _, store, engine = await _engine(make_api, open_store, invalid_retry=3600.0)
    await engine.sync_once()
    await engine.prefetch_neighbours([IDS.other_case])
    store.complete_task(IDS.pam_task)
    result = await engine.sync_once()
    assert result.failed == 1 and result.blocked == 0
    assert store.case(IDS.other_case) is not None  # still readable, so still kept
    [kept] = store.unsent()
    assert kept.state == PENDING and "may change only tasks" in (kept.last_error or "")


async def test_a_case_header_changed_elsewhere_is_refetched(make_api, open_store,
                                                            server_engine) -> None:  # type: ignore[no-untyped-def]
    """No "case" entry in the feed: the caseload summary's version is the cue."""
    _, store, engine = await _engine(make_api, open_store)
    await engine.sync_once()
    with server_engine.begin() as conn:
        conn.execute(cases.update().where(cases.c.id == IDS.open_case).values(
            version=2, missing_since="2026-11-21T20:00:00Z"))
    _drain(engine)
    await engine.sync_once()
    cached = store.case(IDS.open_case)
    assert cached is not None and cached.value.version == 2
    assert cached.value.whereabouts.missing_since == "2026-11-21T20:00:00Z"
    assert any(isinstance(e, Changed) and IDS.open_case in e.cases for e in _drain(engine))
