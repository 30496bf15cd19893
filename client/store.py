"""The local store: one SQLite file per server and user, that every screen reads from.

Reads never wait for the network: a screen calls these methods on the key-press
path, and each is one indexed query whose cost follows what it returns, not how
many cases the store holds. The sync engine writes what the server sends through
the ``put_*`` methods, and drains the outbox that the user's writes fill.

Writes go through one connection (``check_same_thread=False``) shared by the UI
thread and the sync task, serialised by a lock; each ingest call is one short
transaction, a page at a time. Reads go through a second, read-only connection:
in WAL mode it sees the last committed state while a write is under way, so a
screen never waits for the sync engine.

Durability: the user's own work (outbox, drafts) commits with
``synchronous=FULL``; data re-fetchable from the server commits with ``NORMAL``,
which in WAL mode survives a killed process, only not a power cut.

Restricted records are never written: a case, summary or directory entry marked
restricted is dropped (a directory entry becomes a bare stub: case id, team and a
message), and its case id is remembered so its tasks, notes and chronology are
refused too.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from client import local_search
from client.local_search import FTS_TABLE, fold, index_columns
from client.models import Cached, Case, CaseSummary, ChronologyEvent, DirectoryEntry, Note, Task, User
from client.outbox import (
    ACCESS_REVOKED, BLOCKED, CANCELLED, CONFLICT, DROPPED, NOTE_EVENT_KIND, PENDING, SENT, TASK_STATE_FIELDS,
    UNSENT_STATES, Conflict, Draft, OutboxItem, PurgeReport, View, apply_task_change, differing_fields,
    draft_from_row, inverse_change, item_from_row, note_summary, task_state,
)
from client.paths import (
    StoreError, StorePermissionError, check_side_files, ensure_private_dir, ensure_private_file, side_files,
    store_path, tighten_side_files,
)
from client.store_schema import migrate

__all__ = [
    "Cached", "Conflict", "Draft", "OutboxItem", "PurgeReport", "Store", "StoreError", "StorePermissionError",
    "View", "purge_preview", "purge_store", "store_path",
]

TASK_OPS: tuple[str, ...] = ("complete", "reopen", "snooze", "reassign", "undo", "resolve")
UNDOABLE_OPS: tuple[str, ...] = ("complete", "reopen", "snooze", "reassign")
TASK_SORTS: dict[str, str] = {
    "due": "due_on, priority, id",
    "priority": "priority, due_on, id",
    "case": "case_id, due_on, id",
}
PRIORITY_RANK: dict[str, int] = {"high": 0, "normal": 1, "low": 2}
RESTRICTED_STUB_MESSAGE = "This record is restricted, so it is not kept on this device. Search online to open it."
REVOKED_STUB_MESSAGE = "You no longer have access to this record. Contact the allocated team if you need it."

_CASE_URL = re.compile(r"/cases/(\d+)(?:/|$|\?)")
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    return _DUMPS(value)


def _like(text: str) -> str:
    """A LIKE pattern for 'contains text' (ESCAPE '\\'), folded as the haystacks are."""
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def _chronology_haystack(event: Mapping[str, Any]) -> str:
    return fold(" ".join(str(event.get(k) or "") for k in ("summary", "detail", "source_agency", "author", "kind")))


def _idempotency_keys(count: int) -> list[str]:
    """``count`` fresh version-4 UUIDs, as ``str(uuid.uuid4())`` makes them, from one read of the OS's
    randomness instead of one each (a bulk change needs a key for each of its tasks)."""
    raw = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=raw[at:at + 16], version=4)) for at in range(0, 16 * count, 16)]


class _StateText:
    """``_dumps(task_state(task))``, remembered by value: the tasks of one bulk change mostly share their
    state before it (open, mine, never snoozed), so a few encodings serve a hundred rows."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], str] = {}

    def __call__(self, task: Mapping[str, Any]) -> str:
        values = tuple(task.get(field) for field in TASK_STATE_FIELDS)
        text = self._seen.get(values)
        if text is None:
            text = self._seen[values] = _dumps(dict(zip(TASK_STATE_FIELDS, values)))
        return text


def _copies(payload: str) -> Callable[[], dict[str, Any]]:
    """A function giving a new dict of the JSON object ``payload`` on each call, as parsing it each time
    would: a shallow copy of one parse while its values are all scalars (a TaskPatch's are)."""
    parsed = json.loads(payload)
    if any(isinstance(value, (dict, list)) for value in parsed.values()):
        return lambda: json.loads(payload)
    return lambda: dict(parsed)


def _task_row(task: Mapping[str, Any]) -> tuple[Any, ...]:
    """The indexed columns of a task, from its JSON."""
    haystack = fold(" ".join(str(task.get(k) or "") for k in ("title", "kind", "assignee")))
    return (task["case_id"], task.get("assignee"), task["status"], task["due_on"],
            PRIORITY_RANK.get(task.get("priority") or "normal", 1), haystack)


