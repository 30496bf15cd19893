"""What changed on my cases since I last looked at each. Pure functions over the Store: no Textual here.

"Last looked" is kept per case in the store's meta table:

* ``seen.case.{id}``: the UTC ISO time the case was last shown (the case screen calls ``mark_seen``);
* ``seen.case.{id}.events``: how many chronology entries the store held for it then.

A chronology event is new when it is dated after that time, or when it arrived since and is dated
earlier (a police notification about last week, recorded today): those are found from the count,
because events carry no "recorded at". Entries written by the user themself are not news to them
and are left out. An open task is new or changed when the server changed it after that time; the
header (identity, flags, whereabouts, allocation) changed when the case's ``updated_at`` is later.

Everything here is a few indexed reads per case, so ``changes_since_seen`` over a caseload of 25
costs a few milliseconds, and ``mark_seen`` (on the case screen's key path) is one count and two
small writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from client.models import ChronologyEvent
from client.store import Store

SCAN_PAGES = (4, 16, 64, 256)  # events read at a time, newest first, while looking for ones dated after "seen"
SCAN_LIMIT = 2000              # at most this many are read per case


def seen_key(case_id: int) -> str:
    return f"seen.case.{case_id}"


def count_key(case_id: int) -> str:
    return f"seen.case.{case_id}.events"


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> datetime | None:
    """An aware datetime for an ISO timestamp ("Z", an offset, or none meaning UTC); None if unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _after(text: str | None, moment: datetime) -> bool:
    parsed = _parse(text)
    return parsed is not None and parsed > moment


@dataclass(frozen=True, slots=True)
class SeenChange:
    """One of my cases with something new since I last looked at it."""

    case_id: int
    name: str
    seen_at: str | None                 # None: never opened on this device
    new_events: int = 0                 # chronology entries by others since seen_at (earlier_dated included)
    earlier_dated: int = 0              # of those, how many arrived since but are dated before seen_at
    newest_summary: str | None = None   # the newest of them, by date
    newest_at: str | None = None
    newest_kind: str | None = None
    new_tasks: tuple[str, ...] = ()     # titles of open tasks new since seen_at
    changed_tasks: tuple[str, ...] = () # titles of open tasks changed since seen_at
    header_changed: bool = False        # identity, flags, whereabouts or allocation changed
    latest: str | None = None           # the newest change's time, for ordering

    @property
    def never_seen(self) -> bool:
        return self.seen_at is None

    def describe(self) -> str:
        """One line: "3 new events (latest: Strategy discussion) · 1 new task: Review · details updated"."""
        parts: list[str] = []
        if self.never_seen:
            parts.append("not opened on this device yet")
        if self.new_events:
            text = f"{self.new_events} new event{'s' if self.new_events != 1 else ''}"
            if self.newest_summary:
                text += f" (latest: {self.newest_summary})"
            if self.earlier_dated == self.new_events:
                text += ", dated before you looked"
            elif self.earlier_dated:
                text += f", {self.earlier_dated} of them dated before you looked"
            parts.append(text)
        for label, titles in (("new task", self.new_tasks), ("changed task", self.changed_tasks)):
            if titles:
                plural = "s" if len(titles) != 1 else ""
                parts.append(f"{len(titles)} {label}{plural}: " + ", ".join(titles))
        if self.header_changed:
            parts.append("case details updated")
        return " · ".join(parts)


def mark_seen(store: Store, case_id: int, at: datetime | str | None = None) -> None:
    """Record that the user has just looked at the case (``at``: for tests; defaults to now)."""
    when = at if isinstance(at, str) else _utc_iso(at or datetime.now(timezone.utc))
    store.set_meta(count_key(case_id), str(store.chronology_count(case_id)))
    store.set_meta(seen_key(case_id), when)


def last_seen(store: Store, case_id: int) -> str | None:
    return store.get_meta(seen_key(case_id))


