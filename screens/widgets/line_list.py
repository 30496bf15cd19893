"""A keyboard list drawn through Textual's Line API.

Only the rows on screen are rendered, so moving the cursor or swapping in a
list of 5,000 or 100,000 rows costs the same: one ``render_line`` per visible
row. Rows come from a renderer function, so the data can stay in the store
and be read a window at a time.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.keys import bind

# (index, width, style_for) → the row's segments, at most ``width`` cells
RowRenderer = Callable[[int, int, Callable[[str], Style]], list[Segment]]


def cells(parts: list[tuple[str, int, Style]], width: int) -> list[Segment]:
    """Segments for fixed-width columns: each (text, column width, style); the last column takes the rest."""
    segments: list[Segment] = []
    used = 0
    for n, (text, column, style) in enumerate(parts):
        room = width - used if n == len(parts) - 1 or column <= 0 else min(column, width - used)
        if room <= 0:
            break
        clipped = text if len(text) <= room else text[: max(room - 1, 0)] + "…"
        segments.append(Segment(clipped.ljust(room), style))
        used += room
    if used < width:
        segments.append(Segment(" " * (width - used)))
    return segments


class LineList(ScrollView, can_focus=True):
    """A cursor over ``count`` rows drawn by a renderer."""

    BINDINGS = [
        bind("list.down", "cursor_down", "Down", show=False),
        bind("list.up", "cursor_up", "Up", show=False),
        bind("list.first", "first", "First", show=False),
        bind("list.last", "last", "Last", show=False),
        bind("list.page_down", "page_down", "Page down", show=False),
        bind("list.page_up", "page_up", "Page up", show=False),
        bind("list.open", "select", "Open"),
    ]
    COMPONENT_CLASSES = {"line-list--cursor", "line-list--empty"}
    # the cursor's look for every list; a screen's own stylesheet may override it. Kept here, not in one
    # screen's .tcss, so a list looks the same whichever screens were shown before it
    DEFAULT_CSS = """
    LineList { height: 1fr; }
    LineList > .line-list--cursor { background: $accent 40%; }
    LineList:focus > .line-list--cursor { background: $accent; color: $text; }
    """

    class Highlighted(Message):
        def __init__(self, line_list: LineList, index: int) -> None:
            super().__init__()
            self.line_list = line_list
            self.index = index

        @property
        def control(self) -> LineList:
            return self.line_list

    class Selected(Highlighted):
        pass

    def __init__(self, *, empty_text: str = "Nothing here.", name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._count = 0
        self._renderer: RowRenderer | None = None
        self._cursor = 0
        self._styles: dict[str, Style] = {}
        self._frame: tuple[Style, int, int] | None = None
        self.empty_text = empty_text

    # --- data -------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    @property
    def cursor(self) -> int:
        return self._cursor

    def set_rows(self, count: int, renderer: RowRenderer, *, cursor: int | None = None) -> None:
        """Swap in new rows; the cursor stays where it was unless told otherwise."""
        self._count = count
        self._renderer = renderer
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        target = self._cursor if cursor is None else cursor
        self._cursor = max(0, min(target, count - 1)) if count else 0
        self.refresh()
        if cursor is not None:
            self.scroll_to(y=max(0, self._cursor - self.scrollable_content_region.height // 2), animate=False,
                           immediate=True)

    def refresh_rows(self) -> None:
        """Redraw after the data behind the rows changed in place."""
        self.refresh()

    def style_for(self, name: str) -> Style:
        """The rich style of a component class, cached (cleared when the theme changes)."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    # --- drawing ------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # rich_style walks every ancestor and scrollable_content_region works out the box model: once a
        # frame, not once a row (they were most of the cost of a redraw)
        self._frame = (self.rich_style, self.scrollable_content_region.width, self.scroll_offset.y)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        base, width, scroll_y = self._frame or (self.rich_style, self.scrollable_content_region.width,
                                                self.scroll_offset.y)
        index = scroll_y + y
        if self._count == 0 and y == 0:
            return Strip([Segment(self.empty_text[:width].ljust(width), base + self.style_for("line-list--empty"))])
        if index >= self._count or self._renderer is None:
            return Strip.blank(width, base)
        segments = self._renderer(index, width, self.style_for)
        if index == self._cursor:
            cursor_style = self.style_for("line-list--cursor")
            segments = list(Segment.apply_style(segments, post_style=cursor_style))
        return Strip(Segment.apply_style(segments, style=base), width).crop(0, width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._count)

    # --- cursor -------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self._count:
            return
        index = max(0, min(index, self._count - 1))
        if index == self._cursor:
            return
        old = self._cursor
        self._cursor = index
        self._refresh_index(old)
        self._refresh_index(index)
        self.scroll_to_region(Region(0, index, 1, 1), animate=False, immediate=True)
        self.post_message(self.Highlighted(self, index))

    def _refresh_index(self, index: int) -> None:
        _scroll_x, scroll_y = self.scroll_offset
        if scroll_y <= index < scroll_y + self.scrollable_content_region.height:
            self.refresh(Region(0, index - scroll_y, self.size.width, 1))

    def action_cursor_down(self) -> None:
        self.move_to(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self._cursor - 1)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self._count - 1)

    def action_page_down(self) -> None:
        self.move_to(self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self.move_to(self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if self._count:
            self.post_message(self.Selected(self, self._cursor))