class Store:
    """The local store. Make one with ``Store.open(path)``; see the module docstring."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Callable[[], datetime],
                 reader: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        # screens read through a connection of their own: in WAL mode it reads the last committed state while
        # the sync engine holds the writer, so a key press never waits for a sync write
        self._reader = reader or conn
        self._read_lock = threading.RLock() if reader is not None else self._lock
        self._synchronous = ""
        self._closed = False
        self.path = path
        self._clock = clock

    # --- opening and closing ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], datetime] | None = None) -> Store:
        """Open (creating if need be) the store at ``path``; ``clock`` is for tests."""
        path = Path(path)
        ensure_private_dir(path.parent)
        ensure_private_file(path)
        check_side_files(path)
        conn = _connect(path)
        try:
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"the local store {path} cannot be read ({exc}); run `casework purge` to start "
                             "again (it lists any unsent work first)") from exc
        except BaseException:
            conn.close()
            raise
        reader = _connect(path)
        reader.execute("PRAGMA query_only=ON")
        tighten_side_files(path)
        return cls(conn, path, clock or _utc_now, reader)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with self._read_lock:
                if self._reader is not self._conn:
                    self._reader.close()
            try:
                # fold the WAL back in so a closed store is one file
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _today(self) -> str:
        # due dates are the worker's calendar days
        return self._clock().astimezone().date().isoformat()

    @contextmanager
    def _write(self, durable: bool) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``durable`` for the user's own work (fsync on commit)."""
        with self._lock:
            wanted = "FULL" if durable else "NORMAL"
            if self._synchronous != wanted:
                self._conn.execute(f"PRAGMA synchronous={wanted}")
                self._synchronous = wanted
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchone()

    def _fetched(self, conn: sqlite3.Connection, kind: str, ids: Iterable[int]) -> None:
        now = self._now()
        conn.executemany("INSERT OR REPLACE INTO fetched (kind, id, as_of) VALUES (?, ?, ?)",
                         [(kind, i, now) for i in ids])

    @staticmethod
    def _restricted_ids(conn: sqlite3.Connection) -> set[int]:
        return {row[0] for row in conn.execute("SELECT case_id FROM restricted_cases")}

    @staticmethod
    def _is_restricted(conn: sqlite3.Connection, case_id: int) -> bool:
        return conn.execute("SELECT 1 FROM restricted_cases WHERE case_id = ?", (case_id,)).fetchone() is not None

    # --- ingest from the server ------------------------------------------------------------------------------

    def put_case(self, case: Mapping[str, Any], etag: str | None) -> None:
        """The whole case (GET /v1/cases/{id}). A restricted case is dropped, never stored."""
        case_id = int(case["id"])
        with self._write(False) as conn:
            if case.get("restricted"):
                exposed = self._restrict(conn, case_id)
            else:
                exposed = False
                conn.execute("DELETE FROM restricted_cases WHERE case_id = ?", (case_id,))
                conn.execute("INSERT OR REPLACE INTO cases (id, person_id, json, etag) VALUES (?, ?, ?, ?)",
                             (case_id, (case.get("person") or {}).get("id"), _dumps(case), etag))
                self._fetched(conn, "case", (case_id,))
        if exposed:
            self._scrub()

    def put_case_summaries(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Rows of GET /v1/cases. Restricted ones are not stored (and any copy is removed)."""
        exposed = False
        with self._write(False) as conn:
            keep = []
            for item in items:
                if item.get("restricted"):
                    exposed = self._restrict(conn, int(item["id"])) or exposed
                else:
                    keep.append(item)
            conn.executemany("DELETE FROM restricted_cases WHERE case_id = ?", [(i["id"],) for i in keep])
            conn.executemany(
                "INSERT OR REPLACE INTO case_summaries (id, allocated_worker, status, overdue, next_due, json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(i["id"], i.get("allocated_worker"), i["status"], int(i.get("overdue_tasks") or 0),
                  i.get("next_task_due"), _dumps(i)) for i in keep],
            )
            self._fetched(conn, "summary", (i["id"] for i in keep))
        if exposed:
            self._scrub()

    def put_chronology(self, case_id: int, events: Sequence[Mapping[str, Any]], *, replace: bool) -> None:
        """``replace=True``: ``events`` is the case's whole chronology; otherwise upsert them."""
        with self._write(False) as conn:
            if self._is_restricted(conn, case_id):
                return
            if replace:
                # local entries (negative ids) stand for notes not yet acknowledged; they stay
                conn.execute("DELETE FROM chronology WHERE case_id = ? AND id > 0", (case_id,))
            # the server's entry for a note replaces the one made locally when it was written
            conn.executemany("DELETE FROM chronology WHERE note_id = ? AND id < 0",
                             [(e["note_id"],) for e in events if e.get("note_id")])
            conn.executemany(
                "INSERT OR REPLACE INTO chronology (id, case_id, occurred_at, kind, key_event, note_id, haystack,"
                " json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(e["id"], case_id, e["occurred_at"], e["kind"], 1 if e.get("key_event") else 0, e.get("note_id"),
                  _chronology_haystack(e), _dumps(e)) for e in events],
            )
            self._fetched(conn, "chronology", (case_id,))

    def put_notes(self, case_id: int, notes: Sequence[Mapping[str, Any]]) -> None:
        with self._write(False) as conn:
            if self._is_restricted(conn, case_id):
                return
            conn.executemany("INSERT OR REPLACE INTO notes (id, case_id, occurred_at, json) VALUES (?, ?, ?, ?)",
                             [(n["id"], case_id, n["occurred_at"], _dumps(n)) for n in notes])
            self._fetched(conn, "notes", (case_id,))

    def put_tasks(self, tasks: Sequence[Mapping[str, Any]]) -> None:
        """Upsert by id. Where a change of mine is still pending, the local state stays and the server's
        version is remembered beside it (the change is then sent against it, or becomes a conflict)."""
        with self._write(False) as conn:
            restricted = self._restricted_ids(conn)
            busy = {row[0] for row in conn.execute(
                "SELECT DISTINCT task_id FROM outbox WHERE state IN (?, ?) AND task_id IS NOT NULL",
                (PENDING, CONFLICT))}
            plain: list[tuple[Any, ...]] = []
            stored: list[int] = []
            for task in tasks:
                if task["case_id"] in restricted:
                    continue
                stored.append(task["id"])
                if task["id"] in busy:
                    conn.execute("UPDATE tasks SET server_json = ? WHERE id = ?", (_dumps(task), task["id"]))
                    self._rebuild_task(conn, task["id"])
                else:
                    plain.append((task["id"], *_task_row(task), _dumps(task)))
            conn.executemany(
                "INSERT OR REPLACE INTO tasks (id, case_id, assignee, status, due_on, priority, haystack, json,"
                " server_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)", plain)
            self._fetched(conn, "task", stored)

    def put_directory(self, entries: Sequence[Mapping[str, Any]], *, generation: int | None = None) -> None:
        """DirectoryEntry JSON, upserted (a page of GET /v1/directory at a time is best).

        A full reload passes the same ``generation`` to every page and then calls
        ``prune_directory(generation)`` to drop people no longer listed.
        """
        rows: list[tuple[Any, ...]] = []
        restricted: list[tuple[int]] = []
        open_again: list[tuple[int]] = []
        for entry in entries:
            if entry.get("restricted"):
                entry = _stub(entry, entry.get("message") or RESTRICTED_STUB_MESSAGE)
                if entry["case_id"] is not None:
                    restricted.append((entry["case_id"],))
            elif entry.get("case_id") is not None:
                open_again.append((entry["case_id"],))
            person_id = entry.get("person_id")
            case_id = entry.get("case_id")
            if person_id is None and case_id is None:
                continue  # a stub that names no case cannot be found or opened
            row_id = person_id if person_id is not None else -int(case_id)
            closed = 2 if person_id is None else (0 if entry.get("status") == "open" else 1)
            rows.append((row_id, person_id, case_id, closed, generation, _dumps(entry), *index_columns(entry)))
        with self._write(False) as conn:
            # a person who became a stub (or a stub that became a person) leaves no second row behind
            before = conn.total_changes
            conn.executemany("DELETE FROM directory WHERE case_id = ? AND id != ?",
                             [(r[2], r[0]) for r in rows if r[2] is not None and r[0] < 0])
            exposed = conn.total_changes != before
            conn.executemany("DELETE FROM directory WHERE id = ?",
                             [(-r[2],) for r in rows if r[2] is not None and r[0] > 0])
            conn.executemany(
                "INSERT INTO directory (id, person_id, case_id, closed, gen, json, names, phonetic, address, ids,"
                " dob, team) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, case_id = excluded.case_id,"
                " closed = excluded.closed, gen = excluded.gen, json = excluded.json, names = excluded.names,"
                " phonetic = excluded.phonetic, address = excluded.address, ids = excluded.ids,"
                " dob = excluded.dob, team = excluded.team",
                rows,
            )
            for (case_id,) in restricted:
                exposed = self._restrict(conn, case_id) or exposed
        if exposed:
            self._scrub()

    def prune_directory(self, generation: int) -> int:
        """After a full reload: remove entries the reload did not list; returns how many."""
        with self._write(False) as conn:
            return conn.execute("DELETE FROM directory WHERE gen IS NOT ?", (generation,)).rowcount

    def put_users(self, users: Sequence[Mapping[str, Any]]) -> None:
        with self._write(False) as conn:
            conn.executemany("DELETE FROM users WHERE username = ? AND id != ?",
                             [(u["username"], u["id"]) for u in users])
            conn.executemany("INSERT OR REPLACE INTO users (id, username, display_name, json) VALUES (?, ?, ?, ?)",
                             [(u["id"], u["username"], u.get("display_name") or u["username"], _dumps(u))
                              for u in users])

    def purge_case(self, case_id: int) -> None:
        """Access was revoked (403/404/410): remove everything about the case. The user's drafts and unsent
        writes for it are kept but marked blocked, so the UI can show them: nothing typed is lost."""
        with self._write(True) as conn:
            self._drop_case(conn, case_id)
            conn.execute("UPDATE outbox SET state = ?, reason = ? WHERE case_id = ? AND state IN (?, ?)",
                         (BLOCKED, ACCESS_REVOKED, case_id, PENDING, CONFLICT))
            conn.execute("UPDATE drafts SET blocked = ? WHERE case_id = ?", (ACCESS_REVOKED, case_id))
            self._stub_directory(conn, case_id, REVOKED_STUB_MESSAGE)
        self._scrub()

    def _restrict(self, conn: sqlite3.Connection, case_id: int) -> bool:
        """The case is restricted: hold nothing about it but its number. True if it had details on disk."""
        conn.execute("INSERT OR IGNORE INTO restricted_cases (case_id) VALUES (?)", (case_id,))
        held = conn.execute("SELECT 1 FROM cases WHERE id = ? UNION ALL SELECT 1 FROM case_summaries WHERE id = ?",
                            (case_id, case_id)).fetchone() is not None
        self._drop_case(conn, case_id)
        return self._stub_directory(conn, case_id, RESTRICTED_STUB_MESSAGE) or held

    def _stub_directory(self, conn: sqlite3.Connection, case_id: int, message: str) -> bool:
        """Reduce the case's directory entry to a stub; True if it held a person's details."""
        row = conn.execute("SELECT id, json FROM directory WHERE case_id = ? AND id > 0", (case_id,)).fetchone()
        if row is None:
            return False
        stub = _stub(json.loads(row["json"]), message)
        # plain DELETE and INSERT: REPLACE would bypass the delete trigger and leave the search index stale
        conn.execute("DELETE FROM directory WHERE id IN (?, ?)", (row["id"], -case_id))
        conn.execute(
            "INSERT INTO directory (id, person_id, case_id, closed, gen, json, names, phonetic,"
            " address, ids, dob, team) VALUES (?, NULL, ?, 2, NULL, ?, ?, ?, ?, ?, ?, ?)",
            (-case_id, case_id, _dumps(stub), *index_columns(stub)))
        return True

    def _scrub(self) -> None:
        """After removing a record, leave none of its words behind: merge the search index's segments
        (a deleted row's tokens otherwise linger in them) and empty the WAL."""
        with self._write(False) as conn:
            conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _drop_case(self, conn: sqlite3.Connection, case_id: int) -> None:
        task_ids = [row[0] for row in conn.execute("SELECT id FROM tasks WHERE case_id = ?", (case_id,))]
        for table in ("cases", "case_summaries"):
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (case_id,))
        for table in ("chronology", "notes", "tasks"):
            conn.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))
        conn.executemany("DELETE FROM fetched WHERE kind = ? AND id = ?",
                         [(k, case_id) for k in ("case", "summary", "chronology", "notes")]
                         + [("task", t) for t in task_ids])
        # a stale ETag would make the next revalidation answer 304 for a record we no longer hold
        conn.execute("DELETE FROM etags WHERE key LIKE ? OR key LIKE ? OR key LIKE ?",
                     (f"%/cases/{case_id}", f"%/cases/{case_id}/%", f"%/cases/{case_id}?%"))

    # --- meta and ETags --------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._write(False) as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def etag(self, key: str) -> str | None:
        row = self._one("SELECT etag FROM etags WHERE key = ?", (key,))
        if row is not None:
            return row[0]
        if (m := _CASE_URL.search(key)) is not None:
            found = self._one("SELECT etag FROM cases WHERE id = ?", (int(m.group(1)),))
            if found is not None and key.rstrip("/").endswith(f"/cases/{m.group(1)}"):
                return found[0]
        return None

    def confirm_current(self, kind: str, ids: Iterable[int]) -> None:
        """The server said "not modified" (304): what is held is current as of now. Only records already held
        are touched (one purged meanwhile stays gone), and ``kind`` is as in ``freshness``."""
        now = self._now()
        with self._write(False) as conn:
            conn.executemany("UPDATE fetched SET as_of = ? WHERE kind = ? AND id = ?", [(now, kind, i) for i in ids])

    def set_etag(self, key: str, etag: str) -> None:
        with self._write(False) as conn:
            if (m := _CASE_URL.search(key)) is not None and self._is_restricted(conn, int(m.group(1))):
                return  # we hold nothing for a restricted case, so there is nothing to revalidate
            conn.execute("INSERT OR REPLACE INTO etags (key, etag) VALUES (?, ?)", (key, etag))

    # --- reads for screens -----------------------------------------------------------------------------------

    def caseload(self, username: str) -> list[CaseSummary]:
        """Open cases allocated to ``username``: those with overdue tasks first, then by the next task due."""
        rows = self._read(
            "SELECT json FROM case_summaries WHERE allocated_worker = ? AND status = 'open'"
            " ORDER BY overdue > 0 DESC, next_due IS NULL, next_due, id", (username,))
        return [CaseSummary.from_json(json.loads(r[0])) for r in rows]

    def case(self, case_id: int) -> Cached[Case] | None:
        row = self._one("SELECT c.json, f.as_of FROM cases c LEFT JOIN fetched f ON f.kind = 'case' AND f.id = c.id"
                        " WHERE c.id = ?", (case_id,))
        if row is None:
            return None
        return Cached(Case.from_json(json.loads(row[0])), row[1] or "")

    def case_json(self, case_id: int) -> dict[str, Any] | None:
        """The case exactly as the server sent it."""
        row = self._one("SELECT json FROM cases WHERE id = ?", (case_id,))
        return None if row is None else json.loads(row[0])

    def directory_entry(self, case_id: int) -> DirectoryEntry | None:
        row = self._one("SELECT json FROM directory WHERE case_id = ? ORDER BY id DESC LIMIT 1", (case_id,))
        return None if row is None else DirectoryEntry.from_json(json.loads(row[0]))

    def _chronology_where(self, case_id: int, kinds: Sequence[str], key_only: bool,
                          text: str) -> tuple[str, list[Any]]:
        where = ["case_id = ?"]
        params: list[Any] = [case_id]
        if kinds:
            where.append(f"kind IN ({_placeholders(len(kinds))})")
            params += list(kinds)
        if key_only:
            where.append("key_event = 1")
        if text.strip():
            where.append("haystack LIKE ? ESCAPE '\\'")
            params.append(_like(text.strip()))
        return " AND ".join(where), params

    def chronology_window(self, case_id: int, offset: int, limit: int, *, kinds: Sequence[str] = (),
                          key_only: bool = False, text: str = "") -> list[ChronologyEvent]:
        """Rows ``offset`` .. ``offset + limit`` of the case's chronology, newest first."""
        where, params = self._chronology_where(case_id, kinds, key_only, text)
        rows = self._read(f"SELECT json FROM chronology WHERE {where} ORDER BY occurred_at DESC, id DESC"
                          " LIMIT ? OFFSET ?", [*params, max(0, int(limit)), max(0, int(offset))])
        return [ChronologyEvent.from_json(json.loads(r[0])) for r in rows]

    def chronology_count(self, case_id: int, *, kinds: Sequence[str] = (), key_only: bool = False,
                         text: str = "") -> int:
        where, params = self._chronology_where(case_id, kinds, key_only, text)
        row = self._one(f"SELECT count(*) FROM chronology WHERE {where}", params)
        return int(row[0]) if row else 0

    def tasks(self, *, assignee: str | None = None, case_id: int | None = None,
              status: Sequence[str] = ("open",), overdue_only: bool = False, text: str = "",
              sort: str = "due") -> list[Task]:
        """Tasks as the user will see them (with their pending changes applied). ``sort``: due | priority | case."""
        if sort not in TASK_SORTS:
            raise ValueError(f"sort must be one of {', '.join(TASK_SORTS)}, not {sort!r}")
        where: list[str] = []
        params: list[Any] = []
        if assignee is not None:
            where.append("assignee = ?")
            params.append(assignee)
        if case_id is not None:
            where.append("case_id = ?")
            params.append(case_id)
        if status:
            where.append(f"status IN ({_placeholders(len(status))})")
            params += list(status)
        if overdue_only:
            where.append("due_on < ?")
            params.append(self._today())
        if text.strip():
            where.append("haystack LIKE ? ESCAPE '\\'")
            params.append(_like(text.strip()))
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._read(f"SELECT json FROM tasks {clause} ORDER BY {TASK_SORTS[sort]}", params)
        return [Task.from_json(json.loads(r[0])) for r in rows]

    def task(self, task_id: int) -> Task | None:
        row = self._one("SELECT json FROM tasks WHERE id = ?", (task_id,))
        return None if row is None else Task.from_json(json.loads(row[0]))

    def notes(self, case_id: int) -> list[Note]:
        """The case's notes, newest first (a note not yet sent has a negative id)."""
        rows = self._read("SELECT json FROM notes WHERE case_id = ? ORDER BY occurred_at DESC, id DESC", (case_id,))
        return [Note.from_json(json.loads(r[0])) for r in rows]

    def users(self) -> list[User]:
        rows = self._read("SELECT json FROM users ORDER BY display_name, username")
        return [User.from_json(json.loads(r[0])) for r in rows]

    def search(self, query: str, limit: int = 50) -> list[DirectoryEntry]:
        """Duty search over the directory, best first (see client.local_search)."""
        with self._read_lock:
            ranked = local_search.ranked_ids(self._reader, query, limit)
            if not ranked:
                return []
            ids = [row_id for row_id, _ in ranked]
            found = {row[0]: row[1] for row in self._reader.execute(
                f"SELECT id, json FROM directory WHERE id IN ({_placeholders(len(ids))})", ids)}
        hits = []
        for row_id, score in ranked:
            text = found.get(row_id)
            if text is not None:
                data = json.loads(text)
                data["score"] = score
                hits.append(DirectoryEntry.from_json(data))
        return hits

    def freshness(self, kind: str, id: int) -> str | None:
        """When the record was last fetched. ``kind``: case | summary | task | chronology | notes
        (the last two by case id)."""
        row = self._one("SELECT as_of FROM fetched WHERE kind = ? AND id = ?", (kind, id))
        return None if row is None else row[0]

    # --- writes: local first, then the outbox ----------------------------------------------------------------

    def _me(self, conn: sqlite3.Connection) -> str:
        row = conn.execute("SELECT value FROM meta WHERE key = 'me'").fetchone()
        if row is None:
            return ""
        value = row[0]
        if value.startswith("{"):
            try:
                return str(json.loads(value).get("username") or "")
            except ValueError:
                return ""
        return value

    def _next_temp_id(self, conn: sqlite3.Connection) -> int:
        """Temporary ids for local records are negative, so they never meet the server's."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'next_temp_id'").fetchone()
        value = int(row[0]) if row else -1
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_temp_id', ?)", (str(value - 1),))
        return value

    def _enqueue(self, conn: sqlite3.Connection, *, op: str, case_id: int, task_id: int | None, method: str,
                 path: str, body: Mapping[str, Any], base_version: int | None = None,
                 prev_state: Mapping[str, Any] | None = None, local_note_id: int | None = None,
                 undo_of: int | None = None) -> OutboxItem:
        # the key is made now, once: a resend after a lost answer must carry the same one
        cursor = conn.execute(
            "INSERT INTO outbox (op, case_id, task_id, method, path, body, idempotency_key, base_version, prev_state,"
            " local_note_id, undo_of, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (op, case_id, task_id, method, path, _dumps(body), str(uuid.uuid4()), base_version,
             None if prev_state is None else _dumps(prev_state), local_note_id, undo_of, self._now()))
        return self._item(conn, int(cursor.lastrowid or 0))

    @staticmethod
    def _item(conn: sqlite3.Connection, item_id: int) -> OutboxItem:
        row = conn.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"there is no outbox item {item_id}")
        return item_from_row(row)

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = self._one("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return None if row is None else item_from_row(row)

    def add_note(self, case_id: int, kind: str, body: str, *, occurred_at: str | None = None,
                 amends: int | None = None, draft_id: int | None = None) -> OutboxItem:
        """Write a note: shown at once (a temporary note and chronology entry with negative ids),
        queued for the server, and its draft deleted, all in one durable transaction."""
        if kind not in NOTE_EVENT_KIND:
            raise ValueError(f"{kind!r} is not a kind of note; use one of {', '.join(NOTE_EVENT_KIND)}")
        if not body.strip():
            raise ValueError("the note is empty")
        payload: dict[str, Any] = {"kind": kind, "body": body}
        if occurred_at is not None:
            payload["occurred_at"] = occurred_at
        if amends is not None:
            payload["amends"] = amends
        with self._write(True) as conn:
            now = self._now()
            note_id = None
            if not self._is_restricted(conn, case_id):
                me = self._me(conn)
                note_id = self._next_temp_id(conn)
                when = occurred_at or now
                note = {"id": note_id, "case_id": case_id, "kind": kind, "occurred_at": when, "body": body,
                        "author": me, "created_at": now, "amends": amends}
                amended = None
                if amends is not None:
                    found = conn.execute("SELECT occurred_at FROM notes WHERE id = ?", (amends,)).fetchone()
                    amended = found[0] if found else None
                event_id = self._next_temp_id(conn)
                event = {"id": event_id, "case_id": case_id, "occurred_at": when, "kind": NOTE_EVENT_KIND[kind],
                         "source_agency": "Children's Services", "summary": note_summary(body, amended),
                         "detail": body, "key_event": False, "author": me, "note_id": note_id}
                conn.execute("INSERT INTO notes (id, case_id, occurred_at, json) VALUES (?, ?, ?, ?)",
                             (note_id, case_id, when, _dumps(note)))
                conn.execute("INSERT INTO chronology (id, case_id, occurred_at, kind, key_event, note_id, haystack,"
                             " json) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                             (event_id, case_id, when, event["kind"], note_id, _chronology_haystack(event),
                              _dumps(event)))
            item = self._enqueue(conn, op="note", case_id=case_id, task_id=None, method="POST",
                                 path=f"/v1/cases/{case_id}/notes", body=payload, local_note_id=note_id)
            if draft_id is not None:
                conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
            return item

    def _change_task(self, task_id: int, op: str, body: Mapping[str, Any]) -> OutboxItem:
        with self._write(True) as conn:
            row = conn.execute("SELECT json FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                raise StoreError(f"task {task_id} is not in the local store; refresh and try again")
            task = json.loads(row[0])
            item = self._enqueue(conn, op=op, case_id=task["case_id"], task_id=task_id, method="PATCH",
                                 path=f"/v1/tasks/{task_id}", body=body, base_version=task["version"],
                                 prev_state=task_state(task))
            self._rebuild_task(conn, task_id)
            return item

    def complete_task(self, task_id: int) -> OutboxItem:
        return self._change_task(task_id, "complete", {"status": "done"})

    def reopen_task(self, task_id: int) -> OutboxItem:
        return self._change_task(task_id, "reopen", {"status": "open"})

    def snooze_task(self, task_id: int, until: str) -> OutboxItem:
        return self._change_task(task_id, "snooze", {"status": "snoozed", "snoozed_until": until})

    def reassign_task(self, task_id: int, username: str) -> OutboxItem:
        return self._change_task(task_id, "reassign", {"assignee": username})

    def _local_task(self, conn: sqlite3.Connection, task_id: int, *, upto: int) -> dict[str, Any] | None:
        """The task as I left it with my change ``upto`` (the server's version plus my unacknowledged
        changes up to and including that one)."""
        row = conn.execute("SELECT json, server_json FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            return None
        local = json.loads(row["server_json"] or row["json"])
        now = self._now()
        for (body,) in conn.execute("SELECT body FROM outbox WHERE task_id = ? AND id <= ? AND state IN (?, ?)"
                                    " ORDER BY id", (task_id, upto, PENDING, CONFLICT)):
            local = apply_task_change(local, json.loads(body), now)
        return local

    def _rebuild_task(self, conn: sqlite3.Connection, task_id: int) -> None:
        """The local task = the server's version with my unacknowledged changes replayed on it, in order."""
        row = conn.execute("SELECT json, server_json FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            return
        server = json.loads(row["server_json"] or row["json"])
        bodies = [json.loads(r[0]) for r in conn.execute(
            "SELECT body FROM outbox WHERE task_id = ? AND state IN (?, ?) ORDER BY id", (task_id, PENDING, CONFLICT))]
        local = server
        now = self._now()
        for body in bodies:
            local = apply_task_change(local, body, now)
        conn.execute(
            "UPDATE tasks SET case_id = ?, assignee = ?, status = ?, due_on = ?, priority = ?, haystack = ?, json = ?,"
            " server_json = ? WHERE id = ?",
            (*_task_row(local), _dumps(local), _dumps(server) if bodies else None, task_id))

    def undo_last(self) -> OutboxItem | None:
        """Undo the user's last task action. Still unsent: it is cancelled (returned with state
        "cancelled"). Already sent, or perhaps sent: the inverse change is queued and returned."""
        with self._write(True) as conn:
            row = conn.execute(
                f"SELECT * FROM outbox WHERE op IN ({_placeholders(len(UNDOABLE_OPS))}) AND undone = 0"
                " AND state NOT IN (?, ?) ORDER BY id DESC LIMIT 1", (*UNDOABLE_OPS, CANCELLED, DROPPED)).fetchone()
            if row is None:
                return None
            # a change made on its own is a batch of one, so its inverse gets a batch of its own
            return self._undo_row(conn, row, str(uuid.uuid4()))

    def _queue_inverse(self, conn: sqlite3.Connection, item: OutboxItem,
                       before: Mapping[str, Any]) -> OutboxItem | None:
        assert item.task_id is not None
        task_row = conn.execute("SELECT json FROM tasks WHERE id = ?", (item.task_id,)).fetchone()
        inverse = inverse_change(item.body, before)
        if task_row is None or not inverse:
            return None
        task = json.loads(task_row[0])
        undo = self._enqueue(conn, op="undo", case_id=item.case_id, task_id=item.task_id, method="PATCH",
                             path=item.path, body=inverse, base_version=task["version"],
                             prev_state=task_state(task), undo_of=item.id)
        self._rebuild_task(conn, item.task_id)
        return undo

    def pending(self) -> list[OutboxItem]:
        """Items to send, in order: not sent, not blocked, and not behind an unresolved conflict on the
        same task. A note amending a note that is itself unsent waits until that one has its server id."""
        rows = self._read(
            "SELECT * FROM outbox o WHERE o.state = ? AND NOT EXISTS (SELECT 1 FROM outbox e WHERE"
            " e.task_id = o.task_id AND e.id < o.id AND e.state IN (?, ?)) ORDER BY o.id",
            (PENDING, CONFLICT, BLOCKED))
        items = [item_from_row(r) for r in rows]
        return [i for i in items if not (i.op == "note" and (i.body.get("amends") or 0) < 0)]

    def unsent(self) -> list[OutboxItem]:
        """Everything the server has not acknowledged: pending, in conflict or blocked."""
        rows = self._read(f"SELECT * FROM outbox WHERE state IN ({_placeholders(len(UNSENT_STATES))}) ORDER BY id",
                          UNSENT_STATES)
        return [item_from_row(r) for r in rows]

    def mark_sent(self, item_id: int, response: Mapping[str, Any]) -> None:
        """The server accepted the item; ``response`` is the note or task it returned."""
        with self._write(True) as conn:
            item = self._item(conn, item_id)
            if item.state == SENT:
                return  # a duplicate acknowledgement
            conn.execute("UPDATE outbox SET state = ?, sent_at = ?, response = ?, last_error = NULL WHERE id = ?",
                         (SENT, self._now(), _dumps(response), item_id))
            if item.op == "note":
                self._note_sent(conn, item, response)
                return
            assert item.task_id is not None
            if self._is_restricted(conn, item.case_id) or "version" not in response:
                return
            conn.execute("UPDATE tasks SET server_json = ? WHERE id = ?", (_dumps(response), item.task_id))
            # later changes to this task were made against the version this one replaced
            conn.execute("UPDATE outbox SET base_version = ? WHERE task_id = ? AND id > ? AND state = ?",
                         (response["version"], item.task_id, item_id, PENDING))
            self._rebuild_task(conn, item.task_id)
            if item.state == CANCELLED:
                # undone while it was on its way: the server applied it after all, so undo it there too
                before = conn.execute("SELECT prev_state FROM outbox WHERE id = ?", (item_id,)).fetchone()[0]
                self._queue_inverse(conn, item, json.loads(before or "{}"))

    def _note_sent(self, conn: sqlite3.Connection, item: OutboxItem, note: Mapping[str, Any]) -> None:
        temp = item.local_note_id
        server_id = note.get("id")
        if temp is not None:
            conn.execute("DELETE FROM notes WHERE id = ?", (temp,))
        if server_id is None:
            return
        # a later note amending this one, still unsent or a draft, now points at the server's id
        if temp is not None:
            for row in conn.execute("SELECT id, body FROM outbox WHERE op = 'note' AND state IN (?, ?, ?)",
                                    (PENDING, CONFLICT, BLOCKED)).fetchall():
                body = json.loads(row[1])
                if body.get("amends") == temp:
                    body["amends"] = server_id
                    conn.execute("UPDATE outbox SET body = ? WHERE id = ?", (_dumps(body), row[0]))
            conn.execute("UPDATE drafts SET amends = ? WHERE amends = ?", (server_id, temp))
        if self._is_restricted(conn, item.case_id):
            conn.execute("DELETE FROM chronology WHERE note_id = ? AND id < 0", (temp,))
            return
        conn.execute("INSERT OR REPLACE INTO notes (id, case_id, occurred_at, json) VALUES (?, ?, ?, ?)",
                     (server_id, note.get("case_id", item.case_id), note["occurred_at"], _dumps(note)))
        if temp is None:
            return
        if conn.execute("SELECT 1 FROM chronology WHERE note_id = ? AND id > 0", (server_id,)).fetchone():
            conn.execute("DELETE FROM chronology WHERE note_id = ? AND id < 0", (temp,))
            return
        # keep the local entry (the server's own arrives with the next chronology fetch) but point it at the note
        for row in conn.execute("SELECT id, json FROM chronology WHERE note_id = ?", (temp,)).fetchall():
            event = json.loads(row[1])
            event.update(note_id=server_id, occurred_at=note["occurred_at"], author=note.get("author"))
            conn.execute("UPDATE chronology SET note_id = ?, occurred_at = ?, json = ? WHERE id = ?",
                         (server_id, note["occurred_at"], _dumps(event), row[0]))

    def mark_failed(self, item_id: int, reason: str, retry_at: str) -> None:
        """The send failed (offline, 5xx, timeout): keep the item and try again at ``retry_at``."""
        with self._write(True) as conn:
            conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                         " WHERE id = ? AND state = ?", (reason, retry_at, item_id, PENDING))

    def record_conflict(self, item_id: int, server_record: Mapping[str, Any]) -> Conflict:
        """A 412: the task changed on the server. Both versions are kept and the item waits for the user.

        If the server's record already shows my change (my earlier send was applied but its answer was lost),
        there is nothing to resolve: the item is marked sent and the returned conflict is already resolved
        (``choice == "already-applied"``)."""
        with self._write(True) as conn:
            item = self._item(conn, item_id)
            now = self._now()
            mine = self._local_task(conn, item.task_id, upto=item_id) if item.task_id is not None else None
            mine = mine or dict(item.body)
            theirs = dict(server_record)
            already = (item.task_id is not None and "status" in theirs
                       and task_state(apply_task_change(theirs, item.body, now)) == task_state(theirs))
            choice = None
            if already or item.state == CANCELLED:
                choice = "already-applied" if already else "undone"
            cursor = conn.execute(
                "INSERT INTO conflicts (item_id, case_id, task_id, mine, theirs, created_at, resolved_at, choice)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, item.case_id, item.task_id, _dumps(mine), _dumps(theirs), now,
                 now if choice else None, choice))
            conflict_id = int(cursor.lastrowid or 0)
            if item.state == CANCELLED:
                pass
            elif already:
                conn.execute("UPDATE outbox SET state = ?, sent_at = ?, response = ? WHERE id = ?",
                             (SENT, now, _dumps(theirs), item_id))
                self._take_server_task(conn, item, theirs)
            else:
                conn.execute("UPDATE outbox SET state = ?, reason = ? WHERE id = ?",
                             (CONFLICT, "the record changed on the server", item_id))
                if item.task_id is not None and "version" in theirs:
                    conn.execute("UPDATE tasks SET server_json = ? WHERE id = ?", (_dumps(theirs), item.task_id))
                    self._rebuild_task(conn, item.task_id)
            return self._conflict(conn, conflict_id)

    def _take_server_task(self, conn: sqlite3.Connection, item: OutboxItem, theirs: Mapping[str, Any]) -> None:
        """Make ``theirs`` the server version of the item's task and move later changes onto it."""
        if item.task_id is None or "version" not in theirs:
            return
        conn.execute("UPDATE tasks SET server_json = ? WHERE id = ?", (_dumps(theirs), item.task_id))
        conn.execute("UPDATE outbox SET base_version = ? WHERE task_id = ? AND id > ? AND state = ?",
                     (theirs["version"], item.task_id, item.id, PENDING))
        self._rebuild_task(conn, item.task_id)

    @staticmethod
    def _conflict(conn: sqlite3.Connection, conflict_id: int) -> Conflict:
        row = conn.execute("SELECT c.*, o.op, o.body FROM conflicts c JOIN outbox o ON o.id = c.item_id"
                           " WHERE c.id = ?", (conflict_id,)).fetchone()
        if row is None:
            raise StoreError(f"there is no conflict {conflict_id}")
        return _conflict_from_row(row)

    def conflicts(self) -> list[Conflict]:
        """Unresolved conflicts, oldest first."""
        rows = self._read("SELECT c.*, o.op, o.body FROM conflicts c JOIN outbox o ON o.id = c.item_id"
                          " WHERE c.resolved_at IS NULL ORDER BY c.id")
        return [_conflict_from_row(r) for r in rows]

    def resolve_conflict(self, conflict_id: int, choice: str) -> OutboxItem | None:
        """``mine``: send my version of the record against theirs (every field I hold that differs);
        ``theirs``: take the server's, and drop my change (kept in the outbox as "dropped", with the reason);
        ``merge`` (tasks): apply only the fields my change set on top of theirs.
        Returns the requeued item, or None for ``theirs``."""
        if choice not in ("mine", "theirs", "merge"):
            raise ValueError("choose mine, theirs or merge")
        with self._write(True) as conn:
            conflict = self._conflict(conn, conflict_id)
            if conflict.resolved_at is not None:
                raise StoreError(f"conflict {conflict_id} was already resolved ({conflict.choice})")
            item = self._item(conn, conflict.item_id)
            if item.task_id is None and choice != "theirs":
                raise StoreError("only a task change can be sent again after a conflict")
            now = self._now()
            conn.execute("UPDATE conflicts SET resolved_at = ?, choice = ? WHERE id = ?", (now, choice, conflict_id))
            theirs = dict(conflict.theirs)
            result: OutboxItem | None = None
            if choice == "theirs":
                conn.execute("UPDATE outbox SET state = ?, reason = ? WHERE id = ?",
                             (DROPPED, f"replaced by the server's version (conflict {conflict_id})", item.id))
            else:
                body = differing_fields(conflict.mine, theirs) if choice == "mine" else dict(item.body)
                if not body:
                    conn.execute("UPDATE outbox SET state = ?, reason = ? WHERE id = ?",
                                 (DROPPED, "the server's version already matches mine", item.id))
                else:
                    # a new key: the body changed, and a key reused with another body is refused (422)
                    conn.execute(
                        "UPDATE outbox SET state = ?, body = ?, base_version = ?, idempotency_key = ?, attempts = 0,"
                        " next_attempt_at = NULL, last_error = NULL, reason = ? WHERE id = ?",
                        (PENDING, _dumps(body), theirs.get("version"), str(uuid.uuid4()),
                         f"resolved conflict {conflict_id}: {choice}", item.id))
                    result = self._item(conn, item.id)
            self._take_server_task(conn, item, theirs)
            return result

    def outbox_counts(self) -> dict[str, int]:
        """For the always-on pending-writes indicator: pending, failed, conflicts, blocked, drafts."""
        with self._read_lock:
            pending, failed, blocked = self._reader.execute(
                "SELECT sum(state = ?), sum(state = ? AND attempts > 0), sum(state = ?) FROM outbox"
                " WHERE state IN (?, ?)", (PENDING, PENDING, BLOCKED, PENDING, BLOCKED)).fetchone()
            conflicts = self._reader.execute("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL").fetchone()[0]
            drafts = self._reader.execute("SELECT count(*) FROM drafts").fetchone()[0]
        return {"pending": pending or 0, "failed": failed or 0, "conflicts": conflicts, "blocked": blocked or 0,
                "drafts": drafts}

    # --- drafts ----------------------------------------------------------------------------------------------

    def save_draft(self, case_id: int, kind: str, body: str, *, draft_id: int | None = None,
                   amends: int | None = None) -> int:
        """Save note text as typed (one durable UPSERT); returns the draft's id, to pass back next time."""
        with self._write(True) as conn:
            now = self._now()
            row = conn.execute(
                "INSERT INTO drafts (id, case_id, kind, body, amends, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,"
                " body = excluded.body, amends = excluded.amends, updated_at = excluded.updated_at RETURNING id",
                (draft_id, case_id, kind, body, amends, now, now)).fetchone()
            return int(row[0])

    def drafts(self, case_id: int | None = None) -> list[Draft]:
        if case_id is None:
            rows = self._read("SELECT * FROM drafts ORDER BY updated_at DESC, id DESC")
        else:
            rows = self._read("SELECT * FROM drafts WHERE case_id = ? ORDER BY updated_at DESC, id DESC", (case_id,))
        return [draft_from_row(r) for r in rows]

    def discard_draft(self, draft_id: int) -> None:
        with self._write(True) as conn:
            conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # --- audit of cached views -------------------------------------------------------------------------------

    def record_view(self, case_id: int, what: str = "case") -> None:
        with self._write(False) as conn:
            conn.execute("INSERT INTO views (case_id, what, viewed_at) VALUES (?, ?, ?)",
                         (case_id, what, self._now()))

    def pending_views(self, limit: int = 500) -> list[View]:
        rows = self._read("SELECT id, case_id, what, viewed_at FROM views ORDER BY id LIMIT ?", (limit,))
        return [View(r[0], r[1], r[2], r[3]) for r in rows]

    def clear_views(self, ids: Sequence[int]) -> None:
        with self._write(False) as conn:
            conn.executemany("DELETE FROM views WHERE id = ?", [(i,) for i in ids])

    # --- purge -----------------------------------------------------------------------------------------------

    def purge_preview(self) -> PurgeReport:
        """What a purge would lose: unsent outbox items and drafts. Nothing is removed."""
        return PurgeReport(tuple(self.unsent()), tuple(self.drafts()), ())

    def purge(self) -> PurgeReport:
        """Close the store and delete its files. The report lists the unsent work and drafts that were in it
        (read before anything was deleted); ask the user before calling this if ``purge_preview`` shows any."""
        preview = self.purge_preview()
        self.close()
        return PurgeReport(preview.unsent, preview.drafts, _remove_files(self.path))

    # --- bulk task changes: one key press, one transaction, one batch that undo takes back whole -------------

    _BATCH_CHUNK = 500  # ids per IN (...): well under SQLite's bound on parameters

    @classmethod
    def _id_chunks(cls, ids: Sequence[int]) -> Iterator[list[int]]:
        for start in range(0, len(ids), cls._BATCH_CHUNK):
            yield list(ids[start:start + cls._BATCH_CHUNK])

    def _change_tasks(self, task_ids: Iterable[int], op: str, body: Mapping[str, Any]) -> list[OutboxItem]:
        """Apply one change to many tasks: each is shown changed at once and queued as its own PATCH, all in
        one durable transaction and under one batch id. Every id must be in the store, or nothing changes."""
        ids = list(dict.fromkeys(int(i) for i in task_ids))
        if not ids:
            return []
        batch = str(uuid.uuid4())
        with self._write(True) as conn:
            # each task is read and parsed once: the outbox rows and the task's new look both come from it
            stored = self._stored_tasks(conn, ids)
            missing = [i for i in ids if i not in stored]
            if missing:
                raise StoreError(f"task {missing[0]} is not in the local store; refresh and try again")
            found = {i: json.loads(stored[i][0]) for i in ids}
            now = self._now()
            payload = _dumps(body)
            prev_state = _StateText()
            rows = [(op, task["case_id"], i, f"/v1/tasks/{i}", payload, key, task["version"], prev_state(task), now,
                     batch) for (i, task), key in zip(found.items(), _idempotency_keys(len(found)))]
            conn.executemany(
                "INSERT INTO outbox (op, case_id, task_id, method, path, body, idempotency_key, base_version,"
                " prev_state, created_at, batch) VALUES (?, ?, ?, 'PATCH', ?, ?, ?, ?, ?, ?, ?)", rows)
            # as _rebuild_task: a task with no other change pending (no server_json) is its stored JSON with
            # this change applied, and the stored JSON is the server's; any other is replayed in full
            quick: list[tuple[Any, ...]] = []
            for i, task in found.items():
                if stored[i][1] is None:
                    new = apply_task_change(task, body, now)
                    quick.append((*_task_row(new), _dumps(new), stored[i][0], i))
            conn.executemany(
                "UPDATE tasks SET case_id = ?, assignee = ?, status = ?, due_on = ?, priority = ?, haystack = ?,"
                " json = ?, server_json = ? WHERE id = ?", quick)
            for i in ids:
                if stored[i][1] is not None:
                    self._rebuild_task(conn, i)
            return self._batch_items(conn, batch, payload, rows)

    @classmethod
    def _stored_tasks(cls, conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """Each task's stored JSON and server JSON, by id; ids the store does not hold are left out."""
        stored: dict[int, tuple[str, str | None]] = {}
        for chunk in cls._id_chunks(ids):
            for row in conn.execute(
                    f"SELECT id, json, server_json FROM tasks WHERE id IN ({_placeholders(len(chunk))})", chunk):
                stored[row[0]] = (row[1], row[2])
        return stored

    @staticmethod
    def _batch_items(conn: sqlite3.Connection, batch: str, payload: str,
                     rows: Sequence[tuple[Any, ...]]) -> list[OutboxItem]:
        """The outbox items ``_change_tasks`` just inserted from ``rows``, all with the body ``payload``, in
        their order: as ``SELECT *`` would read them back, without reading them back (that and a JSON parse of
        each body was a fifth of a bulk change's time). Only the ids come from the table, through the batch's
        index; the columns not inserted are a new row's defaults."""
        item_ids = [row[0] for row in conn.execute("SELECT id FROM outbox WHERE batch = ? ORDER BY id", (batch,))]
        if len(item_ids) != len(rows):
            raise StoreError(f"batch {batch} holds {len(item_ids)} outbox items, not the {len(rows)} just queued")
        bodies = _copies(payload)
        # the ids go up in the order the rows went in: AUTOINCREMENT, in one transaction that holds the writer
        return [OutboxItem(id=item_id, op=op, case_id=case_id, task_id=task_id, method="PATCH", path=path,
                           body=bodies(), idempotency_key=key, base_version=base_version, state=PENDING,
                           attempts=0, next_attempt_at=None, last_error=None, reason=None, created_at=created_at)
                for item_id, (op, case_id, task_id, path, _body, key, base_version, _prev, created_at, _batch)
                in zip(item_ids, rows)]

    def _rebuild_tasks(self, conn: sqlite3.Connection, task_ids: Sequence[int]) -> None:
        """``_rebuild_task`` for many tasks, in a few statements where it can be: a task with no change
        pending is the server's version; any other is replayed in full by ``_rebuild_task``."""
        busy: set[int] = set()
        quick: list[tuple[Any, ...]] = []
        for chunk in self._id_chunks(task_ids):
            marks = _placeholders(len(chunk))
            busy |= {row[0] for row in conn.execute(
                f"SELECT DISTINCT task_id FROM outbox WHERE task_id IN ({marks}) AND state IN (?, ?)",
                (*chunk, PENDING, CONFLICT))}
            for row in conn.execute(f"SELECT id, json, server_json FROM tasks WHERE id IN ({marks})", chunk):
                task_id, local, server = row[0], row[1], row[2]
                if task_id not in busy:
                    back = server if server is not None else local
                    quick.append((*_task_row(json.loads(back)), back, None, task_id))
        conn.executemany(
            "UPDATE tasks SET case_id = ?, assignee = ?, status = ?, due_on = ?, priority = ?, haystack = ?,"
            " json = ?, server_json = ? WHERE id = ?", quick)
        for task_id in task_ids:
            if task_id in busy:
                self._rebuild_task(conn, task_id)

    def complete_tasks(self, task_ids: Iterable[int]) -> list[OutboxItem]:
        """Complete many tasks as one action (``undo_last_batch`` takes them all back)."""
        return self._change_tasks(task_ids, "complete", {"status": "done"})

    def snooze_tasks(self, task_ids: Iterable[int], until: str) -> list[OutboxItem]:
        """Snooze many tasks to ``until`` (an ISO date) as one action."""
        return self._change_tasks(task_ids, "snooze", {"status": "snoozed", "snoozed_until": until})

    def reassign_tasks(self, task_ids: Iterable[int], username: str) -> list[OutboxItem]:
        """Give many tasks to ``username`` as one action."""
        return self._change_tasks(task_ids, "reassign", {"assignee": username})

    def undo_last_batch(self) -> list[OutboxItem]:
        """Undo the user's last task action as a whole: every change of its batch (a change made on its own
        is a batch of one), in one durable transaction. Each change still unsent is cancelled; each already
        (or perhaps) sent gets its inverse queued. Returns those items, cancelled and inverse alike; empty
        when there is nothing to undo."""
        with self._write(True) as conn:
            undoable = (f"op IN ({_placeholders(len(UNDOABLE_OPS))}) AND undone = 0 AND state NOT IN (?, ?)",
                        (*UNDOABLE_OPS, CANCELLED, DROPPED))
            last = conn.execute(f"SELECT * FROM outbox WHERE {undoable[0]} ORDER BY id DESC LIMIT 1",
                                undoable[1]).fetchone()
            if last is None:
                return []
            rows = [last]
            if last["batch"] is not None:
                rows = conn.execute(f"SELECT * FROM outbox WHERE batch = ? AND {undoable[0]} ORDER BY id DESC",
                                    (last["batch"], *undoable[1])).fetchall()
            batch = str(uuid.uuid4())
            now = self._now()
            # changes not yet sent are cancelled together; the rest (sent, or perhaps sent) one by one
            unsent = [row for row in rows if (row["state"] == PENDING and row["attempts"] == 0)
                      or row["state"] in (CONFLICT, BLOCKED)]
            conn.executemany("UPDATE outbox SET state = ?, reason = ?, undone = 1 WHERE id = ?",
                             [(CANCELLED, "undone before it was sent", row["id"]) for row in unsent])
            conn.executemany("UPDATE conflicts SET resolved_at = ?, choice = 'undone' WHERE item_id = ?"
                             " AND resolved_at IS NULL", [(now, row["id"]) for row in unsent])
            self._rebuild_tasks(conn, list(dict.fromkeys(row["task_id"] for row in unsent)))
            cancelled = {row["id"] for row in unsent}
            done: dict[int, OutboxItem] = {}
            for chunk in self._id_chunks(sorted(cancelled)):
                for found in conn.execute(f"SELECT * FROM outbox WHERE id IN ({_placeholders(len(chunk))})", chunk):
                    done[found["id"]] = item_from_row(found)
            result: list[OutboxItem] = []
            for row in rows:
                if row["id"] in cancelled:
                    result.append(done[row["id"]])
                    continue
                item = self._undo_row(conn, row, batch)
                if item is not None:
                    result.append(item)
            return result

    def _undo_row(self, conn: sqlite3.Connection, row: sqlite3.Row, batch: str) -> OutboxItem | None:
        """``undo_last`` for one outbox row, inside the caller's transaction; inverses join ``batch``."""
        item = item_from_row(row)
        assert item.task_id is not None
        unsent = (item.state == PENDING and item.attempts == 0) or item.state in (CONFLICT, BLOCKED)
        if unsent:
            conn.execute("UPDATE outbox SET state = ?, reason = ?, undone = 1 WHERE id = ?",
                         (CANCELLED, "undone before it was sent", item.id))
            conn.execute("UPDATE conflicts SET resolved_at = ?, choice = 'undone' WHERE item_id = ?"
                         " AND resolved_at IS NULL", (self._now(), item.id))
            self._rebuild_task(conn, item.task_id)
            return self._item(conn, item.id)
        conn.execute("UPDATE outbox SET undone = 1 WHERE id = ?", (item.id,))
        inverse = self._queue_inverse(conn, item, json.loads(row["prev_state"] or "{}"))
        if inverse is not None:
            conn.execute("UPDATE outbox SET batch = ? WHERE id = ?", (batch, inverse.id))
        return inverse

    def fold_wal(self) -> None:
        """Copy what the write-ahead log holds into the database file now, so that the next write starts the
        log afresh instead of paying for SQLite's automatic checkpoint, which runs inside whichever commit
        takes the log past 1,000 pages (~7 ms on top of a 100-task change, every other one). A passive
        checkpoint through the reading connection: it neither waits for nor holds up the writer (screen
        reads wait for it). For a thread, just after a write the user waited on."""
        with self._read_lock:
            if not self._closed:
                self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def tasks_by_id(self, task_ids: Iterable[int]) -> list[Task]:
        """These tasks as the user sees them (pending changes applied), in the order asked; ids the store
        does not hold are left out."""
        ids = list(dict.fromkeys(int(i) for i in task_ids))
        found: dict[int, Task] = {}
        with self._read_lock:
            for chunk in self._id_chunks(ids):
                for row in self._reader.execute(
                        f"SELECT id, json FROM tasks WHERE id IN ({_placeholders(len(chunk))})", chunk):
                    found[row[0]] = Task.from_json(json.loads(row[1]))
        return [found[i] for i in ids if i in found]

    def case_names(self, case_ids: Iterable[int]) -> dict[int, str]:
        """The child's name for each case, from whatever the store holds (a caseload row, the whole case or
        the directory); a case it knows no name for is left out. For lists that show many cases' tasks."""
        wanted = list(dict.fromkeys(int(i) for i in case_ids))
        names: dict[int, str] = {}

        def name(given: Any, family: Any) -> str:
            return " ".join(str(part) for part in (given, family) if part)

        with self._read_lock:
            for chunk in self._id_chunks(wanted):
                marks = _placeholders(len(chunk))
                for row in self._reader.execute(
                        f"SELECT id, json_extract(json, '$.given_name'), json_extract(json, '$.family_name')"
                        f" FROM case_summaries WHERE id IN ({marks})", chunk):
                    names[row[0]] = name(row[1], row[2])
                rest = [i for i in chunk if not names.get(i)]
                if rest:
                    for row in self._reader.execute(
                            "SELECT id, json_extract(json, '$.person.given_name'),"
                            f" json_extract(json, '$.person.family_name') FROM cases"
                            f" WHERE id IN ({_placeholders(len(rest))})", rest):
                        names[row[0]] = name(row[1], row[2])
                rest = [i for i in chunk if not names.get(i)]
                if rest:
                    for row in self._reader.execute(
                            "SELECT case_id, json_extract(json, '$.given_name'), json_extract(json, '$.family_name')"
                            f" FROM directory WHERE case_id IN ({_placeholders(len(rest))}) AND person_id IS NOT NULL",
                            rest):
                        if not names.get(row[0]):
                            names[row[0]] = name(row[1], row[2])
        return {case_id: text for case_id, text in names.items() if text}


def _stub(entry: Mapping[str, Any], message: str) -> dict[str, Any]:
    """A directory entry reduced to what a restricted record may show: its case id, team and a message."""
    return {"person_id": None, "case_id": entry.get("case_id"), "restricted": True, "given_name": None,
            "family_name": None, "aliases": [], "dob": None, "address": None, "postcode": None,
            "la_child_id": None, "upn": None, "nhs_number": None, "category": None, "status": None, "flags": [],
            "allocated_worker": None, "team": entry.get("team"), "message": message}


def _conflict_from_row(row: sqlite3.Row) -> Conflict:
    return Conflict(id=row["id"], item_id=row["item_id"], case_id=row["case_id"], task_id=row["task_id"],
                    op=row["op"], changes=json.loads(row["body"]), mine=json.loads(row["mine"]),
                    theirs=json.loads(row["theirs"]), created_at=row["created_at"], resolved_at=row["resolved_at"],
                    choice=row["choice"])


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        # deleted records are overwritten, not left in free pages of the file
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA foreign_keys=OFF")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the local store {path} cannot be read ({exc}); run `casework purge` to start again") \
            from exc
    return conn


