"""Sync: the outbox, conflicts to resolve, the last sync and what it brought, and what changed on my cases.

Built once and kept mounted, like the other main screens. The App forwards every
sync event to ``sync_event``; the screen keeps its own small record of what the
last syncs brought and re-reads the store (debounced) only while it is shown,
or when it is shown again.

Conflicts are resolved only by a key press on the one selected in the conflicts
list: ``m`` keeps mine, ``t`` takes theirs, ``g`` merges (my change applied on top
of the server's task). ``g`` is also "first row" in every list; here it merges only
while the conflicts list has the focus, and otherwise goes on to the list.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from client.outbox import BLOCKED, CONFLICT, Conflict, OutboxItem, differing_fields
from client.store import Store, StoreError
from client.sync import LAST_SYNC, Changed, Status, SyncEvent
from screens import format
from screens.kept import KeptScreen
from screens.keys import bind
from screens.messages import OpenCase, OutboxChanged
from screens.seen import SeenChange, changes_since_seen, mark_all_seen, mark_seen
from screens.widgets.line_list import LineList, cells
from screens.widgets.status import StatusLine, SyncState

HISTORY = 5          # syncs kept in "what the last syncs brought"
REFRESH_DELAY = 0.2  # seconds: a burst of sync events while the screen is shown costs one re-read

NOTE_LABELS = {
    "case_note": "case note", "home_visit": "home visit note", "phone_call": "phone call note",
    "office_visit": "office visit note", "school_visit": "school visit note", "supervision": "supervision note",
    "management_oversight": "management oversight", "strategy_discussion": "strategy discussion note",
}
TASK_FIELDS = (("title", "Task"), ("status", "Status"), ("due_on", "Due"), ("assignee", "Assigned to"),
               ("snoozed_until", "Snoozed until"), ("priority", "Priority"), ("completed_at", "Completed"))
OPTIONAL_FIELDS = ("snoozed_until", "completed_at")


def _clock(text: str | None) -> str:
    """Local "14:02" today, "20 Nov 14:02" otherwise."""
    return format.as_of(text).removeprefix("as of ")


# --- what the last syncs brought --------------------------------------------------------------------------


@dataclass
class SyncRecord:
    """What one sync pass brought into the store."""

    at: str | None
    cases: set[int] = field(default_factory=set)
    tasks: set[int] = field(default_factory=set)
    timelines: set[int] = field(default_factory=set)
    purged: set[int] = field(default_factory=set)
    full: bool = False
    completed: bool = True

    def add(self, event: Changed) -> None:
        self.cases |= event.cases
        self.tasks |= event.tasks
        self.timelines |= event.timelines
        self.purged |= event.purged
        if event.caseload and event.directory and event.users and not (event.cases or event.tasks
                                                                         or event.timelines):
            self.full = True

    @property
    def empty(self) -> bool:
        return not (self.cases or self.tasks or self.timelines or self.purged or self.full)

    def describe(self) -> str:
        parts = []
        for count, word in ((len(self.cases), "case"), (len(self.tasks), "task"),
                            (len(self.timelines), "timeline")):
            if count:
                parts.append(f"{count} {word}{'s' if count != 1 else ''}")
        if self.purged:
            parts.append(f"{len(self.purged)} removed (access ended)")
        if self.full and not parts:
            parts.append("everything (full sync)")
        text = ", ".join(parts) or "nothing new"
        return text if self.completed else f"{text} (stopped early)"


# --- rows -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    item_id: int
    case_id: int
    what: str
    case: str
    state: str
    reason: str
    tone: str               # outbox--pending | --failed | --conflict | --blocked | --held
    conflict: Conflict | None = None


class Names:
    """Children's names, task titles and colleagues' names for the rows, read once per reload."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cases: dict[int, str] = {}
        self._tasks: dict[int, str] = {}
        self._users: dict[str, str] | None = None

    def case(self, case_id: int) -> str:
        name = self._cases.get(case_id)
        if name is None:
            cached = self.store.case(case_id)
            if cached is not None:
                name = cached.value.person.name
            else:
                entry = self.store.directory_entry(case_id)
                if entry is not None and (entry.given_name or entry.family_name):
                    name = f"{entry.given_name or ''} {entry.family_name or ''}".strip()
                else:
                    name = f"case {case_id}"
            self._cases[case_id] = name
        return name

    def task(self, task_id: int | None, fallback: Mapping[str, Any] | None = None) -> str:
        if task_id is None:
            return "a task"
        title = self._tasks.get(task_id)
        if title is None:
            task = self.store.task(task_id)
            title = task.title if task is not None else str((fallback or {}).get("title") or f"task {task_id}")
            self._tasks[task_id] = title
        return title

    def user(self, username: str | None) -> str:
        if not username:
            return "nobody"
        if self._users is None:
            self._users = {u.username: u.display_name for u in self.store.users()}
        return self._users.get(username, username)


