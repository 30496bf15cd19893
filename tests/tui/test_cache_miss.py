"""A case the store does not hold in detail: its directory entry at once, the rest when it arrives."""

from __future__ import annotations


from client.sync import SyncEngine
from screens.case import CaseScreen, ChronologyList, TaskList
from screens.messages import OpenCase
from tests.tui.helpers import fast_settings, make_app, text_of, wait_until
from screens.widgets.text_lines import TextLines


def _directory_only(store, count: int = 3):  # type: ignore[no-untyped-def]
    """Open cases with flags that duty's store knows only from the directory."""
    found = []
    for entry in store.search("smith", limit=100) + store.search("patterson", limit=100):
        if (not entry.is_stub and entry.case_id is not None and entry.status == "open" and entry.flags
                and store.case(entry.case_id) is None and entry not in found):
            found.append(entry)
    assert len(found) >= count
    return found[:count]


async def test_directory_entry_at_once_without_sync(duty_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    entries = _directory_only(duty_store)
    entry = entries[0]
    app = make_app(duty_store, offline_api, "duty", start_screen="search")
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(OpenCase(entry.case_id, [e.case_id for e in entries]))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case_id == entry.case_id
        header = text_of(screen.query_one("#case-header", TextLines))
        assert header.startswith(entry.name)
        assert f"case {entry.case_id}" in header
        assert " ".join(entry.flags) in header
        assert "fetching" in header
        assert "fetching" in text_of(screen.query_one("#case-contacts", TextLines))
        assert screen.query_one(ChronologyList).count == 0
        assert screen.query_one(TaskList).count == 0

        # keys still work: the next case in the list, the filters, the note box
        await pilot.press("right_square_bracket")
        assert screen.case_id == entries[1].case_id
        assert text_of(screen.query_one("#case-header", TextLines)).startswith(entries[1].name)
        await pilot.press("asterisk", "f", "ctrl+x", "n")
        assert screen.query_one("#note-box").has_focus
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen.name == "search"


async def test_fills_in_when_the_sync_engine_brings_it(duty_store, live_api, engines) -> None:  # type: ignore[no-untyped-def]
    entry = _directory_only(duty_store)[0]
    api = await live_api("duty")
    sync = SyncEngine(api, duty_store, username="duty", settings=fast_settings())
    engines.append(sync)
    app = make_app(duty_store, api, "duty", sync=sync, start_screen="search")
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(OpenCase(entry.case_id, [entry.case_id]))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case_id == entry.case_id
        header = screen.query_one("#case-header", TextLines)
        # either still the directory entry, or already the full record: never blank, never an error
        assert entry.name in text_of(header) or entry.family_name.upper() in text_of(header)

        await wait_until(pilot, lambda: "fetching" not in text_of(header), what="the case to be fetched")
        case = duty_store.case(entry.case_id)
        assert case is not None
        shown = text_of(header)
        assert f"{case.value.person.given_name} {case.value.person.family_name.upper()}" in shown
        for flag in case.value.flags:
            assert flag.label in shown
        await wait_until(pilot, lambda: screen.query_one(ChronologyList).count > 0, what="the chronology")
        assert screen.query_one(ChronologyList).count == duty_store.chronology_count(entry.case_id)
        assert "Who to call" in text_of(screen.query_one("#case-contacts", TextLines))
