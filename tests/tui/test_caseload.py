"""My cases: overdue first, `/` filters as you type, enter opens, `[`/`]` step through the list, back keeps the cursor."""

from __future__ import annotations

from textual.widgets import Input, Static

from screens.case import CaseScreen
from screens.caseload import CaseList, CaseloadScreen
from tests.tui.helpers import make_app, row_text, text_of
from screens.widgets.text_lines import TextLines


def _header_name(screen: CaseScreen) -> str:
    return text_of(screen.query_one("#case-header", TextLines)).splitlines()[0]


def _person(store, case_id: int) -> str:  # type: ignore[no-untyped-def]
    person = store.case(case_id).value.person
    return f"{person.given_name} {person.family_name.upper()}"


async def test_caseload_lists_my_cases_overdue_first(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseloadScreen)
        cases = screen.query_one(CaseList)
        assert cases.has_focus
        assert 15 <= cases.count <= 25, cases.count
        shown = screen._shown
        assert [c.id for c in shown] == [c.id for c in worker_store.caseload("worker")]
        overdue = [bool(c.overdue_tasks) for c in shown]
        assert any(overdue) and not all(overdue)
        assert overdue == sorted(overdue, reverse=True), "every case with overdue work comes before the rest"
        # each row: the name, the flags, and the next task due
        for n, case in enumerate(shown):
            row = row_text(cases, n)
            assert row.startswith(case.name), row
            assert " ".join(f.code for f in case.flags) in row
        title = text_of(screen.query_one("#caseload-title", Static))
        assert f"{cases.count} open" in title
        assert f"{sum(overdue)} with overdue work" in title
        await pilot.pause()


async def test_filter_as_you_type_and_clear(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        cases = screen.query_one(CaseList)
        everyone = cases.count
        # a family name that several (but not all) of the worker's children share
        families = [c.name.split()[-1] for c in screen._shown]
        family = max(set(families), key=families.count)
        assert 1 < families.count(family) < everyone

        await pilot.press("slash")
        box = screen.query_one("#caseload-filter", Input)
        assert box.display and box.has_focus
        counts = []
        for letter in family.lower():
            await pilot.press(letter)
            counts.append(cases.count)
        assert counts == sorted(counts, reverse=True), "each letter narrows (or keeps) the list"
        assert counts[0] < everyone
        assert cases.count == families.count(family)
        assert all(family in c.name for c in screen._shown)
        assert f"showing {cases.count}" in text_of(screen.query_one("#caseload-title", Static))

        # ctrl+x clears the filter, even while typing in it
        await pilot.press("ctrl+x")
        assert box.value == ""
        assert cases.count == everyone
        assert not box.display
        assert cases.has_focus


async def test_open_step_through_and_back(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        caseload = app.screen
        cases = caseload.query_one(CaseList)
        ids = [c.id for c in caseload._shown]
        await pilot.press("j", "j", "j")
        assert cases.cursor == 3
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.case_id == ids[3]
        assert screen.case_list == tuple(ids)
        assert _header_name(screen).startswith(_person(worker_store, ids[3]))

        await pilot.press("right_square_bracket")
        assert screen.case_id == ids[4]
        assert _header_name(screen).startswith(_person(worker_store, ids[4]))
        await pilot.press("right_square_bracket")
        assert screen.case_id == ids[5]
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert screen.case_id == ids[2]
        assert _header_name(screen).startswith(_person(worker_store, ids[2]))

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is caseload
        assert cases.cursor == 3, "back on my cases, the cursor is where it was"
        assert cases.has_focus

        await pilot.press("k", "enter")
        await pilot.pause()
        assert app.screen is screen and screen.case_id == ids[2]
        await pilot.press("1")
        await pilot.pause()
        assert app.screen is caseload
        assert cases.cursor == 2


async def test_steps_stop_at_the_ends_and_follow_the_filtered_list(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        caseload = app.screen
        await pilot.press("slash", *"cpp", "enter")  # flag code: cases on a child protection plan
        shown = [c.id for c in caseload._shown]
        assert 1 < len(shown) < len(caseload._all)
        await pilot.press("G", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.case_id == shown[-1]
        assert screen.case_list == tuple(shown), "[ and ] go through the list the case came from"
        await pilot.press("right_square_bracket")
        assert screen.case_id == shown[-1]  # no more that way: stays, says so
        await pilot.pause()
        assert any("No more cases" in str(n.message) for n in app._notifications)
        await pilot.press("left_square_bracket")
        assert screen.case_id == shown[-2]