def describe_change(body: Mapping[str, Any], names: Names) -> str:
    """A PATCH body in words: "done", "snoozed to 1 Dec 2026", "reassigned to Sam Patel"."""
    parts = []
    status = body.get("status")
    if status == "done":
        parts.append("done")
    elif status == "snoozed" or body.get("snoozed_until"):
        parts.append(f"snoozed to {format.short_date(body.get('snoozed_until')) or '?'}")
    elif status == "open":
        parts.append("open again")
    if "assignee" in body:
        parts.append(f"reassigned to {names.user(body.get('assignee'))}")
    for name in ("due_on", "priority"):
        if name in body:
            parts.append(f"{name.replace('_on', '').replace('_', ' ')} {body[name]}")
    return ", ".join(parts) or "a change"


def describe_item(item: OutboxItem, names: Names, fallback_task: Mapping[str, Any] | None = None) -> str:
    """What the item does, in words: a note on a child, or a change to a task."""
    if item.op == "note":
        label = NOTE_LABELS.get(str(item.body.get("kind")), "note")
        if item.body.get("amends"):
            label = f"amendment ({label})"
        return f"{label[0].upper()}{label[1:]} on {names.case(item.case_id)}"
    title = names.task(item.task_id, fallback_task)
    body = item.body
    if item.op == "complete":
        return f'Complete task "{title}"'
    if item.op == "reopen":
        return f'Reopen task "{title}"'
    if item.op == "snooze":
        return f'Snooze "{title}" to {format.short_date(body.get("snoozed_until")) or "?"}'
    if item.op == "reassign":
        return f'Reassign "{title}" to {names.user(body.get("assignee"))}'
    if item.op == "undo":
        return f'Undo on "{title}": {describe_change(body, names)}'
    return f'Change "{title}": {describe_change(body, names)}'


def outbox_rows(store: Store, names: Names) -> tuple[list[OutboxRow], list[Conflict]]:
    """Every unsent item, oldest first (the newest last), and the unresolved conflicts."""
    conflicts = store.conflicts()
    by_item = {c.item_id: c for c in conflicts}
    sendable = {item.id for item in store.pending()}
    unsent = store.unsent()
    waiting_on = {item.task_id for item in unsent if item.state in (CONFLICT, BLOCKED) and item.task_id}
    rows = []
    for item in unsent:
        conflict = by_item.get(item.id)
        what = describe_item(item, names, conflict.theirs if conflict else None)
        if item.state == CONFLICT:
            state, tone = "conflict", "outbox--conflict"
            reason = "changed on the server while it waited: choose in Conflicts, above"
        elif item.state == BLOCKED:
            state, tone = "blocked", "outbox--blocked"
            why = (item.reason or "blocked").removeprefix("blocked: ")
            reason = f"{why}; kept here, it cannot be sent"
        elif item.id not in sendable:
            state, tone = "held", "outbox--held"
            if item.task_id is not None and item.task_id in waiting_on:
                reason = "waits for an earlier change to this task (a conflict or blocked)"
            else:
                reason = "waits for the note it amends to be sent"
        elif item.attempts:
            state, tone = "retrying", "outbox--failed"
            tries = f"{item.attempts} attempt{'s' if item.attempts != 1 else ''}"
            retry = f", next try {_clock(item.next_attempt_at)}" if item.next_attempt_at else ""
            reason = f"{item.last_error or 'failed'} · {tries}{retry}"
        else:
            state, tone = "pending", "outbox--pending"
            reason = f"queued {_clock(item.created_at)}"
        rows.append(OutboxRow(item.id, item.case_id, what, names.case(item.case_id), state, reason, tone,
                              conflict))
    return rows, conflicts


