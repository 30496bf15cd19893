"""Textual's vertical scrollbar, drawn a cell at a time.

``ScrollBar`` draws through the Rich render pipeline: any cell of it that needs
redrawing (the thumb moved by an eighth of a cell) renders the whole bar again,
and every line then goes through ``StylesCache.render_line``. For a list's bar
at 45 rows that was 0.5-1 ms on each key that moves the thumb: a page down, the
next case (a new chronology length). A bar has at most five kinds of cell (the
track above and below the thumb, the thumb, the thumb's two ends), so this one
works out which kind each row is from the same figures, draws each kind once
through Textual's own pipeline and reuses it. What it draws is what
``ScrollBar`` draws, cell for cell (tests/screens/test_cell_scrollbar.py).
"""

from __future__ import annotations

from rich.color import Color
from rich.console import RenderableType
from rich.segment import Segment, Segments
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.visual import Visual, visualize

from screens.widgets.plain_box import PlainBoxCache

# ScrollBarRender's own fallbacks, for a style without colours
_BACK = Color.parse("#555555")
_BAR = Color.parse("bright_magenta")
_KEPT_CELLS = 32  # drawn cells kept: a bar has five kinds, hover and grab add their own colours


class CellScrollBar(ScrollBar):
    """A vertical ``ScrollBar`` whose rows are drawn one cell kind at a time (see the module's docstring)."""

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        # no border or padding on a scrollbar: its lines need not go through the box model
        self._styles_cache = PlainBoxCache()
        self._cells_for: tuple[object, ...] | None = None
        self._cells: list[Segment] = []
        self._drawn: dict[tuple[object, ...], Strip] = {}
        self._frame_bar: RenderableType | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # ScrollBar.render works the colours out afresh (~10 µs): once a frame, not once a row
        self._frame_bar = self.render()
        try:
            return super().render_lines(crop)
        finally:
            self._frame_bar = None

    def render_line(self, y: int) -> Strip:
        bar = self._frame_bar if self._frame_bar is not None else self.render()
        if not self.vertical or not isinstance(bar, ScrollBarRender) or not isinstance(bar.style, Style):
            return super().render_line(y)
        width, height = self.size
        figures = (width, height, bar.virtual_size, bar.window_size, bar.position, bar.style)
        if figures != self._cells_for:
            self._cells = list(bar.render_bar(
                size=height, virtual_size=bar.virtual_size, window_size=bar.window_size, position=bar.position,
                thickness=width, vertical=True, back_color=bar.style.bgcolor or _BACK,
                bar_color=bar.style.color or _BAR).segments)
            self._cells_for = figures
        if y >= len(self._cells):
            return super().render_line(y)
        look = self.visual_style
        key = (width, self._cells[y], look)
        strip = self._drawn.get(key)
        if strip is None:
            if len(self._drawn) >= _KEPT_CELLS:
                self._drawn.clear()
            # the one cell through the pipeline ScrollBar's whole bar goes through (Widget._render_content)
            visual = visualize(self, Segments([self._cells[y]], new_lines=True))
            strip = self._drawn[key] = Visual.to_strips(self, visual, width, 1, look)[0]
        return strip
