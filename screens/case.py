"""One case on one screen: who, flags, where now, who to call, open tasks, the chronology, a quick note.

The screen is built once; ``show(case_id)`` swaps in another case's data from
the local store. A case the store does not hold yet shows its directory entry
at once, and fills in when the sync engine brings the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static, TextArea

from client.models import Case, ChronologyEvent, DirectoryEntry, Task
from client.store import Store
from screens import format
from screens.kept import KeptScreen
from screens.drafts import QuietTimer
from screens.keys import bind
from screens.messages import CaseViewed, CaseWanted, ExportWanted, OutboxChanged
from screens.note_editor import OpenNoteEditor, OpenNotes
from screens.widgets.line_list import LineList, cells
from screens.widgets.text_lines import TextLines
from screens.widgets.keybar import KeyBar
from screens.widgets.status import StatusLine
from screens.widgets.typing_input import TypingInput

# chronology rows read from the store at a time: a screen and a half at 160×50. Each read parses every row it
# reads, on the key that needs it (opening a case, a page down into rows not yet read): 64 rows ~0.5 ms, 200 ~1.2
WINDOW = 64
PAGES_KEPT = 20  # pages of a chronology kept read, at most
# a case read ahead is shown as read for this long; after it, enter reads it again (the header's "seen N days
# ago" and "as of" are worked out when it is read)
AHEAD_KEPT_S = 60.0
KIND_CYCLE: tuple[tuple[str, ...], ...] = (
    (),
    ("visit",),
    ("police_notification",),
    ("ae_attendance", "health"),
    ("school",),
    ("missing_episode", "return_interview"),
    ("strategy_discussion", "s47", "conference", "core_group"),
    ("placement_move",),
    ("note", "contact", "supervision", "management_oversight"),
)


class ChronologyWindow:
    """The chronology as the store holds it, read ``WINDOW`` rows at a time."""

    def __init__(self, store: Store, case_id: int, kinds: Sequence[str], key_only: bool, text: str) -> None:
        self.store, self.case_id = store, case_id
        self.kinds, self.key_only, self.text = tuple(kinds), key_only, text
        self.count = store.chronology_count(case_id, kinds=self.kinds, key_only=key_only, text=text)
        self._pages: dict[int, list[ChronologyEvent]] = {}

    def __getitem__(self, index: int) -> ChronologyEvent | None:
        page = index // WINDOW
        rows = self._pages.get(page)
        if rows is None:
            if len(self._pages) >= PAGES_KEPT:
                # the pages far from this one go; those around it (the view, the rows read ahead) stay, and so do
                # the first and last, where g and G go
                ends = {0, (self.count - 1) // WINDOW}
                for far in sorted(self._pages.keys() - ends, key=lambda kept: abs(kept - page))[PAGES_KEPT // 2:]:
                    del self._pages[far]
            rows = self._pages[page] = self.store.chronology_window(
                self.case_id, page * WINDOW, WINDOW, kinds=self.kinds, key_only=self.key_only, text=self.text)
        offset = index - page * WINDOW
        return rows[offset] if offset < len(rows) else None

    def warm(self, start: int, stop: int) -> None:
        """Read now the pages that hold rows ``start`` to ``stop - 1``, and the last page, if not read yet:
        called after a frame, so that a page down (or G) into them reads nothing on its key."""
        start, stop = max(start, 0), min(stop, self.count)
        pages = [*range(start // WINDOW, (stop - 1) // WINDOW + 1 if stop > start else 0)]
        if self.count:
            pages.append((self.count - 1) // WINDOW)
        for page in pages:
            if page not in self._pages:
                self[page * WINDOW]


class ChronologyList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"chronology--key", "chronology--date", "chronology--kind",
                                                      "chronology--pending"}


class TaskList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"tasks--overdue", "tasks--dim"}


class CaseScreen(KeptScreen[None]):
    CSS_PATH = "case.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        bind("case.next", "next_case", "Next case"),
        bind("case.previous", "previous_case", "Previous", show=False),
        bind("case.note", "note", "Note"),
        bind("case.save_note", "save_note", "Save note", priority=True),
        bind("case.focus_chronology", "focus_chronology", "Chronology", show=False),
        bind("case.focus_tasks", "focus_tasks", "Tasks", show=False),
        bind("case.search_chronology", "search_chronology", "Search chronology"),
        bind("case.key_events", "key_events", "Key events"),
        bind("case.kind_filter", "kind_filter", "Kind"),
        # priority: it must work while typing in the chronology search, whose Input would take ctrl+x as "cut";
        # check_action hands the key back to the note box, where it cuts as usual
        bind("case.clear_filters", "clear_filters", "Clear filters", show=False, priority=True),
        bind("case.note_editor", "note_editor", "Full note", show=False),
        bind("case.notes", "notes", "Notes", show=False),
        bind("case.export", "export", "Export", show=False),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__(name="case")
        self.store = store
        self.case_id: int | None = None
        self.case: Case | None = None
        self.case_list: tuple[int, ...] = ()
        self._window: ChronologyWindow | None = None
        self._tasks: list[Task] = []
        self._kind_index = 0
        self._key_only = False
        self._draft_id: int | None = None
        self._draft_timer = QuietTimer(self, self._flush_draft)
        self._pending: tuple[int, Sequence[int] | None] | None = None
        # the case ``prepare`` read, when (monotonic), and whether it was another case than the one shown last
        self._ahead: tuple[int, float, bool] | None = None
        self._ready = False  # is_mounted turns true only after on_mount returns
        self.stale_draft = False  # set when the full editor takes over this case's note

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            case_id, case_list = self._pending
            self._pending = None
            self.show(case_id, case_list)
        # built ahead (tui/app.py), the screen may be mounting as the app quits and takes its widgets away
        for chronology in self.query(ChronologyList):
            chronology.focus()

    def compose(self) -> ComposeResult:
        yield TextLines(id="case-header")
        with Horizontal(id="case-body"):
            with Vertical(id="case-side"):
                yield TextLines(id="case-contacts")
                yield Static("Open tasks", classes="panel-title")
                yield TaskList(empty_text="No open tasks.", id="case-tasks")
            with Vertical(id="case-chronology"):
                yield TextLines(id="chronology-title", classes="panel-title")
                yield TypingInput(placeholder="search the chronology…", id="chronology-search")
                yield ChronologyList(empty_text="No chronology events in the local store.", id="chronology")
                yield TextLines(id="chronology-detail", wrap=True)
        yield Static("n: quick note · ctrl+s: save · the draft is kept as you type", id="note-hint")
        yield TextArea(id="note-box", soft_wrap=True, show_line_numbers=False)
        yield StatusLine()
        yield KeyBar()

    # --- showing a case ------------------------------------------------------------------

    def show(self, case_id: int, siblings: Sequence[int] | None = None) -> None:
        """Swap in a case from the store; nothing here waits for the network."""
        if not self._ready:
            # installed but not yet composed: show it once it is
            self._pending = (case_id, siblings)
            return
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == case_id and time.monotonic() - ahead[1] < AHEAD_KEPT_S:
            # read ahead (``prepare``): what is left is what makes it a view. A change since then waits, as for
            # any hidden screen, and is read as the screen comes up (KeptScreen.on_screen_resume)
            if siblings is not None:
                self.case_list = tuple(siblings)
            if ahead[2]:  # a case other than the one shown last: say if its draft is back, as _load would have
                self._announce_draft()
            self._shown_now()
            return
        self._load(case_id, siblings)
        self._shown_now()

    def prepare(self, case_id: int, siblings: Sequence[int] | None = None) -> None:
        """Read a case into this screen while it is hidden, before the enter that would open it (the cursor of
        the list it would be opened from rests on it). Not a view: nothing is audited or fetched until ``show``,
        which then has nothing to read, unless it was read too long ago for the header's "seen N days ago" to be
        sure."""
        if not self._ready or self.on_top:
            return
        self._ahead = (case_id, time.monotonic(), self._load(case_id, siblings, announce=False))

    def _shown_now(self) -> None:
        assert self.case_id is not None
        # revalidate this case and fetch its neighbours in the list, in the background
        self.post_message(CaseWanted(self.case_id, self._neighbours()))
        if self.case is not None:
            self.post_message(CaseViewed(self.case_id))

    def _announce_draft(self) -> None:
        if self._draft_id is not None:
            self.notify("Your unsaved note on this case is back in the note box.", title="Draft restored")

    def _load(self, case_id: int, siblings: Sequence[int] | None, *, announce: bool = True) -> bool:
        """Read the case and its panels from the store; True if it is another case than the one shown."""
        if siblings is not None:
            self.case_list = tuple(siblings)
        # what follows reads it all from the store: changes that came while hidden need no re-read of their own
        self.forget("records")
        self.forget("timeline")
        if case_id != self.case_id:
            self._flush_draft()
            self._kind_index, self._key_only = 0, False
            search = self.query_one("#chronology-search", Input)
            search.value = ""
            search.remove_class("-open")
            self.case_id = case_id
            self._load_draft(announce=announce)
            self._reload(cursor=0)
            return True
        self._reload()
        return False

    def records_changed(self, case_ids: frozenset[int] | None, *, chronology_only: bool = False) -> None:
        """The sync engine brought new data; redraw in place if it touches this case. ``chronology_only``: only
        its chronology changed (a page of a long one arriving), so the header and panels are left as they are."""
        if self.case_id is not None and (case_ids is None or self.case_id in case_ids):
            if chronology_only:
                self._reload_chronology()
            else:
                self._reload()

    def as_of_moved(self, case_id: int) -> None:
        """The server has said the copy held of ``case_id`` is current: the header's "as of" moves on, and
        nothing else here is read again."""
        cached = self.store.case(case_id) if case_id == self.case_id else None
        if cached is not None:
            self.query_one("#case-header", TextLines).update(self._header(cached.value, cached.as_of))

    def _reload(self, cursor: int | None = None) -> None:
        assert self.case_id is not None
        cached = self.store.case(self.case_id)
        self.case = cached.value if cached else None
        if cached is None:
            entry = self.store.directory_entry(self.case_id)
            header, contacts = self._header_from_directory(entry), Text("Who to call: fetching…", style="dim")
        else:
            header, contacts = self._header(cached.value, cached.as_of), self._contacts(cached.value)
        # every panel here has a fixed height (case.tcss), so new text needs no relayout of the screen
        self.query_one("#case-header", TextLines).update(header)
        self.query_one("#case-contacts", TextLines).update(contacts)
        self._tasks = self.store.tasks(case_id=self.case_id, status=("open", "snoozed"))
        self.query_one(TaskList).set_rows(len(self._tasks), self._render_task, cursor=cursor)
        self._reload_chronology(cursor=cursor)

    def _neighbours(self) -> tuple[int, ...]:
        if self.case_id not in self.case_list:
            return ()
        at = self.case_list.index(self.case_id)
        return tuple(self.case_list[max(0, at - 2): at] + self.case_list[at + 1: at + 3])

    def _reload_chronology(self, cursor: int | None = None) -> None:
        assert self.case_id is not None
        kinds = KIND_CYCLE[self._kind_index]
        text = self.query_one("#chronology-search", Input).value.strip()
        self._window = ChronologyWindow(self.store, self.case_id, kinds, self._key_only, text)
        filters = []
        if kinds:
            filters.append(" / ".join(k.replace("_", " ") for k in kinds))
        if self._key_only:
            filters.append("key events")
        if text:
            filters.append(f"“{text}”")
        title = f"Chronology · {self._window.count:,} event{'s' if self._window.count != 1 else ''}"
        if filters:
            title += " · " + " · ".join(filters)
        self.query_one("#chronology-title", TextLines).update(title)
        self.query_one(ChronologyList).set_rows(self._window.count, self._render_event, cursor=cursor)
        self._show_detail(self.query_one(ChronologyList).cursor)
        self.call_after_refresh(self._read_rows_ahead)

    # --- header and panels ----------------------------------------------------------------

    def _header(self, case: Case, as_of: str) -> Text:
        """Four lines, each cut to the width, so allocation and whereabouts are never pushed off at 80×24."""
        person = case.person
        wide = self.size.width >= 120
        first = Text()
        first.append(f"{person.given_name} {person.family_name.upper()}", style="bold")
        if person.dob:
            first.append(f"  {format.age(person.dob)} · born {format.short_date(person.dob)}")
        elif person.expected_dob:
            first.append(f"  unborn · due {format.short_date(person.expected_dob)}")
        ids = [f"case {case.id}", person.la_child_id]
        if person.nhs_number:
            ids.append(f"NHS {person.nhs_number[:3]} {person.nhs_number[3:6]} {person.nhs_number[6:]}")
        if person.upn and wide:
            ids.append(f"UPN {person.upn}")
        first.append("  " + " · ".join(ids), style="dim")
        flags = Text()
        for flag in case.flags:
            flags.append(f" {flag.label} ", style=self._severity_style(flag.severity))
            flags.append(" ")
        if not case.flags:
            flags.append("no flags", style="dim")
        where = case.whereabouts
        now = Text()
        if where.missing_since:
            now.append(f" MISSING since {format.short_datetime(where.missing_since)} ",
                       style=self._severity_style("high"))
            now.append("  last placement: ")
        else:
            now.append("Now: ", style="bold")
        now.append(" · ".join(x for x in (where.placement_type, where.carer, where.address or person.address) if x))
        allocation = Text()
        allocation.append(format.CATEGORY_LABELS.get(case.category, case.category), style="bold")
        if case.legal_status and wide:
            allocation.append(f" · {case.legal_status}")
        worker = case.allocated_worker_name or case.allocated_worker or "unallocated"
        allocation.append(f" · {worker} ({case.team})")
        allocation.append(f" · seen {format.days_since(case.last_visit_at)} ago" if case.last_visit_at
                          else " · never seen")
        if case.status == "closed":
            allocation.append(f" · CLOSED {format.short_date(case.closed_at)}", style="bold")
        allocation.append(f"  {format.as_of(as_of)}", style="dim italic")
        return self._lines(first, flags, now, allocation)

    def _severity_style(self, severity: str) -> Style:
        """Flags in the theme's error and warning colours, so they follow the theme (and 16 colours)."""
        theme = self.app.current_theme
        if severity == "high":
            return Style(color=theme.foreground or "white", bgcolor=theme.error, bold=True)
        if severity == "medium":
            return Style(color=theme.warning, bold=True)
        return Style(color=theme.accent)

    def _lines(self, *lines: Text) -> Text:
        width = max(20, self.size.width - 2)
        out = Text()
        for n, line in enumerate(lines):
            line.truncate(width, overflow="ellipsis")
            out.append_text(line)
            if n < len(lines) - 1:
                out.append("\n")
        return out

    def on_resize(self) -> None:
        if self.case_id is not None and self._ready:
            self._reload()

    def _header_from_directory(self, entry: DirectoryEntry | None) -> Text:
        text = Text()
        if entry is None:
            text.append(f"Case {self.case_id}", style="bold")
            text.append("  not in the local store yet; it will appear here when it arrives.", style="dim")
            return text
        if entry.is_stub:
            text.append(" Restricted record ", style=self._severity_style("high"))
            text.append(f"  {entry.message or ''}")
            return text
        text.append(entry.name, style="bold")
        if entry.dob:
            text.append(f"  {format.age(entry.dob)} · born {format.short_date(entry.dob)}")
        text.append(f"  case {entry.case_id} · {entry.la_child_id or ''}", style="dim")
        flags = Text(" ".join(entry.flags) or "no flags")
        address = Text(" · ".join(x for x in (entry.address, entry.postcode) if x))
        allocation = Text(format.CATEGORY_LABELS.get(entry.category or "", entry.category or ""), style="bold")
        allocation.append(f" · {entry.allocated_worker or 'unallocated'} ({entry.team or ''})")
        allocation.append("  from the directory; fetching the full record…", style="dim italic")
        return self._lines(text, flags, address, allocation)

    def _contacts(self, case: Case) -> Text:
        """One line per contact, phone number first: the duty worker is about to ring it."""
        lines = [Text("Who to call", style="bold")]
        if not case.key_contacts:
            lines.append(Text("no key contacts recorded", style="dim"))
        for contact in case.key_contacts:
            line = Text()
            line.append(f"{contact.phone or 'no number'}  ", style="bold")
            line.append(f"{contact.role}: {contact.name}")
            lines.append(line)
        return Text("\n").join(lines)

    def _render_task(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        task = self._tasks[index]
        due = format.due_label(task.due_on)
        due_style = style("tasks--overdue") if format.is_overdue(task.due_on) and task.status == "open" else Style()
        if task.status == "snoozed":
            due, due_style = f"snoozed to {format.short_date(task.snoozed_until)}", style("tasks--dim")
        return cells([(due, 14, due_style), (task.title, 0, Style())], width)

    def _render_event(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        assert self._window is not None
        event = self._window[index]
        if event is None:
            return []
        mark_style = style("chronology--key") if event.key_event else Style()
        summary_style = style("chronology--pending") if event.id < 0 else Style()
        date = format.short_date(event.occurred_at)
        wide = width >= 90
        parts: list[tuple[str, int, Style]] = [("★" if event.key_event else " ", 2, mark_style),
                                               (date, 12, style("chronology--date"))]
        if wide:
            parts.append((event.kind.replace("_", " "), 20, style("chronology--kind")))
            parts.append((event.source_agency or "", 14, style("chronology--date")))
        parts.append((event.summary + (" (not sent yet)" if event.id < 0 else ""), 0, summary_style))
        return cells(parts, width)

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#chronology-detail", TextLines)
        event = self._window[index] if self._window and self._window.count else None
        if event is None:
            detail.update("")
            return
        text = Text()
        text.append(f"{format.short_datetime(event.occurred_at)} · {event.kind.replace('_', ' ')}", style="bold")
        if event.source_agency:
            text.append(f" · {event.source_agency}")
        if event.author:
            text.append(f" · {event.author}", style="dim")
        text.append("\n" + (event.detail or event.summary))
        detail.update(text)

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        if isinstance(event.line_list, ChronologyList):
            self._show_detail(event.index)
            self.call_after_refresh(self._read_rows_ahead)

    def _read_rows_ahead(self) -> None:
        """The screens of chronology rows above and below the view, read once this frame is out."""
        chronology = self.query_one(ChronologyList)
        if self._window is not None:
            top, height = chronology.scroll_offset.y, chronology.scrollable_content_region.height
            self._window.warm(top - height, top + 2 * height)

    # --- moving between cases ------------------------------------------------------------

    def _step(self, delta: int) -> None:
        if self.case_id not in self.case_list:
            self.notify("This case was not opened from a list.", severity="information")
            return
        at = self.case_list.index(self.case_id) + delta
        if 0 <= at < len(self.case_list):
            self.show(self.case_list[at])
        else:
            self.notify("No more cases in that direction.", severity="information")

    def action_next_case(self) -> None:
        self._step(1)

    def action_previous_case(self) -> None:
        self._step(-1)

    # --- chronology filters -----------------------------------------------------------------

    def action_focus_chronology(self) -> None:
        self.query_one(ChronologyList).focus()

    def action_focus_tasks(self) -> None:
        self.query_one(TaskList).focus()

    def action_key_events(self) -> None:
        self._key_only = not self._key_only
        self._reload_chronology(cursor=0)

    def action_kind_filter(self) -> None:
        self._kind_index = (self._kind_index + 1) % len(KIND_CYCLE)
        self._reload_chronology(cursor=0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filters" and self._ready and self.query_one("#note-box", TextArea).has_focus:
            return False
        return True

    def action_clear_filters(self) -> None:
        self._kind_index, self._key_only = 0, False
        search = self.query_one("#chronology-search", Input)
        search.value = ""
        search.remove_class("-open")
        self._reload_chronology(cursor=0)
        self.query_one(ChronologyList).focus()

    def action_search_chronology(self) -> None:
        search = self.query_one("#chronology-search", Input)
        search.add_class("-open")
        search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "chronology-search":
            self._reload_chronology(cursor=0)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "chronology-search":
            self.query_one(ChronologyList).focus()

    # --- the quick note ------------------------------------------------------------------

    def action_note(self) -> None:
        self.query_one("#note-box", TextArea).focus()

    def action_note_editor(self) -> None:
        if self.case_id is not None:
            self._flush_draft()
            self.stale_draft = True
            self.post_message(OpenNoteEditor(self.case_id))

    def action_notes(self) -> None:
        if self.case_id is not None:
            self.post_message(OpenNotes(self.case_id))

    def action_export(self) -> None:
        if self.case_id is not None:
            self.post_message(ExportWanted(self.case_id))

    def _load_draft(self, *, announce: bool = True) -> None:
        box = self.query_one("#note-box", TextArea)
        # only the quick box's own kind of draft: a visit or amendment draft belongs to the full editor
        drafts = [d for d in self.store.drafts(self.case_id) if d.kind == "case_note" and d.amends is None]
        draft = drafts[0] if drafts else None
        self._draft_id = draft.id if draft else None
        body = draft.body if draft else ""
        if box.text != body:  # re-rendering the note box costs a frame's worth: only when it changes
            with box.prevent(TextArea.Changed):
                box.text = body
        if announce:
            self._announce_draft()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._draft_timer.restart()

    def _flush_draft(self) -> None:
        self._draft_timer.cancel()
        if self.case_id is None or not self._ready:
            return
        body = self.query_one("#note-box", TextArea).text
        if body.strip():
            self._draft_id = self.store.save_draft(self.case_id, "case_note", body, draft_id=self._draft_id)
        elif self._draft_id is not None:
            self.store.discard_draft(self._draft_id)
            self._draft_id = None

    def action_save_note(self) -> None:
        box = self.query_one("#note-box", TextArea)
        if self.case_id is None or not box.text.strip():
            self.notify("Write the note first.", severity="warning")
            return
        self._flush_draft()
        # the time it was written here, not the time it reaches the server (it may be sent hours later)
        written = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.store.add_note(self.case_id, "case_note", box.text, occurred_at=written, draft_id=self._draft_id)
        self._draft_id = None
        with box.prevent(TextArea.Changed):
            box.text = ""
        self._reload_chronology(cursor=0)
        self.query_one(ChronologyList).focus()
        self.post_message(OutboxChanged())
        self.notify("Note saved on this device; it will be sent to the server as soon as it can.")

    def on_screen_suspend(self) -> None:
        self._flush_draft()

    def on_screen_resume(self) -> None:
        # back from the full note editor, which may have saved or changed the shared draft
        if self.stale_draft and self.case_id is not None and self._ready:
            self.stale_draft = False
            self._load_draft(announce=False)
            self._reload_chronology()

    def flush(self) -> None:
        """Called by the App before it exits, so the last keystrokes are in the draft."""
        self._flush_draft()
