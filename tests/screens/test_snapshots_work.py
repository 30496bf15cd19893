"""SVG snapshots of the work screens at 80×24 and 160×50: the task tray, the note editor with a home visit's
template, the notes list, the sync screen with a conflict and two outbox items, the admin Users section over the
real Case API in process, and the export dialog.

Every date and clock is fixed (the seed day 2026-11-21, as tests/tui/test_snapshots.py does), and every store is
filled directly in the API's JSON shapes. After a deliberate change: ``pytest tests/screens/test_snapshots_work.py
--snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.widgets import Input, TextArea

from client.api import CaseAPI
from client.store import Store
from screens.admin import AdminScreen
from screens.export_dialog import ExportDialog
from screens.messages import OpenCase, OutboxChanged
from screens.note_editor import OpenNoteEditor, OpenNotes
from screens.seen import mark_all_seen
from screens.sync_screen import SyncScreen
from screens.tasks import TasksScreen
from tests.client import test_store as shapes
from tests.client.test_export import case_json as export_case_json, many
from tests.screens import test_note_editor as editor_tests
from tests.server import dataset
from tests.tui.conftest import SEED_TODAY, fixed_clock  # noqa: F401  (a fixture, used by name)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.timezone.utc)
EXPORTS = Path("/nonexistent/casework-exports")  # shown in the dialog, never written to: nothing is exported

pytestmark = pytest.mark.usefixtures("fixed_clock")


async def _steady(pilot: Any) -> None:
    """Background work done, no blinking cursors."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, (Input, TextArea))
            widget.cursor_blink = False
    await pilot.pause()


class ScreenApp(App[None]):
    """Shows one screen, and swallows what the screen asks of the real App."""

    def __init__(self, screen: Any = None) -> None:
        super().__init__()
        self.shown = screen

    def on_mount(self) -> None:
        if self.shown is not None:
            self.push_screen(self.shown)

    def on_open_case(self, message: OpenCase) -> None:
        pass

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        pass


# --- the task tray ------------------------------------------------------------------------------------------------

KINDS = ("statutory_visit", "review", "assessment", "core_group", "health_assessment", "case_note")
NAMES = [("Amelia", "Hughes"), ("Bilal", "Khan"), ("Chloe", "Davies"), ("Dylan", "Evans"), ("Erin", "Okoro")]


def _task(tid: int, cid: int, offset: int, **kw: Any) -> dict[str, Any]:
    data = {"id": tid, "case_id": cid, "title": f"{KINDS[tid % len(KINDS)].replace('_', ' ').capitalize()} "
            f"for {NAMES[cid - 1][0]}", "kind": KINDS[tid % len(KINDS)],
            "due_on": (SEED_TODAY + dt.timedelta(days=offset)).isoformat(), "assignee": "worker", "status": "open",
            "snoozed_until": None, "priority": ("high", "normal", "low")[tid % 3], "completed_at": None,
            "version": 1, "updated_at": "2026-11-20T08:00:00Z"}
    data.update(kw)
    return data


@pytest.fixture
def tasks_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "worker.db")
    s.set_meta("me", "worker")
    s.put_case_summaries([shapes.summary(c, given=g, family=f) for c, (g, f) in enumerate(NAMES, start=1)])
    tasks = [_task(i, 1 + i % 5, i * 3 - 20) for i in range(1, 40)]
    tasks.append(_task(90, 2, 1, snoozed_until="2026-11-28", status="snoozed"))
    s.put_tasks(tasks)
    s.put_users([shapes.user(1, "worker", "Wendy Worker"), shapes.user(2, "sam", "Sam Patel")])
    yield s
    s.close()


