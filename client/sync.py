"""The sync engine: keeps the local store current and drains the outbox, in the background.

Screens never wait for it. They read the store, and the engine tells them what
changed through ``events`` (an ``asyncio.Queue``) or callbacks, so that they can
update in place. All network I/O is in the engine's own task; store writes run
in a worker thread a page at a time, so the UI's event loop is never held up by
a 5,000-row directory page, and a reader waits at most for one short transaction.

One pass (``sync_once``) is, in order:

1. replay the outbox: the user's own work goes first;
2. the first time, a full sync: take the head of ``/changes`` *before* fetching
   anything (so an edit made during the sync is seen next time, not lost); the
   caseload with each case's details, chronology, notes and tasks; the team's
   cases; the work tray; the directory; the users. Afterwards, an incremental
   sync: revalidate the caseload, team list and tray with ``If-None-Match``,
   follow ``/changes`` from the stored cursor, and re-fetch what it names;
3. upload the views served from the cache to the audit trail.

A connection failure or timeout sets the engine offline; a cheap ``GET /health``
every ``probe_interval`` brings it back. An expired session that cannot be
renewed stops it until ``wake()`` is called after the user signs in again.

Outbox outcomes: sent → ``mark_sent``; ``412`` → the server's task is fetched
and ``record_conflict`` keeps both versions (it also spots "my earlier send was
applied and only its answer was lost"); ``403/404/410`` → ``purge_case``, which
keeps the unsent work but marks it blocked, and a notice; offline and ``5xx`` →
``mark_failed`` with exponential back-off (capped, with jitter); ``400/422`` →
``mark_failed`` with the server's reason and a long retry: never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from client.api import CaseAPI, NotModified, Reply
from client.errors import (AccessDenied, CaseworkError, Conflict, Invalid, NotFound, Offline, ServerError,
                           SessionExpired)
from client.models import Page
from client.outbox import OutboxItem

if TYPE_CHECKING:
    from client.store import Store

log = logging.getLogger("casework.sync")

T = TypeVar("T")

# store meta keys
CURSOR = "sync.cursor"                # /changes cursor; present once the first full sync has finished
LAST_SYNC = "sync.last"               # UTC ISO of the last pass that completed
DIRECTORY_AT = "sync.directory_at"    # UTC ISO of the last directory fetch
HELD = "sync.held"                    # JSON list of case ids held in detail (to notice revoked access)
VIEWS_IN_FLIGHT = "sync.views_batch"  # JSON {key, ids}: an audit batch sent but not yet acknowledged
ME = "me"                             # the signed-in user's JSON; the store reads it to author local notes

REFUSED = "refused by the server: "   # last_error of an item the server refused (400/422)


# --- events ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Changed:
    """Records that changed in the store; a screen showing one of them re-reads it."""

    cases: frozenset[int] = frozenset()       # case details (header, flags, whereabouts, contacts)
    timelines: frozenset[int] = frozenset()   # chronology and notes, by case id
    tasks: frozenset[int] = frozenset()       # task ids
    purged: frozenset[int] = frozenset()      # case ids removed because access ended
    confirmed: frozenset[int] = frozenset()   # cases the server said were unchanged: only their "as of" moved
    caseload: bool = False
    directory: bool = False
    users: bool = False
    kind: str = field(default="changed", init=False)

    def __bool__(self) -> bool:
        return bool(self.cases or self.timelines or self.tasks or self.purged or self.confirmed or self.caseload
                    or self.directory or self.users)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the full sync has got: ``phase`` is caseload | team | tray | directory | users | done."""

    phase: str
    done: int
    total: int | None
    kind: str = field(default="progress", init=False)


