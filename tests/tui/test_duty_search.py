"""Duty lookup at 2 a.m.: a misspelt surname on the search screen, through to the case header."""

from __future__ import annotations

from client.sync import SyncEngine
from screens.case import CaseScreen
from screens.search import ResultList, SearchScreen
from textual.widgets import Input, Static

from tests.tui.helpers import fast_settings, make_app, row_text, text_of, wait_until
from screens.widgets.text_lines import TextLines


def _griffiths(store):  # type: ignore[no-untyped-def]
    """A real child in the seeded directory named Griffiths, with flags, whom duty does not hold in detail."""
    found = [e for e in store.search("griffiths", limit=100)
             if e.family_name == "Griffiths" and e.flags and not e.is_stub and e.case_id is not None]
    assert found, "the seeded directory should hold a Griffiths with flags"
    entry = found[0]
    assert store.case(entry.case_id) is None, "duty's store holds the directory only"
    return entry


async def test_misspelt_surname_to_case_header(duty_store, live_api, engines) -> None:  # type: ignore[no-untyped-def]
    entry = _griffiths(duty_store)
    api = await live_api("duty")
    sync = SyncEngine(api, duty_store, username="duty", settings=fast_settings())
    engines.append(sync)
    app = make_app(duty_store, api, "duty", sync=sync, start_screen="search")
    async with app.run_test(size=(160, 50)) as pilot:
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one("#search-query", Input).has_focus
        query = f"{entry.given_name.lower()} grifiths"  # one f short
        await pilot.press(*query)
        await pilot.pause()

        results = app.screen.query_one(ResultList)
        assert results.count >= 1
        first = row_text(results, 0)
        assert first.startswith(entry.name), first
        assert entry.address and entry.address[:20] in first  # the address shows at 160 columns
        assert " ".join(entry.flags) in first
        info = text_of(app.screen.query_one("#search-info", Static))
        assert f"for “{query}”" in info

        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.case_id == entry.case_id
        header = screen.query_one("#case-header", TextLines)
        # at once: the directory entry, while the full record is fetched in the background
        assert entry.name in text_of(header) or entry.family_name.upper() in text_of(header)

        await wait_until(pilot, lambda: duty_store.case(entry.case_id) is not None and "Now:" in text_of(header)
                         or "MISSING since" in text_of(header), what="the full record to arrive")
        case = duty_store.case(entry.case_id).value
        shown = text_of(header)
        assert f"{case.person.given_name} {case.person.family_name.upper()}" in shown
        assert f"case {case.id}" in shown
        for flag in case.flags:
            assert flag.label in shown, (flag, shown)
        where = case.whereabouts
        for part in (where.placement_type, where.carer):
            if part:
                assert part in shown, (part, shown)
        assert "fetching" not in shown
        assert "Who to call" in text_of(screen.query_one("#case-contacts", TextLines))