def _recent_events(store: Store, case_id: int, since: datetime) -> list[ChronologyEvent]:
    """Every event dated after ``since``, newest first (the store orders by date, so this stops early)."""
    found: list[ChronologyEvent] = []
    offset, step = 0, 0
    while offset < SCAN_LIMIT:
        size = SCAN_PAGES[min(step, len(SCAN_PAGES) - 1)]
        page = store.chronology_window(case_id, offset, size)
        for event in page:
            if not _after(event.occurred_at, since):
                return found
            found.append(event)
        if len(page) < size:
            break
        offset += size
        step += 1
    return found


def _mine_dated_earlier(store: Store, case_id: int, username: str, since: datetime) -> int:
    """My notes written since ``since`` (the same second included) but dated no later than it (yesterday's
    visit, written up today)."""
    def written_since(note_created: str) -> bool:
        created = _parse(note_created)
        return created is not None and created >= since

    return sum(1 for note in store.notes(case_id)
               if note.author == username and written_since(note.created_at) and not _after(note.occurred_at, since))


def case_changes(store: Store, case_id: int, username: str, *, name: str = "",
                 summary_updated_at: str | None = None) -> SeenChange | None:
    """What is new on one case since ``username`` last looked; None when nothing is."""
    seen_at = last_seen(store, case_id)
    cached = store.case(case_id)
    if not name:
        name = cached.value.person.name if cached is not None else f"case {case_id}"
    since = _parse(seen_at)
    if since is None:
        return SeenChange(case_id, name, None)
    # events: those dated since I looked, less my own; and any that arrived since but are dated earlier
    recent = _recent_events(store, case_id, since)
    others = [e for e in recent if e.id > 0 and (e.author or "") != username]
    earlier = 0
    counted = store.get_meta(count_key(case_id))
    if counted is not None and counted.isdigit():
        added = store.chronology_count(case_id) - int(counted)
        if added > len(recent):
            earlier = max(0, added - len(recent) - _mine_dated_earlier(store, case_id, username, since))
    # open tasks the server changed since (my own unsent changes leave updated_at alone)
    new_tasks: list[str] = []
    changed_tasks: list[str] = []
    latest: list[str] = [e.occurred_at for e in others[:1]]
    for task in store.tasks(case_id=case_id, status=("open",)):
        if _after(task.updated_at, since):
            (new_tasks if task.version <= 1 else changed_tasks).append(task.title)
            latest.append(task.updated_at)
    updated = [t for t in (cached.value.updated_at if cached is not None else None, summary_updated_at) if t]
    header_changed = any(_after(t, since) for t in updated)
    if header_changed:
        latest.extend(t for t in updated if _after(t, since))
    if not (others or earlier or new_tasks or changed_tasks or header_changed):
        return None
    newest = others[0] if others else None
    return SeenChange(
        case_id, name, seen_at, new_events=len(others) + earlier, earlier_dated=earlier,
        newest_summary=newest.summary if newest else None, newest_at=newest.occurred_at if newest else None,
        newest_kind=newest.kind if newest else None, new_tasks=tuple(new_tasks),
        changed_tasks=tuple(changed_tasks), header_changed=header_changed,
        latest=max(latest, key=lambda t: _parse(t) or datetime.min.replace(tzinfo=timezone.utc)) if latest else seen_at,
    )


def changes_since_seen(store: Store, username: str) -> list[SeenChange]:
    """My open cases with something new since I last looked at each: the most recent change first, then
    the cases never opened on this device."""
    found: list[SeenChange] = []
    for summary in store.caseload(username):
        change = case_changes(store, summary.id, username, name=summary.name,
                              summary_updated_at=summary.updated_at)
        if change is not None:
            found.append(change)
    floor = datetime.min.replace(tzinfo=timezone.utc)
    seen = sorted((c for c in found if not c.never_seen), key=lambda c: _parse(c.latest) or floor, reverse=True)
    never = [c for c in found if c.never_seen]
    return seen + never


def mark_all_seen(store: Store, case_ids: list[int] | tuple[int, ...], at: datetime | str | None = None) -> None:
    """Mark each of these cases as looked at now (the sync screen's "mark all seen")."""
    when = at if isinstance(at, str) else _utc_iso(at or datetime.now(timezone.utc))
    for case_id in case_ids:
        mark_seen(store, case_id, when)
