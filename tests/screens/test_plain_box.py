"""PlainBoxCache: the short way through Textual's line cache draws exactly what the long way draws."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from screens.widgets.line_list import LineList
from screens.widgets.plain_box import PlainBoxCache, has_plain_box
from screens.widgets.text_lines import TextLines

ROWS = [f"row {n}" for n in range(30)]


def _row(index: int, width: int, style_for: object) -> list[Segment]:
    return [Segment(ROWS[index].ljust(width)[:width], Style(bold=index % 2 == 0))]


class _App(App[None]):
    CSS = """
    #padded { height: 3; padding: 0 2 0 1; background: $primary-background; }
    #plain { height: 2; background: $boost; }
    #boxed { height: 5; border: round $accent; padding: 1 1; }
    #list { height: 6; }
    #list-boxed { height: 6; border: solid $warning; }
    """

    def compose(self) -> ComposeResult:
        yield TextLines(Text("Name: Test CHILD\nDOB 01/02/2015 (11)", style="bold"), id="padded")
        yield TextLines("one line", id="plain")
        yield TextLines("in a box", id="boxed")
        yield LineList(id="list")
        yield LineList(id="list-boxed")


def _drawn(widget: Widget, cache: StylesCache) -> list[list[Segment]]:
    widget._styles_cache = cache
    return [list(strip) for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]


async def test_lines_drawn_the_short_way_equal_textuals_own() -> None:
    app = _App()
    async with app.run_test(size=(40, 30)) as pilot:
        for name in ("#list", "#list-boxed"):
            app.query_one(name, LineList).set_rows(len(ROWS), _row, cursor=2)
        await pilot.pause()
        plain = {"#padded": True, "#plain": True, "#boxed": False, "#list": True, "#list-boxed": False}
        for name, expected in plain.items():
            widget = app.query_one(name)
            assert has_plain_box(widget) is expected, name
            ours, textuals = _drawn(widget, PlainBoxCache()), _drawn(widget, StylesCache())
            assert ours == textuals, name
            assert len(ours) == widget.outer_size.height and any(seg.text.strip() for line in ours for seg in line)


async def test_a_widget_that_gains_a_border_is_drawn_with_it() -> None:
    app = _App()
    async with app.run_test(size=(40, 30)) as pilot:
        widget = app.query_one("#plain", TextLines)
        widget.styles.border = ("solid", "red")
        widget.styles.height = 3
        await pilot.pause()
        assert not has_plain_box(widget)
        top, middle, _bottom = ("".join(seg.text for seg in line) for line in _drawn(widget, PlainBoxCache()))
        assert top.startswith("┌") and top.endswith("┐") and middle.startswith("│one line")
