"""Read-ahead: the case the caseload's cursor rests on is read into the hidden case screen, so enter has nothing
left to read. It is not a view (nothing audited) until enter, and what changed meanwhile is read again."""

from __future__ import annotations

from typing import Any

import pytest

from client.sync import Changed
from screens import case as case_module
from screens.case import CaseScreen
from screens.caseload import AHEAD_AFTER_S, CaseloadScreen
from screens.messages import OpenCase
from screens.widgets.text_lines import TextLines
from tests.tui.helpers import make_app, text_of, wait_until


def _header_name(screen: CaseScreen) -> str:
    return text_of(screen.query_one("#case-header", TextLines)).splitlines()[0]


def _views(store: Any, case_id: int) -> list[Any]:
    return [v for v in store.pending_views() if v.case_id == case_id]


async def _shown_once(pilot: Any, caseload: CaseloadScreen) -> None:
    """Open the first case and come back: a screen's first showing lays it out (a Resize, and a re-read)."""
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("escape")
    await pilot.pause()
    assert pilot.app.screen is caseload


async def _screens_after_one_showing(pilot: Any) -> tuple[CaseloadScreen, list[int], CaseScreen]:
    """The caseload on top, the ids of its cases, and the case screen, shown once already (``_shown_once``)."""
    caseload = pilot.app.screen
    assert isinstance(caseload, CaseloadScreen)
    case_screen = pilot.app.get_screen("case")
    assert isinstance(case_screen, CaseScreen)
    await _shown_once(pilot, caseload)
    return caseload, [c.id for c in caseload._shown], case_screen


def _count_reads(screen: CaseScreen) -> list[int]:
    reads: list[int] = []
    original = screen._reload

    def counted(*args: Any, **kwargs: Any) -> None:
        reads.append(screen.case_id or 0)
        original(*args, **kwargs)

    screen._reload = counted  # type: ignore[method-assign]
    return reads


async def test_the_case_the_cursor_rests_on_is_read_ahead_and_viewed_only_on_enter(  # type: ignore[no-untyped-def]
        worker_store, offline_api) -> None:
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        caseload, ids, case_screen = await _screens_after_one_showing(pilot)
        reads = _count_reads(case_screen)
        await pilot.press("j", "j")
        await pilot.pause(AHEAD_AFTER_S + 0.15)
        # read into the hidden screen: not shown, not audited, not fetched
        assert app.screen is caseload and case_screen.case_id == ids[2] and reads[-1] == ids[2]
        read_before_enter = len(reads)
        assert _header_name(case_screen).startswith(worker_store.case(ids[2]).value.person.given_name)
        await pilot.pause(0.2)
        assert not _views(worker_store, ids[2])
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen and case_screen.case_id == ids[2]
        assert len(reads) == read_before_enter, "enter had nothing left to read"
        assert case_screen.case_list == tuple(ids)
        await wait_until(pilot, lambda: _views(worker_store, ids[2]), what="the view of the case opened")


async def test_a_case_that_changed_after_it_was_read_ahead_is_read_again_on_enter(  # type: ignore[no-untyped-def]
        worker_store, offline_api) -> None:
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        caseload = app.screen
        ids = [c.id for c in caseload._shown]
        case_screen = app.get_screen("case")
        assert isinstance(case_screen, CaseScreen)
        await _shown_once(pilot, caseload)
        await pilot.press("j")
        await pilot.pause(AHEAD_AFTER_S + 0.15)
        assert case_screen.case_id == ids[1]
        changed = worker_store.case_json(ids[1])
        changed["person"]["given_name"] = "Renamed"
        worker_store.put_case(changed, None)
        app._collector.input_seen()  # typing: the hidden screen does not catch up in the background
        reads = _count_reads(case_screen)
        app.handle_sync_event(Changed(cases=frozenset({ids[1]})))
        assert case_screen.behind and not reads  # hidden: the re-read waits
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen and _header_name(case_screen).startswith("Renamed")
        assert reads == [ids[1]]  # once, as it came up


async def test_a_case_read_ahead_long_ago_is_read_again_on_enter(  # type: ignore[no-untyped-def]
        worker_store, offline_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_module, "AHEAD_KEPT_S", 0.0)
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        case_screen = app.get_screen("case")
        assert isinstance(case_screen, CaseScreen)
        await _shown_once(pilot, app.screen)
        reads = _count_reads(case_screen)
        await pilot.press("j")
        await pilot.pause(AHEAD_AFTER_S + 0.15)
        assert len(reads) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen and len(reads) == 2  # read ahead, then again on enter


async def test_a_case_screen_left_under_the_caseload_is_not_read_ahead(  # type: ignore[no-untyped-def]
        worker_store, offline_api) -> None:
    """Search → case → my cases (pushed on top): the case screen is still in the stack, and escape would bring
    it back. Reading another case into it would show a case nobody opened, unaudited."""
    app = make_app(worker_store, offline_api, "worker", start_screen="search")
    async with app.run_test(size=(160, 50)) as pilot:
        first = worker_store.caseload("worker")[0].id
        app.post_message(OpenCase(first, [first]))
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen) and case_screen.case_id == first
        app.action_show_caseload()
        await pilot.pause()
        assert isinstance(app.screen, CaseloadScreen) and case_screen in app.screen_stack
        await pilot.press("j", "j")
        await pilot.pause(AHEAD_AFTER_S + 0.15)
        assert case_screen.case_id == first
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is case_screen and _header_name(case_screen).startswith(
            worker_store.case(first).value.person.given_name)


async def test_the_case_under_the_cursor_the_app_opened_on_is_read_ahead(  # type: ignore[no-untyped-def]
        worker_store, offline_api) -> None:
    """No key yet: the first case is read ahead once the case screen is built, as after a move of the cursor."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen)
        case_screen = app.get_screen("case")
        first = caseload._shown[0].id
        await wait_until(pilot, lambda: isinstance(case_screen, CaseScreen) and case_screen.case_id == first,
                         what="the first case read ahead")
        assert app.screen is caseload and not _views(worker_store, first)


async def test_a_case_read_ahead_is_laid_out_and_drawn_while_hidden(  # type: ignore[no-untyped-def]
        worker_store, offline_api) -> None:
    """The enter that shows a case read ahead only puts lines already rendered together: no layout of the screen
    and no header rendered again under the key, and what it shows is what rendering afresh gives."""
    from tests.tui.helpers import terminal_output, watch_layouts

    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        caseload, ids, case_screen = await _screens_after_one_showing(pilot)
        await pilot.press("j", "j")
        await pilot.pause(AHEAD_AFTER_S + 0.15)
        assert case_screen.case_id == ids[2] and app.screen is caseload
        header = case_screen.query_one("#case-header", TextLines)
        header_renders: list[int] = []  # lines of the header rendered (not taken from its cache)
        render_line = header.render_line

        def counted(y: int):  # type: ignore[no-untyped-def]
            header_renders.append(y)
            return render_line(y)

        header.render_line = counted  # type: ignore[method-assign]
        layouts = watch_layouts(case_screen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen and case_screen.case_id == ids[2]
        assert True not in layouts, "the screen was laid out under the enter"
        assert header_renders == [], "the header was rendered again under the enter"
        shown = terminal_output(app)
        assert worker_store.case(ids[2]).value.person.family_name.upper() in shown
        header.render_line = render_line  # type: ignore[method-assign]
        for widget in case_screen.query("*"):
            widget.refresh()
        await pilot.pause()
        assert terminal_output(app) == shown
