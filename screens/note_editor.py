"""The full note editor, and the read-only list of a case's notes from which one is amended.

``NoteEditorScreen`` is built once; ``open(case_id, kind=, amends=, draft_id=)``
swaps in a note. The text is kept as a draft in the store as it is typed
(after a quarter of a second of quiet, and on leaving), so a crash, a kill or
an expired session loses nothing: opening the editor on the case again brings
the draft back. ctrl+s queues the note in the outbox with ``store.add_note``,
which shows it in the chronology at once and deletes the draft in the same
transaction. A saved note is never edited: ``open(case_id, amends=note_id)``
writes a new note that amends it, with the original shown above.

``NotesScreen`` lists a case's notes (newest first, through the Line API) with
``a`` to amend the highlighted one.

Screens never reach into the App: they post ``OpenNoteEditor``, ``OpenNotes``,
``NoteSaved`` and ``OutboxChanged``, and the App shows the screens.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, Static, TextArea

from client.models import Note
from client.outbox import Draft
from client.store import Store, StoreError
from screens import format
from screens.kept import KeptScreen
from screens.drafts import QuietTimer
from screens.keys import bind
from screens.messages import OutboxChanged
from screens.note_templates import NOTE_KINDS, has_content, label, next_kind, template
from screens.widgets.line_list import LineList, cells
from screens.widgets.status import StatusLine

WHEN_META = "note_editor.when.{draft_id}"  # the typed "when it happened", kept beside its draft
WHEN_EXAMPLES = "today 14:00, yesterday 9:30, 2026-11-20 15:00"


# --- messages to the App --------------------------------------------------------------------------------------

class OpenNoteEditor(Message):
    """Show the note editor on this case (a new note, an amendment of ``amends``, or a given draft)."""

    def __init__(self, case_id: int, *, kind: str | None = None, amends: int | None = None,
                 draft_id: int | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.kind = kind
        self.amends = amends
        self.draft_id = draft_id


class OpenNotes(Message):
    """Show the list of this case's notes."""

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id


class NoteSaved(Message):
    """A note was queued (the outbox item ``item_id``): the case's chronology and notes have a new entry."""

    def __init__(self, case_id: int, item_id: int, amends: int | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.item_id = item_id
        self.amends = amends


# --- "when it happened" -----------------------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {
    name: number
    for number, names in enumerate((("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "weds", "wednesday"),
                                    ("thu", "thur", "thurs", "thursday"), ("fri", "friday"), ("sat", "saturday"),
                                    ("sun", "sunday")))
    for name in names
}
_MONTHS = tuple(m.lower() for m in format.MONTHS)
_TIME = re.compile(r"(?:^|[\sT,])(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def _time_of(text: str) -> tuple[str, dt.time | None]:
    """Split "yesterday 9:30" into ("yesterday", 09:30); a time needs minutes or am/pm ("2pm")."""
    match = _TIME.search(text)
    if match is None or (match.group(2) is None and match.group(3) is None):
        return text, None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"“{match.group(0).strip()}” is not a time")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"“{match.group(0).strip()}” is not a time")
    return text[: match.start()].strip(" ,"), dt.time(hour, minute)


def _day_of(text: str, today: dt.date) -> dt.date | None:
    """The date in "today", "yesterday", "mon", "last friday", "2026-11-20", "20/11/2026", "20/11", "20 nov"."""
    text = text.strip().lower().removesuffix(" at").strip()
    if text in ("", "today"):
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    strictly_before = text.startswith("last ")
    word = text.removeprefix("last ").strip()
    if word in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[word]) % 7
        if back == 0 and strictly_before:
            back = 7
        return today - dt.timedelta(days=back)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", text)
    if match:
        day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
        return _date(int(year) + (2000 if len(year) == 2 else 0) if year else today.year, month, day, text)
    match = re.fullmatch(r"(\d{1,2})\s+([a-z]{3,9})\.?(?:\s+(\d{4}))?", text)
    if match and match.group(2)[:3] in _MONTHS:
        year = int(match.group(3)) if match.group(3) else today.year
        return _date(year, _MONTHS.index(match.group(2)[:3]) + 1, int(match.group(1)), text)
    return None


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"“{text}” is not a date") from None


