"""An Input for typing as you search or filter: a keystroke repaints the box and lays nothing out."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class TypingInput(Input):
    """Textual's Input sets its virtual size to the width of its text on every change of value, and
    ``virtual_size`` is a layout reactive on Widget: each keystroke laid the whole screen out again (3-8 ms at
    160×50 on the search screen, more than the search). The box's own size comes from CSS (Input's is 100% by
    3, never auto), and its scrollbar is 0 wide, so the text's width changes only how far the box scrolls to
    keep the cursor in view, which Input works out from ``virtual_size`` itself. Here it repaints, and the
    screen's layout is left alone. (Textual 8.2; pinned.)"""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)
