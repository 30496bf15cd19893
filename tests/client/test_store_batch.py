"""Bulk task changes in the local store: one transaction and one batch per action, undone as a whole."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from client.paths import StoreError
from client.store import Store
from client.store_schema import LATEST, migrate
from tests.client.test_store import NOW, case, entry, summary, task


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "localhost_8000" / "worker.db", clock=lambda: NOW)
    s.set_meta("me", "worker")
    yield s
    s.close()


def _outbox(store: Store) -> list[sqlite3.Row]:
    return store._read("SELECT id, op, task_id, state, batch, undone FROM outbox ORDER BY id")


def test_a_bulk_complete_is_one_batch_shown_at_once(store: Store) -> None:
    store.put_tasks([task(i, 10 + i % 3, version=i) for i in range(1, 6)])
    items = store.complete_tasks([3, 1, 3, 5])  # a repeated id is one change
    assert [i.task_id for i in items] == [3, 1, 5]
    assert all(i.op == "complete" and i.body == {"status": "done"} and i.state == "pending" for i in items)
    assert [i.base_version for i in items] == [3, 1, 5]
    assert len({i.idempotency_key for i in items}) == 3
    assert len({row["batch"] for row in _outbox(store)}) == 1
    assert sorted(t.id for t in store.tasks()) == [2, 4]
    assert [i.id for i in store.pending()] == [i.id for i in items]
    assert store.complete_tasks([]) == []


def test_a_bulk_change_with_an_unknown_task_changes_nothing(store: Store) -> None:
    store.put_tasks([task(1, 10), task(2, 10)])
    with pytest.raises(StoreError, match="task 99 is not in the local store"):
        store.complete_tasks([1, 99, 2])
    assert store.pending() == [] and len(store.tasks()) == 2


def test_snooze_and_reassign_in_bulk(store: Store) -> None:
    store.put_tasks([task(1, 10), task(2, 11), task(3, 12)])
    snoozed = store.snooze_tasks([1, 2], "2026-11-30")
    assert [i.body for i in snoozed] == [{"status": "snoozed", "snoozed_until": "2026-11-30"}] * 2
    assert [(t.id, t.status, t.snoozed_until) for t in store.tasks(status=("snoozed",))] == [
        (1, "snoozed", "2026-11-30"), (2, "snoozed", "2026-11-30")]
    moved = store.reassign_tasks([2, 3], "amy")
    assert [i.op for i in moved] == ["reassign", "reassign"]
    assert [t.id for t in store.tasks(assignee="amy", status=("open", "snoozed"))] == [2, 3]
    assert store.tasks(assignee="worker", status=("open", "snoozed"))[0].id == 1


def test_undo_takes_back_the_whole_last_batch_then_the_one_before(store: Store) -> None:
    store.put_tasks([task(i, 10) for i in range(1, 31)])
    store.snooze_tasks([1, 2], "2026-12-01")
    store.complete_tasks(range(3, 23))  # 20 tasks
    assert len(store.tasks()) == 8
    undone = store.undo_last_batch()
    assert len(undone) == 20 and all(i.state == "cancelled" for i in undone)
    assert len(store.tasks()) == 28  # the 20 are open again; 1 and 2 stay snoozed
    assert len(store.pending()) == 2
    again = store.undo_last_batch()
    assert sorted(i.task_id for i in again) == [1, 2]
    assert len(store.tasks()) == 30 and store.pending() == []
    assert store.undo_last_batch() == []


def test_a_single_change_is_a_batch_of_one(store: Store) -> None:
    store.put_tasks([task(1, 10), task(2, 10), task(3, 10)])
    store.complete_tasks([1, 2])
    store.complete_task(3)
    [undone] = store.undo_last_batch()
    assert undone.task_id == 3
    assert sorted(i.task_id for i in store.undo_last_batch()) == [1, 2]


def test_undo_of_a_sent_batch_queues_the_inverses_as_one_batch(store: Store) -> None:
    store.put_tasks([task(1, 10, version=2), task(2, 10, version=5)])
    first, second = store.reassign_tasks([1, 2], "amy")
    store.mark_sent(first.id, task(1, 10, version=3, assignee="amy"))  # the other may be in flight:
    store.mark_failed(second.id, "timed out", "2026-11-21T09:31:00Z")
    inverses = store.undo_last_batch()
    assert sorted((i.op, i.task_id, i.undo_of) for i in inverses) == [("undo", 1, first.id), ("undo", 2, second.id)]
    assert all(i.body == {"assignee": "worker"} for i in inverses)
    rows = _outbox(store)
    assert len({r["batch"] for r in rows if r["op"] == "undo"}) == 1
    assert [r["undone"] for r in rows if r["op"] == "reassign"] == [1, 1]
    assert [t.id for t in store.tasks(assignee="worker")] == [1, 2]
    assert store.undo_last_batch() == []  # an undo is not itself undone


def test_the_single_item_undo_still_works_beside_batches(store: Store) -> None:
    store.put_tasks([task(1, 10)])
    store.complete_task(1)
    undone = store.undo_last()
    assert undone is not None and undone.state == "cancelled"


def test_tasks_by_id_keeps_the_order_asked(store: Store) -> None:
    store.put_tasks([task(1, 10), task(2, 10, title="Review"), task(3, 11)])
    store.complete_task(2)
    found = store.tasks_by_id([3, 99, 2, 3])
    assert [(t.id, t.status) for t in found] == [(3, "open"), (2, "done")]
    assert store.tasks_by_id([]) == []


def test_case_names_from_summaries_cases_or_the_directory(store: Store) -> None:
    store.put_case_summaries([summary(10, given="Amelia", family="Hughes")])
    store.put_case(case(11, given="Bilal", family="Khan"), etag='"1"')
    store.put_directory([entry(12, 12, "Chloe", "Davies")])
    assert store.case_names([10, 11, 12, 13]) == {10: "Amelia Hughes", 11: "Bilal Khan", 12: "Chloe Davies"}
    assert len(store.case_names(range(1, 1200))) == 3  # more ids than one query takes


def test_a_version_3_store_gains_batches(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "localhost_8000" / "worker.db"
    path.parent.mkdir(parents=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=3)
    conn.execute("INSERT INTO outbox (op, case_id, task_id, method, path, body, idempotency_key, created_at)"
                 " VALUES ('complete', 10, 1, 'PATCH', '/v1/tasks/1', ?, 'k1', '2026-11-20T10:00:00Z')",
                 (json.dumps({"status": "done"}),))
    conn.close()
    os.chmod(path, 0o600)
    with Store.open(path, clock=lambda: NOW) as s:
        assert s._one("PRAGMA user_version")[0] == LATEST  # noqa: SLF001 - migrated all the way
        assert [(r["op"], r["batch"]) for r in _outbox(s)] == [("complete", None)]
        [undone] = s.undo_last_batch()
        assert undone.state == "cancelled"


def _shown(store: Store, ids: list[int]) -> list[tuple[dict[str, object], dict[str, object] | None]]:
    """Each task's local and server JSON as the store holds them, without what differs by task (id, version)."""
    def plain(data: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in data.items() if k not in ("id", "version")}

    rows = {r[0]: (json.loads(r[1]), r[2]) for r in store._read("SELECT id, json, server_json FROM tasks")}
    return [(plain(rows[i][0]), plain(json.loads(rows[i][1])) if rows[i][1] else None) for i in ids]


