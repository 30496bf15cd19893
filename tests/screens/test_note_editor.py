"""The note editor: templates, the draft kept as you type (and after a crash), submit, amendments, refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input, Static, TextArea

from client.store import Store
from screens.messages import OutboxChanged
from screens.note_editor import (
    NoteEditorScreen, NoteList, NoteSaved, NotesScreen, OpenNoteEditor, OpenNotes, parse_when, utc_text,
)
from screens.note_templates import HEADINGS, NOTE_KINDS, has_content, template
from tests.tui.helpers import text_of

CASE = 12
NOW = dt.datetime(2026, 11, 21, 16, 0).astimezone()  # Saturday, 4 p.m. local time


def clock() -> dt.datetime:
    return NOW


def case_json(case_id: int = CASE) -> dict[str, Any]:
    """A case in the shape of server/schemas.py Case."""
    return {
        "id": case_id, "status": "open", "category": "cp", "legal_status": None, "allocated_worker": "worker",
        "allocated_worker_name": "Wendy Worker", "team": "North", "opened_at": "2025-01-02T10:00:00Z",
        "closed_at": None, "restricted": False, "version": 3, "updated_at": "2026-11-20T08:00:00Z",
        "last_visit_at": None, "flags": [], "key_contacts": [],
        "whereabouts": {"placement_type": "home", "address": "4 Mill Lane", "carer": None, "since": None,
                        "missing_since": None},
        "person": {"id": 1012, "la_child_id": "LA001012", "upn": None, "nhs_number": None, "given_name": "Amelia",
                   "family_name": "Hughes", "aliases": [], "dob": "2014-03-12", "expected_dob": None,
                   "gender": "female", "ethnicity": None, "disability": None, "first_language": "English",
                   "address": "4 Mill Lane, Northam", "postcode": "NX1 2AB", "school": None},
    }


def note_json(note_id: int, body: str, occurred: str = "2026-11-20T15:00:00Z", amends: int | None = None,
              kind: str = "home_visit") -> dict[str, Any]:
    return {"id": note_id, "case_id": CASE, "kind": kind, "occurred_at": occurred, "body": body,
            "author": "worker", "created_at": occurred, "amends": amends}


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "worker.db"


@pytest.fixture
def store(store_file: Path) -> Iterator[Store]:
    s = Store.open(store_file)
    s.set_meta("me", "worker")
    s.put_case(case_json(), '"3"')
    s.put_notes(CASE, [note_json(7, "Saw Amelia alone in her room.\nShe said school is fine."),
                       note_json(5, "Phoned mum.", occurred="2026-11-18T10:00:00Z", kind="phone_call")])
    yield s
    s.close()


class EditorApp(App[None]):
    """What the real App does for these screens: install them, show them on request, count outbox wake-ups."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.outbox_changed = 0
        self.saved: list[NoteSaved] = []
        self.notes_seen: list[tuple[str, str | None, str]] = []

    def on_mount(self) -> None:
        self.install_screen(NoteEditorScreen(self.store, clock=clock), "note")
        self.install_screen(NotesScreen(self.store), "notes")

    @property
    def editor(self) -> NoteEditorScreen:
        screen = self.get_screen("note")
        assert isinstance(screen, NoteEditorScreen)
        return screen

    def on_open_note_editor(self, message: OpenNoteEditor) -> None:
        self.editor.open(message.case_id, kind=message.kind, amends=message.amends, draft_id=message.draft_id)
        if self.screen is not self.editor:
            self.push_screen("note")

    def on_open_notes(self, message: OpenNotes) -> None:
        notes = self.get_screen("notes")
        assert isinstance(notes, NotesScreen)
        notes.open(message.case_id)
        self.push_screen("notes")

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self.outbox_changed += 1

    def on_note_saved(self, message: NoteSaved) -> None:
        self.saved.append(message)

    def notify(self, message: str, *, title: str = "", severity: Any = "information", **kw: Any) -> None:
        self.notes_seen.append((message, title, severity))
        super().notify(message, title=title, severity=severity, **kw)


async def open_editor(pilot: Any, **kwargs: Any) -> NoteEditorScreen:
    app = pilot.app
    app.post_message(OpenNoteEditor(CASE, **kwargs))
    await pilot.pause()
    assert app.screen is app.editor
    return app.editor


def body_of(editor: NoteEditorScreen) -> str:
    return editor.query_one("#note-body", TextArea).text


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*[{" ": "space", "\n": "enter"}.get(c, c) for c in text])


