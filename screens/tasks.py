"""The work tray: my tasks across cases, cleared by keyboard: select, complete, snooze, reassign, undo.

Built once and kept mounted. The tray is read from the store in one query; after
a key press only the tasks it changed are read back and spliced into the list
(kept in the store's sort order), so the cost of a key follows what it touched,
not the size of the tray. Each bulk action is one store transaction under one
batch id, so ``u`` takes it back as a whole. Completing commits in a thread while
the frame that shows it is drawn (see ``action_complete``). Sending is the sync
engine's job: the screen posts ``OutboxChanged`` and carries on.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.message import Message
from textual.timer import Timer
from textual.strip import Strip
from textual.widgets import Input, Static

from client.models import Task
from client.store import PRIORITY_RANK, OutboxItem, Store, StoreError
from screens import format
from screens.dates import EXAMPLES, Typed, WhenError, describe, parse_when
from screens.messages import OpenCase, OutboxChanged
from screens.reassign import ReassignScreen
from screens.keys import bind
from screens.kept import KeptScreen
from screens.widgets.line_list import LineList, cells
from screens.widgets.keybar import KeyBar
from screens.widgets.status import StatusLine
from screens.widgets.typing_input import TypingInput

SORTS: tuple[str, ...] = ("due", "priority", "case")  # the store's TASK_SORTS
SORT_LABELS = {"due": "due date", "priority": "priority", "case": "case"}
SHOWN_STATUSES: tuple[str, ...] = ("open", "snoozed")

_SORT_KEYS: dict[str, Callable[[Task], tuple[object, ...]]] = {
    # the same order as the store's ORDER BY for each sort, so a changed task goes back where a re-read puts it
    "due": lambda t: (t.due_on, PRIORITY_RANK.get(t.priority, 1), t.id),
    "priority": lambda t: (PRIORITY_RANK.get(t.priority, 1), t.due_on, t.id),
    "case": lambda t: (t.case_id, t.due_on, t.id),
}
# a binary search for a task (its sort key worked out at each step) costs about as much as looking at this
# many rows in one pass (measured on a 5,000-task tray): past that, many tasks are found or removed in a pass
_ROWS_PER_SEARCH = 64
COLUMNS = ("", "Due", "Priority", "Kind", "Task", "Child", "Case")
PRIORITY_SHORT = {"high": "high", "normal": "norm", "low": "low"}
WHEN_BOX = 24  # cells for the typed date, a blank either side: "2026-12-01" with room to spare
WHEN_PLACEHOLDER = "2d, mon, 1/12…"


class TaskTray(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "task-tray--overdue", "task-tray--today", "task-tray--high", "task-tray--dim", "task-tray--mark",
        "task-tray--selected",
    }

    class WidthChanged(Message):
        """The rows' width changed (a resize, a scrollbar came or went): the column header follows it."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    def __init__(self, *, empty_text: str = "Nothing here.", id: str | None = None) -> None:
        super().__init__(empty_text=empty_text, id=id)
        # (task id, what its row depends on) for a row index: a row whose task and state are unchanged is
        # drawn from the cache, so rows that only moved up (a task above them left) cost nothing to redraw
        self.row_identity: Callable[[int], tuple[int, object]] | None = None
        self._strips: dict[int, tuple[object, Strip]] = {}
        self._base_style: Style | None = None
        self._look: tuple[Style, ...] = ()  # the component styles the cached rows were drawn with
        self._strips_kept = 200  # rows cached: a few screens' worth (set on resize)
        self._ahead_queued = False

    def render_line(self, y: int) -> Strip:
        # the box model and scroll offset as LineList.render_lines noted them for this frame: working them out
        # again for each row cost more than drawing a row
        frame = self._frame
        width, scroll_y = (frame[1], frame[2]) if frame is not None else (
            self.scrollable_content_region.width, self.scroll_offset.y)
        index = scroll_y + y
        if self.row_identity is None or self._renderer is None or index >= self.count:
            return super().render_line(y)
        base = self._base_style
        if base is None:
            # DOMNode.rich_style walks every ancestor's styles: ~20 µs, once per row per frame without this
            base = self._base_style = self.rich_style
            look = tuple(self.style_for(name) for name in sorted(self.COMPONENT_CLASSES))
            if look != self._look:  # a new theme, not just focus coming or going: every row is redrawn
                self._look = look
                self._strips.clear()
        return self._row_strip(index, width, base)

    def _row_strip(self, index: int, width: int, base: Style) -> Strip:
        """Row ``index``, from the cache if its task and state are as when it was drawn."""
        assert self.row_identity is not None and self._renderer is not None
        task_id, state = self.row_identity(index)
        cursor = index == self.cursor
        key = (state, cursor, width, base)
        strips = self._strips
        cached = strips.get(task_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        # as LineList.render_line draws a row
        segments = self._renderer(index, width, self.style_for)
        if cursor:
            segments = list(Segment.apply_style(segments, post_style=self.style_for("line-list--cursor")))
        strip = Strip(Segment.apply_style(segments, style=base), width).crop(0, width)
        strips.pop(task_id, None)  # newest last: the oldest go first when there are too many
        strips[task_id] = (key, strip)
        if len(strips) > self._strips_kept:
            for old in list(islice(strips, len(strips) - self._strips_kept)):
                del strips[old]
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if not self._ahead_queued:
            self._ahead_queued = True
            self.call_later(self._render_ahead)  # once this frame is out
        return lines

    def _render_ahead(self) -> None:
        """While idle, draw the screens of rows just below and just above the view into the cache: a change
        that brings them into view (the rows above leaving, a page down) then draws them from it. A screen
        of rows drawn afresh costs ~3 ms of a frame; from the cache, ~0.5 ms."""
        self._ahead_queued = False
        base = self._base_style
        if self.row_identity is None or self._renderer is None or base is None:
            return
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        width = self.scrollable_content_region.width
        for index in (*range(top + height, min(top + 2 * height, self.count)), *range(max(top - height, 0), top)):
            self._row_strip(index, width, base)

    def notify_style_update(self) -> None:
        # (focus moving in or out lands here too; the cached rows stay if the styles did not change)
        self._base_style = None
        super().notify_style_update()

    def refresh_rows_at(self, indexes: Iterable[int]) -> None:
        """Redraw just these rows (their data changed in place; none moved)."""
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        for index in indexes:
            if top <= index < top + height:
                self.refresh(Region(0, index - top, self.size.width, 1))

    def on_resize(self) -> None:
        # LineList's own on_resize runs as well (Textual dispatches along the MRO)
        self._strips_kept = 4 * max(self.size.height, 50)
        self.post_message(self.WidthChanged(self.scrollable_content_region.width))


class TrayHeading(Static):
    """The tray's title line, which is also its snooze prompt while that is open: the line's text changes and
    nothing is shown, hidden, focused or restyled, so opening and closing the prompt repaints one line (a
    prompt that took the line's place by ``display`` cost a layout of every widget; focusing an Input and
    back restyled both and repainted the whole tray; even a class on this widget costs ~1.3 ms to restyle).
    So the prompt's look is drawn into its text from component classes, across the whole line."""

    COMPONENT_CLASSES = {
        "tray-heading--title", "tray-heading--prompt", "tray-heading--label", "tray-heading--box",
        "tray-heading--cursor", "tray-heading--placeholder", "tray-heading--hint", "tray-heading--error",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._styles: dict[str, Style] = {}
        self._prompt: Text | None = None  # the prompt while it is shown, before it is padded to the width

    def show_title(self, title: Text) -> None:
        self._prompt = None
        self.update(title, layout=False)  # one line, whatever it says

    def show_prompt(self, prompt: Text) -> None:
        """Show the prompt; its text's own style (the prompt's background) fills the rest of the line."""
        self._prompt = prompt
        self._draw_prompt()

    def _draw_prompt(self) -> None:
        assert self._prompt is not None
        line = self._prompt.copy()
        line.pad_right(max(self.size.width - line.cell_len, 0))
        self.update(line, layout=False)

    def on_resize(self) -> None:
        if self._prompt is not None:
            self._draw_prompt()

    def style_for(self, name: str) -> Style:
        """The rich style of a component class, cached (cleared when the styles change). The whole style, not
        the partial one a list row takes: a muted colour is only muted once blended over this line's background."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()


def _clip(text: str, width: int) -> str:
    """Text for a column of ``width`` that leaves at least one blank before the next column."""
    return text if len(text) < width else text[: max(width - 2, 0)] + "…"


def _plural(count: int, word: str = "task") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _when_box(when: Typed, style: Callable[[str], Style]) -> Text:
    """The typed date as an input box of WHEN_BOX cells: the cursor on the character it is before (a blank
    past the end), the placeholder while nothing is typed, and the part around the cursor if it is long."""
    room = WHEN_BOX - 2
    start = max(0, when.cursor - room + 1)
    shown = when.text[start:start + room]
    at = when.cursor - start
    box = Text(" ", style("tray-heading--box"))
    box.append(shown[:at], style("tray-heading--box"))
    box.append(shown[at:at + 1] or " ", style("tray-heading--box") + style("tray-heading--cursor"))
    rest = shown[at + 1:] if shown else WHEN_PLACEHOLDER[: room - 1]
    box.append(rest, style("tray-heading--box") + (style("tray-heading--placeholder") if not shown else Style()))
    box.append(" " * (WHEN_BOX - box.cell_len), style("tray-heading--box"))
    return box


class TasksScreen(KeptScreen[None]):
    """``records_changed()`` re-reads the tray (the App calls it after a sync brings tasks)."""

    CSS_PATH = "tasks.tcss"
    BINDINGS = [
        bind("tasks.select", "toggle_select", "Select"),
        bind("tasks.complete", "complete", "Complete"),
        bind("tasks.snooze", "snooze", "Snooze"),
        bind("tasks.reassign", "reassign", "Reassign"),
        bind("tasks.undo", "undo", "Undo"),
        bind("tasks.filter", "filter", "Filter"),
        bind("tasks.sort", "cycle_sort", "Sort"),
        bind("tasks.kind_filter", "cycle_kind", "Kind"),
        bind("tasks.overdue_only", "toggle_overdue", "Overdue only"),
        bind("tasks.select_all", "select_all", "Select all shown", show=False),
        # priority: it must work while typing in the filter box, whose Input would take ctrl+x as "cut"
        bind("tasks.clear_filters", "clear_filters", "Clear filters", show=False, priority=True),
        # only while the filter box or the snooze prompt has the keys; otherwise escape is the App's "back"
        bind("tasks.close_prompt", "close_prompt", "Close", show=False),
    ]

    def __init__(self, store: Store, username: str, *, today: Callable[[], dt.date] = format.today) -> None:
        super().__init__(name="tasks")
        self.store = store
        self.username = username
        self._clock = today
        self._today = today()
        self._today_iso = self._today.isoformat()
        self._all: list[Task] = []      # my open and snoozed tasks, in the sort order
        self._by_id: dict[int, Task] = {}  # the same, by id
        self._shown: list[Task] = []    # those the filters let through
        self._haystack: dict[int, str] = {}
        self._names: dict[int, str] = {}  # case id → the child's name ("" when the store knows none)
        self._selected: set[int] = set()
        self._sort = "due"
        self._kind: str | None = None
        self._overdue_only = False
        self._words: list[str] = []
        self._counts = (0, 0, 0)
        self._snoozing: list[int] = []
        self._when: Typed | None = None  # what is typed at the snooze prompt; None while it is closed
        self._when_error: str | None = None  # why the date entered last could not be taken
        self._title = Text()
        self._own_modal = False
        self._stale = False
        self._said_timer: Timer | None = None
        # one thread, so commits land in the order the keys were pressed
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tray-commit")
        self._committing: tuple[Future[list[OutboxItem]], list[int]] | None = None  # and the task ids

    def compose(self) -> ComposeResult:
        # the snooze prompt is drawn on the title's line while it is open (see TrayHeading)
        with Horizontal(id="tasks-top"):
            yield TrayHeading(id="tasks-title")
        yield TypingInput(placeholder="filter: title, kind, child's name…", id="tasks-filter")
        yield Static(id="tasks-columns")
        yield TaskTray(empty_text="No open tasks for you in the local store.", id="tasks-list")
        yield Static(id="tasks-said")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        if not self.app.is_running:
            return  # built ahead just as the app began to close: its children are being closed, not mounted
        self._lines.row_identity = self._row_identity
        self.reload()
        self._lines.focus()

    def _row_identity(self, index: int) -> tuple[int, object]:
        task = self._shown[index]
        return task.id, (task, task.id in self._selected, self._today)

    @property
    def _lines(self) -> TaskTray:
        return self.query_one(TaskTray)

    @property
    def _heading(self) -> TrayHeading:
        return self.query_one(TrayHeading)

    # --- reading ---------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the whole tray from the store, keeping the cursor on the same task."""
        self.flush()
        self._tick()
        self._all = self.store.tasks(assignee=self.username, status=SHOWN_STATUSES, sort=self._sort)
        self._by_id = {t.id: t for t in self._all}
        self._index(self._all)
        self._selected &= self._by_id.keys()
        self._recount()
        self._refilter()

    def records_changed(self) -> None:
        """A sync brought new or changed records: children's names we lacked may have come too."""
        self._names = {case_id: name for case_id, name in self._names.items() if name}
        self.reload()

    def _tick(self) -> bool:
        """The day can turn while the screen is up: "today" and "overdue" follow it. True if it turned."""
        today = self._clock()
        if today == self._today:
            return False
        self._today, self._today_iso = today, today.isoformat()
        self._recount()
        return True

    def _weight(self, task: Task) -> tuple[int, int, int]:
        """What a task adds to the header's counts: (open, overdue, due today)."""
        if task.status != "open":
            return 0, 0, 0
        return 1, int(task.due_on < self._today_iso), int(task.due_on == self._today_iso)

    def _recount(self) -> None:
        weights = [self._weight(t) for t in self._all]
        self._counts = (sum(w[0] for w in weights), sum(w[1] for w in weights), sum(w[2] for w in weights))

    def _add_counts(self, tasks: Iterable[Task], sign: int) -> None:
        opened, overdue, due_today = self._counts
        for task in tasks:
            w = self._weight(task)
            opened, overdue, due_today = opened + sign * w[0], overdue + sign * w[1], due_today + sign * w[2]
        self._counts = (opened, overdue, due_today)

    @property
    def _key(self) -> Callable[[Task], tuple[object, ...]]:
        return _SORT_KEYS[self._sort]

    def _find(self, rows: list[Task], task_id: int) -> int | None:
        """Where task ``task_id`` (as the tray holds it now) is in ``rows``, which are in the sort order:
        a binary search, not a scan of 5,000 rows."""
        task = self._by_id.get(task_id)
        return None if task is None else self._find_exact(rows, task)

    def _find_exact(self, rows: list[Task], task: Task) -> int | None:
        at = bisect.bisect_left(rows, self._key(task), key=self._key)
        return at if at < len(rows) and rows[at] is task else None

    def _find_many(self, rows: list[Task], task_ids: Iterable[int]) -> dict[int, int | None]:
        """``_find`` for each of ``task_ids``, by id: a binary search each while they are few; one pass over
        ``rows`` once there are so many (a bulk change of a hundred) that the searches would cost more."""
        wanted: dict[int, int | None] = dict.fromkeys(task_ids)
        by_id = self._by_id
        held = sum(task_id in by_id for task_id in wanted)  # a task the tray no longer holds is on no row
        if not held:
            return wanted
        if held * _ROWS_PER_SEARCH < len(rows):
            return {task_id: self._find(rows, task_id) for task_id in wanted}
        for n, task in enumerate(rows):
            if task.id in wanted and by_id.get(task.id) is task:
                wanted[task.id] = n
        return wanted

    def _take_out(self, gone: list[Task]) -> None:
        """Remove these tasks from ``_all``, which keeps the sort order: a binary search and a ``del`` each
        while they are few, one pass once there are so many that the searches would cost more."""
        tray = self._all
        if len(gone) * _ROWS_PER_SEARCH >= len(tray):
            leaving = {task.id for task in gone}  # the tray holds a task once: its id names its row
            tray[:] = [task for task in tray if task.id not in leaving]
            return
        for task in gone:
            at = self._find_exact(tray, task)
            if at is None:  # not where the sort says: never expected, but never leave a stale row either
                at = next((n for n, row in enumerate(tray) if row is task), None)
            if at is not None:
                del tray[at]

    def _index(self, tasks: Iterable[Task]) -> None:
        """Children's names (one store query for the cases not yet known) and the filter's haystacks."""
        tasks = list(tasks)
        unknown = {t.case_id for t in tasks} - self._names.keys()
        if unknown:
            found = self.store.case_names(unknown)
            for case_id in unknown:
                self._names[case_id] = found.get(case_id, "")
        for t in tasks:
            self._haystack[t.id] = " ".join((t.title, t.kind.replace("_", " "), self._names.get(t.case_id, ""),
                                             str(t.case_id))).lower()

    def _passes(self, task: Task) -> bool:
        if self._kind is not None and task.kind != self._kind:
            return False
        if self._overdue_only and not (task.status == "open" and task.due_on < self._today_iso):
            return False
        if self._words:
            haystack = self._haystack.get(task.id, "")
            return all(word in haystack for word in self._words)
        return True

    def _refilter(self, *, focus: Iterable[int] = (), changed: dict[int, int | None] | None = None) -> None:
        """Rebuild the shown rows from ``_all`` and swap them in. The cursor stays on its task; if that task
        left, on the next one still shown. ``focus``: put the cursor on the first of these instead.
        ``changed``: when only these tasks changed, each one's id → the row it was shown on (None if it was
        not shown). Then the rows above the first row any of them was or is on are left as they are, and if
        each is still on its row (so no row moved), only those rows are redrawn."""
        lines = self._lines
        old = self._shown
        at = lines.cursor
        current = old[at] if old and at < len(old) else None
        if self._kind is None and not self._overdue_only and not self._words:
            self._shown = list(self._all)
        else:
            self._shown = [t for t in self._all if self._passes(t)]
        shown = self._shown
        redraw_from = 0
        if changed is not None:
            now = self._find_many(shown, changed)
            if changed and not focus and now == changed and None not in now.values():
                lines.refresh_rows_at(row for row in now.values() if row is not None)
                self._update_title()
                return
            rows = [row for row in (*changed.values(), *now.values()) if row is not None]
            redraw_from = min(rows, default=min(len(old), len(shown)))
        target: int | None = None
        wanted = [n for n in self._find_many(shown, focus).values() if n is not None]
        if wanted:
            target = min(wanted)
        elif current is not None:
            target = self._find(shown, current.id)
            if target is None:
                # the task under the cursor left: the next one after it that is still shown, else the one before
                following = (self._find(shown, t.id) for t in old[at + 1:])
                target = next((n for n in following if n is not None), None)
                if target is None:
                    before = (self._find(shown, t.id) for t in reversed(old[:at]))
                    target = next((n for n in before if n is not None), None)
        lines.set_rows(len(shown), self._render_row, redraw_from=redraw_from)  # keeps the scroll offset
        if target is not None:
            lines.move_to(target)  # scrolls only if the row is off screen
        self._update_title()

    def _update_title(self) -> None:
        open_count, overdue, due_today = self._counts
        lines = self._lines
        title = Text(no_wrap=True, overflow="ellipsis", style=self._heading.style_for("tray-heading--title"))
        title.append(f" My tasks · {open_count} open · ")
        title.append(f"{overdue} overdue", style=lines.style_for("task-tray--overdue") if overdue else "")
        title.append(f" · {due_today} due today")
        snoozed = len(self._all) - open_count
        if snoozed:
            title.append(f" · {snoozed} snoozed")
        parts = [f"by {SORT_LABELS[self._sort]}"]
        if self._kind is not None:
            parts.append(f"kind: {self._kind.replace('_', ' ')}")
        if self._overdue_only:
            parts.append("overdue only")
        if self._words or self._kind is not None or self._overdue_only:
            parts.append(f"showing {len(self._shown)}")
        title.append("   " + " · ".join(parts))
        if self._selected:
            hidden = len(self._selected - {t.id for t in self._shown}) if len(self._shown) != len(self._all) else 0
            title.append(f"   {len(self._selected)} selected" + (f" ({hidden} not shown)" if hidden else ""),
                         style=lines.style_for("task-tray--mark"))
        self._title = title
        if not self._prompt_open:  # the line is the prompt's until it closes
            self._heading.show_title(title)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(open, overdue, due today), as the header shows them."""
        return self._counts

    # --- drawing ---------------------------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        """Mark, due, priority, kind, title, child, case; 0 leaves a column out."""
        if width >= 120:
            fixed = [2, 20, 9, 19, 0, 24, 7]  # "snoozed 12 Jan 2030"
        elif width >= 100:
            fixed = [2, 15, 5, 15, 0, 18, 7]  # "snoozed 12 Jan", "overdue 120d"
        else:
            fixed = [2, 15, 5, 0, 0, 16, 7]
        fixed[4] = max(12, width - sum(fixed))
        return fixed

    def _day_month(self, text: str | None) -> str:
        """"23 Nov", or "23 Nov 2027" when it is not this year."""
        shown = format.short_date(text)
        this_year = f" {self._today.year}"
        return shown.removesuffix(this_year) if shown.endswith(this_year) else shown

    def on_task_tray_width_changed(self, event: TaskTray.WidthChanged) -> None:
        widths = self._widths(event.width)
        header = "".join(name[: w - 1].ljust(w) for name, w in zip(COLUMNS, widths) if w)
        self.query_one("#tasks-columns", Static).update(Text(header[: event.width], no_wrap=True), layout=False)

    def _render_row(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        task = self._shown[index]
        widths = self._widths(width)
        selected = task.id in self._selected
        if task.status == "snoozed":
            due, due_style = f"snoozed {self._day_month(task.snoozed_until)}", style("task-tray--dim")
        else:
            due = format.due_label(task.due_on, self._today)
            due_style = style("task-tray--overdue") if task.due_on < self._today_iso else (
                style("task-tray--today") if task.due_on == self._today_iso else Style())
        priority_style = style("task-tray--high") if task.priority == "high" else (
            style("task-tray--dim") if task.priority == "low" else Style())
        wide = widths[2] > 5
        parts: list[tuple[str, int, Style]] = [
            ("●" if selected else " ", widths[0], style("task-tray--mark")),
            (_clip(due, widths[1]), widths[1], due_style),
            (task.priority if wide else PRIORITY_SHORT.get(task.priority, task.priority), widths[2], priority_style),
        ]
        if widths[3]:
            parts.append((_clip(task.kind.replace("_", " "), widths[3]), widths[3], style("task-tray--dim")))
        parts += [
            (_clip(task.title, widths[4]), widths[4], Style()),
            (_clip(self._names.get(task.case_id, ""), widths[5]), widths[5], Style(bold=True)),
            (f"#{task.case_id}", widths[6], style("task-tray--dim")),
        ]
        segments = cells(parts, width)
        if selected:
            segments = list(Segment.apply_style(segments, post_style=style("task-tray--selected")))
        return segments

    # --- selection -------------------------------------------------------------------------------------

    def _targets(self) -> list[int]:
        """The selected tasks still in the tray (in tray order), or else the one under the cursor."""
        if self._selected:
            chosen = [self._by_id[i] for i in self._selected if i in self._by_id]
            return [t.id for t in sorted(chosen, key=self._key)]
        lines = self._lines
        return [self._shown[lines.cursor].id] if self._shown else []

    def action_toggle_select(self) -> None:
        if not self._shown:
            return
        lines = self._lines
        task_id = self._shown[lines.cursor].id
        self._selected ^= {task_id}
        before = lines.cursor
        lines.move_to(before + 1)
        if lines.cursor == before:  # the last row: nothing redrew it
            lines.refresh_rows()
        self._update_title()

    def action_select_all(self) -> None:
        shown = {t.id for t in self._shown}
        self._selected = set() if shown <= self._selected else self._selected | shown
        self._lines.refresh_rows()
        self._update_title()

    # --- bulk actions ----------------------------------------------------------------------------------

    def _after_write(self, task_ids: Sequence[int], *, focus: Iterable[int] = (), done: bool = False,
                     announce: bool = True) -> None:
        """Splice the tasks a write changed back into the tray (one read of just those), then redraw once.
        ``done``: the write completed them, so they all leave the tray and there is nothing to read back.
        ``announce``: tell the App and the sync engine once the frame is out (False: the write has not
        landed yet; ``_committed`` tells them when it has)."""
        turned = self._tick()  # every row may say something new ("today", "overdue"): redraw them all
        changed = set(task_ids)
        fresh = [] if done else [t for t in self.store.tasks_by_id(changed)
                                 if t.assignee == self.username and t.status in SHOWN_STATUSES]
        self._index(fresh)
        tray, key = self._all, self._key
        rows = self._find_many(self._shown, changed)
        # out with each task as it was, in with it as it is now, each where the sort puts it
        gone = [self._by_id.pop(i) for i in changed if i in self._by_id]
        self._take_out(gone)
        for task in fresh:
            bisect.insort(tray, task, key=key)
            self._by_id[task.id] = task
        self._add_counts(gone, -1)
        self._add_counts(fresh, +1)
        self._selected -= changed
        self._refilter(focus=focus, changed=None if turned else rows)
        if announce:
            self._announce()

    def _announce(self) -> None:
        # the sync engine wakes once this frame is out: sending is never on the key's path
        self.call_after_refresh(self.post_message, OutboxChanged())
        self.call_after_refresh(self._fold_wal)

    def _fold_wal(self) -> None:
        # in a thread (SQLite lets go of the GIL): disk work that the next key press should not wait for
        self.run_worker(self.store.fold_wal, thread=True, group="fold-wal", exit_on_error=False)

    def action_complete(self) -> None:
        """The tasks leave the screen in this frame while their durable commit (an fsync of a few hundred
        pages: 4-8 ms for a hundred tasks, more on a busy disk) runs in a thread beside the drawing, SQLite
        letting go of the GIL. The line says "Done" once the commit has landed; a refusal puts them back."""
        ids = self._targets()
        if not ids:
            return
        self.flush()  # writes land in the order they were made
        committing = self._disk.submit(self.store.complete_tasks, ids)
        self._committing = (committing, ids)
        self._after_write(ids, done=True, announce=False)
        loop = asyncio.get_running_loop()
        committing.add_done_callback(lambda _: loop.call_soon_threadsafe(self._committed, committing))

    def _committed(self, committing: Future[list[OutboxItem]]) -> None:
        """A commit landed: say so, or put the tray back as the store has it. Once each: whichever comes
        first of ``flush`` and the commit's own callback."""
        if self._committing is None or self._committing[0] is not committing:
            return
        ids = self._committing[1]
        self._committing = None
        if not self.is_mounted:  # the App is closing: the commit landed before the store was closed (on_unmount)
            return
        error = committing.exception()
        if error is None:
            self._announce()
            self._tell(f"Done: {_plural(len(ids))}. u undoes.", timeout=3)
            return
        # nothing was completed (one transaction): the tray goes back to what the store holds
        refused = isinstance(error, StoreError)  # a task gone from the store; anything else is the disk's
        self.notify(f"Could not complete {_plural(len(ids))}: {error}", severity="warning" if refused else "error",
                    timeout=6 if refused else 15)
        self.reload()

    def flush(self) -> None:
        """Wait for a commit still in flight (a few milliseconds) and take its outcome: before the tray's
        next write or read of the store, and by the App before it closes the store."""
        if self._committing is not None:
            committing = self._committing[0]
            wait([committing])
            self._committed(committing)

    def action_snooze(self) -> None:
        ids = self._targets()
        if not ids:
            return
        self._snoozing = ids
        self._when, self._when_error = Typed(), None
        self._show_prompt()
        lines = self._lines
        if not lines.has_focus:  # the prompt's keys come through the tray (on_key); focus() repaints it anyway
            lines.focus()

    @property
    def _prompt_open(self) -> bool:
        return self._when is not None

    def _show_prompt(self) -> None:
        """The title's line as the prompt: what to snooze, the date typed so far, and what it means."""
        when = self._when
        assert when is not None
        heading = self._heading
        style = heading.style_for
        count = len(self._snoozing)
        line = Text(no_wrap=True, overflow="ellipsis", style=style("tray-heading--prompt"))
        line.append(f" Snooze {'this task' if count == 1 else _plural(count)} until ", style("tray-heading--label"))
        line.append_text(_when_box(when, style))
        if self._when_error is not None:
            line.append(f"  {self._when_error}", style("tray-heading--error"))
        else:
            try:
                hint = f"→ {describe(parse_when(when.text, self._today), self._today)}"
            except WhenError:
                hint = f"e.g. {EXAMPLES}"
            line.append(f"  {hint}", style("tray-heading--hint"))
        heading.show_prompt(line)

    def on_key(self, event: events.Key) -> None:
        when = self._when
        if when is None:
            return
        # the prompt has every key while it is open, as a focused Input would (the App's priority keys, quit,
        # come before this): none reaches the tray's or the screen's bindings
        event.stop()
        event.prevent_default()
        if event.key == "enter":
            self._snooze_to(when.text)
        elif event.key == "escape":
            self._close_prompt()
        elif when.key(event.key, event.character if event.is_printable else None):
            self._when_error = None
            self._show_prompt()

    def on_paste(self, event: events.Paste) -> None:
        if self._when is None:
            return
        event.stop()
        lines = event.text.splitlines()
        self._when.insert(lines[0] if lines else "")
        self._when_error = None
        self._show_prompt()

    def _snooze_to(self, text: str) -> None:
        self._tick()
        try:
            until = parse_when(text, self._today)
        except WhenError as error:
            self._when_error = str(error)
            self._show_prompt()
            return
        ids = self._snoozing
        self._close_prompt()
        if not self._write(lambda: self.store.snooze_tasks(ids, until.isoformat()))[0]:
            return
        self._after_write(ids)
        self._tell(f"Snoozed {_plural(len(ids))} to {describe(until, self._today)}. u undoes.", timeout=3)

    def _close_prompt(self) -> None:
        self._snoozing, self._when, self._when_error = [], None, None
        self._heading.show_title(self._title)

    def action_reassign(self) -> None:
        ids = self._targets()
        if not ids:
            return
        self._own_modal = True
        self.app.push_screen(ReassignScreen(self.store.users(), count=len(ids), exclude=self.username),
                             lambda username: self._reassign_to(ids, username))

    def _reassign_to(self, ids: list[int], username: str | None) -> None:
        self._own_modal = False
        if username is None:
            return
        if not self._write(lambda: self.store.reassign_tasks(ids, username))[0]:
            return
        self._after_write(ids)
        user = next((u for u in self.store.users() if u.username == username), None)
        self._tell(f"Reassigned {_plural(len(ids))} to {user.display_name if user else username}. u undoes.",
                    timeout=3)

    def action_undo(self) -> None:
        ok, items = self._write(self.store.undo_last_batch)
        if not ok:
            return
        if not items:
            self.notify("Nothing to undo.", timeout=2)
            return
        ids = list(dict.fromkeys(i.task_id for i in items if i.task_id is not None))
        self._after_write(ids, focus=ids)
        self._tell(f"Undone: {_plural(len(ids))} back as they were.", timeout=3)

    def _tell(self, message: str, *, timeout: float = 3) -> None:
        """Feedback on the tray's own line: a toast mounts widgets and costs a frame's layout, a line does not."""
        said = self.query_one("#tasks-said", Static)
        # its line is one row high whatever it says: no layout (update's default lays out the whole screen)
        said.update(message, layout=False)
        if self._said_timer is not None:
            self._said_timer.stop()
        self._said_timer = self.set_timer(timeout, lambda: said.update("", layout=False))

    def _write(self, write: Callable[[], list[OutboxItem]]) -> tuple[bool, list[OutboxItem]]:
        """Run a store write; a refusal (a task gone from the store) is said in a line, not a traceback."""
        self.flush()
        try:
            return True, write()
        except StoreError as error:
            self.notify(str(error), severity="warning", timeout=6)
            self.reload()
            return False, []

    # --- sorting and filtering ---------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        self._sort = SORTS[(SORTS.index(self._sort) + 1) % len(SORTS)]
        self.reload()

    def action_cycle_kind(self) -> None:
        kinds = sorted({t.kind for t in self._all} | ({self._kind} if self._kind else set()))
        if not kinds:
            return
        if self._kind is None:
            self._kind = kinds[0]
        else:
            at = kinds.index(self._kind) + 1
            self._kind = kinds[at] if at < len(kinds) else None
        self._refilter()

    def action_toggle_overdue(self) -> None:
        self._overdue_only = not self._overdue_only
        self._refilter()

    def action_filter(self) -> None:
        box = self.query_one("#tasks-filter", Input)
        box.add_class("-open")
        box.focus()

    def action_clear_filters(self) -> None:
        box = self.query_one("#tasks-filter", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.remove_class("-open")
        self._words, self._kind, self._overdue_only = [], None, False
        self._refilter()
        self._lines.focus()

    def action_close_prompt(self) -> None:
        if self._prompt_open:
            self._close_prompt()
            return
        box = self.query_one("#tasks-filter", Input)
        if not box.value:
            box.remove_class("-open")
        self._lines.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_prompt":
            # escape is "back" unless there is a box to close
            return self._prompt_open or self.query_one(
                "#tasks-filter", Input).has_focus
        if action == "clear_filters":
            # not while a date is being typed: the prompt has the keys
            return not self._prompt_open
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tasks-filter":
            self._words = event.value.lower().split()
            self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.remove_class("-open")
        self._lines.focus()

    # --- opening and coming back -------------------------------------------------------------------------

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        if event.line_list is not self._lines or not self._shown:
            return
        task = self._shown[event.index]
        siblings = list(dict.fromkeys(t.case_id for t in self._shown))
        self.post_message(OpenCase(task.case_id, siblings))

    def on_screen_suspend(self) -> None:
        # another screen may change tasks (the case screen completes them); our own dialog does not
        if not self._own_modal:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def on_unmount(self) -> None:
        self._disk.shutdown(wait=True)  # a commit in flight lands before the store can be closed