def test_a_bulk_change_leaves_each_task_as_the_single_change_would(store: Store) -> None:
    """The bulk path applies the change straight onto a task with nothing pending; the result must be
    what replaying every pending change gives (as the single-item methods do), with or without earlier changes."""
    store.put_tasks([task(i, 10, version=i) for i in range(1, 9)])
    for one, many in ((1, 5), (2, 6)):
        store.snooze_task(one, "2026-12-01")
        store.snooze_tasks([many], "2026-12-01")
    store.reassign_task(3, "amy")
    store.reassign_tasks([7], "amy")
    for one in (1, 2, 3, 4):
        store.complete_task(one)
    store.complete_tasks([5, 6, 7, 8])
    assert _shown(store, [1, 2, 3, 4]) == _shown(store, [5, 6, 7, 8])
    assert [local["status"] for local, _server in _shown(store, [5, 6, 7, 8])] == ["done"] * 4
    # undoing the bulk complete puts 5..8 back as undoing 1..4 one by one does
    store.undo_last_batch()
    for _one in (4, 3, 2, 1):
        store.undo_last()
    assert _shown(store, [1, 2, 3, 4]) == _shown(store, [5, 6, 7, 8])
    assert [t.status for t in store.tasks_by_id([5, 6, 7, 8])] == ["snoozed", "snoozed", "open", "open"]
    assert [t.assignee for t in store.tasks_by_id([5, 6, 7, 8])] == ["worker", "worker", "amy", "worker"]


def test_undo_of_a_batch_keeps_earlier_changes_to_the_same_tasks(store: Store) -> None:
    store.put_tasks([task(i, 10) for i in range(1, 4)])
    store.snooze_tasks([1, 2], "2026-12-01")
    store.complete_tasks([1, 2, 3])
    assert [t.status for t in store.tasks_by_id([1, 2, 3])] == ["done"] * 3
    assert len(store.undo_last_batch()) == 3
    assert [(t.status, t.snoozed_until) for t in store.tasks_by_id([1, 2, 3])] == [
        ("snoozed", "2026-12-01"), ("snoozed", "2026-12-01"), ("open", None)]
    raw = {r[0]: r[1] for r in store._read("SELECT id, server_json FROM tasks")}
    assert raw[3] is None and raw[1] is not None  # 3 has nothing pending; 1 still has its snooze


