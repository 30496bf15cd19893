"""The server is down: everything on the device still works, and the status line says so."""

from __future__ import annotations


from client.sync import SyncEngine
from screens.case import CaseScreen
from screens.caseload import CaseList, CaseloadScreen
from screens.search import ResultList, SearchScreen
from tests.tui.helpers import fast_settings, make_app, status_text, text_of, wait_until, watch_layouts
from screens.widgets.text_lines import TextLines


async def test_navigation_and_a_note_while_the_server_is_down(worker_store, down_api, engines) -> None:  # type: ignore[no-untyped-def]
    sync = SyncEngine(down_api, worker_store, username="worker", settings=fast_settings())
    engines.append(sync)
    app = make_app(worker_store, down_api, "worker", sync=sync)
    async with app.run_test(size=(80, 24)) as pilot:
        # the first pass fails to connect: the engine goes offline, and the status line shows it
        await wait_until(pilot, lambda: not sync.online and not app.sync_state.online, timeout=5,
                         what="the engine to notice the server is down")
        assert app.sync_state.signed_in, "a refused connection is offline, not signed out"
        assert isinstance(app.screen, CaseloadScreen)
        assert "offline" in status_text(pilot)
        cases = app.screen.query_one(CaseList)
        ids = [c.id for c in app.screen._shown]
        assert len(ids) >= 15

        await pilot.press("j", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case_id == ids[1]
        assert "offline" in status_text(pilot)
        await pilot.press("right_square_bracket")
        assert screen.case_id == ids[2]
        person = worker_store.case(ids[2]).value.person
        assert person.family_name.upper() in text_of(screen.query_one("#case-header", TextLines))

        # a note written offline waits on the device
        await pilot.press("n", *"seen at school")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [(i.op, i.case_id) for i in worker_store.pending()] == [("note", ids[2])]
        await wait_until(pilot, lambda: "1 unsent" in status_text(pilot), timeout=3, what="1 unsent")
        assert "offline" in status_text(pilot)

        # duty search over the directory on the device
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*person.family_name.lower()[:-1])  # a letter short
        results = app.screen.query_one(ResultList)
        assert results.count >= 1
        assert "offline" in status_text(pilot) and "1 unsent" in status_text(pilot)

        # the query box takes digits as text (IDs have them): escape leaves it, back to the case, then 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.case_id == ids[2]
        await pilot.press("1")
        await pilot.pause()
        assert app.screen.query_one(CaseList) is cases and cases.cursor == 1
        # still down, still offline; the note is still there to send
        assert not sync.online
        assert len(worker_store.pending()) == 1


async def test_a_sync_event_redraws_the_status_line_without_laying_out_the_screen(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """Sync events come every few hundred ms through a first sync on a slow network, while keys are pressed: the
    line is one row whatever it says, so a new state repaints it and does not arrange the whole screen again."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        layouts = watch_layouts(app.screen)
        app._set_state(phase="caseload", done=3, total=22)
        app._update_counts()
        await wait_until(pilot, lambda: "syncing caseload" in status_text(pilot), what="the new status")
        await pilot.pause()
        assert True not in layouts, "a status change laid the whole screen out"