def _remove_files(path: Path) -> tuple[Path, ...]:
    removed = []
    for file in (path, *side_files(path)):
        try:
            file.unlink()
            removed.append(file)
        except FileNotFoundError:
            pass
    try:
        path.parent.rmdir()  # only if empty: another user's store may share the server's folder
    except OSError:
        pass
    return tuple(removed)


def purge_preview(path: Path) -> PurgeReport:
    """The unsent work and drafts in the store at ``path``, without opening it for use or changing it."""
    path = Path(path)
    if not path.exists():
        return PurgeReport((), (), ())
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            unsent = tuple(item_from_row(r) for r in conn.execute(
                f"SELECT * FROM outbox WHERE state IN ({_placeholders(len(UNSENT_STATES))}) ORDER BY id",
                UNSENT_STATES))
            drafts = tuple(draft_from_row(r) for r in conn.execute("SELECT * FROM drafts ORDER BY id"))
        finally:
            conn.close()
    except sqlite3.Error:
        # an unreadable or half-made store has nothing we could show
        return PurgeReport((), (), ())
    return PurgeReport(unsent, drafts, ())


def purge_store(path: Path) -> PurgeReport:
    """``casework logout`` / ``casework purge``: report the unsent work and drafts, then delete the store's
    files. Works on a store that would be refused for its permissions, or that cannot be read at all."""
    path = Path(path)
    preview = purge_preview(path)
    return PurgeReport(preview.unsent, preview.drafts, _remove_files(path))