@pytest.mark.parametrize("size", SIZES)
def test_tasks_tray(snap_compare, tasks_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    async def select_two(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("space", "space")
        await _steady(pilot)

    app = ScreenApp(TasksScreen(tasks_store, "worker", today=lambda: SEED_TODAY))
    assert snap_compare(app, terminal_size=size, run_before=select_two)


@pytest.mark.parametrize("size", SIZES)
def test_tasks_tray_snooze_prompt(snap_compare, tasks_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    async def type_a_date(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("space", "space", "s", "2", "d")
        await _steady(pilot)

    app = ScreenApp(TasksScreen(tasks_store, "worker", today=lambda: SEED_TODAY))
    assert snap_compare(app, terminal_size=size, run_before=type_a_date)


# --- the note editor and the notes list ---------------------------------------------------------------------------

@pytest.fixture
def notes_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "worker.db")
    s.set_meta("me", "worker")
    s.put_case(editor_tests.case_json(), '"3"')
    s.put_notes(editor_tests.CASE, [
        editor_tests.note_json(7, "Saw Amelia alone in her room.\nShe said school is fine."),
        editor_tests.note_json(5, "Phoned mum.", occurred="2026-11-18T10:00:00Z", kind="phone_call"),
        editor_tests.note_json(8, "Amelia was seen alone, not with her brother.", occurred="2026-11-20T17:00:00Z",
                               amends=7)])
    yield s
    s.close()


@pytest.mark.parametrize("size", SIZES)
def test_note_editor_home_visit(snap_compare, notes_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    async def open_visit(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.post_message(OpenNoteEditor(editor_tests.CASE, kind="home_visit"))
        await _steady(pilot)

    app = editor_tests.EditorApp(notes_store)
    assert snap_compare(app, terminal_size=size, run_before=open_visit)


@pytest.mark.parametrize("size", SIZES)
def test_notes_list(snap_compare, notes_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    async def open_notes(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.post_message(OpenNotes(editor_tests.CASE))
        await _steady(pilot)

    app = editor_tests.EditorApp(notes_store)
    assert snap_compare(app, terminal_size=size, run_before=open_notes)


# --- the sync screen ----------------------------------------------------------------------------------------------

@pytest.fixture
def sync_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "worker.db", clock=lambda: NOW)
    s.set_meta("me", "worker")
    s.put_users([shapes.user(1, "worker", "Wendy Worker"), shapes.user(2, "sam", "Sam Patel")])
    s.put_case_summaries([shapes.summary(1, given="Amelia", family="Hughes"),
                          shapes.summary(2, given="Noah", family="Price")])
    s.put_case(shapes.case(1, given="Amelia", family="Hughes"), '"3"')
    s.put_case(shapes.case(2, given="Noah", family="Price"), '"3"')
    s.put_chronology(1, [shapes.event(101, 1, 280, summary_text="Referral")], replace=True)
    s.put_chronology(2, [shapes.event(201, 2, 285)], replace=True)
    s.put_tasks([shapes.task(11, 1, title="Statutory visit"), shapes.task(12, 1, title="Core group"),
                 shapes.task(21, 2, title="Review")])
    mark_all_seen(s, [1, 2], "2026-11-21T09:30:00Z")
    # one conflict: I completed a task that Sam meanwhile took over and moved
    item = s.complete_task(11)
    theirs = {**shapes.task(11, 1, title="Statutory visit", assignee="sam", due="2026-11-30", version=2),
              "updated_at": "2026-11-21T08:55:00Z"}
    s.record_conflict(item.id, theirs)
    # two items waiting to go
    s.add_note(2, "home_visit", "Saw Noah at home.")
    s.snooze_task(21, "2026-12-01")
    yield s
    s.close()


@pytest.mark.parametrize("size", SIZES)
def test_sync_screen(snap_compare, sync_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    app = ScreenApp(SyncScreen(sync_store, "worker"))
    assert snap_compare(app, terminal_size=size, run_before=_steady)


# --- the admin Users section --------------------------------------------------------------------------------------

@pytest.fixture
def admin_server(sqlite_template: Path, tmp_path: Path) -> Iterator[Any]:
    from server.app import create_app

    target = tmp_path / "server.db"
    shutil.copyfile(sqlite_template, target)
    application = create_app(f"sqlite:///{target}")
    yield application
    application.state.engine.dispose()


class AdminApp(App[None]):
    def __init__(self, server: Any, store: Store) -> None:
        super().__init__()
        self.server, self.store = server, store
        self.api: CaseAPI | None = None

    async def on_mount(self) -> None:
        self.api = CaseAPI("http://casework.test", transport=httpx.ASGITransport(app=self.server))
        await self.api.sign_in("ada", dataset.PASSWORD)
        await self.push_screen(AdminScreen(self.api, self.store, "admin", clock=lambda: NOW))

    async def on_unmount(self) -> None:
        if self.api is not None:
            await self.api.aclose()


@pytest.mark.parametrize("size", SIZES)
def test_admin_users(snap_compare, admin_server: Any, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(tmp_path / "client" / "ada.db")
    try:
        async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
            await _steady(pilot)
            assert isinstance(pilot.app.screen, AdminScreen)

        assert snap_compare(AdminApp(admin_server, store), terminal_size=size, run_before=loaded)
    finally:
        store.close()


# --- the export dialog --------------------------------------------------------------------------------------------

@pytest.fixture
def export_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "worker.db")
    s.put_case(export_case_json(), '"3"')
    s.put_chronology(7, many(600), replace=True)
    yield s
    s.close()


@pytest.mark.parametrize("size", SIZES)
def test_export_dialog(snap_compare, export_store: Store, size) -> None:  # type: ignore[no-untyped-def]
    app = ScreenApp(ExportDialog(export_store, 7, folder=EXPORTS))
    assert snap_compare(app, terminal_size=size, run_before=_steady)