@dataclass(frozen=True, slots=True)
class Status:
    """For the always-on indicator: online, unsent work, conflicts, when the store was last current."""

    online: bool
    pending: int
    failed: int
    conflicts: int
    blocked: int
    last_sync: str | None
    syncing: bool = False
    session_expired: bool = False
    kind: str = field(default="status", init=False)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should be told, in words: access removed, a change refused, a conflict."""

    message: str
    level: str = "warning"  # info | warning | error
    case_id: int | None = None
    kind: str = field(default="notice", init=False)


SyncEvent = Changed | Progress | Status | Notice


@dataclass(frozen=True, slots=True)
class SyncSettings:
    sync_interval: float = 60.0       # seconds between passes while online
    probe_interval: float = 10.0      # seconds between GET /health while offline
    backoff_base: float = 2.0         # first retry of a failed send, doubled each attempt...
    backoff_cap: float = 60.0         # ...up to this
    invalid_retry: float = 3600.0     # a 400/422 is retried rarely: it needs the user, but is never dropped
    concurrency: int = 6              # requests in flight at once
    page_size: int = 1000             # chronology, notes, tasks, caseload pages
    directory_page: int = 500         # each page is one store transaction, which holds readers for ~35 ms
    # also how long a person newly restricted, but not held in detail, stays findable offline (the feed
    # cannot say: it hides restricted cases from those not on their access list)
    directory_max_age: float = 3600.0
    prefetch_max_age: float = 300.0   # a neighbour fetched this recently is not fetched again
    views_batch: int = 500


@dataclass
class PassResult:
    """What one ``sync_once`` did, for tests and the sync screen."""

    ok: bool = True
    error: CaseworkError | None = None
    sent: int = 0
    conflicts: int = 0
    blocked: int = 0
    failed: int = 0
    full: bool = False


def backoff_delay(attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential back-off with "equal jitter": half the ceiling is fixed, half random, so clients that went
    offline together do not all retry in the same second, yet none retries much sooner than planned."""
    if base <= 0:
        return 0.0
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling / 2 + rand() * ceiling / 2


def _utc(seconds_from_now: float = 0.0) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _case_path(case_id: int) -> str:
    # ETag keys are request paths: the store forgets every key under /cases/{id} when it purges the case
    return f"/v1/cases/{case_id}"