# --- widgets ----------------------------------------------------------------------------------------------


class OutboxList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "outbox--pending", "outbox--failed", "outbox--conflict", "outbox--blocked", "outbox--held", "outbox--dim",
    }


class ConflictList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"conflicts--dim"}


class SeenList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"seen--name", "seen--dim", "seen--never"}


class SyncHeader(Static):
    COMPONENT_CLASSES = {"sync-header--ok", "sync-header--warn", "sync-header--bad"}


class ConflictSide(Static):
    """One side of a conflict: the task as I left it, or as the server has it now."""

    COMPONENT_CLASSES = {"conflict-side--title", "conflict-side--differs", "conflict-side--label"}

    def show_task(self, title: str, subtitle: str, task: Mapping[str, Any], other: Mapping[str, Any],
                  names: Names, *, compact: bool = False) -> None:
        """``compact`` (a short terminal): the title and only the fields that differ."""
        differs = self.get_component_rich_style("conflict-side--differs", partial=True)
        label = self.get_component_rich_style("conflict-side--label", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(title, self.get_component_rich_style("conflict-side--title", partial=True))
        if subtitle:
            text.append(f"\n{subtitle}", label)
        for name, caption in TASK_FIELDS:
            value, theirs = task.get(name), other.get(name)
            if name in OPTIONAL_FIELDS and not value and not theirs:
                continue
            if compact and name != "title" and value == theirs:
                continue
            shown = names.user(value) if name == "assignee" else \
                format.short_datetime(value) if name == "completed_at" else \
                format.short_date(value) if name in ("due_on", "snoozed_until") else str(value or "—")
            text.append(f"\n{caption + ':':<15}", label)
            text.append(shown or "—", differs if value != theirs else Style())
            if value != theirs:
                text.append("  ◆", differs)
        self.update(text)


# --- the screen -------------------------------------------------------------------------------------------


class SyncScreen(KeptScreen[None]):
    """Built once and kept mounted. The App calls ``sync_event`` with every sync event."""

    CSS_PATH = "sync_screen.tcss"
    # a short terminal (80×24) gets the compact conflict view: only the fields that differ
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        # priority, so the choice keys act while a conflict is selected (and pass to the list elsewhere):
        # check_action hides each of these, and lets the key through, when no conflict is selected
        bind("sync.keep_mine", "keep_mine", "Keep mine", priority=True),
        bind("sync.take_theirs", "take_theirs", "Take theirs", priority=True),
        bind("sync.merge", "merge", "Merge", priority=True),
        bind("sync.focus_conflicts", "focus_conflicts", "Conflicts", show=False),
        bind("sync.focus_outbox", "focus_outbox", "Outbox", show=False),
        bind("sync.focus_changes", "focus_changes", "What changed", show=False),
        bind("sync.mark_all_seen", "mark_all_seen", "Mark all seen"),
    ]

    def __init__(self, store: Store, username: str) -> None:
        super().__init__(name="sync")
        self.store = store
        self.username = username
        self.online: bool | None = None
        self.syncing = False
        self.last_sync: str | None = store.get_meta(LAST_SYNC)
        self.history: deque[SyncRecord] = deque(maxlen=HISTORY)
        self._current = SyncRecord(None)
        self._counts: dict[str, int] = {}
        self._rows: list[OutboxRow] = []
        self._conflicts: list[Conflict] = []
        self._conflict_text: list[tuple[str, str, str, str]] = []
        self._seen: list[SeenChange] = []
        self._names = Names(store)
        self._dirty = {"outbox", "seen"}
        self._refresh_timer: Any = None
        self._ready = False  # is_mounted turns true only after on_mount returns

    def compose(self) -> ComposeResult:
        yield SyncHeader(id="sync-title")
        yield Static(id="sync-brought")
        with Vertical(id="sync-conflicts-box"):
            yield Static(id="sync-conflicts-title", classes="sync-section")
            yield ConflictList(empty_text="No conflicts.", id="sync-conflicts")
            with Horizontal(id="sync-sides"):
                yield ConflictSide(id="sync-mine", classes="-mine")
                yield ConflictSide(id="sync-theirs", classes="-theirs")
            yield Static(id="sync-choose")
        yield Static(id="sync-outbox-title", classes="sync-section")
        yield OutboxList(empty_text="Nothing waiting to be sent: everything is on the server.", id="sync-outbox")
        yield Static(id="sync-seen-title", classes="sync-section")
        yield SeenList(empty_text="Nothing new on your cases since you last looked.", id="sync-seen")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        if self.online is None:
            state = getattr(self.app, "sync_state", None)
            if isinstance(state, SyncState):
                self.online = state.online
                self.last_sync = state.last_sync or self.last_sync
        self.reload()
        (self.query_one(ConflictList) if self._conflicts else self.query_one(OutboxList)).focus()

    def on_resize(self) -> None:
        conflicts = self.query_one(ConflictList)
        if self._conflicts and conflicts.cursor < len(self._conflicts):
            self._show_conflict(self._conflicts[conflicts.cursor])

    def on_screen_resume(self) -> None:
        self.reload()
        focused = self.focused
        if self._conflicts and not isinstance(focused, (ConflictList, OutboxList, SeenList)):
            self.query_one(ConflictList).focus()
        elif not self._conflicts and (focused is None or isinstance(focused, ConflictList)):
            self.query_one(OutboxList).focus()

    # --- the App's hook ---------------------------------------------------------------------------

    def sync_event(self, event: SyncEvent) -> None:
        """Every event from the sync engine, forwarded by the App. Cheap; re-reads happen only when shown."""
        if isinstance(event, Changed):
            self._current.add(event)
            self._dirty.add("seen")
            if event.tasks or event.purged:
                self._dirty.add("outbox")
        elif isinstance(event, Status):
            finished = self.syncing and not event.syncing
            moved = bool(event.last_sync) and event.last_sync != self.last_sync
            self.online = event.online
            self.syncing = event.syncing
            self._counts = {"pending": event.pending, "failed": event.failed, "conflicts": event.conflicts,
                            "blocked": event.blocked}
            if moved or (finished and not self._current.empty):
                self._current.at = event.last_sync if moved else _now_iso()
                self._current.completed = moved
                if self._current.empty and self.history and self.history[0].empty:
                    self.history[0] = self._current  # quiet passes: keep one, the latest
                else:
                    self.history.appendleft(self._current)
                self._current = SyncRecord(None)
            if event.last_sync:
                self.last_sync = event.last_sync
            self._dirty.add("outbox")
        else:
            return
        if self._ready:
            self._draw_header()
            if self.is_current:
                self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY, self._refresh_now)

    def _refresh_now(self) -> None:
        self._refresh_timer = None
        if self.is_current:
            self.reload(only=set(self._dirty))

    # --- data ---------------------------------------------------------------------------------------

    def reload(self, only: set[str] | None = None) -> None:
        """Re-read the outbox, conflicts and what changed, keeping each cursor on the same row."""
        if not self._ready:
            return
        parts = only if only is not None else {"outbox", "seen"}
        self._names = Names(self.store)
        if "outbox" in parts:
            self._reload_outbox()
        if "seen" in parts:
            self._reload_seen()
        self._dirty -= parts
        self._draw_header()
        self.refresh_bindings()

    def _reload_outbox(self) -> None:
        outbox = self.query_one(OutboxList)
        conflicts = self.query_one(ConflictList)
        keep_item = self._rows[outbox.cursor].item_id if self._rows and outbox.cursor < len(self._rows) else None
        keep_conflict = self._conflicts[conflicts.cursor].id \
            if self._conflicts and conflicts.cursor < len(self._conflicts) else None
        self._rows, self._conflicts = outbox_rows(self.store, self._names)
        items = {row.item_id: row for row in self._rows}
        self._conflict_text = [
            (items[c.item_id].what if c.item_id in items else f"change {c.item_id}", self._names.case(c.case_id),
             _clock(c.created_at), f"mine: {describe_change(c.changes, self._names)}") for c in self._conflicts]
        self._counts = self.store.outbox_counts()
        outbox.set_rows(len(self._rows), self._render_outbox,
                        cursor=next((n for n, r in enumerate(self._rows) if r.item_id == keep_item), None))
        conflicts.set_rows(len(self._conflicts), self._render_conflict,
                           cursor=next((n for n, c in enumerate(self._conflicts) if c.id == keep_conflict), None))
        box = self.query_one("#sync-conflicts-box")
        box.set_class(not self._conflicts, "-none")
        n = len(self._conflicts)
        self.query_one("#sync-conflicts-title", Static).update(
            f"Conflicts · {n} to resolve: nothing is sent or dropped until you choose")
        failed = sum(1 for r in self._rows if r.state == "retrying")
        blocked = sum(1 for r in self._rows if r.state == "blocked")
        title = f"Outbox · {len(self._rows)} unsent"
        if failed:
            title += f" · {failed} retrying"
        if blocked:
            title += f" · {blocked} blocked"
        self.query_one("#sync-outbox-title", Static).update(title + " · newest last")
        if self._conflicts:
            self._show_conflict(self._conflicts[conflicts.cursor])
        if not self._conflicts and isinstance(self.focused, ConflictList):
            outbox.focus()

    def _reload_seen(self) -> None:
        seen = self.query_one(SeenList)
        keep = self._seen[seen.cursor].case_id if self._seen and seen.cursor < len(self._seen) else None
        self._seen = changes_since_seen(self.store, self.username)
        seen.set_rows(len(self._seen), self._render_seen,
                      cursor=next((n for n, c in enumerate(self._seen) if c.case_id == keep), None))
        changed = sum(1 for c in self._seen if not c.never_seen)
        never = len(self._seen) - changed
        title = f"What changed since you last looked · {changed} case{'s' if changed != 1 else ''}"
        if never:
            title += f" · {never} not opened here yet"
        self.query_one("#sync-seen-title", Static).update(title)

    # --- drawing ------------------------------------------------------------------------------------

    def _draw_header(self) -> None:
        if not self._ready:
            return
        header = self.query_one(SyncHeader)
        ok = header.get_component_rich_style("sync-header--ok", partial=True)
        warn = header.get_component_rich_style("sync-header--warn", partial=True)
        bad = header.get_component_rich_style("sync-header--bad", partial=True)
        text = Text("Sync   ")
        if self.online:
            text.append("● online", ok)
        elif self.online is None:
            text.append("○ not connected yet", warn)
        else:
            text.append("○ offline: your work waits on this device", warn)
        if self.syncing:
            text.append("   syncing now…")
        text.append(f"   last sync {_clock(self.last_sync)}" if self.last_sync else "   never synced")
        counts = self._counts
        text.append(f"   {counts.get('pending', 0)} unsent")
        if counts.get("failed"):
            text.append(f" ({counts['failed']} retrying)", warn)
        if counts.get("conflicts"):
            n = counts["conflicts"]
            text.append(f"   {n} conflict{'s' if n != 1 else ''}", bad)
        if counts.get("blocked"):
            text.append(f"   {counts['blocked']} blocked", bad)
        header.update(text)
        brought = "   ".join(f"{_clock(r.at) or '—'}: {r.describe()}" for r in self.history)
        if not self._current.empty:
            brought = f"now: {self._current.describe()}   " + brought
        self.query_one("#sync-brought", Static).update(
            "What the last syncs brought   " + (brought or "no sync since casework started"))

    def _widths(self, width: int) -> list[int]:
        return [44, 22, 10, 0] if width >= 120 else [30, 14, 9, 0]

    def _render_outbox(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        row = self._rows[index]
        widths = self._widths(width)
        tone = style(row.tone)
        return cells([(row.what, widths[0], Style()), (row.case, widths[1], style("outbox--dim")),
                      (row.state, widths[2], tone), (row.reason, widths[3], tone)], width)

    def _render_conflict(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        what, case, when, change = self._conflict_text[index]
        widths = [44, 22, 14, 0] if width >= 120 else [30, 14, 13, 0]
        return cells([(what, widths[0], Style(bold=True)), (case, widths[1], Style()),
                      (when, widths[2], style("conflicts--dim")), (change, widths[3], style("conflicts--dim"))],
                     width)

    def _render_seen(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        change = self._seen[index]
        name_width = 26 if width >= 120 else 18
        looked = "never opened" if change.never_seen else f"looked {_clock(change.seen_at)}"
        return cells([(change.name, name_width, style("seen--name")),
                      (looked, 21, style("seen--dim")),
                      (change.describe(), 0, style("seen--never") if change.never_seen else Style())], width)

    def _show_conflict(self, conflict: Conflict) -> None:
        names = self._names
        mine, theirs = dict(conflict.mine), dict(conflict.theirs)
        compact = self.has_class("-short")
        self.query_one("#sync-mine", ConflictSide).show_task(
            "Mine: the task as I left it", f"my change: {describe_change(conflict.changes, names)}", mine, theirs,
            names, compact=compact)
        version = theirs.get("version")
        updated = _clock(theirs.get("updated_at")) if theirs.get("updated_at") else ""
        subtitle = ", ".join(part for part in (f"version {version}" if version is not None else "",
                                               f"changed {updated}" if updated else "") if part)
        self.query_one("#sync-theirs", ConflictSide).show_task("Theirs: the server's task now", subtitle, theirs,
                                                               mine, names, compact=compact)
        # what each choice would send, in words (the store's rules: client.outbox.differing_fields)
        keys = {action: self._key_for(action) for action in ("keep_mine", "take_theirs", "merge")}
        keep = differing_fields(mine, theirs)
        keep_text = f"sends: {describe_change(keep, names)}" if keep else "nothing to send, theirs matches"
        self.query_one("#sync-choose", Static).update(
            f"{keys['keep_mine']} keep mine ({keep_text})   "
            f"{keys['take_theirs']} take theirs (my change is dropped)   "
            f"{keys['merge']} merge (sends: {describe_change(conflict.changes, names)}, on top of theirs)   "
            "◆ differs")

    def _key_for(self, action: str) -> str:
        for key, bindings in self._bindings.key_to_bindings.items():
            if any(b.action == action for b in bindings):
                return self.app.get_key_display(Binding(key, action))
        return "?"

    # --- keys ---------------------------------------------------------------------------------------

    def _selected_conflict(self) -> Conflict | None:
        focused = self.focused
        if isinstance(focused, ConflictList) and self._conflicts and focused.cursor < len(self._conflicts):
            return self._conflicts[focused.cursor]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("keep_mine", "take_theirs", "merge"):
            conflict = self._selected_conflict()
            if conflict is None:
                return False  # hidden from the footer, and the key goes on to the list
            if action != "take_theirs" and conflict.task_id is None:
                return None   # shown greyed: only a task change can be sent again
        return True

    def action_keep_mine(self) -> None:
        self._resolve("mine")

    def action_take_theirs(self) -> None:
        self._resolve("theirs")

    def action_merge(self) -> None:
        self._resolve("merge")

    def _resolve(self, choice: str) -> None:
        conflict = self._selected_conflict()
        if conflict is None:
            return
        item = self.store.outbox_item(conflict.item_id)
        what = describe_item(item, self._names, conflict.theirs) if item is not None else "the change"
        change = describe_change(conflict.changes, self._names)
        try:
            requeued = self.store.resolve_conflict(conflict.id, choice)
        except (StoreError, ValueError) as error:
            self.notify(str(error), title="Not resolved", severity="error")
            self.reload()
            return
        if choice == "theirs":
            message = f"{what}: took the server's version. Your change ({change}) was dropped, not sent."
        elif requeued is None:
            message = f"{what}: the server's version already matches yours, so there is nothing to send."
        elif choice == "mine":
            message = f"{what}: kept yours. It will be sent again over the server's version."
        else:
            message = f"{what}: merged. Your change ({change}) will be sent on top of the server's version."
        self.notify(message, title="Conflict resolved", timeout=8)
        self.post_message(OutboxChanged())
        self.reload()

    def action_focus_conflicts(self) -> None:
        if self._conflicts:
            self.query_one(ConflictList).focus()
        else:
            self.notify("No conflicts to resolve.", timeout=3)

    def action_focus_outbox(self) -> None:
        self.query_one(OutboxList).focus()

    def action_focus_changes(self) -> None:
        self.query_one(SeenList).focus()

    def action_mark_all_seen(self) -> None:
        if not self._seen:
            self.notify("Nothing to mark: you have seen everything on your cases.", timeout=3)
            return
        mark_all_seen(self.store, [c.case_id for c in self._seen])
        count = len(self._seen)
        self.notify(f"Marked {count} case{'s' if count != 1 else ''} as seen.", timeout=4)
        self.reload(only={"seen"})

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        if isinstance(event.line_list, ConflictList) and event.index < len(self._conflicts):
            self._show_conflict(self._conflicts[event.index])
        elif isinstance(event.line_list, OutboxList) and event.index < len(self._rows):
            conflict = self._rows[event.index].conflict
            if conflict is not None:
                self._show_conflict(conflict)
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        """Enter opens the case: from what changed (and marks it seen), or from the outbox or a conflict."""
        if isinstance(event.line_list, SeenList) and event.index < len(self._seen):
            change = self._seen[event.index]
            mark_seen(self.store, change.case_id)
            self.post_message(OpenCase(change.case_id, [c.case_id for c in self._seen]))
            self._dirty.add("seen")
        elif isinstance(event.line_list, OutboxList) and event.index < len(self._rows):
            ids = list(dict.fromkeys(r.case_id for r in self._rows))
            self.post_message(OpenCase(self._rows[event.index].case_id, ids))
        elif isinstance(event.line_list, ConflictList) and event.index < len(self._conflicts):
            ids = list(dict.fromkeys(c.case_id for c in self._conflicts))
            self.post_message(OpenCase(self._conflicts[event.index].case_id, ids))

    # for tests and the lead: what the screen shows, as plain data
    @property
    def rows(self) -> Sequence[OutboxRow]:
        return tuple(self._rows)

    @property
    def conflicts(self) -> Sequence[Conflict]:
        return tuple(self._conflicts)

    @property
    def seen(self) -> Sequence[SeenChange]:
        return tuple(self._seen)


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
