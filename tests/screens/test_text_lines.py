"""TextLines: the case screen's header and panels, drawn line by line without a Static's content pipeline."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from screens.widgets.text_lines import TextLines
from tests.tui.helpers import watch_layouts


class _App(App[None]):
    CSS = "#cut { width: 12; height: 2; } #wrapped { width: 12; height: 2; } #grows { width: 20; }"

    def compose(self) -> ComposeResult:
        yield TextLines(Text("a long first line\nshort\nthird, not shown"), id="cut")
        yield TextLines("one two three four five six", wrap=True, id="wrapped")
        yield TextLines("one\ntwo", id="grows")


def _shown(widget: TextLines) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_lines_are_cut_to_the_width_and_the_last_says_when_there_is_more() -> None:
    app = _App()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert _shown(app.query_one("#cut", TextLines)) == ["a long firs…", "short…      "]  # a third line
        assert _shown(app.query_one("#wrapped", TextLines)) == ["one two     ", "three four… "]
        grows = app.query_one("#grows", TextLines)
        assert grows.size.height == 2 and _shown(grows) == ["one".ljust(20), "two".ljust(20)]


async def test_an_update_redraws_without_a_layout() -> None:
    app = _App()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one("#cut", TextLines)
        layouts = watch_layouts(app.screen)
        widget.update(Text("new", style="bold"))
        await pilot.pause()
        assert _shown(widget) == ["new         ", "            "]
        assert widget.render_line(0).cell_length == 12 and widget.text.plain == "new"
        assert True not in layouts
        # what the screen shows is what was drawn
        assert "new" in app.screen._compositor.render_update(full=True).render_segments(app.console)
