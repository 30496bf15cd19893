"""Main screens are built ahead, after the first frame, and shown again without restyling unless the App changed;
what start-up leaves alive is frozen out of the garbage collector's way until the app closes."""

from __future__ import annotations

import gc

from textual.color import Color

from client.sync import Changed
from screens.case import CaseScreen
from screens.caseload import CaseList, CaseloadScreen
from tests.tui.helpers import (make_app, open_case_under_cursor, terminal_output, wait_until, watch_frames,
                               watch_layouts)
from screens.widgets.text_lines import TextLines
from tui.app import BUILT_AHEAD


async def test_main_screens_are_built_before_their_first_visit(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.screen.name == "caseload"
        await wait_until(pilot, lambda: all(app.get_screen(name).is_running for name in BUILT_AHEAD))
        case_screen = app.get_screen("case")
        assert case_screen not in app.screen_stack  # built, never shown
        first = app.screen.query_one(CaseList)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen
        assert isinstance(case_screen, CaseScreen) and case_screen.case_id == worker_store.caseload("worker")[
            first.cursor].id


async def test_built_screens_are_laid_out_while_hidden_and_nothing_of_them_is_drawn(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """The first visit to a screen costs what later ones do: its layout (and its widgets' answers to their first
    Resize) comes in an idle moment after start-up, not under the key that first shows it."""
    from screens.case import ChronologyList

    app = make_app(worker_store, offline_api, "worker")
    drawn: list[str | None] = []  # the screen each frame written to the terminal came from
    display = app._display

    def written(screen, update):  # type: ignore[no-untyped-def]
        display(screen, update)
        if update is not None:
            drawn.append(screen.name)

    app._display = written  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        case_screen = app.get_screen("case")
        await wait_until(pilot, lambda: case_screen.is_mounted, what="the case screen built ahead")
        chronology = case_screen.query_one(ChronologyList)
        await wait_until(pilot, lambda: chronology.size.height > 0, what="the hidden case screen's layout")
        assert case_screen not in app.screen_stack and app.screen.name == "caseload"
        assert case_screen.size == app.size
        assert drawn and set(drawn) == {"caseload"}, "only the screen on top reaches the terminal"
        layouts = watch_layouts(case_screen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen and drawn[-1] == "case"
        assert layouts.count(True) <= 1, "the first visit laid the screen out more than once"


async def test_start_up_objects_are_frozen_while_the_app_runs(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        # once the screens are built, what is alive is moved out of the collector's way
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0)
    assert gc.get_freeze_count() == 0  # and handed back when the app closes


async def test_a_theme_change_while_hidden_restyles_the_screen_when_shown(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        case_screen = await open_case_under_cursor(pilot)
        header = case_screen.query_one("#case-header", TextLines)
        before = header.styles.background
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.name == "caseload"

        # the case screen is hidden: only its return can restyle it
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is case_screen
        assert header.styles.background != before
        assert header.styles.background == Color.parse(app.get_css_variables()["primary-background"])


async def test_a_hidden_screen_rereads_changes_once_when_shown(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """A sync's pages of changes re-read the screen on top at once; a hidden one waits, and then re-reads once."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        caseload = app.screen
        reads: list[str] = []
        for screen, method in ((caseload, "reload"), (app.get_screen("case"), "_reload")):
            original = getattr(screen, method)

            def counted(*args, _original=original, _name=screen.name, **kwargs):  # type: ignore[no-untyped-def]
                reads.append(_name)
                return _original(*args, **kwargs)

            setattr(screen, method, counted)
        await pilot.press("enter")
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen) and case_screen.case_id is not None
        reads.clear()
        app._collector.input_seen()  # typing: no catching up in the background
        for _ in range(3):
            app.handle_sync_event(Changed(cases=frozenset({case_screen.case_id}), caseload=True))
        assert reads == ["case"] * 3  # the screen on top re-reads each time; the hidden caseload not yet
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is caseload and reads == ["case"] * 3 + ["caseload"]
        # access to a case ended: the hidden case screen lets go of it at once, not when next shown
        reads.clear()
        app.handle_sync_event(Changed(purged=frozenset({case_screen.case_id})))
        assert reads == ["case", "caseload"] and not case_screen.behind


async def test_a_hidden_screen_catches_up_when_the_keys_are_still(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen)
        await pilot.press("enter")
        await pilot.pause()
        reloads: list[int] = []
        original = caseload.reload
        caseload.reload = lambda: (reloads.append(1), original())  # type: ignore[method-assign]
        app.handle_sync_event(Changed(caseload=True))
        assert caseload.behind and not reloads
        app._collector.last_input -= 5  # no key for five seconds
        await wait_until(pilot, lambda: reloads == [1], what="the hidden caseload's re-read")
        assert not caseload.behind and isinstance(app.screen, CaseScreen)


async def test_a_screen_shown_again_is_drawn_from_its_cached_lines(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """Back on a screen whose look did not change: the terminal gets the whole screen again, drawn from the
    widgets' cached lines; the screen's own background is not rendered afresh. What shows is what a full redraw
    gives."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("enter", "escape"):
            await pilot.press(key)
            await pilot.pause()
        case_screen = app.get_screen("case")
        own_lines: list[int] = []
        render_line = case_screen.render_line

        def counted(y: int):  # type: ignore[no-untyped-def]
            own_lines.append(y)
            return render_line(y)

        case_screen.render_line = counted  # type: ignore[method-assign]
        frames: list[str] = []  # what the app writes to the terminal
        watch_frames(app, frames.append)
        await pilot.press("j", "enter")
        await pilot.pause()
        assert app.screen is case_screen and isinstance(case_screen, CaseScreen)
        assert own_lines == []
        name = case_screen.case.person.family_name.upper() if case_screen.case else "?"
        assert frames and name in frames[-1], "the case is drawn on the terminal"
        shown = terminal_output(app)
        case_screen.refresh(case_screen.size.region)  # everything rendered afresh
        for widget in case_screen.query("*"):
            widget.refresh()
        await pilot.pause()
        assert own_lines and terminal_output(app) == shown
