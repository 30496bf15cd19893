"""Making the App, reading what the screens show as text, and waiting a bounded time for background work."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.color import ColorSystem
from rich.control import Control
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from client.api import CaseAPI
from client.store import Store
from client.sync import SyncEngine, SyncSettings
from screens.widgets.line_list import LineList
from screens.widgets.status import StatusLine
from screens.widgets.text_lines import TextLines


def text_of(widget: Static | TextLines) -> str:
    """The plain text a Static or TextLines shows (markup and styles dropped)."""
    if isinstance(widget, TextLines):
        return widget.text.plain
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    if isinstance(content, str):
        return Text.from_markup(content).plain
    return str(content)


def row_text(line_list: LineList, index: int, width: int = 200) -> str:
    """Row ``index`` of a LineList as its renderer draws it, trailing blanks dropped."""
    assert line_list._renderer is not None
    return "".join(segment.text for segment in line_list._renderer(index, width, line_list.style_for)).rstrip()


def rows(line_list: LineList, limit: int = 50, width: int = 200) -> list[str]:
    return [row_text(line_list, n, width) for n in range(min(line_list.count, limit))]


def status_text(pilot: Pilot) -> str:
    return text_of(pilot.app.screen.query_one(StatusLine))


async def wait_until(pilot: Pilot, condition: Callable[[], object], timeout: float = 10.0,
                     what: str = "the condition") -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


def fast_settings(**overrides: Any) -> SyncSettings:
    values: dict[str, Any] = dict(sync_interval=30.0, probe_interval=0.2, backoff_base=0.0, invalid_retry=0.0,
                                  concurrency=4)
    values.update(overrides)
    return SyncSettings(**values)


def make_app(store: Store, api: CaseAPI, username: str, *, sync: SyncEngine | None = None,
             start_screen: str = "caseload", keymap: Any = None) -> Any:
    from tui import keymap as keymap_module
    from tui.app import CaseworkApp

    return CaseworkApp(store=store, api=api, username=username,
                       keymap=keymap if keymap is not None else keymap_module.load(None),
                       sync=sync, start_screen=start_screen)


def _sgr(style: Style, system: ColorSystem) -> str:
    """``style``'s escape codes for a terminal of ``system``, worked out afresh (Rich's own ``_make_ansi_codes``
    keeps the first answer on the style, whatever colour system asks next)."""
    codes: list[str] = []
    attributes = style._attributes & style._set_attributes
    codes += [style._style_map[bit] for bit in range(13) if attributes & (1 << bit)]
    if style.color is not None:
        codes += style.color.downgrade(system).get_ansi_codes()
    if style.bgcolor is not None:
        codes += style.bgcolor.downgrade(system).get_ansi_codes(foreground=False)
    return ";".join(codes)


def terminal_output(app: App[Any]) -> str:
    """The whole screen as the app's own terminal would get it: every cell's escape codes for the app's colour
    system. Worked out here, segment by segment, not with ``render_segments``: Textual keeps a strip's text on
    the strip and Rich a style's codes on the style, for whichever console rendered them first, and both are
    shared between the apps in one process (``Strip.blank`` is an lru_cache), so a 16- or 256-colour app could
    be shown the codes a truecolor app's test had made."""
    update = app.screen._compositor.render_update(full=True)
    system = app.console._color_system or ColorSystem.TRUECOLOR
    out: list[str] = []
    for y, line in enumerate(update.strips, update.region.y):
        out.append(Control.move_to(update.region.x, y).segment.text)
        for strip in line:
            for segment in strip:
                codes = _sgr(segment.style, system) if segment.style is not None else ""
                out.append(f"\x1b[{codes}m{segment.text}\x1b[0m" if codes else segment.text)
        out.append("\n")
    return "".join(out)


def watch_layouts(screen: Screen[Any]) -> list[bool]:
    """From now on, each layout pass of ``screen`` appends whether a layout was asked for (True: the whole screen
    was laid out and repainted), to the list returned."""
    layouts: list[bool] = []
    refresh_layout = screen._refresh_layout

    def spy(*args: Any, **kwargs: Any) -> None:
        layouts.append(screen._layout_required)
        refresh_layout(*args, **kwargs)

    screen._refresh_layout = spy  # type: ignore[method-assign]
    return layouts


def watch_frames(app: App[Any], on_frame: Callable[[str], None]) -> None:
    """From now on, ``on_frame`` gets the text of each frame the app writes to its terminal."""
    display = app._display

    def written(screen: Screen[Any], update: Any) -> None:
        display(screen, update)
        if update is not None:
            on_frame(update.render_segments(app.console))

    app._display = written  # type: ignore[method-assign]


async def open_case_under_cursor(pilot: Pilot) -> Any:
    """Press enter on the caseload and return the case screen it opened (typed Any: this module does not
    import the screens it reads)."""
    from screens.case import CaseScreen

    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen)
    return screen