def said(app: EditorApp, fragment: str) -> bool:
    return any(fragment in f"{title} {message}" for message, title, _severity in app.notes_seen)


async def set_when(pilot: Any, editor: NoteEditorScreen, text: str) -> None:
    when = editor.query_one("#note-when", Input)
    await pilot.press("ctrl+o")
    assert when.has_focus
    when.value = text
    await pilot.pause()
    await pilot.press("tab")


# --- parsing "when it happened" -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("now", NOW),
    ("", NOW),
    ("today 14:00", dt.datetime(2026, 11, 21, 14, 0)),
    ("yesterday 9:30", dt.datetime(2026, 11, 20, 9, 30)),
    ("2026-11-20 15:00", dt.datetime(2026, 11, 20, 15, 0)),
    ("14:00", dt.datetime(2026, 11, 21, 14, 0)),
    ("2pm", dt.datetime(2026, 11, 21, 14, 0)),
    ("fri 10:15", dt.datetime(2026, 11, 20, 10, 15)),
    ("20/11/2026 8:00", dt.datetime(2026, 11, 20, 8, 0)),
    ("20 Nov 8:00", dt.datetime(2026, 11, 20, 8, 0)),
])
def test_when_is_read_in_local_time(text: str, expected: dt.datetime) -> None:
    assert parse_when(text, NOW) == expected.astimezone()


@pytest.mark.parametrize(("text", "reason"), [
    ("today 17:00", "in the future"),
    ("2026-11-22 09:00", "in the future"),
    ("yesterday", "Add the time"),
    ("soonish", "Cannot read"),
    ("25:00", "not a time"),
    ("31/02 10:00", "not a date"),
])
def test_when_refused_with_one_line(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_when(text, NOW)
    assert "\n" not in str(caught.value)


def test_templates_guide_every_kind_but_the_plain_note() -> None:
    assert template("case_note") == ""
    for kind in NOTE_KINDS:
        assert not has_content(template(kind), kind)
    assert "Who was seen (was the child seen alone?)" in HEADINGS["home_visit"]
    assert has_content(template("home_visit") + "\nSeen alone.", "home_visit")


# --- the editor -----------------------------------------------------------------------------------------------

async def test_template_for_a_home_visit_and_kinds_never_overwrite(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, kind="home_visit")
        await pilot.pause()
        assert editor.query_one("#note-body", TextArea).scroll_offset.y == 0  # the first heading in view
        header = text_of(editor.query_one("#note-header", Static))
        assert "Amelia HUGHES" in header and "case 12" in header and "Home visit" in header
        assert body_of(editor) == template("home_visit")
        assert editor.query_one("#note-body", TextArea).cursor_location == (1, 0)

        # nothing written yet: the next kind's headings replace these
        await pilot.press("ctrl+t")
        assert editor.kind == "phone_call" and body_of(editor) == template("phone_call")

        # something written: changing kind keeps it
        await type_text(pilot, "Mum rang.")
        written = body_of(editor)
        await pilot.press("ctrl+t")
        assert editor.kind == "office_visit" and body_of(editor) == written
        assert said(app, "your text is kept")
        # ctrl+g adds the headings at the end, without touching the text
        await pilot.press("ctrl+g")
        assert body_of(editor).startswith(written) and body_of(editor).endswith(template("office_visit"))


async def test_typing_saves_a_draft_that_survives_a_crash(store: Store, store_file: Path) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, kind="home_visit")
        await type_text(pilot, "Seen alone")
        await set_when(pilot, editor, "yesterday 9:30")
        await pilot.pause(0.35)
        [draft] = store.drafts(CASE)
        assert draft.kind == "home_visit" and draft.amends is None
        assert draft.body == body_of(editor) and "Seen alone" in draft.body
        await type_text(pilot, "!")
        await pilot.pause(0.35)
        typed = body_of(editor)
        # another connection sees it committed, while the app still runs
        with Store.open(store_file) as other:
            assert [d.body for d in other.drafts(CASE)] == [typed]
        app.exit()  # a crash: nothing flushed, the old store not even closed

    # restart on the same file: the draft (and when it happened) comes back
    with Store.open(store_file) as reopened:
        app2 = EditorApp(reopened)
        async with app2.run_test(size=(100, 30)) as pilot:
            editor = await open_editor(pilot)  # no kind given: the latest draft on the case
            assert body_of(editor) == typed and editor.kind == "home_visit"
            assert editor.query_one("#note-when", Input).value == "yesterday 9:30"
            assert said(app2, "Draft restored")
            assert len(reopened.drafts(CASE)) == 1  # the same draft carries on, not a second one
            await type_text(pilot, "?")
            await pilot.pause(0.35)
            assert [d.id for d in reopened.drafts(CASE)] == [editor.draft_id]