def parse_when(text: str, now: dt.datetime) -> dt.datetime:
    """When it happened, in local time, from what a person types; ValueError with a one-line reason.

    ``now`` is an aware datetime. "now" or nothing is ``now``; a day needs a time ("yesterday 9:30"); a time
    alone is today. Never in the future: a note records what has already happened.
    """
    now = now.astimezone()
    raw = " ".join(text.split())
    if raw.lower() in ("", "now"):
        return now
    try:
        exact = dt.datetime.fromisoformat(raw)
    except ValueError:
        exact = None
    if exact is not None and ("T" in raw or ":" in raw):
        moment = exact.astimezone() if exact.tzinfo else exact.replace(tzinfo=now.tzinfo).astimezone()
    else:
        try:
            day_text, time = _time_of(raw)
            day = _day_of(day_text, now.date())
        except ValueError as error:
            raise ValueError(f"{error}: try {WHEN_EXAMPLES}") from None
        if day is None:
            raise ValueError(f"Cannot read “{raw}”: try {WHEN_EXAMPLES}")
        if time is None:
            raise ValueError(f"Add the time too, e.g. “{day_text or 'today'} 14:00”")
        moment = dt.datetime.combine(day, time).astimezone()
    if moment > now:
        raise ValueError(f"{describe_when(moment)} is in the future: a note records what has happened")
    return moment


def describe_when(moment: dt.datetime) -> str:
    """"Fri 20 Nov 2026 15:00" (local time)."""
    local = moment.astimezone()
    return f"{local:%a} {local.day} {format.MONTHS[local.month - 1]} {local.year} {local:%H:%M}"


