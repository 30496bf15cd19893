"""A few lines of rich Text, drawn through the Line API: the case screen's header and panels.

A ``Static`` turns its text into Textual's ``Content`` and lays it out again on
every update: about half a millisecond however few lines it has, and the case
screen changes five of them on every ``]``. This widget renders each line once
per update (and width) into a strip, and ``render_line`` hands the strips back.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from screens.widgets.plain_box import PlainBoxCache


class TextLines(Widget):
    """Lines of text, each cut to the width with an ellipsis (``wrap=True`` wraps them instead). If there are
    more lines than the height holds, the last one shown ends with an ellipsis."""

    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, text: Text | str = "", *, wrap: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._styles_cache = PlainBoxCache()
        self._text = Text(text) if isinstance(text, str) else text
        self._wrap = wrap
        self._strips: list[Strip] = []
        self._drawn_for: tuple[int, int, Style] | None = None  # (width, height, base style) of the strips
        self._frame: tuple[list[Strip], int, Style] | None = None  # (strips, width, base) of this frame

    @property
    def text(self) -> Text:
        return self._text

    def update(self, text: Text | str) -> None:
        """Show new text. The height stays what the stylesheet gives: no layout of the screen."""
        self._text = Text(text) if isinstance(text, str) else text
        self._drawn_for = None
        self.refresh()

    def _lines(self, width: int) -> list[Text]:
        console = self.app.console
        if self._wrap:
            return list(self._text.wrap(console, width, overflow="ellipsis"))
        lines = self._text.split("\n", allow_blank=True)
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return list(lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(max(width, 1)))

    def _draw(self, width: int, height: int, base: Style) -> list[Strip]:
        if self._drawn_for == (width, height, base):
            return self._strips
        lines = self._lines(width)
        if height and len(lines) > height:  # more than fits: say so at the end of the last line shown
            lines = lines[:height]
            last = lines[-1]
            last.rstrip()  # a wrapped line keeps the blank it broke at
            last.append("…")
            last.truncate(width, overflow="ellipsis")
        console = self.app.console
        self._strips = [
            Strip(Segment.apply_style(line.render(console, end=""), style=base)).adjust_cell_length(width, base)
            for line in lines
        ]
        self._drawn_for = (width, height, base)
        return self._strips

    def render_lines(self, crop: Region) -> list[Strip]:
        # rich_style walks every ancestor's styles and content_region works out the box model: once a frame,
        # not once a line
        self._frame = self._frame_lines()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_lines(self) -> tuple[list[Strip], int, Style]:
        width, height = self.content_region.size
        base = self.rich_style
        return self._draw(width, height, base), width, base

    def render_line(self, y: int) -> Strip:
        strips, width, base = self._frame or self._frame_lines()
        return strips[y] if y < len(strips) else Strip.blank(width, base)

    def notify_style_update(self) -> None:
        self._drawn_for = None  # a new theme or class: the base style changed
        super().notify_style_update()
