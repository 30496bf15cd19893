"""Typing in a search or filter box repaints the box, the count and the rows; it lays no screen out again (at
160×50 that was 3-8 ms of every keystroke). A query wider than the box still keeps its cursor in view."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import Input

from screens.search import ResultList
from tests.tui.helpers import make_app


def asked_for_layout(*widgets: Widget) -> list[str]:
    """From now on, the ids of these widgets each time one asks for a layout."""
    asked: list[str] = []
    for widget in widgets:
        refresh = widget.refresh

        def spy(*regions: Any, _widget: Widget = widget, _refresh: Any = refresh, **kwargs: Any) -> Any:
            if kwargs.get("layout"):
                asked.append(str(_widget.id))
            return _refresh(*regions, **kwargs)

        widget.refresh = spy  # type: ignore[method-assign]
    return asked


async def test_typing_a_search_lays_nothing_out(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker", start_screen="search")
    async with app.run_test(size=(160, 50)) as pilot:
        box = app.screen.query_one("#search-query", Input)
        asked = asked_for_layout(box, app.screen.query_one("#search-info"))
        await pilot.press(*"smith")
        await pilot.pause()
        assert box.value == "smith" and app.screen.query_one(ResultList).count >= 1
        assert asked == []


async def test_typing_a_caseload_filter_lays_nothing_out(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("slash")
        await pilot.pause()
        box = app.screen.query_one("#caseload-filter", Input)
        title = app.screen.query_one("#caseload-title")
        asked = asked_for_layout(box, title)
        await pilot.press(*"cp")
        await pilot.pause()
        assert box.value == "cp" and "showing" in str(title.render())
        assert asked == []


async def test_a_query_wider_than_its_box_keeps_the_cursor_in_view(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker", start_screen="search")
    async with app.run_test(size=(80, 24)) as pilot:
        box = app.screen.query_one("#search-query", Input)
        typed = "flat 12 the old rectory lane near the church green " * 2
        await pilot.press(*typed.replace(" ", "_"))  # one key a character; "_" keeps each a plain key
        await pilot.pause()
        assert box.value == typed.replace(" ", "_")
        shown = box.render_line(0).text
        assert box.scroll_x > 0
        assert typed.replace(" ", "_").rstrip("_")[-20:] in shown, shown