class SyncEngine:
    """Background sync for one signed-in user and their store. ``await start()``; ``await stop()``."""

    def __init__(self, api: CaseAPI, store: Store, *, username: str, settings: SyncSettings = SyncSettings(),
                 rand: Callable[[], float] = random.random) -> None:
        self.api = api
        self.store = store
        self.username = username
        self.settings = settings
        self._rand = rand
        self.events: asyncio.Queue[SyncEvent] = asyncio.Queue(maxsize=10_000)
        self._listeners: list[Callable[[SyncEvent], None]] = []
        self._sem = asyncio.Semaphore(settings.concurrency)
        self._pass_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[Any]] = set()
        # cases a prefetch has taken on and not finished: another prefetch leaves them to it. Each `]` asks for
        # its case and four neighbours, and a case's fetch is four requests or more, so keys pressed faster
        # than that asked for each case again and again (5 fetches of each in 22 presses; with the server
        # slow, their answers all came in under later keys)
        self._prefetching: set[int] = set()
        self.online = True  # optimistic until a request fails: the first pass tells
        self.session_expired = False
        self.syncing = False

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="casework-sync")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._side_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None
        self._side_tasks.clear()

    def wake(self) -> None:
        """Run a pass now: after a local write, or the refresh key."""
        self._wake.set()

    def signed_in_again(self) -> None:
        """The user signed in after the session ended (``api.sign_in``): carry on where sync stopped."""
        self.session_expired = False
        self._wake.set()

    def subscribe(self, callback: Callable[[SyncEvent], None]) -> None:
        """Also deliver events to ``callback`` (called on the event loop; it must not block)."""
        self._listeners.append(callback)

    # --- the background loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            # cleared before the pass, not after it: a write made during the pass still wakes the next one
            self._wake.clear()
            try:
                if self.session_expired:
                    await self._sleep(None)  # until the user signs in and wake() is called
                    continue
                if not self.online and not await self.probe():
                    await self._sleep(self.settings.probe_interval)
                    continue
                await self.sync_once()
                await self._sleep(self._next_wait())
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad answer end background sync for the session
                log.exception("sync pass failed")
                await self._sleep(self.settings.probe_interval)

    async def _sleep(self, seconds: float | None) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _next_wait(self) -> float:
        """Sleep until the next pass, or sooner when a failed send is due for its retry."""
        wait = self.settings.sync_interval
        now = dt.datetime.now(dt.timezone.utc)
        for item in self.store.pending():
            if item.next_attempt_at is None:
                continue  # new work wakes the engine itself; one waiting behind another goes after it
            due = dt.datetime.fromisoformat(item.next_attempt_at.replace("Z", "+00:00"))
            wait = min(wait, max(0.5, (due - now).total_seconds()))
        return wait

    async def probe(self) -> bool:
        """GET /health: is the server back? Sets ``online`` and announces a change."""
        try:
            await self.api.health()
        except CaseworkError:
            self._set_online(False)
            return False
        self._set_online(True)
        return True

    # --- one pass -------------------------------------------------------------------------------------------

    async def sync_once(self, *, full: bool = False) -> PassResult:
        """Replay the outbox, bring the store up to date, upload cached views. Errors are reported, not raised."""
        async with self._pass_lock:
            result = PassResult()
            self.syncing = True
            self._announce()
            try:
                await self.replay_outbox(result)
                if full or self.store.get_meta(CURSOR) is None:
                    result.full = True
                    await self.initial_sync()
                else:
                    await self.incremental_sync()
                await self.upload_views()
                if self.store.pending():
                    await self.replay_outbox(result)  # written while we were syncing
                self.store.set_meta(LAST_SYNC, _utc())
                self._set_online(True)
            except CaseworkError as error:
                result.ok, result.error = False, error
                self._failed_pass(error)
            finally:
                self.syncing = False
                self._announce()
            return result

    def _failed_pass(self, error: CaseworkError) -> None:
        if isinstance(error, Offline):
            self._set_online(False)
        elif isinstance(error, SessionExpired):
            self.session_expired = True
            self._emit(Notice(error.message, "error"))
        else:
            # a 5xx, or an answer the engine did not expect: the next pass tries again
            log.warning("sync stopped by the server: %s", error.detail or error)

    # --- full sync ------------------------------------------------------------------------------------------

    async def initial_sync(self) -> None:
        """Everything the user needs offline. The /changes head is taken first, so nothing is missed."""
        head = (await self.api.changes()).next_cursor
        await self._sync_me()
        if self._reads_cases():
            mine = await self._caseload("mine", force=True) or []
            mine_ids = [c["id"] for c in mine if not c.get("restricted")]
            await self._fetch_cases(mine_ids, phase="caseload")
            self._hold(self._held() | set(mine_ids))
            team = await self._caseload("team", force=True) or []
            team_ids = [c["id"] for c in team if not c.get("restricted") and c["id"] not in set(mine_ids)]
            await self._fetch_cases(team_ids, phase="team")
            self._hold(self._held() | set(team_ids))
            self._emit(Progress("tray", 0, 1))
            await self._sync_tray(force=True)
            self._emit(Progress("tray", 1, 1))
            await self.sync_directory(force=True)
        await self._sync_users()
        if head:
            self.store.set_meta(CURSOR, head)
        self._emit(Progress("done", 1, 1))
        self._emit(Changed(caseload=True, directory=True, users=True))

    async def _sync_me(self) -> None:
        got = await self.api.me()
        if isinstance(got, Reply):
            self.store.set_meta(ME, json.dumps(dict(got.json)))

    def _reads_cases(self) -> bool:
        # administrators run the system and read no case records (the server answers 403 to them)
        me = json.loads(self.store.get_meta(ME) or "{}")
        return me.get("role") != "admin"

    # --- incremental sync -------------------------------------------------------------------------------------

    async def incremental_sync(self) -> Changed:
        """Revalidate the lists, follow /changes, re-fetch what changed; returns (and emits) what changed."""
        cursor = self.store.get_meta(CURSOR)
        if cursor is None:
            await self.initial_sync()
            return Changed(caseload=True, directory=True, users=True)
        cases: set[int] = set()
        timelines: set[int] = set()
        tasks: set[int] = set()
        purged: set[int] = set()
        confirmed: set[int] = set()
        caseload = False
        directory = False
        if self._reads_cases():
            listed: set[int] = set()
            for scope in ("mine", "team"):
                summaries = await self._caseload(scope)
                if summaries is not None:
                    caseload = True
                    held = self._held()
                    # listed as restricted: the store has just dropped it, so stop holding it
                    self._hold(held - {c["id"] for c in summaries if c.get("restricted")})
                    new = sorted(self._listed(scope) - self._held())
                    # a held case whose version moved on (new flags, whereabouts...): the feed has no "case"
                    # entries on every server, so the summary's version is the cue to re-fetch the header
                    stale = sorted(c["id"] for c in summaries if c["id"] not in new and not c.get("restricted")
                                   and self._held_version(c["id"]) not in (None, c.get("version")))
                    await self._fetch_cases(new, phase=None)
                    for case_id in stale:
                        if await self._revalidate_case(case_id) == "purged":
                            purged.add(case_id)
                    cases |= set(new) | set(stale)
                    self._hold(self._held() | set(new))
                listed |= self._listed(scope)
            # held cases no longer listed: closed, reallocated, or access removed; a GET with the ETag tells
            for case_id in sorted(self._held() - listed):
                outcome = await self._revalidate_case(case_id)
                if outcome == "purged":
                    purged.add(case_id)
                elif outcome == "changed":
                    cases.add(case_id)
                else:
                    confirmed.add(case_id)
            tasks |= await self._sync_tray()
        # the delta feed, from where the last pass stopped
        items: list[Any] = []
        while True:
            try:
                page = await self.api.changes(cursor, limit=1000)
            except Invalid:
                # the server no longer knows our cursor (restored from a backup?): start again in full
                log.warning("the server refused the changes cursor; running a full sync")
                await self.initial_sync()
                return Changed(caseload=True, directory=True, users=True)
            items.extend(page.items)
            cursor = page.next_cursor or cursor
            if len(page.items) < 1000:
                break
        users = False
        held = self._held()
        task_ids: set[int] = set()
        for change in items:
            case_id = change.id if change.type == "case" else change.case_id
            if change.type == "user":
                users = True
            elif case_id is None or (case_id not in held and self.store.case(case_id) is None):
                continue  # not a record this device keeps
            elif change.type == "task":
                task_ids.add(change.id)
            elif change.type == "note":
                timelines.add(case_id)
            elif change.type == "case":
                cases.add(case_id)
        for task_id in sorted(task_ids):
            try:
                async with self._sem:
                    got = await self.api.task(task_id)
            except (AccessDenied, NotFound):
                continue  # access to its case ended: the case's revalidation purges it
            if isinstance(got, Reply):
                await self._put(self.store.put_tasks, [got.json])
                tasks.add(task_id)
        for case_id in sorted((cases | timelines) - purged):
            outcome = await self._revalidate_case(case_id, timeline=case_id in timelines)
            if outcome == "purged":
                purged.add(case_id)
        if users:
            await self._sync_users()
        if self._reads_cases():
            directory = await self.sync_directory()
        self.store.set_meta(CURSOR, cursor)  # only now: a crash before here re-reads the same changes
        changed = Changed(cases=frozenset(cases - purged), timelines=frozenset(timelines - purged),
                          tasks=frozenset(tasks), purged=frozenset(purged), confirmed=frozenset(confirmed - cases),
                          caseload=caseload, directory=directory, users=users)
        if changed:
            self._emit(changed)
        return changed

    async def _revalidate_case(self, case_id: int, *, timeline: bool = False) -> str:
        """GET the case with its ETag: "same", "changed" or "purged" (403/404: access gone)."""
        try:
            changed = await self._fetch_case(case_id, details=timeline)
        except (AccessDenied, NotFound) as error:
            await self._purge(case_id, error)
            return "purged"
        return "changed" if changed else "same"

    # --- the pieces -----------------------------------------------------------------------------------------

    def _held_version(self, case_id: int) -> int | None:
        cached = self.store.case(case_id)
        return None if cached is None else cached.value.version

    def _listed(self, scope: str) -> set[int]:
        return set(json.loads(self.store.get_meta(f"sync.listed.{scope}") or "[]"))

    async def _caseload(self, scope: str, *, force: bool = False) -> list[Mapping[str, Any]] | None:
        """GET /cases?scope=…, every page; None when unchanged since last time (its ids are kept in meta)."""
        got = await self._fetch_all(f"/v1/cases?scope={scope}", None if force else ..., self.api.cases, scope)
        if got is None:
            return None
        items, _ = got
        await self._put(self.store.put_case_summaries, items)
        self.store.set_meta(f"sync.listed.{scope}",
                            json.dumps(sorted(c["id"] for c in items if not c.get("restricted"))))
        return items

    async def _sync_tray(self, *, force: bool = False) -> set[int]:
        """My open and snoozed tasks on any case (a manager may have given me one on a colleague's case);
        returns the ids of the tasks that came back."""
        seen: set[int] = set()
        for status in ("open", "snoozed"):
            got = await self._fetch_all(f"/v1/tasks?assignee=me&status={status}", None if force else ...,
                                        self.api.tasks, status=status)
            if got is None:
                continue
            items, _ = got
            # a task on a case not held yet: fetch the case first, so that a restricted one is known as
            # such and its task refused by the store rather than kept
            tray_cases = {t["case_id"] for t in items}
            for case_id in sorted(tray_cases - self._held()):
                with contextlib.suppress(AccessDenied, NotFound):
                    await self._fetch_case(case_id, details=False)
            # held from now on (so revoked access is noticed), unless the store refused it as restricted
            self._hold(self._held() | {c for c in tray_cases if self.store.case(c) is not None})
            await self._put(self.store.put_tasks, items)
            seen |= {t["id"] for t in items}
        return seen

    async def _sync_users(self) -> None:
        got = await self._fetch_all("/v1/users", ..., self.api.users)
        if got is not None:
            await self._put(self.store.put_users, got[0])
        self._emit(Progress("users", 1, 1))

    async def sync_directory(self, *, force: bool = False) -> bool:
        """The slim directory for offline duty search, a page at a time. Returns whether anything changed.

        A full reload (``force``) tags every page with one generation and prunes the rest afterwards; a
        routine refresh sends each page's ETag and skips the pages that are unchanged."""
        last = self.store.get_meta(DIRECTORY_AT)
        if not force and last is not None:
            age = (dt.datetime.now(dt.timezone.utc)
                   - dt.datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()
            if age < self.settings.directory_max_age:
                return False
        generation = time.time_ns() // 1000
        cursor: str | None = None
        done = 0
        changed = False
        complete = True
        size = self.settings.directory_page
        writing: asyncio.Task[None] | None = None  # the previous page's store write, overlapping this fetch
        try:
            while True:
                key = f"/v1/directory?limit={size}&cursor={cursor or ''}"
                async with self._sem:
                    page = await self.api.directory(limit=size, cursor=cursor,
                                                    etag=None if force else self.store.etag(key))
                if isinstance(page, NotModified):
                    complete = False  # unchanged pages keep their old generation, so nothing may be pruned
                    # a 304 has no body, so the next cursor is the one saved with this page last time
                    cursor = self.store.get_meta(f"sync.directory_next:{cursor or ''}")
                    if not cursor:
                        break
                    continue
                if writing is not None:
                    await writing
                writing = asyncio.create_task(self._store_directory_page(key, cursor, page, generation))
                changed = True
                done += len(page.raw)
                self._emit(Progress("directory", done, None))
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
        if complete:
            await self._put(self.store.prune_directory, generation)
        self.store.set_meta(DIRECTORY_AT, _utc())
        return changed

    async def _store_directory_page(self, key: str, cursor: str | None, page: Page, generation: int) -> None:
        await self._put(self.store.put_directory, page.raw, generation=generation)
        # the ETag and the next cursor only once the page is stored: a 304 must mean "you have this"
        if page.etag:
            self.store.set_etag(key, page.etag)
        self.store.set_meta(f"sync.directory_next:{cursor or ''}", page.next_cursor or "")

    async def _fetch_cases(self, case_ids: Sequence[int], *, phase: str | None) -> None:
        """Each case in detail, a few at a time; a case refused (403/404) is purged, not an error."""
        total = len(case_ids)
        done = 0
        if phase:
            self._emit(Progress(phase, 0, total))

        async def one(case_id: int) -> None:
            nonlocal done
            try:
                await self._fetch_case(case_id)
            except (AccessDenied, NotFound) as error:
                await self._purge(case_id, error)
            done += 1
            if phase:
                self._emit(Progress(phase, done, total))

        await self._each(case_ids, one)

    async def _fetch_case(self, case_id: int, *, details: bool = True) -> bool:
        """The case, and with ``details`` its chronology, notes and tasks; each revalidated by ETag.
        Returns whether anything new arrived. A restricted case is handed to the store, which drops it."""
        path = _case_path(case_id)
        async with self._sem:
            got = await self.api.case(case_id, etag=self.store.etag(path))
        changed = isinstance(got, Reply)
        if isinstance(got, Reply):
            await self._put(self.store.put_case, got.json, got.etag)
            if got.value.restricted:
                return True  # never kept on this device, so neither is anything under it
        else:
            # the copy held is current: its "as of" moves on, and a prefetch need not ask again for a while
            await self._put(self.store.confirm_current, "case", (case_id,))
        if not details:
            return changed
        chronology = await self._fetch_all(f"{path}/chronology", ..., self.api.chronology, case_id)
        if chronology is not None:
            await self._put(self.store.put_chronology, case_id, chronology[0], replace=True)
            changed = True
        else:
            await self._put(self.store.confirm_current, "chronology", (case_id,))
        notes = await self._fetch_all(f"{path}/notes", ..., self.api.notes, case_id)
        if notes is not None:
            await self._put(self.store.put_notes, case_id, notes[0])
            changed = True
        else:
            await self._put(self.store.confirm_current, "notes", (case_id,))
        tasks = await self._fetch_all(f"{path}/tasks", ..., self.api.case_tasks, case_id)
        if tasks is not None:
            await self._put(self.store.put_tasks, tasks[0])
            changed = True
        for key, got_list in ((f"{path}/chronology", chronology), (f"{path}/notes", notes), (f"{path}/tasks", tasks)):
            if got_list is not None:
                # only a list that fits in one page can be revalidated by its first page's ETag
                await self._put(self.store.set_etag, key, got_list[1] or "")
        return changed

    async def _fetch_all(self, key: str, etag: Any, fetch: Callable[..., Awaitable[Page | NotModified]],
                         *args: Any, **kwargs: Any) -> tuple[list[Mapping[str, Any]], str | None] | None:
        """Every page's items and the first page's ETag (None when there was more than one page);
        None when the list is unchanged. ``etag=...`` means "the one stored under ``key``"."""
        if etag is ...:
            etag = self.store.etag(key) or None
        async with self._sem:
            first = await fetch(*args, limit=self.settings.page_size, etag=etag, **kwargs)
        if isinstance(first, NotModified):
            return None
        items = list(first.raw)
        cursor = first.next_cursor
        while cursor:
            async with self._sem:
                page = await fetch(*args, limit=self.settings.page_size, cursor=cursor, **kwargs)
            assert isinstance(page, Page)
            items.extend(page.raw)
            cursor = page.next_cursor
        tag = first.etag if first.next_cursor is None else None
        if not key.startswith("/v1/cases/") and tag:
            await self._put(self.store.set_etag, key, tag)  # case sub-lists are tagged by _fetch_case once stored
        return items, tag

    async def _each(self, items: Sequence[T], work: Callable[[T], Awaitable[None]]) -> None:
        """``work`` on every item, ``concurrency`` at a time; the first failure cancels the rest and is raised."""
        source = iter(items)

        async def worker() -> None:
            for item in source:  # one shared iterator: each worker takes the next item
                await work(item)

        workers = min(self.settings.concurrency, len(items))
        if workers == 0:
            return
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(worker())
        except BaseExceptionGroup as failures:
            # the most telling one: a session or network problem explains the rest
            ranked = sorted(failures.exceptions,
                            key=lambda e: 0 if isinstance(e, SessionExpired) else 1 if isinstance(e, Offline) else 2)
            raise ranked[0] from None

    async def prefetch_neighbours(self, case_ids: Iterable[int]) -> Changed:
        """Fetch the cases around the current selection that are missing or stale; returns what changed."""
        threshold = _utc(-self.settings.prefetch_max_age)
        wanted = []
        for case_id in dict.fromkeys(case_ids):
            if case_id in self._prefetching:
                continue
            as_of = self.store.freshness("case", case_id)
            if as_of is None or as_of < threshold:
                wanted.append(case_id)
        self._prefetching.update(wanted)
        fetched: set[int] = set()
        purged: set[int] = set()
        confirmed: set[int] = set()

        async def one(case_id: int) -> None:
            try:
                (fetched if await self._fetch_case(case_id) else confirmed).add(case_id)
            except (AccessDenied, NotFound) as error:
                await self._purge(case_id, error)
                purged.add(case_id)

        try:
            await self._each(wanted, one)
        except CaseworkError as error:  # in the background: report it, never raise into nobody's hands
            self._failed_pass(error)
        finally:
            self._prefetching.difference_update(wanted)
        # in a thread like every write here: on the event loop it would wait for the store's lock, held by
        # another fetch's write, and hold up the UI
        await self._put(self._hold, self._held() | fetched)
        changed = Changed(cases=frozenset(fetched), timelines=frozenset(fetched), purged=frozenset(purged),
                          confirmed=frozenset(confirmed))
        if changed:
            self._emit(changed)
        return changed

    def prefetch(self, case_ids: Iterable[int]) -> None:
        """Non-blocking ``prefetch_neighbours``, for a screen's cursor move."""
        if not self.online or self.session_expired:
            return
        task = asyncio.create_task(self.prefetch_neighbours(list(case_ids)))
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # --- the outbox -----------------------------------------------------------------------------------------

    async def replay_outbox(self, result: PassResult | None = None) -> PassResult:
        """Send pending work in order. Offline and an ended session stop the pass (and are raised)."""
        result = result or PassResult()
        now = _utc()
        waiting: set[tuple[str, int | None]] = set()  # lanes with an item that must go first
        changed_tasks: set[int] = set()
        changed_cases: set[int] = set()
        purged: set[int] = set()
        try:
            for listed in self.store.pending():
                lane = ("task", listed.task_id) if listed.task_id is not None else ("case", listed.case_id)
                if lane in waiting or listed.case_id in purged:
                    continue
                # re-read: an earlier send in this pass may have moved its base version on
                item = self.store.outbox_item(listed.id)
                if item is None or item.state != "pending":
                    continue
                if item.next_attempt_at and item.next_attempt_at > now:
                    if not (item.last_error or "").startswith(REFUSED):
                        waiting.add(lane)  # a refused item waits for the user, not the items after it
                    continue
                outcome = await self._send(item)
                if outcome == "sent":
                    result.sent += 1
                    if item.task_id is not None:
                        changed_tasks.add(item.task_id)
                    else:
                        changed_cases.add(item.case_id)
                elif outcome == "purged":
                    result.blocked += 1
                    purged.add(item.case_id)
                else:
                    if outcome == "conflict":
                        result.conflicts += 1
                    else:
                        result.failed += 1
                    if item.task_id is not None:
                        changed_tasks.add(item.task_id)
                    if outcome != "refused":
                        waiting.add(lane)
        finally:
            changed = Changed(tasks=frozenset(changed_tasks), timelines=frozenset(changed_cases - purged),
                              purged=frozenset(purged))
            if changed:
                self._emit(changed)
            self._announce()
        return result

    async def _send(self, item: OutboxItem) -> str:
        """One item: "sent", "conflict", "purged", "failed" (retry) or "refused" (400/422: needs the user).
        Offline and SessionExpired propagate."""
        try:
            response = await self._deliver(item)
        except Offline as error:
            self._retry_later(item, error)
            raise
        except SessionExpired:
            raise
        except Conflict as error:
            if error.status == 412 and item.task_id is not None:
                return await self._conflict(item)
            self._retry_later(item, error)  # 409: another request with this key is in flight; soon
            return "failed"
        except (AccessDenied, NotFound) as error:
            return await self._refused_access(item, error)
        except ServerError as error:  # 5xx and 429
            self._retry_later(item, error)
            return "failed"
        except Invalid as error:
            self.store.mark_failed(item.id, f"{REFUSED}{error.detail or error}", _utc(self.settings.invalid_retry))
            self._emit(Notice(self._refused_message(item, error), "error", item.case_id))
            return "refused"
        self.store.mark_sent(item.id, response)
        return "sent"

    async def _refused_access(self, item: OutboxItem, error: CaseworkError) -> str:
        """403/404 on a write: either access to the case ended (purge it) or only this change is not allowed
        (a practitioner changing a colleague's task): the case's own GET tells which."""
        try:
            async with self._sem:
                await self.api.case(item.case_id)
        except (AccessDenied, NotFound) as gone:
            await self._purge(item.case_id, gone)
            return "purged"
        self.store.mark_failed(item.id, f"{REFUSED}{error.detail or error}", _utc(self.settings.invalid_retry))
        self._emit(Notice(self._refused_message(item, error), "error", item.case_id))
        return "refused"

    async def _deliver(self, item: OutboxItem) -> Mapping[str, Any]:
        body = item.body
        if item.method == "POST" and item.path.rstrip("/").endswith("/notes"):
            note = await self.api.add_note(item.case_id, body["kind"], body["body"],
                                           occurred_at=body.get("occurred_at"), amends=body.get("amends"),
                                           idempotency_key=item.idempotency_key)
            return note.json
        if item.method == "PATCH" and item.task_id is not None:
            task = await self.api.patch_task(item.task_id, body, if_match=item.if_match or "",
                                             idempotency_key=item.idempotency_key)
            return task.json
        raise Invalid(f"This client cannot send {item.method} {item.path}.", status=400)

    async def _conflict(self, item: OutboxItem) -> str:
        """412: fetch the server's task and keep both. The store sees when it already shows my change."""
        assert item.task_id is not None
        try:
            got = await self.api.task(item.task_id)
        except (AccessDenied, NotFound) as error:
            await self._purge(item.case_id, error)
            return "purged"
        assert isinstance(got, Reply)
        conflict = self.store.record_conflict(item.id, got.json)
        if conflict.resolved_at is not None:
            return "sent"  # "already-applied": my earlier send went through; only its answer was lost
        self._emit(Notice("Someone else changed a task while your change was waiting to be sent. Nothing has "
                          "been overwritten; choose which version to keep on the sync screen.", "warning",
                          item.case_id))
        return "conflict"

    def _retry_later(self, item: OutboxItem, error: CaseworkError) -> None:
        delay = backoff_delay(item.attempts + 1, self.settings.backoff_base, self.settings.backoff_cap, self._rand)
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            delay = max(delay, float(retry_after))
        self.store.mark_failed(item.id, error.message, _utc(delay))

    @staticmethod
    def _refused_message(item: OutboxItem, error: CaseworkError) -> str:
        what = "note" if item.op == "note" else "task change"
        return (f"The server refused your {what}: {error.detail or error}. It is kept on the sync screen, "
                "not deleted.")

    async def _purge(self, case_id: int, error: CaseworkError) -> None:
        """Access to the case ended (403) or it is gone (404/410): remove it; unsent work is kept, blocked."""
        await self._put(self.store.purge_case, case_id)
        held = self._held()
        if case_id in held:
            self._hold(held - {case_id})
        if isinstance(error, AccessDenied):
            message = (f"You no longer have access to case {case_id}, so it has been removed from this device. "
                       f"{error.detail or ''} Anything you wrote for it is kept on the sync screen.").strip()
        else:
            message = (f"Case {case_id} is no longer on the server, so it has been removed from this device. "
                       "Anything you wrote for it is kept on the sync screen.")
        self._emit(Notice(message, "warning", case_id))

    # --- audit of cached views --------------------------------------------------------------------------------

    async def upload_views(self) -> int:
        """POST the views served from the cache, a batch at a time; each batch keeps its Idempotency-Key
        (remembered in the store) until acknowledged, so a retry after a lost answer is not counted twice."""
        uploaded = 0
        while True:
            in_flight = json.loads(self.store.get_meta(VIEWS_IN_FLIGHT) or "null")
            pending = self.store.pending_views(self.settings.views_batch)
            if in_flight:
                wanted = set(in_flight["ids"])
                batch = [v for v in pending if v.id in wanted]
                key = in_flight["key"]
            else:
                batch, key = pending, str(uuid.uuid4())
            if not batch:
                if in_flight:
                    self.store.set_meta(VIEWS_IN_FLIGHT, "null")
                    continue
                return uploaded
            if not in_flight:
                self.store.set_meta(VIEWS_IN_FLIGHT, json.dumps({"key": key, "ids": [v.id for v in batch]}))
            try:
                await self.api.upload_views([v.to_json() for v in batch], idempotency_key=key)
            except (NotFound, Invalid) as error:
                # one bad view (a case that no longer exists, a clock far ahead) must not hold up the rest
                await self._upload_singly(batch, key, error)
            self.store.clear_views([v.id for v in batch])
            self.store.set_meta(VIEWS_IN_FLIGHT, "null")
            uploaded += len(batch)

    async def _upload_singly(self, batch: Sequence[Any], key: str, error: CaseworkError) -> None:
        log.info("audit batch refused (%s); sending its views one by one", error.detail or error)
        for view in batch:
            try:
                await self.api.upload_views([view.to_json()], idempotency_key=f"{key}-{view.id}")
            except (NotFound, Invalid) as single:
                log.warning("cached view of case %s not accepted: %s", view.case_id, single.detail or single)

    # --- helpers ----------------------------------------------------------------------------------------------

    async def _put(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A store write in a worker thread: the store serialises access, and the event loop (the UI's)
        keeps running while a big page is written."""
        return await asyncio.to_thread(method, *args, **kwargs)

    def _held(self) -> set[int]:
        return set(json.loads(self.store.get_meta(HELD) or "[]"))

    def _hold(self, case_ids: Iterable[int]) -> None:
        self.store.set_meta(HELD, json.dumps(sorted(set(case_ids))))

    def _set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self._announce()

    def status(self) -> Status:
        counts = self.store.outbox_counts()
        return Status(online=self.online, pending=counts.get("pending", 0), failed=counts.get("failed", 0),
                      conflicts=counts.get("conflicts", 0), blocked=counts.get("blocked", 0),
                      last_sync=self.store.get_meta(LAST_SYNC), syncing=self.syncing,
                      session_expired=self.session_expired)

    def _announce(self) -> None:
        self._emit(self.status())

    def _emit(self, event: SyncEvent) -> None:
        if self.events.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.events.get_nowait()  # nobody is reading: keep the newest
        self.events.put_nowait(event)
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                log.exception("sync event listener failed")
