"""A keyboard list drawn through Textual's Line API.

Only the rows on screen are rendered, so moving the cursor or swapping in a
list of 5,000 or 100,000 rows costs the same: one ``render_line`` per visible
row. Rows come from a renderer function, so the data can stay in the store
and be read a window at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from screens.keys import bind
from screens.widgets.cell_scrollbar import CellScrollBar
from screens.widgets.plain_box import PlainBoxCache

# (index, width, style_for) → the row's segments, at most ``width`` cells
RowRenderer = Callable[[int, int, Callable[[str], Style]], list[Segment]]


def _bar_cells(bar: ScrollBar) -> list[Segment]:
    """The cells of a scrollbar as ``ScrollBar._render_bar`` draws them with its figures now, colours aside."""
    window = bar.window_size if bar.window_size < bar.window_virtual_size else 0
    drawn = bar.renderer.render_bar(size=bar.size.height, virtual_size=ceil(bar.window_virtual_size),
                                    window_size=ceil(window), position=bar.position)
    return drawn.segments


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
        self._styles_cache = PlainBoxCache()
        self._count = 0
        self._renderer: RowRenderer | None = None
        self._cursor = 0
        self._styles: dict[str, Style] = {}
        self._frame: tuple[Style, int, int] | None = None
        self.empty_text = empty_text

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget.vertical_scrollbar (Textual 8.2, pinned), making a CellScrollBar: drawn a cell at a time
        if self._vertical_scrollbar is None:
            bar = self._vertical_scrollbar = CellScrollBar(vertical=True, name="vertical",
                                                           thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # --- data -------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    @property
    def cursor(self) -> int:
        return self._cursor

    def set_rows(self, count: int, renderer: RowRenderer, *, cursor: int | None = None,
                 redraw_from: int = 0) -> None:
        """Swap in new rows; the cursor stays where it was unless told otherwise.

        No layout of the screen: ``virtual_size`` is a layout reactive, and setting it re-lays out and repaints
        every widget on the screen (~10 ms at 160×50), where new rows need only this list and its scrollbar.
        The scrollbar is updated as Textual does after a resize; if it has to appear or go, that still asks for
        a layout. ``redraw_from``: the rows above this one are as they were, so only it and those below are
        redrawn (the cursor must stay where it is for that)."""
        size = Size(self.scrollable_content_region.width, count)
        if size != self.virtual_size:
            if self.is_mounted and self.container_size and size.width == self.virtual_size.width:
                self.set_reactive(Widget.virtual_size, size)
                self._update_scrollbars(size)
            else:  # not laid out yet, or a new width: the layout works the scrollbars out
                self.virtual_size = size
                redraw_from = 0
        self._count = count
        self._renderer = renderer
        target = self._cursor if cursor is None else cursor
        self._cursor = max(0, min(target, count - 1)) if count else 0
        if cursor is not None:
            redraw_from = 0
            self.scroll_to(y=max(0, self._cursor - self.scrollable_content_region.height // 2), animate=False,
                           immediate=True)
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        first = max(redraw_from - top, 0)
        if first == 0:
            self.refresh()
        elif first < height:
            self.refresh(Region(0, first, self.size.width, height - first))

    def _update_scrollbars(self, size: Size) -> None:
        """Widget._scroll_update for a new row count, redrawing the scrollbar only if its thumb moved."""
        self._refresh_scrollbars()  # a scrollbar that comes or goes asks for a layout here
        if self.show_horizontal_scrollbar:  # never expected: rows are as wide as the list
            self._scroll_update(size)
            return
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            self._set_scrollbar(virtual=size.height, window=self.container_size.height)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _set_scrollbar(self, *, virtual: int | None = None, window: int | None = None,
                       position: float | None = None) -> None:
        """Give the vertical scrollbar new figures, redrawing it only if that changes how it looks.

        Textual redraws the whole bar on any change, ~0.1 ms a row at 45 rows: more than a screen of rows
        costs when they come from a cache. A row more or fewer in 5,000, or a scroll by a row, seldom moves the
        thumb by the eighth of a cell it is drawn to, and a bigger change redraws a cell or two."""
        bar = self.vertical_scrollbar
        before = _bar_cells(bar)
        if virtual is not None:
            bar.set_reactive(ScrollBar.window_virtual_size, virtual)
        if window is not None:
            bar.set_reactive(ScrollBar.window_size, window)
        if position is not None:
            bar.set_reactive(ScrollBar.position, bar.validate_position(position))
        after = _bar_cells(bar)
        if len(after) != len(before):
            bar.refresh()
            return
        changed = [Region(0, y, bar.size.width, 1) for y, (old, new) in enumerate(zip(before, after)) if old != new]
        if changed:
            bar.refresh(*changed)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # ScrollView.watch_scroll_y, but the scrollbar is redrawn only if its thumb moved
        if self.show_vertical_scrollbar:
            self._set_scrollbar(position=new_value)
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

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
