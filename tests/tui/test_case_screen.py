"""The case screen: chronology filters and search, paging through 5,000+ events, the quick note and its draft."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from screens.case import KIND_CYCLE, CaseScreen, ChronologyList
from screens.caseload import CaseList
from screens.case import TaskList
from tests.tui.helpers import (
    make_app, open_case_under_cursor, row_text, rows, terminal_output, text_of, wait_until, watch_layouts,
)
from screens.widgets.text_lines import TextLines


def _big_case(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(index in the caseload, case id) of the worker's case with a 5,000+ event chronology."""
    for index, summary in enumerate(store.caseload("worker")):
        if store.chronology_count(summary.id) >= 5000:
            return index, summary.id
    pytest.fail("the seed gives worker one case with a chronology of 5,000 events or more")


async def _open_big_case(pilot, store) -> tuple[CaseScreen, int]:  # type: ignore[no-untyped-def]
    index, case_id = _big_case(store)
    pilot.app.screen.query_one(CaseList).move_to(index)  # j, k and G have their own tests
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen) and screen.case_id == case_id
    return screen, case_id


def _title(screen: CaseScreen) -> str:
    return text_of(screen.query_one("#chronology-title", TextLines))


async def test_chronology_filters(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        screen, case_id = await _open_big_case(pilot, worker_store)
        chronology = screen.query_one(ChronologyList)
        total = worker_store.chronology_count(case_id)
        assert chronology.count == total
        assert f"Chronology · {total:,} events" == _title(screen)
        assert chronology.has_focus

        # * : key events only, and back
        await pilot.press("asterisk")
        key_only = worker_store.chronology_count(case_id, key_only=True)
        assert 0 < key_only < total
        assert chronology.count == key_only
        assert _title(screen) == f"Chronology · {key_only:,} events · key events"
        assert all(row.startswith("★") for row in rows(chronology, 40))
        await pilot.press("asterisk")
        assert chronology.count == total

        # f : cycles through the kinds, and round to all of them again
        seen = []
        for kinds in KIND_CYCLE[1:]:
            await pilot.press("f")
            expected = worker_store.chronology_count(case_id, kinds=kinds)
            assert chronology.count == expected, kinds
            assert " / ".join(k.replace("_", " ") for k in kinds) in _title(screen)
            seen.append(expected)
        assert any(0 < n < total for n in seen)
        visits = worker_store.chronology_count(case_id, kinds=("visit",))
        await pilot.press("f")
        assert chronology.count == total and _title(screen) == f"Chronology · {total:,} events"
        await pilot.press("f")
        assert chronology.count == visits
        assert all(" visit " in f" {row} " for row in rows(chronology, 20))  # the kind column at 160 wide

        # / : text search, narrowing as you type, on top of the kind filter
        await pilot.press("slash")
        search = screen.query_one("#chronology-search", Input)
        assert search.display and search.has_focus
        word = "school"
        counts = []
        for letter in word:
            await pilot.press(letter)
            counts.append(chronology.count)
        assert counts == sorted(counts, reverse=True)
        expected = worker_store.chronology_count(case_id, kinds=("visit",), text=word)
        assert chronology.count == expected < visits
        assert "“school”" in _title(screen)
        await pilot.press("enter")
        assert chronology.has_focus

        # ctrl+x clears every filter
        await pilot.press("ctrl+x")
        assert chronology.count == total
        assert search.value == "" and not search.display
        assert chronology.has_focus

        # the same from inside the search box
        await pilot.press("slash", *"pol")
        assert chronology.count < total
        await pilot.press("ctrl+x")
        assert chronology.count == total and search.value == ""

        # but in the note box ctrl+x is the box's own "cut": the filters stay
        await pilot.press("asterisk", "n", *"oops")
        box = screen.query_one("#note-box", TextArea)
        await pilot.press("ctrl+x")
        assert box.text == "" and box.has_focus
        assert chronology.count == key_only


async def test_page_down_in_a_5000_event_chronology(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, case_id = await _open_big_case(pilot, worker_store)
        chronology = screen.query_one(ChronologyList)
        assert chronology.count >= 5000 and chronology.cursor == 0
        page = chronology.scrollable_content_region.height - 1
        assert page >= 3
        detail = screen.query_one("#chronology-detail", TextLines)
        first_detail = text_of(detail)

        await pilot.press("pagedown")
        assert chronology.cursor == page
        await pilot.press("pagedown")
        assert chronology.cursor == 2 * page
        top = chronology.scroll_offset.y
        assert top <= chronology.cursor < top + chronology.scrollable_content_region.height, "the cursor is on screen"
        assert text_of(detail) != first_detail, "the detail panel follows the cursor"
        await pilot.press("pageup")
        assert chronology.cursor == page

        # the far end is read from the store in a window, and drawn
        await pilot.press("G")
        await pilot.pause()
        assert chronology.cursor == chronology.count - 1
        oldest = worker_store.chronology_window(case_id, chronology.count - 1, 1)[0]
        assert oldest.summary[:20] in row_text(chronology, chronology.cursor)
        await pilot.press("g")
        assert chronology.cursor == 0


async def test_paging_down_reads_no_rows_on_the_key(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """The screens of rows above and below the view are read once each frame is out: a page down (here through
    a 5,000-event chronology, to the end and back to the top now and then) draws rows already read, and the right
    ones."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        screen, case_id = await _open_big_case(pilot, worker_store)
        chronology = screen.query_one(ChronologyList)
        await pilot.press("c")
        await pilot.pause()
        on_key: list[int] = []
        ahead: list[int] = []
        reading_ahead = False
        original_read, original_ahead = worker_store.chronology_window, screen._read_rows_ahead

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            (ahead if reading_ahead else on_key).append(args[1])
            return original_read(*args, **kwargs)

        def read_ahead() -> None:
            nonlocal reading_ahead
            reading_ahead = True
            try:
                original_ahead()
            finally:
                reading_ahead = False

        worker_store.chronology_window = counted
        screen._read_rows_ahead = read_ahead  # type: ignore[method-assign]
        for n in range(1, 91):
            await pilot.press("g" if n % 40 == 0 else "G" if n == 60 else "pagedown")
            await pilot.pause()
            top = chronology.scroll_offset.y
            shown = original_read(case_id, top, 3)
            assert all(e.summary[:20] in row_text(chronology, top + k) for k, e in enumerate(shown)), n
        assert not on_key, f"rows read on the keys' path, from rows {on_key}"
        assert len(ahead) >= 25  # ~38 rows a page, 64 rows a read: about one read every page and a half


async def test_next_case_swaps_rows_without_a_layout(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """`]` through the caseload, small chronologies and a 5,000-event one: new rows redraw the lists and their
    scrollbars, never a layout of the whole screen, and what is on screen is what a full redraw gives."""
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_case_under_cursor(pilot)
        lists = (screen.query_one(ChronologyList), screen.query_one(TaskList))
        layouts = watch_layouts(screen)
        counts = set()
        for case_id in screen.case_list[1:]:
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert screen.case_id == case_id
            counts.add(lists[0].count)
            shown = terminal_output(app)
            for line_list in lists:
                assert line_list.vertical_scrollbar.window_virtual_size == line_list.count
                line_list.refresh()
                line_list.vertical_scrollbar.refresh()
            await pilot.pause()
            assert terminal_output(app) == shown, case_id
        assert min(counts) < lists[0].scrollable_content_region.height < max(counts), "small and big cases"
        assert True not in layouts


async def test_quick_note_draft_and_save(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, case_id = await _open_big_case(pilot, worker_store)
        chronology = screen.query_one(ChronologyList)
        before = chronology.count
        assert worker_store.drafts(case_id) == []

        await pilot.press("n")
        box = screen.query_one("#note-box", TextArea)
        assert box.has_focus
        body = "Rang [ok]; f/n *"  # screen keys typed into the box are text
        await pilot.press(*body)
        assert box.text == body
        assert screen.case_id == case_id, "] and [ typed in the note box do not change case"
        await pilot.pause(0.4)  # the draft is written after 0.25 s of quiet
        drafts = worker_store.drafts(case_id)
        assert [d.body for d in drafts] == [body]

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert box.text == ""
        assert worker_store.drafts(case_id) == []
        pending = worker_store.pending()
        assert len(pending) == 1
        assert pending[0].op == "note" and pending[0].case_id == case_id and pending[0].body["body"] == body
        # shown in the chronology at once, marked as not sent
        assert chronology.count == before + 1
        shown = [row for row in rows(chronology, 30) if "(not sent yet)" in row]
        assert len(shown) == 1 and "Rang [ok]" in shown[0]
        assert chronology.has_focus
        assert "1 unsent" in text_of(screen.query(".status-line").first())


async def test_draft_survives_moving_away_and_back(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case_under_cursor(pilot)
        first = screen.case_id
        await pilot.press("n", *"half a thought")
        # leave before the draft timer fires: the draft is flushed on the way out
        await pilot.press("escape")
        await pilot.pause()
        await wait_until(pilot, lambda: worker_store.drafts(first), timeout=2, what="the draft")
        assert worker_store.drafts(first)[0].body == "half a thought"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#note-box", TextArea).text == "half a thought"