def utc_text(moment: dt.datetime) -> str:
    """The API's timestamp: UTC, ISO-8601, "2026-11-21T09:30:00Z"."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


# --- the editor ---------------------------------------------------------------------------------------------------

class NoteEditorScreen(KeptScreen[None]):
    CSS_PATH = "note_editor.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        bind("note.save", "save", "Save", priority=True),
        bind("note.leave", "leave", "Leave (draft kept)"),
        bind("note.kind", "next_kind", "Kind"),
        bind("note.headings", "add_headings", "Headings"),
        bind("note.when", "focus_when", "When"),
    ]

    def __init__(self, store: Store, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(name="note")
        self.store = store
        self.clock = clock or _local_now
        self.case_id: int | None = None
        self.kind = "case_note"
        self.amends: int | None = None
        self.original: Note | None = None
        self._draft_id: int | None = None
        self._blocked: str | None = None
        self._saved_when = ""  # the "when" text last kept beside the draft
        self._draft_timer = QuietTimer(self, self._flush_draft)
        self._pending: tuple[int, str | None, int | None, int | None] | None = None
        self._ready = False  # is_mounted turns true only after on_mount returns
        self._fresh = False  # a note was opened and not yet shown

    def compose(self) -> ComposeResult:
        yield Static(id="note-header")
        with Horizontal(id="note-when-row"):
            yield Static("When it happened", id="note-when-label")
            yield Input(value="now", placeholder="now", id="note-when")
        yield Static(id="note-when-info")
        yield Static(id="note-original-title")
        yield TextArea(id="note-original", read_only=True, soft_wrap=True, show_line_numbers=False)
        yield TextArea(id="note-body", soft_wrap=True, show_line_numbers=False)
        yield Static(id="note-hint")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        # kept, not queried: at unmount the children are gone before the last draft is written
        self._body = self.query_one("#note-body", TextArea)
        self._when = self.query_one("#note-when", Input)
        self._ready = True
        if self._pending is not None:
            case_id, kind, amends, draft_id = self._pending
            self._pending = None
            self.open(case_id, kind=kind, amends=amends, draft_id=draft_id)

    # --- opening a note ---------------------------------------------------------------------------------

    @property
    def body(self) -> TextArea:
        return self._body

    @property
    def when(self) -> Input:
        return self._when

    @property
    def draft_id(self) -> int | None:
        return self._draft_id

    def open(self, case_id: int, *, kind: str | None = None, amends: int | None = None,
             draft_id: int | None = None) -> None:
        """Show a new note (or an amendment of note ``amends``) on the case; a draft of it comes back."""
        if kind is not None and kind not in NOTE_KINDS:
            raise ValueError(f"{kind!r} is not a kind of note")
        if not self._ready:
            self._pending = (case_id, kind, amends, draft_id)
            return
        self._flush_draft()  # whatever was open before stays a draft
        draft = self._find_draft(case_id, kind, amends, draft_id)
        if draft is not None:
            amends = draft.amends
        self.case_id, self.amends = case_id, amends
        self.original = None
        if amends is not None:
            self.original = next((n for n in self.store.notes(case_id) if n.id == amends), None)
        if draft is not None:
            kind = draft.kind if draft.kind in NOTE_KINDS else "case_note"
        elif kind is None:
            kind = self.original.kind if self.original and self.original.kind in NOTE_KINDS else "case_note"
        self.kind = kind
        self._draft_id = draft.id if draft else None
        self._blocked = draft.blocked if draft else None
        # an amendment starts empty: it is the correction, not a new record of the visit
        text = draft.body if draft else ("" if amends is not None else template(kind))
        when_text = self._restored_when(draft) if draft else ""
        self._saved_when = when_text
        body = self.body
        with body.prevent(TextArea.Changed):
            body.text = text
        if draft:
            body.move_cursor(body.document.end)
        else:
            body.move_cursor((1, 0) if text else (0, 0))
        with self.when.prevent(Input.Changed):
            self.when.value = when_text or "now"
        self._show_when()
        self._show_original()
        self._show_header()
        body.focus()
        self._fresh = True
        self.call_after_refresh(self._settle_scroll)
        if draft is not None:
            what = "amendment" if amends is not None else f"{label(kind).lower()} note"
            self.notify(f"Your unsaved {what} on this case is back, as you left it.", title="Draft restored")
            if self._blocked:
                self.notify("You no longer have access to this case: the draft is kept on this device but "
                            "cannot be sent.", severity="warning", timeout=10)

    def on_screen_resume(self) -> None:
        if self._fresh:
            self.call_after_refresh(self._settle_scroll)

    def _settle_scroll(self) -> None:
        """A note just opened starts at the top, with the cursor in view (opened before the screen had a size,
        the text area may have scrolled the first heading away). Back from a dialog, nothing moves."""
        if not self._fresh or not self.is_current:
            return
        self._fresh = False
        body = self.body
        body.scroll_home(animate=False, immediate=True)
        body.scroll_cursor_visible()

    def _find_draft(self, case_id: int, kind: str | None, amends: int | None,
                    draft_id: int | None) -> Draft | None:
        drafts = self.store.drafts(case_id)  # newest first
        if draft_id is not None:
            return next((d for d in drafts if d.id == draft_id), None)
        same = [d for d in drafts if d.amends == amends]
        if kind is not None and amends is None:
            same = [d for d in same if d.kind == kind]
        return same[0] if same else None

    # --- showing ----------------------------------------------------------------------------------------------

    def _show_header(self) -> None:
        assert self.case_id is not None
        who = Text()
        cached = self.store.case(self.case_id)
        if cached is not None:
            person = cached.value.person
            who.append(f"{person.given_name} {person.family_name.upper()}", style="bold")
            ids = [f"case {self.case_id}", person.la_child_id]
            if person.dob:
                ids.insert(0, f"{format.age(person.dob)} · born {format.short_date(person.dob)}")
            who.append("  " + " · ".join(x for x in ids if x), style="dim")
        else:
            entry = self.store.directory_entry(self.case_id)
            if entry is not None and entry.is_stub:
                who.append("Restricted record", style="bold")
                who.append(f"  case {self.case_id}", style="dim")
            elif entry is not None:
                who.append(entry.name, style="bold")
                who.append(f"  case {self.case_id} · {entry.la_child_id or ''}", style="dim")
            else:
                who.append(f"Case {self.case_id}", style="bold")
        what = Text()
        if self.amends is not None:
            what.append("Amendment · ", style="bold")
        else:
            what.append("New note · ", style="bold")
        what.append(label(self.kind), style="bold reverse")
        what.append(f"  {self._key('note.kind')}: change kind", style="dim")
        self.query_one("#note-header", Static).update(Text("\n").join([who, what]))
        hint = (f"{self._key('note.save')}: save · {self._key('note.leave')}: leave (the draft is kept) · "
                f"tab: when ↔ text · {self._key('note.headings')}: add the headings")
        self.query_one("#note-hint", Static).update(hint)

    def _key(self, action_id: str) -> str:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id == action_id:
                keys = self.app.get_key_display(binding) if self.is_attached else binding.key
                return keys
        return action_id

    def _show_original(self) -> None:
        title = self.query_one("#note-original-title", Static)
        original = self.query_one("#note-original", TextArea)
        amending = self.amends is not None
        title.set_class(amending, "-open")
        original.set_class(amending, "-open")
        if not amending:
            original.text = ""
            return
        if self.original is None:
            title.update(Text(f"The note being amended (id {self.amends}) is not on this device yet; "
                              "the amendment will still be linked to it.", style="italic"))
            original.text = ""
            original.remove_class("-open")
            return
        note = self.original
        heading = Text("Amending: ", style="bold")
        heading.append(f"{label(note.kind)} · {format.short_datetime(note.occurred_at)}")
        if note.author:
            heading.append(f" · {note.author}")
        if note.id < 0:
            heading.append(" · not sent yet", style="italic")
        heading.append("  (read-only: it stays as it was)", style="dim")
        title.update(heading)
        original.text = note.body

    def _show_when(self) -> bool:
        """Read the "when" field and say what it means, or why it cannot be used. True if it can."""
        info = self.query_one("#note-when-info", Static)
        try:
            moment = parse_when(self.when.value, self.clock())
        except ValueError as error:
            info.update(str(error))
            info.add_class("-error")
            self.when.add_class("-error")
            return False
        info.remove_class("-error")
        self.when.remove_class("-error")
        now = self.when.value.strip().lower() in ("", "now")
        info.update("now (the time you save)" if now else describe_when(moment))
        return True

    # --- the draft --------------------------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id == "note-body":
            self._schedule_draft()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "note-when":
            self._show_when()
            self._schedule_draft()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "note-when" and self._show_when():
            self.body.focus()

    def _schedule_draft(self) -> None:
        self._draft_timer.restart()

    def _flush_draft(self) -> None:
        self._draft_timer.cancel()
        if self.case_id is None or not self._ready:
            return
        text = self.body.text
        try:
            if has_content(text, self.kind):
                self._adopt_server_id()
                self._draft_id = self.store.save_draft(self.case_id, self.kind, text, draft_id=self._draft_id,
                                                       amends=self.amends)
                self._keep_when()
            elif self._draft_id is not None:
                # emptied (or back to bare headings): nothing left to keep
                self.store.discard_draft(self._draft_id)
                self._forget_when(self._draft_id)
                self._draft_id = None
        except (StoreError, sqlite3.Error) as error:
            self.notify(f"The draft could not be saved on this device: {error}", severity="error", timeout=10)

    def _adopt_server_id(self) -> None:
        """An amendment of a note not sent yet points at its temporary id; once that note is sent the store
        moves the draft to the server's id, and the amendment must follow."""
        if self.amends is None or self.amends >= 0 or self._draft_id is None or self.case_id is None:
            return
        stored = next((d for d in self.store.drafts(self.case_id) if d.id == self._draft_id), None)
        if stored is not None and stored.amends is not None and stored.amends != self.amends:
            self.amends = stored.amends

    def _keep_when(self) -> None:
        """The typed "when" lives beside the draft (in the store's meta), so a crash does not lose it."""
        text = self.when.value.strip()
        if text.lower() == "now":
            text = ""
        if text == self._saved_when or self._draft_id is None or self.case_id is None:
            return
        created = next((d.created_at for d in self.store.drafts(self.case_id) if d.id == self._draft_id), "")
        value = json.dumps({"created_at": created, "when": text}) if text else ""
        self.store.set_meta(WHEN_META.format(draft_id=self._draft_id), value)
        self._saved_when = text

    def _restored_when(self, draft: Draft) -> str:
        raw = self.store.get_meta(WHEN_META.format(draft_id=draft.id))
        if not raw:
            return ""
        try:
            kept = json.loads(raw)
        except ValueError:
            return ""
        # draft ids can be reused once a draft is deleted: only the same draft's "when" counts
        return str(kept.get("when") or "") if kept.get("created_at") == draft.created_at else ""

    def _forget_when(self, draft_id: int) -> None:
        if self._saved_when or self.store.get_meta(WHEN_META.format(draft_id=draft_id)):
            self.store.set_meta(WHEN_META.format(draft_id=draft_id), "")
        self._saved_when = ""

    def on_screen_suspend(self) -> None:
        self._flush_draft()

    def on_unmount(self) -> None:
        # the App is going away: keystrokes still waiting for the quiet-typing timer go into the draft
        if self._draft_timer.waiting:
            try:
                self._flush_draft()
            except Exception:  # noqa: BLE001 - shutting down: never turn a clean exit into a traceback
                pass

    def records_changed(self, case_ids: frozenset[int] | None = None) -> None:
        """The sync engine brought new data: refresh the header and the note being amended, text untouched."""
        if not self._ready or self.case_id is None or (case_ids is not None and self.case_id not in case_ids):
            return
        if self.amends is not None:
            self._adopt_server_id()
            self.original = next((n for n in self.store.notes(self.case_id) if n.id == self.amends),
                                 self.original)
            self._show_original()
        self._show_header()

    def flush(self) -> None:
        """Called by the App before it exits, so the last keystrokes are in the draft."""
        self._flush_draft()

    # --- actions ------------------------------------------------------------------------------------------

    def action_next_kind(self) -> None:
        old, new = self.kind, next_kind(self.kind)
        self.kind = new
        body = self.body
        if not has_content(body.text, old):
            # nothing written yet (empty, or only the old headings): the new kind's headings take their place
            text = "" if self.amends is not None and not body.text.strip() else template(new)
            with body.prevent(TextArea.Changed):
                body.text = text
            body.move_cursor((1, 0) if text else (0, 0))
        elif template(new):
            self.notify(f"Now a {label(new).lower()} note; your text is kept as it is. "
                        f"{self._key('note.headings')} adds the {label(new).lower()} headings at the end.",
                        timeout=4)
        self._show_header()
        self._schedule_draft()

    def action_add_headings(self) -> None:
        headings = template(self.kind)
        if not headings:
            self.notify(f"A {label(self.kind).lower()} has no headings.", timeout=3)
            return
        body = self.body
        text = body.text
        if not text.strip():
            body.text = headings
            body.move_cursor((1, 0))
        else:
            separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
            end = body.document.end
            body.insert(separator + headings, end)
            body.move_cursor((end[0] + separator.count("\n") + 1, 0))
        body.focus()

    def action_focus_when(self) -> None:
        self.when.focus()

    def action_save(self) -> None:
        if self.case_id is None:
            return
        text = self.body.text
        if not text.strip():
            self.notify("The note is empty: write it first.", severity="warning")
            self.body.focus()
            return
        if not has_content(text, self.kind):
            self.notify("Only the headings are there: write the note under them first.", severity="warning")
            self.body.focus()
            return
        if self._blocked:
            self.notify("You no longer have access to this case, so this note cannot be sent. "
                        "The draft is kept on this device.", severity="error", timeout=10)
            return
        if not self._show_when():
            self.notify(str(self.query_one("#note-when-info", Static).content), title="When it happened",
                        severity="error")
            self.when.focus()
            return
        moment = parse_when(self.when.value, self.clock())
        self._draft_timer.cancel()
        self._adopt_server_id()
        try:
            item = self.store.add_note(self.case_id, self.kind, text, occurred_at=utc_text(moment),
                                       amends=self.amends, draft_id=self._draft_id)
        except (ValueError, StoreError, sqlite3.Error) as error:
            self._flush_draft()
            self.notify(f"The note could not be saved: {error}. Your text is still here.", severity="error",
                        timeout=10)
            return
        if self._draft_id is not None:
            self._forget_when(self._draft_id)
        self._draft_id = None
        with self.body.prevent(TextArea.Changed):
            self.body.text = ""
        self.post_message(NoteSaved(self.case_id, item.id, self.amends))
        self.post_message(OutboxChanged())
        what = "Amendment" if self.amends is not None else "Note"
        self.notify(f"{what} saved on this device; it will be sent to the server as soon as it can.")
        # after the messages above have gone up to the App
        self.call_next(self._leave)

    def action_leave(self) -> None:
        self._flush_draft()
        if self._draft_id is not None:
            self.notify("Draft kept on this device: open the note editor on this case to carry on.",
                        title="Draft kept")
        self._leave()

    def _leave(self) -> None:
        if self.is_current and len(self.app.screen_stack) > 1:
            self.dismiss()


