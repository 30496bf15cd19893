"""SVG snapshots of every screen at 80×24 and 160×50 (pytest-textual-snapshot).

Update them after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look
at the SVGs before committing. These tests are plain functions: ``snap_compare`` runs the App in its own loop.

The screens show ages, "overdue 3d", "seen 12d" and "as of HH:MM" from the real clock; the ``fixed_clock``
fixture pins screens.format to the seed's day and a fixed time, and the seeded server worked out overdue
counts on that same day (see conftest), so the pictures do not change with the date the suite runs on.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from client.sync import Status
from tests.tui.helpers import make_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
EXPIRED = Status(online=True, pending=0, failed=0, conflicts=0, blocked=0, last_sync=None, session_expired=True)

pytestmark = pytest.mark.usefixtures("fixed_clock")


async def _steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """No blinking cursors in a picture."""
    await pilot.pause()
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, (Input, TextArea))
            widget.cursor_blink = False
    await pilot.pause()


def _flagged_case_index(store) -> int:  # type: ignore[no-untyped-def]
    """The first case on the worker's list with a high-severity flag: the header has the most to show."""
    for index, case in enumerate(store.caseload("worker")):
        if any(f.severity == "high" for f in case.flags):
            return index
    return 0


@pytest.mark.parametrize("size", SIZES)
def test_caseload(snap_compare, worker_store, offline_api, size) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    assert snap_compare(app, terminal_size=size, run_before=_steady)


@pytest.mark.parametrize("size", SIZES)
def test_case(snap_compare, worker_store, offline_api, size) -> None:  # type: ignore[no-untyped-def]
    index = _flagged_case_index(worker_store)

    async def open_case(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*["j"] * index, "enter")
        await _steady(pilot)

    app = make_app(worker_store, offline_api, "worker")
    assert snap_compare(app, terminal_size=size, run_before=open_case)


@pytest.mark.parametrize("size", SIZES)
def test_search_results(snap_compare, duty_store, offline_api, size) -> None:  # type: ignore[no-untyped-def]
    async def search(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"grifiths")  # misspelt
        await _steady(pilot)

    app = make_app(duty_store, offline_api, "duty", start_screen="search")
    assert snap_compare(app, terminal_size=size, run_before=search)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, worker_store, offline_api, size) -> None:  # type: ignore[no-untyped-def]
    async def help_(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("question_mark")
        await _steady(pilot)

    app = make_app(worker_store, offline_api, "worker")
    assert snap_compare(app, terminal_size=size, run_before=help_)


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_dialog(snap_compare, worker_store, offline_api, size) -> None:  # type: ignore[no-untyped-def]
    async def expire(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("enter", "n", *"at his nan's")
        pilot.app.handle_sync_event(EXPIRED)
        await _steady(pilot)

    app = make_app(worker_store, offline_api, "worker")
    assert snap_compare(app, terminal_size=size, run_before=expire)
