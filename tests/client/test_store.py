"""The local store: permissions, ingest, reads, the outbox, drafts, purge and schema migration.

No server: records are built here in the API's JSON shapes (server/schemas.py). The
factories are imported by the other store tests.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from client.outbox import ACCESS_REVOKED
from client.paths import StoreError, StorePermissionError
from client.store import Store, purge_preview, purge_store, store_path
from client.store_schema import LATEST, migrate

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)


# --- factories (API-shaped JSON) ------------------------------------------------------------------------------


def person(pid: int, given: str = "Amelia", family: str = "Hughes", **kw: Any) -> dict[str, Any]:
    data = {"id": pid, "la_child_id": f"LA{pid:06d}", "upn": None, "nhs_number": None, "given_name": given,
            "family_name": family, "aliases": [], "dob": "2014-03-12", "expected_dob": None, "gender": "female",
            "ethnicity": None, "disability": None, "first_language": "English", "address": "4 Mill Lane, Northam",
            "postcode": "NX1 2AB", "school": None}
    data.update(kw)
    return data


def case(cid: int, *, restricted: bool = False, given: str = "Amelia", family: str = "Hughes",
         worker: str = "worker", **kw: Any) -> dict[str, Any]:
    data = {"id": cid, "person": person(cid + 1000, given, family), "status": "open", "category": "cp",
            "legal_status": None, "allocated_worker": worker, "allocated_worker_name": "Wendy Worker",
            "team": "North", "opened_at": "2025-01-02T10:00:00Z", "closed_at": None,
            "whereabouts": {"placement_type": "home", "address": "4 Mill Lane", "carer": None, "since": None,
                            "missing_since": None},
            "flags": [{"code": "cp_plan", "label": "Child protection plan", "severity": "high", "since": None}],
            "key_contacts": [{"role": "parent", "name": "Jo Hughes", "relationship": "mother",
                              "phone": "07700 900123"}],
            "last_visit_at": None, "restricted": restricted, "version": 3, "updated_at": "2026-11-20T08:00:00Z"}
    data.update(kw)
    return data


def summary(cid: int, *, worker: str = "worker", overdue: int = 0, next_due: str | None = None,
            status: str = "open", restricted: bool = False, given: str = "Amelia",
            family: str = "Hughes") -> dict[str, Any]:
    return {"id": cid, "person_id": cid + 1000, "given_name": given, "family_name": family, "dob": "2014-03-12",
            "status": status, "category": "cin", "allocated_worker": worker, "team": "North", "flags": [],
            "placement_type": None, "missing_since": None, "next_task_due": next_due, "overdue_tasks": overdue,
            "last_visit_at": None, "restricted": restricted, "version": 1, "updated_at": "2026-11-20T08:00:00Z"}


def event(eid: int, cid: int, day: int, kind: str = "visit", *, key: bool = False,
          summary_text: str = "Home visit", note_id: int | None = None) -> dict[str, Any]:
    return {"id": eid, "case_id": cid, "occurred_at": f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00Z",
            "kind": kind, "source_agency": "Children's Services", "summary": summary_text, "detail": None,
            "key_event": key, "author": "worker", "note_id": note_id}


def task(tid: int, cid: int, *, due: str = "2026-11-25", assignee: str = "worker", status: str = "open",
         priority: str = "normal", version: int = 1, title: str = "Statutory visit") -> dict[str, Any]:
    return {"id": tid, "case_id": cid, "title": title, "kind": "statutory_visit", "due_on": due, "assignee": assignee,
            "status": status, "snoozed_until": None, "priority": priority, "completed_at": None, "version": version,
            "updated_at": "2026-11-20T08:00:00Z"}


def note(nid: int, cid: int, body: str = "Saw the child alone.", occurred: str = "2026-11-20T15:00:00Z",
         amends: int | None = None) -> dict[str, Any]:
    return {"id": nid, "case_id": cid, "kind": "home_visit", "occurred_at": occurred, "body": body,
            "author": "worker", "created_at": occurred, "amends": amends}


def entry(pid: int | None, cid: int | None, given: str = "Amelia", family: str = "Hughes", **kw: Any) -> dict[str, Any]:
    data = {"person_id": pid, "case_id": cid, "restricted": False, "given_name": given, "family_name": family,
            "aliases": [], "dob": "2014-03-12", "address": "4 Mill Lane, Northam", "postcode": "NX1 2AB",
            "la_child_id": f"LA{pid or 0:06d}", "upn": None, "nhs_number": None, "category": "cin",
            "status": "open", "flags": [], "allocated_worker": "worker", "team": "North", "message": None}
    data.update(kw)
    return data


def stub(cid: int, team: str = "Fostering South") -> dict[str, Any]:
    return {"person_id": None, "case_id": cid, "restricted": True, "given_name": None, "family_name": None,
            "aliases": [], "dob": None, "address": None, "postcode": None, "la_child_id": None, "upn": None,
            "nhs_number": None, "category": None, "status": None, "flags": [], "allocated_worker": None,
            "team": team, "message": f"This record is restricted. Contact {team} if you need access."}


def user(uid: int, username: str, display: str) -> dict[str, Any]:
    return {"id": uid, "username": username, "display_name": display, "role": "practitioner", "team": "North",
            "active": True, "version": 1}


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "localhost_8000" / "worker.db"


@pytest.fixture
def store(store_file: Path) -> Iterator[Store]:
    s = Store.open(store_file, clock=lambda: NOW)
    s.set_meta("me", "worker")
    yield s
    try:
        s.close()
    except sqlite3.ProgrammingError:
        pass  # purged


def raw_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


# --- paths and permissions ---------------------------------------------------------------------------------------


def test_store_path_is_one_file_per_server_and_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    a = store_path("https://casework.example.gov.uk/", "worker")
    b = store_path("http://127.0.0.1:8000", "Worker")
    c = store_path("https://casework.example.gov.uk/", "manager")
    assert a.parent.name == "casework.example.gov.uk_443" and a.name == "worker.db"
    assert b.parent.name == "127.0.0.1_8000" and b.name == "worker.db"
    assert a.parent == c.parent and a != c
    assert str(a).startswith(str(tmp_path))
    evil = store_path("http://../../etc:80/../x", "../../root")
    assert ".." not in evil.relative_to(tmp_path).parts


def test_new_store_is_private_even_with_umask_000(store_file: Path) -> None:
    old = os.umask(0)
    try:
        s = Store.open(store_file)
        s.put_case(case(1), '"3"')
    finally:
        os.umask(old)
    assert stat.S_IMODE(store_file.parent.stat().st_mode) == 0o700
    for path in (store_file, Path(f"{store_file}-wal"), Path(f"{store_file}-shm")):
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    s.close()


def test_refuses_a_folder_others_can_read(store_file: Path) -> None:
    store_file.parent.mkdir(parents=True)
    os.chmod(store_file.parent, 0o755)
    with pytest.raises(StorePermissionError) as caught:
        Store.open(store_file)
    message = str(caught.value)
    assert "readable by other users" in message and "0755" in message and "chmod 700" in message
    assert not store_file.exists()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_refuses_a_file_others_can_read(store_file: Path, suffix: str) -> None:
    Store.open(store_file).close()
    target = Path(f"{store_file}{suffix}")
    target.touch()
    os.chmod(target, 0o644)
    with pytest.raises(StorePermissionError, match=r"0644.*chmod 600"):
        Store.open(store_file)


def test_restricted_records_never_reach_the_file(store: Store, store_file: Path) -> None:
    store.put_case(case(1, given="Ordinary", family="Childname"), '"1"')
    store.put_case(case(2, restricted=True, given="Zebedee", family="Quintessa"), '"1"')
    store.put_case_summaries([summary(2, restricted=True, given="Zebedee", family="Quintessa"), summary(1)])
    store.put_directory([entry(1002, 2, "Zebedee", "Quintessa", restricted=True, address="9 Secretplace Road"),
                         entry(1001, 1, "Ordinary", "Childname")])
    # records of a case known to be restricted are refused too
    store.put_tasks([task(20, 2, title="Visit Quintessa household")])
    store.put_chronology(2, [event(200, 2, 1, summary_text="Quintessa seen")], replace=True)
    store.put_notes(2, [note(300, 2, body="Quintessa note")])
    store.set_etag("/v1/cases/2", '"1"')
    with sqlite3.connect(store_file) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    data = raw_bytes(store_file)
    assert b"Childname" in data  # the grep does see what is stored
    for secret in (b"Quintessa", b"Zebedee", b"Secretplace"):
        assert secret not in data
    assert store.case(2) is None and store.tasks(case_id=2) == [] and store.chronology_count(2) == 0
    assert store.etag("/v1/cases/2") is None
    hit = store.directory_entry(2)
    assert hit is not None and hit.is_stub and hit.restricted and hit.message and hit.team == "North"
    assert store.search("2")[0].case_id == 2 and [e.case_id for e in store.search("c2")] == [2]


def test_a_case_that_becomes_restricted_is_removed_and_scrubbed(store: Store, store_file: Path) -> None:
    store.put_case(case(3, given="Wilhelmina", family="Scrubbable"), '"1"')
    store.put_directory([entry(1003, 3, "Wilhelmina", "Scrubbable")])
    store.put_chronology(3, [event(31, 3, 1, summary_text="Scrubbable seen at school")], replace=True)
    store.put_case(case(3, restricted=True, given="Wilhelmina", family="Scrubbable"), '"2"')
    store.purge_case(3)
    assert store.case(3) is None and store.chronology_count(3) == 0
    assert store.search("scrubbable") == []
    assert b"Scrubbable" not in raw_bytes(store_file)


# --- reads -------------------------------------------------------------------------------------------------------


def test_caseload_is_mine_and_open_overdue_first_then_next_due(store: Store) -> None:
    store.put_case_summaries([
        summary(1, next_due="2026-12-01"),
        summary(2, overdue=2, next_due="2026-11-10"),
        summary(3, next_due="2026-11-22"),
        summary(4, next_due=None),
        summary(5, overdue=1, next_due="2026-11-01"),
        summary(6, worker="someone"),
        summary(7, status="closed"),
    ])
    assert [c.id for c in store.caseload("worker")] == [5, 2, 3, 1, 4]
    assert store.freshness("summary", 1) == "2026-11-21T09:30:00Z"


def test_case_round_trips_with_its_as_of(store: Store) -> None:
    assert store.case(1) is None
    original = case(1)
    store.put_case(original, '"3"')
    cached = store.case(1)
    assert cached is not None
    assert cached.as_of == "2026-11-21T09:30:00Z"
    assert cached.value.person.name == "Amelia Hughes" and cached.value.flags[0].code == "cp_plan"
    assert store.case_json(1) == original
    assert store.etag("/v1/cases/1") == '"3"'
    assert store.freshness("case", 1) == cached.as_of



def test_a_304_moves_on_the_as_of_of_what_is_held_only(store_file: Path) -> None:
    clock = [NOW]
    with Store.open(store_file, clock=lambda: clock[0]) as store:
        store.put_case(case(1), '"3"')
        clock[0] = NOW + timedelta(minutes=15)
        store.confirm_current("case", [1, 2])  # 2 is not held (never fetched, or purged meanwhile)
        assert store.case(1).as_of == "2026-11-21T09:45:00Z"
        assert store.freshness("case", 2) is None and store.case(2) is None

def test_directory_entry_for_a_cache_miss(store: Store) -> None:
    store.put_directory([entry(10, 5, "Noah", "Patel")])
    found = store.directory_entry(5)
    assert found is not None and found.name == "Noah Patel" and found.case_id == 5
    assert store.directory_entry(6) is None


def test_chronology_windows_and_filters(store: Store) -> None:
    events = [event(i, 1, i, kind="visit" if i % 3 else "s47", key=i % 10 == 0,
                    summary_text=f"Event {i}" + (" police" if i % 7 == 0 else "")) for i in range(1, 101)]
    store.put_chronology(1, events, replace=True)
    assert store.chronology_count(1) == 100
    first = store.chronology_window(1, 0, 10)
    assert [e.id for e in first] == list(range(100, 90, -1))  # newest first
    assert [e.id for e in store.chronology_window(1, 95, 10)] == [5, 4, 3, 2, 1]
    s47 = store.chronology_window(1, 0, 100, kinds=["s47"])
    assert {e.kind for e in s47} == {"s47"} and len(s47) == store.chronology_count(1, kinds=["s47"]) == 33
    assert store.chronology_count(1, kinds=["s47", "visit"]) == 100
    key = store.chronology_window(1, 0, 100, key_only=True)
    assert [e.id for e in key] == list(range(100, 0, -10))
    police = store.chronology_window(1, 0, 100, text="POLICE")
    assert [e.id for e in police] == [98, 91, 84, 77, 70, 63, 56, 49, 42, 35, 28, 21, 14, 7]
    assert store.chronology_count(1, text="police", key_only=True) == 1  # event 70
    assert store.chronology_count(1, text="100%") == 0  # LIKE wildcards are literal
    # replace drops what the server no longer lists; upsert adds
    store.put_chronology(1, events[:50], replace=True)
    assert store.chronology_count(1) == 50
    store.put_chronology(1, [event(500, 1, 200)], replace=False)
    assert store.chronology_count(1) == 51 and store.freshness("chronology", 1)


def test_tasks_filters_and_sorts(store: Store) -> None:
    store.put_tasks([
        task(1, 10, due="2026-11-25", priority="low"),
        task(2, 11, due="2026-11-01", priority="normal", title="Review CP plan"),
        task(3, 10, due="2026-11-10", priority="high"),
        task(4, 12, due="2026-11-05", assignee="other"),
        task(5, 10, due="2026-11-02", status="done"),
    ])
    assert [t.id for t in store.tasks(assignee="worker")] == [2, 3, 1]
    assert [t.id for t in store.tasks(assignee="worker", sort="priority")] == [3, 2, 1]
    assert [t.id for t in store.tasks(sort="case")] == [3, 1, 2, 4]
    assert [t.id for t in store.tasks(case_id=10, status=())] == [5, 3, 1]
    assert [t.id for t in store.tasks(overdue_only=True)] == [2, 4, 3]
    assert [t.id for t in store.tasks(text="review")] == [2]
    assert [t.id for t in store.tasks(status=("done",))] == [5]
    assert store.freshness("task", 1) == "2026-11-21T09:30:00Z"
    with pytest.raises(ValueError):
        store.tasks(sort="colour")


def test_notes_users_meta_and_etags(store: Store) -> None:
    store.put_notes(1, [note(1, 1, occurred="2026-11-01T10:00:00Z"), note(2, 1, occurred="2026-11-05T10:00:00Z")])
    assert [n.id for n in store.notes(1)] == [2, 1]
    store.put_users([user(1, "zed", "Zed Adams"), user(2, "amy", "Amy Brown")])
    assert [u.username for u in store.users()] == ["amy", "zed"]
    assert store.get_meta("cursor") is None
    store.set_meta("cursor", "abc")
    assert store.get_meta("cursor") == "abc"
    store.set_etag("/v1/tasks?assignee=me", 'W/"x"')
    assert store.etag("/v1/tasks?assignee=me") == 'W/"x"'


# --- writes and the outbox ---------------------------------------------------------------------------------------


def test_add_note_is_shown_at_once_and_queued_with_a_key(store: Store) -> None:
    store.put_chronology(1, [event(1, 1, 1)], replace=True)
    draft = store.save_draft(1, "home_visit", "Saw Amelia")
    item = store.add_note(1, "home_visit", "Saw Amelia alone in her room.\nShe was well.", draft_id=draft)
    assert item.op == "note" and item.method == "POST" and item.path == "/v1/cases/1/notes"
    assert item.body == {"kind": "home_visit", "body": "Saw Amelia alone in her room.\nShe was well."}
    assert uuid.UUID(item.idempotency_key).version == 4
    assert [i.id for i in store.pending()] == [item.id]
    [local] = store.notes(1)
    assert local.id < 0 and local.id == item.local_note_id and local.author == "worker"
    newest = store.chronology_window(1, 0, 1)[0]
    assert newest.id < 0 and newest.note_id == local.id and newest.kind == "visit"
    assert newest.summary == "Saw Amelia alone in her room."
    assert store.drafts() == []  # deleted in the same transaction

    server_note = note(77, 1, body=local.body, occurred=local.occurred_at)
    store.mark_sent(item.id, server_note)
    assert [n.id for n in store.notes(1)] == [77]
    assert store.chronology_window(1, 0, 1)[0].note_id == 77
    assert store.pending() == []
    # the server's own chronology entry replaces the local one
    store.put_chronology(1, [event(900, 1, 300, note_id=77)], replace=False)
    assert [e.id for e in store.chronology_window(1, 0, 10)] == [900, 1]


def test_a_note_amending_an_unsent_note_waits_for_its_id(store: Store) -> None:
    first = store.add_note(1, "case_note", "First")
    second = store.add_note(1, "case_note", "Correction", amends=first.local_note_id)
    assert [i.id for i in store.pending()] == [first.id]
    store.mark_sent(first.id, note(50, 1, body="First"))
    [waiting] = store.pending()
    assert waiting.id == second.id and waiting.body["amends"] == 50


def test_task_changes_apply_locally_and_record_their_base_version(store: Store) -> None:
    store.put_tasks([task(1, 10, version=4)])
    done = store.complete_task(1)
    assert done.method == "PATCH" and done.path == "/v1/tasks/1" and done.body == {"status": "done"}
    assert done.base_version == 4 and done.if_match == '"4"'
    local = store.tasks(status=("done",))
    assert [t.id for t in local] == [1] and local[0].completed_at == "2026-11-21T09:30:00Z"
    assert store.tasks() == []
    snooze = store.snooze_task(1, "2026-12-01")
    reassign = store.reassign_task(1, "amy")
    t = store.task(1)
    assert t is not None and (t.status, t.snoozed_until, t.assignee) == ("snoozed", "2026-12-01", "amy")
    assert [i.id for i in store.pending()] == [done.id, snooze.id, reassign.id]
    assert {i.base_version for i in store.pending()} == {4}
    assert len({i.idempotency_key for i in store.pending()}) == 3

    # a refresh while my changes are pending keeps my state and remembers the server's
    store.put_tasks([task(1, 10, version=4, title="Statutory visit (renamed)")])
    t = store.task(1)
    assert t is not None and t.status == "snoozed" and t.title == "Statutory visit (renamed)"

    # the server answers the first: the later ones are rebased onto its version
    store.mark_sent(done.id, {**task(1, 10, version=5, title="Statutory visit (renamed)"), "status": "done"})
    assert [(i.id, i.base_version) for i in store.pending()] == [(snooze.id, 5), (reassign.id, 5)]
    t = store.task(1)
    assert t is not None and t.version == 5 and t.assignee == "amy"
    store.mark_sent(snooze.id, {**task(1, 10, version=6), "status": "snoozed", "snoozed_until": "2026-12-01"})
    store.mark_sent(reassign.id, {**task(1, 10, version=7, assignee="amy"), "status": "snoozed",
                                  "snoozed_until": "2026-12-01"})
    assert store.pending() == []
    store.put_tasks([task(1, 10, version=8, assignee="amy", status="open")])
    t = store.task(1)
    assert t is not None and (t.version, t.status) == (8, "open")  # nothing pending: the server wins


def test_reopen_is_a_change_too(store: Store) -> None:
    store.put_tasks([task(1, 10, status="done")])
    item = store.reopen_task(1)
    assert item.body == {"status": "open"} and store.tasks()[0].id == 1
    with pytest.raises(StoreError, match="not in the local store"):
        store.complete_task(99)


def test_undo_of_an_unsent_change_cancels_it(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2)])
    item = store.complete_task(1)
    undone = store.undo_last()
    assert undone is not None and undone.id == item.id and undone.state == "cancelled"
    assert store.pending() == []
    t = store.task(1)
    assert t is not None and t.status == "open" and t.completed_at is None
    assert store.undo_last() is None


def test_undo_of_a_sent_change_queues_the_inverse(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2)])
    item = store.reassign_task(1, "amy")
    store.mark_sent(item.id, task(1, 10, version=3, assignee="amy"))
    inverse = store.undo_last()
    assert inverse is not None and inverse.op == "undo" and inverse.undo_of == item.id
    assert inverse.body == {"assignee": "worker"} and inverse.base_version == 3
    t = store.task(1)
    assert t is not None and t.assignee == "worker"
    assert [i.id for i in store.pending()] == [inverse.id]


def test_undo_of_a_change_that_may_be_in_flight_queues_the_inverse(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2)])
    item = store.complete_task(1)
    store.mark_failed(item.id, "timed out", "2026-11-21T09:31:00Z")  # the server may have it
    inverse = store.undo_last()
    assert inverse is not None and inverse.body == {"status": "open"}
    assert [i.id for i in store.pending()] == [item.id, inverse.id]
    store.mark_sent(item.id, {**task(1, 10, version=3), "status": "done"})
    assert [i.base_version for i in store.pending()] == [3]


def test_a_cancelled_change_the_server_applied_anyway_is_undone_there(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2)])
    item = store.complete_task(1)
    [sending] = store.pending()  # the sync engine picks it up ...
    store.undo_last()            # ... the user undoes it while the request is in flight ...
    store.mark_sent(sending.id, {**task(1, 10, version=3), "status": "done"})  # ... and the server applied it
    [inverse] = store.pending()
    assert inverse.body == {"status": "open"} and inverse.base_version == 3 and inverse.undo_of == item.id
    t = store.task(1)
    assert t is not None and t.status == "open"


def test_mark_failed_keeps_the_item(store: Store) -> None:
    item = store.add_note(1, "phone_call", "Called school")
    store.mark_failed(item.id, "The server could not be reached", "2026-11-21T09:35:00Z")
    store.mark_failed(item.id, "The server could not be reached", "2026-11-21T09:40:00Z")
    [kept] = store.pending()
    assert (kept.attempts, kept.next_attempt_at, kept.failed) == (2, "2026-11-21T09:40:00Z", True)
    assert kept.idempotency_key == item.idempotency_key  # a resend carries the same key
    assert store.outbox_counts()["failed"] == 1


def _conflicted(store: Store) -> tuple[Any, Any]:
    store.put_tasks([task(1, 10, version=2)])
    mine = store.snooze_task(1, "2026-12-01")
    later = store.complete_task(1)
    theirs = {**task(1, 10, version=3, assignee="amy", priority="high")}
    conflict = store.record_conflict(mine.id, theirs)
    return conflict, later


def test_a_conflict_keeps_both_and_holds_the_task(store: Store) -> None:
    conflict, later = _conflicted(store)
    assert conflict.theirs["assignee"] == "amy"
    assert (conflict.mine["status"], conflict.mine["assignee"]) == ("snoozed", "worker")  # as of that change
    assert conflict.changes == {"status": "snoozed", "snoozed_until": "2026-12-01"}
    assert store.conflicts() == [conflict]
    assert store.pending() == []  # the later change to the same task waits behind it
    t = store.task(1)
    assert t is not None and t.status == "done"  # mine is never overwritten while unresolved
    assert store.outbox_counts() == {"pending": 1, "failed": 0, "conflicts": 1, "blocked": 0, "drafts": 0}


def test_resolve_conflict_mine(store: Store) -> None:
    conflict, later = _conflicted(store)
    item = store.resolve_conflict(conflict.id, "mine")
    assert item is not None and item.base_version == 3
    # my whole record against theirs: their reassignment is reverted too
    assert item.body == {"assignee": "worker", "status": "snoozed", "snoozed_until": "2026-12-01"}
    assert [i.id for i in store.pending()] == [item.id, later.id]
    assert store.conflicts() == []
    with pytest.raises(StoreError, match="already resolved"):
        store.resolve_conflict(conflict.id, "theirs")


def test_resolve_conflict_theirs(store: Store) -> None:
    conflict, later = _conflicted(store)
    assert store.resolve_conflict(conflict.id, "theirs") is None
    dropped = store.outbox_item(conflict.item_id)
    assert dropped is not None and dropped.state == "dropped" and "server's version" in (dropped.reason or "")
    [still] = store.pending()
    assert still.id == later.id and still.base_version == 3
    t = store.task(1)
    assert t is not None and (t.assignee, t.status, t.priority) == ("amy", "done", "high")


def test_resolve_conflict_merge(store: Store) -> None:
    conflict, later = _conflicted(store)
    item = store.resolve_conflict(conflict.id, "merge")
    assert item is not None and item.body == {"status": "snoozed", "snoozed_until": "2026-12-01"}
    assert item.base_version == 3 and item.idempotency_key != store.outbox_item(later.id).idempotency_key
    t = store.task(1)
    assert t is not None and (t.assignee, t.status) == ("amy", "done")  # theirs, with my changes on top


def test_a_conflict_already_applied_on_the_server_is_not_one(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2)])
    item = store.complete_task(1)
    conflict = store.record_conflict(item.id, {**task(1, 10, version=3), "status": "done",
                                               "completed_at": "2026-11-21T09:29:00Z"})
    assert conflict.choice == "already-applied" and conflict.resolved_at
    assert store.conflicts() == [] and store.pending() == []


def test_purge_case_blocks_drafts_and_outbox_instead_of_deleting(store: Store) -> None:
    store.put_case(case(1), '"1"')
    store.put_tasks([task(1, 1)])
    store.put_chronology(1, [event(1, 1, 1)], replace=True)
    draft = store.save_draft(1, "case_note", "Half-written")
    note_item = store.add_note(1, "case_note", "Written")
    task_item = store.complete_task(1)
    store.purge_case(1)
    assert store.case(1) is None and store.tasks(status=()) == [] and store.notes(1) == []
    assert store.chronology_count(1) == 0 and store.freshness("case", 1) is None
    assert store.pending() == []
    blocked = [i for i in store.unsent() if i.state == "blocked"]
    assert [i.id for i in blocked] == [note_item.id, task_item.id]
    assert {i.reason for i in blocked} == {ACCESS_REVOKED}
    [kept] = store.drafts(1)
    assert kept.id == draft and kept.body == "Half-written" and kept.blocked == ACCESS_REVOKED
    assert store.outbox_counts()["blocked"] == 2


def test_drafts_are_upserted(store: Store) -> None:
    draft = store.save_draft(1, "home_visit", "S")
    assert store.save_draft(1, "home_visit", "Saw", draft_id=draft) == draft
    other = store.save_draft(2, "phone_call", "Rang")
    assert [d.body for d in store.drafts(1)] == ["Saw"]
    assert {d.id for d in store.drafts()} == {draft, other}
    store.discard_draft(draft)
    assert [d.id for d in store.drafts()] == [other]


def test_views_are_queued_for_the_audit(store: Store) -> None:
    store.record_view(1)
    store.record_view(2, "chronology")
    views = store.pending_views()
    assert [(v.case_id, v.what) for v in views] == [(1, "case"), (2, "chronology")]
    assert views[0].to_json() == {"case_id": 1, "viewed_at": "2026-11-21T09:30:00Z", "what": "case"}
    store.clear_views([views[0].id])
    assert [v.case_id for v in store.pending_views()] == [2]


# --- purge -------------------------------------------------------------------------------------------------------


def test_purge_reports_unsent_work_then_removes_every_file(store: Store, store_file: Path) -> None:
    store.put_case(case(1), '"1"')
    store.save_draft(1, "case_note", "draft text")
    item = store.add_note(1, "case_note", "unsent")
    preview = store.purge_preview()
    assert [i.id for i in preview.unsent] == [item.id] and preview.lost_work
    assert Path(f"{store_file}-wal").exists()
    report = store.purge()
    assert [i.id for i in report.unsent] == [item.id] and [d.body for d in report.drafts] == ["draft text"]
    assert store_file in report.removed_files
    for suffix in ("", "-wal", "-shm"):
        assert not Path(f"{store_file}{suffix}").exists()


def test_purge_store_works_on_a_store_that_would_be_refused(store_file: Path) -> None:
    s = Store.open(store_file)
    s.save_draft(1, "case_note", "keep me")
    s.close()
    os.chmod(store_file, 0o644)
    assert [d.body for d in purge_preview(store_file).drafts] == ["keep me"]
    report = purge_store(store_file)
    assert [d.body for d in report.drafts] == ["keep me"] and not store_file.exists()
    assert purge_store(store_file).removed_files == ()


# --- schema ------------------------------------------------------------------------------------------------------


def test_an_older_store_migrates_forward_keeping_its_data(store_file: Path) -> None:
    store_file.parent.mkdir(parents=True, mode=0o700)
    conn = sqlite3.connect(store_file, isolation_level=None)
    migrate(conn, target=1)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    old_entry = entry(5, 50, "Theodora", "Oldstore")
    conn.execute("INSERT INTO directory (id, person_id, case_id, closed, json, names, phonetic, address, ids, dob,"
                 " team) VALUES (5, 5, 50, 0, ?, ' theodora oldstore |  ', ' t0tr ', '', ' la000005 ', '2014-03-12',"
                 " '')", (json.dumps(old_entry),))
    conn.execute("INSERT INTO meta (key, value) VALUES ('cursor', 'c1')")
    conn.close()
    os.chmod(store_file, 0o600)
    s = Store.open(store_file)
    try:
        with sqlite3.connect(store_file) as check:
            assert check.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert s.get_meta("cursor") == "c1"
        assert [e.name for e in s.search("oldstore")] == ["Theodora Oldstore"]  # indexed by the migration
        assert s.save_draft(50, "case_note", "new table works") > 0
    finally:
        s.close()


def test_a_store_from_a_newer_casework_is_refused(store_file: Path) -> None:
    Store.open(store_file).close()
    with sqlite3.connect(store_file) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreError, match="newer casework"):
        Store.open(store_file)


def test_a_corrupt_store_says_what_to_do(store_file: Path) -> None:
    store_file.parent.mkdir(parents=True, mode=0o700)
    store_file.write_bytes(b"this is not a database" * 100)
    os.chmod(store_file, 0o600)
    with pytest.raises(StoreError, match="casework purge"):
        Store.open(store_file)


def test_the_store_does_not_import_textual_or_the_server() -> None:
    import subprocess
    import sys

    code = ("import sys, client.store, client.local_search, client.outbox, client.paths; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'server')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_readers_and_a_writer_share_the_store_across_threads(store: Store) -> None:
    import threading

    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(200):
                store.put_chronology(1, [event(i + 1, 1, i)], replace=False)
                store.save_draft(1, "case_note", f"typed {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        store.chronology_window(1, 0, 50)
        store.drafts(1)
    writer.join()
    assert errors == [] and store.chronology_count(1) == 200


def test_search_index_stays_consistent_through_restriction_changes(store: Store, store_file: Path) -> None:
    store.put_directory([entry(1, 1, "Ada", "Lovelace"), entry(2, 2, "Alan", "Turing")])
    store.put_case(case(1, restricted=True), None)        # person -> stub
    store.purge_case(1)                                    # stub stays a stub
    store.put_directory([entry(1, 1, "Ada", "Lovelace")])  # access restored: stub -> person
    store.put_directory([stub(2)])                         # person -> stub through the directory
    store.close()
    with sqlite3.connect(store_file) as conn:
        conn.execute("INSERT INTO directory_fts(directory_fts, rank) VALUES ('integrity-check', 1)")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reopened = Store.open(store_file)
    try:
        assert [e.person_id for e in reopened.search("lovelace")] == [1]
        assert reopened.search("turing") == []
        assert [e.case_id for e in reopened.search("c2")] == [2]
    finally:
        reopened.close()