# --- the list of a case's notes ----------------------------------------------------------------------------------

class NoteList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"notes--date", "notes--kind", "notes--pending",
                                                      "notes--amended"}


class NotesScreen(KeptScreen[None]):
    """A case's notes, newest first, read-only; ``a`` amends the highlighted one, ``n`` writes a new one."""

    CSS_PATH = "note_editor.tcss"
    BINDINGS = [
        bind("notes.amend", "amend", "Amend"),
        bind("notes.new", "new_note", "New note"),
        bind("notes.back", "back", "Back"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__(name="notes")
        self.store = store
        self.case_id: int | None = None
        self.notes: list[Note] = []
        self._amended: set[int] = set()
        self._pending: int | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Static(id="notes-header")
        yield NoteList(empty_text="No notes on this case in the local store.", id="notes-list")
        with VerticalScroll(id="notes-detail-box"):
            yield Static(id="notes-detail")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            case_id, self._pending = self._pending, None
            self.open(case_id)
        self.query_one(NoteList).focus()

    def open(self, case_id: int) -> None:
        if not self._ready:
            self._pending = case_id
            return
        changed = case_id != self.case_id
        self.case_id = case_id
        self._reload(cursor=0 if changed else None)
        self.query_one(NoteList).focus()

    def records_changed(self, case_ids: frozenset[int] | None = None) -> None:
        """The sync engine (or the editor) changed notes: redraw in place, the cursor kept."""
        if self._ready and self.case_id is not None and (case_ids is None or self.case_id in case_ids):
            self._reload()

    def on_screen_resume(self) -> None:
        if self._ready and self.case_id is not None:
            self._reload()

    def _reload(self, cursor: int | None = None) -> None:
        assert self.case_id is not None
        self.notes = self.store.notes(self.case_id)
        self._amended = {n.amends for n in self.notes if n.amends is not None}
        cached = self.store.case(self.case_id)
        header = Text("Notes · ", style="bold")
        if cached is not None:
            header.append(cached.value.person.name, style="bold")
        else:
            entry = self.store.directory_entry(self.case_id)
            header.append(entry.name if entry and not entry.is_stub else "", style="bold")
        header.append(f"  case {self.case_id} · {len(self.notes)} note{'s' if len(self.notes) != 1 else ''}",
                      style="dim")
        header.append("\na: amend the highlighted note (a saved note is never changed) · n: new note",
                      style="dim")
        self.query_one("#notes-header", Static).update(header)
        notes = self.query_one(NoteList)
        notes.set_rows(len(self.notes), self._render_note, cursor=cursor)
        self._show_detail(notes.cursor)

    def _render_note(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        note = self.notes[index]
        first = next((line.strip() for line in note.body.splitlines() if line.strip()), "")
        marks = []
        if note.amends is not None:
            marks.append("amendment")
        if note.id in self._amended:
            marks.append("amended")
        if note.id < 0:
            marks.append("not sent yet")
        summary = (f"[{', '.join(marks)}] " if marks else "") + first
        summary_style = style("notes--pending") if note.id < 0 else (
            style("notes--amended") if note.id in self._amended else Style())
        parts = [(format.short_datetime(note.occurred_at), 19, style("notes--date")),
                 (label(note.kind), 22, style("notes--kind"))]
        if width >= 90:
            parts.append((note.author or "", 14, style("notes--date")))
        parts.append((summary, 0, summary_style))
        return cells(parts, width)

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#notes-detail", Static)
        if not self.notes:
            detail.update("")
            return
        note = self.notes[index]
        text = Text()
        text.append(f"{format.short_datetime(note.occurred_at)} · {label(note.kind)}", style="bold")
        if note.author:
            text.append(f" · {note.author}", style="dim")
        if note.amends is not None:
            original = next((n for n in self.notes if n.id == note.amends), None)
            when = format.short_datetime(original.occurred_at) if original else f"note {note.amends}"
            text.append(f" · amends the note of {when}", style="italic")
        amendments = [n for n in self.notes if n.amends == note.id]
        if amendments:
            text.append(f" · amended {len(amendments)} time{'s' if len(amendments) != 1 else ''}", style="italic")
        text.append("\n" + note.body)
        detail.update(text)
        self.query_one("#notes-detail-box", VerticalScroll).scroll_home(animate=False)

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        self._show_detail(event.index)

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        # enter: into the note's full text, to scroll a long one (tab or shift+tab goes back to the list)
        self.query_one("#notes-detail-box", VerticalScroll).focus()

    def _highlighted(self) -> Note | None:
        notes = self.query_one(NoteList)
        return self.notes[notes.cursor] if self.notes else None

    def action_amend(self) -> None:
        note = self._highlighted()
        if note is None or self.case_id is None:
            self.notify("There is no note to amend.", severity="warning")
            return
        self.post_message(OpenNoteEditor(self.case_id, amends=note.id))

    def action_new_note(self) -> None:
        if self.case_id is not None:
            self.post_message(OpenNoteEditor(self.case_id))

    def action_back(self) -> None:
        if self.is_current and len(self.app.screen_stack) > 1:
            self.dismiss()