def _log_frames(store: Store) -> int:
    """How many pages the write-ahead log holds now (asking checkpoints them, as fold_wal does)."""
    return int(store._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def test_fold_wal_lets_the_next_write_start_the_log_afresh(store: Store) -> None:
    """After fold_wal the next commit writes from the log's start, so a run of writes never takes the log to
    SQLite's automatic checkpoint, which would run inside a commit the user waits on."""
    store.put_tasks([task(i, 10 + i % 7) for i in range(1, 301)])
    store.fold_wal()
    store.complete_tasks(range(1, 201))
    store.fold_wal()
    store.complete_tasks([250])
    after_fold = _log_frames(store)
    store.undo_last_batch()  # no fold: this commit's pages come on top of the last one's
    store.complete_tasks(range(1, 201))
    store.complete_tasks([251])
    assert after_fold < 20 < _log_frames(store)
    store.close()
    store.fold_wal()  # closed: nothing to do, and no error


def _prev_states(store: Store, ids: list[int]) -> list[dict[str, object]]:
    rows = {r[0]: json.loads(r[1]) for r in store._read("SELECT id, prev_state FROM outbox ORDER BY id")}
    return [rows[i] for i in ids]


@pytest.mark.parametrize("change", [
    lambda s, ids: s.complete_tasks(ids),
    lambda s, ids: s.snooze_tasks(ids, "2026-12-03"),
    lambda s, ids: s.reassign_tasks(ids, "amy"),
])
def test_the_items_a_bulk_change_returns_are_its_outbox_rows(store: Store, change: Callable[..., list]) -> None:
    """The items are made from the values inserted, not read back: they must be what a read gives, each with
    a body of its own, a fresh version-4 key and the state its own task had before (tasks in one batch that
    had different states, and tasks with a change of mine already pending)."""
    store.put_tasks([task(i, 10 + i % 3, version=i, assignee="worker" if i % 4 else "bea") for i in range(1, 9)])
    store.snooze_tasks([2, 3], "2026-12-01")
    store.snooze_task(5, "2026-12-02")
    before = {t.id: t for t in store.tasks_by_id(range(1, 9))}
    ids = [6, 2, 8, 5, 1, 3, 4, 7]
    items = change(store, ids)
    assert items == [store.outbox_item(i.id) for i in items]
    assert [i.task_id for i in items] == ids and [i.id for i in items] == sorted(i.id for i in items)
    assert [i.base_version for i in items] == ids  # each task's version is its id here
    assert [i.path for i in items] == [f"/v1/tasks/{i}" for i in ids]
    keys = [uuid.UUID(i.idempotency_key) for i in items]
    assert all(k.version == 4 and k.variant == uuid.RFC_4122 for k in keys)
    assert len({i.idempotency_key for i in store.unsent()}) == len(store.unsent())
    items[0].body["status"] = "changed"  # type: ignore[index]  # the bodies are not one shared dict
    assert items[1].body == store.outbox_item(items[1].id).body  # type: ignore[union-attr]
    assert _prev_states(store, [i.id for i in items]) == [
        {"status": before[i].status, "snoozed_until": before[i].snoozed_until, "assignee": before[i].assignee,
         "completed_at": before[i].completed_at} for i in ids]
    assert len({json.dumps(p, sort_keys=True) for p in _prev_states(store, [i.id for i in items])}) == 4


def test_undo_of_a_bulk_change_after_the_fast_path_restores_every_task(store: Store) -> None:
    """Complete a hundred tasks (some with a change of mine already pending), undo: each task is back as it
    was, stored JSON and server JSON alike, and the outbox holds only the earlier change, still pending."""
    store.put_tasks([task(i, 10 + i % 7, version=i, due=f"2026-11-{10 + i % 20}") for i in range(1, 121)])
    store.snooze_tasks([5, 50], "2026-12-01")
    rows_before = {r[0]: (r[1], r[2]) for r in store._read("SELECT id, json, server_json FROM tasks")}
    items = store.complete_tasks(range(1, 101))
    assert len(items) == 100 and {t.status for t in store.tasks_by_id(range(1, 101))} == {"done"}
    undone = store.undo_last_batch()
    assert sorted(i.id for i in undone) == sorted(i.id for i in items)
    assert {r[0]: (r[1], r[2]) for r in store._read("SELECT id, json, server_json FROM tasks")} == rows_before
    assert [(i.task_id, i.op) for i in store.pending()] == [(5, "snooze"), (50, "snooze")]
