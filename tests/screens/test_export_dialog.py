"""The export dialog, driven by keys in a minimal App over a store filled in the API's JSON shapes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Static

from client.export import ExportResult
from client.store import Store
from screens.export_dialog import ExportDialog, parse_day
from screens.messages import CaseViewed
from tests.client.test_export import case_json, many


class DialogApp(App[None]):
    def __init__(self, store: Store, case_id: int, folder: Path) -> None:
        super().__init__()
        self.store, self.case_id, self.folder = store, case_id, folder
        self.results: list[ExportResult | None] = []
        self.viewed: list[tuple[int, str]] = []

    def compose(self) -> ComposeResult:
        yield Static("case screen")

    def on_mount(self) -> None:
        self.push_screen(ExportDialog(self.store, self.case_id, folder=self.folder), self.results.append)

    def on_case_viewed(self, message: CaseViewed) -> None:
        self.viewed.append((message.case_id, message.what))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "cache" / "worker.db")
    s.put_case(case_json(), '"3"')
    s.put_chronology(7, many(600), replace=True)
    return s


def text(pilot: Pilot, selector: str) -> str:
    """The plain text a Static in the dialog shows."""
    content = pilot.app.screen.query_one(selector, Static).content
    return content if isinstance(content, str) else getattr(content, "plain", str(content))


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_enter_exports_and_shows_both_paths(store: Store, tmp_path: Path) -> None:
    app = DialogApp(store, 7, tmp_path / "exports")
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert "Zofia Wiśniewska (case 7)" in text(pilot, "#export-title")
        assert "600 events, 120 key" in text(pilot, "#export-title")
        await pilot.press("enter")
        await until(pilot, lambda: "PDF" in text(pilot, "#export-status"))
        status = text(pilot, "#export-status")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog) and dialog.result is not None
        assert str(dialog.result.markdown) in status and str(dialog.result.pdf) in status
        assert dialog.result.markdown.exists() and dialog.result.pdf.read_bytes().startswith(b"%PDF")
        assert "Exported 600 events" in status
        assert app.viewed == [(7, "chronology")]  # audited, through the App as the case screen's views are
        await pilot.press("enter")  # done: enter closes
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert app.results and app.results[0] is not None and app.results[0].events == 600


async def test_key_events_and_a_date_range_by_keyboard(store: Store, tmp_path: Path) -> None:
    app = DialogApp(store, 7, tmp_path / "exports")
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        await pilot.press("down")  # the event choice has focus: key events only
        assert app.screen.query_one("#export-key", RadioButton).value
        await pilot.press("tab", *"2012-01-01", "tab", *"2012-01-31")
        assert app.screen.query_one("#export-end", Input).value == "2012-01-31"
        await pilot.press("enter")
        await until(pilot, lambda: "PDF" in text(pilot, "#export-status"))
        dialog = app.screen
        assert isinstance(dialog, ExportDialog) and dialog.result is not None
        # events every 25 hours from 1 Jan 2012 noon: 30 in January, every fifth one a key event
        assert dialog.result.events == 6
        assert "Key events only, from 1 Jan 2012 to 31 Jan 2012" in dialog.result.markdown.read_text("utf-8")


async def test_bad_dates_get_one_line_errors_and_escape_cancels(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    app = DialogApp(store, 7, folder)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        await pilot.press("tab", *"2025-13-01", "enter")
        assert text(pilot, "#export-error") == "From: 2025-13-01 is not a real date"
        app.screen.query_one("#export-start", Input).value = "2026-02-01"
        await pilot.press("tab", *"2026-01-01", "enter")
        assert text(pilot, "#export-error") == "From (2026-02-01) is after To (2026-01-01)"
        app.screen.query_one("#export-end", Input).value = "1-1-1"
        await pilot.press("enter")
        assert text(pilot, "#export-error") == "To: write the date as YYYY-MM-DD, like 2025-01-01"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert app.results == [None]
        assert not folder.exists()


async def test_a_case_not_on_this_device(store: Store, tmp_path: Path) -> None:
    app = DialogApp(store, 99, tmp_path / "exports")
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        assert "case 99 is not on this device" in text(pilot, "#export-error")
        await pilot.press("enter")
        await until(pilot, lambda: not app.screen.query_one("#export-run").disabled
                    and "not on this device" in text(pilot, "#export-error"))
        assert isinstance(app.screen, ExportDialog) and app.screen.result is None


def test_parse_day() -> None:
    assert parse_day("", "From") is None
    assert parse_day(" 2025-01-01 ", "From").isoformat() == "2025-01-01"  # type: ignore[union-attr]
    assert parse_day("21/11/2026", "To").isoformat() == "2026-11-21"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="To: 31/02/2026 is not a real date"):
        parse_day("31/02/2026", "To")