async def test_submit_queues_the_note_and_shows_it_in_the_chronology(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, kind="phone_call")
        await set_when(pilot, editor, "2026-11-20 15:00")
        await type_text(pilot, "Mum rang.")
        await pilot.pause(0.35)
        assert len(store.drafts(CASE)) == 1
        body = body_of(editor)
        await pilot.press("ctrl+s")
        await pilot.pause()

        [item] = [i for i in store.pending() if i.op == "note"]
        expected_when = utc_text(dt.datetime(2026, 11, 20, 15, 0).astimezone())
        assert dict(item.body) == {"kind": "phone_call", "body": body, "occurred_at": expected_when}
        assert store.drafts(CASE) == []
        newest = store.chronology_window(CASE, 0, 5)[0]
        assert newest.id < 0 and newest.detail == body and newest.kind == "contact"
        assert newest.occurred_at == expected_when
        assert app.outbox_changed == 1 and [m.item_id for m in app.saved] == [item.id]
        assert said(app, "saved on this device") and said(app, "will be sent")
        assert app.screen is not editor  # back where it was opened from


async def test_escape_keeps_the_draft(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot)
        assert editor.kind == "case_note" and body_of(editor) == ""
        await type_text(pilot, "Left a card")
        await pilot.press("escape")  # at once: no wait for the quiet-typing timer
        await pilot.pause()
        assert [d.body for d in store.drafts(CASE)] == ["Left a card"]
        assert said(app, "Draft kept") and app.screen is not editor
        assert store.pending() == []


async def test_amend_from_the_notes_list(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(OpenNotes(CASE))
        await pilot.pause()
        notes = app.screen
        assert isinstance(notes, NotesScreen)
        assert notes.query_one(NoteList).count == 2 and notes.notes[0].id == 7
        await pilot.press("a")
        await pilot.pause()
        editor = app.editor
        assert app.screen is editor and editor.amends == 7 and editor.kind == "home_visit"
        assert body_of(editor) == ""  # an amendment starts empty
        original = editor.query_one("#note-original", TextArea)
        assert original.read_only and original.display and "Saw Amelia alone" in original.text
        await type_text(pilot, "Not alone")
        await pilot.pause(0.35)
        assert [(d.amends, d.kind) for d in store.drafts(CASE)] == [(7, "home_visit")]
        # leave and come back: the amendment's draft is found by the note it amends
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is notes
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is editor and body_of(editor) == "Not alone"
        assert said(app, "Draft restored")
        await pilot.press("ctrl+s")
        await pilot.pause()
        [item] = store.pending()
        assert item.body["amends"] == 7 and item.body["body"] == "Not alone"
        assert item.body["occurred_at"] == utc_text(NOW)
        assert store.drafts(CASE) == []
        # the note saved is untouched; the amendment is a new note linked to it, listed at once
        assert app.screen is notes and notes.query_one(NoteList).count == 3
        assert next(n for n in store.notes(CASE) if n.id == 7).body.startswith("Saw Amelia alone")
        assert store.chronology_window(CASE, 0, 1)[0].summary.startswith("Amendment to the note of 2026-11-20")

        # another note: a new amendment, of that note's kind
        await pilot.press("j", "j", "a")
        await pilot.pause()
        assert editor.amends == 5 and editor.kind == "phone_call" and body_of(editor) == ""


async def test_a_future_time_is_refused(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, kind="home_visit")
        await type_text(pilot, "Seen alone")
        await set_when(pilot, editor, "today 17:00")
        info = editor.query_one("#note-when-info", Static)
        assert info.has_class("-error") and "in the future" in str(info.content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.pending() == []
        assert app.screen is editor and editor.query_one("#note-when", Input).has_focus
        assert any(severity == "error" and "in the future" in message for message, _t, severity in app.notes_seen)
        await pilot.pause(0.35)
        assert len(store.drafts(CASE)) == 1  # nothing typed is lost


async def test_an_empty_note_is_refused(store: Store) -> None:
    app = EditorApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert said(app, "The note is empty")
        await pilot.press("ctrl+t")  # home visit: only the headings
        assert body_of(editor) == template("home_visit")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert said(app, "Only the headings")
        assert store.pending() == [] and store.drafts(CASE) == [] and app.screen is editor
