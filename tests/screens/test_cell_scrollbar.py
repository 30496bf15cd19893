"""CellScrollBar: a list's scrollbar drawn a cell at a time is, cell for cell, what Textual's ScrollBar draws."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.widget import Widget

from screens.widgets.cell_scrollbar import CellScrollBar
from screens.widgets.line_list import LineList


def _row(index: int, width: int, style_for: object) -> list[Segment]:
    return [Segment(f"row {index}".ljust(width)[:width], Style(bold=index % 2 == 0))]


class _App(App[None]):
    CSS = """
    #plain { height: 20; }
    #styled { height: 13; scrollbar-color: red; scrollbar-background: #202040; scrollbar-size-vertical: 2; }
    """

    def compose(self) -> ComposeResult:
        yield LineList(id="plain")
        yield LineList(id="styled")


def _ours(bar: ScrollBar) -> list[list[Segment]]:
    bar._styles_cache.clear()
    return [list(strip) for strip in bar.render_lines(Region(0, 0, *bar.outer_size))]


def _textuals(bar: ScrollBar) -> list[list[Segment]]:
    """The same bar drawn as ScrollBar draws it: the whole renderable, then Textual's own line cache."""
    mine = bar._styles_cache
    try:
        bar._styles_cache = StylesCache()
        bar._render_content()
        return [list(strip) for strip in bar._styles_cache.render(
            bar.styles, bar.region.size, *bar.background_colors, lambda y: Widget.render_line(bar, y),
            bar.get_line_filters(), None, None, content_size=bar.content_region.size, padding=bar.styles.padding,
            crop=Region(0, 0, *bar.outer_size), opacity=bar.opacity, ansi_theme=bar.app.ansi_theme,
            native_ansi=bar.app.native_ansi_color)]
    finally:
        bar._styles_cache = mine


async def test_each_cell_is_what_textuals_scrollbar_draws() -> None:
    app = _App()
    async with app.run_test(size=(40, 40)) as pilot:
        checked = 0
        for name in ("#plain", "#styled"):
            lines = app.query_one(name, LineList)
            for count in (5, 21, 50, 333, 5000):
                lines.set_rows(count, _row, cursor=0)
                for target in (0, 1, count // 3, count // 2 + 7, count - 1):
                    lines.move_to(target)
                    await pilot.pause()
                    bar = lines.vertical_scrollbar
                    assert isinstance(bar, CellScrollBar)
                    ours, textuals = _ours(bar), _textuals(bar)
                    assert ours == textuals, (name, count, target)
                    assert len(ours) == bar.outer_size.height
                    checked += 1
        # the thumb was drawn (reverse or a partial-block glyph), not only the track
        assert checked == 50


async def test_a_thumb_that_moves_redraws_few_cells() -> None:
    app = _App()
    async with app.run_test(size=(40, 40)) as pilot:
        lines = app.query_one("#plain", LineList)
        lines.set_rows(5000, _row, cursor=0)
        await pilot.pause()
        bar = lines.vertical_scrollbar
        assert isinstance(bar, CellScrollBar)
        before = _ours(bar)
        assert any(seg.style is not None and (seg.style.reverse or seg.text.strip()) for seg in before[0])
        lines.move_to(2500)
        await pilot.pause()
        after = _ours(bar)
        assert after != before and after == _textuals(bar)
        assert len(bar._drawn) <= 5  # a cell kind is drawn once, whichever rows show it
