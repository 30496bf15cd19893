"""Textual's per-widget line cache, with a short way through for widgets that have no box around their rows.

Every line a widget draws goes through ``StylesCache.render_line``, which works
out borders, outline, padding, tint and opacity for it and copies it into a new
``Strip``: about 20 µs a line, whatever the widget. A list or a panel with none
of those (at most a blank column or two of padding each side) needs only its
row cut to width, so this cache hands that back as it is. Anything else, and any
widget whose styles gain a border or the like later, takes Textual's own path.
The caching of lines and the dirty-line bookkeeping stay Textual's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual._styles_cache import StylesCache
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.geometry import Region, Size, Spacing
    from textual.widget import Widget


def has_plain_box(widget: Widget) -> bool:
    """True if the widget's lines need no more than left/right padding around its content."""
    styles = widget.styles
    padding = styles.padding
    return (
        not padding.top and not padding.bottom
        and not any(edge for edge, _color in styles.border)
        and not any(edge for edge, _color in styles.outline)
        and not styles.tint.a
        and styles.text_opacity == 1.0
        and not (styles.has_rule("hatch") and styles.hatch != "none")
        and widget.opacity == 1.0
        and widget._border_title is None and widget._border_subtitle is None
    )


class PlainBoxCache(StylesCache):
    """A ``StylesCache`` whose lines skip the box model when the widget has no box (``has_plain_box``)."""

    def __init__(self) -> None:
        super().__init__()
        self._plain = False

    def render_widget(self, widget: Widget, crop: Region) -> list[Strip]:
        # decided once a frame: the styles are the same for every line
        self._plain = has_plain_box(widget)
        return super().render_widget(widget, crop)

    def render_line(self, styles: Any, y: int, size: Size, content_size: Size, padding: Spacing,
                    base_background: Any, background: Any, render_content_line: Any, *rest: Any) -> Strip:
        if not self._plain:
            return super().render_line(styles, y, size, content_size, padding, base_background, background,
                                       render_content_line, *rest)
        fill = self.get_inner_outer(base_background, background)[0].rich_style
        content_width = content_size.width
        if y < content_size.height:
            line = render_content_line(y)
            if line.cell_length != content_width:
                line = line.adjust_cell_length(content_width, fill)
        else:
            line = Strip.blank(content_width, fill)
        left, right = padding.left, padding.right
        if not (left or right):
            return line
        segments = [Segment(" " * left, fill)] if left else []
        segments.extend(line)
        if right:
            segments.append(Segment(" " * right, fill))
        return Strip(segments, size.width)
