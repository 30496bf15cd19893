"""The base of the main screens: built once, kept mounted, shown again without restyling.

Textual re-applies the whole stylesheet to every widget of a screen each time it is
pushed (``ScreenResume.refresh_styles``), in case the theme changed while it was
hidden. That was a third of the cost of opening a case. A kept screen's widgets
restyle themselves when their own classes change, hidden or not, so the only thing
that can leave them stale is a change at the App: its theme, stylesheet or classes.
This screen restyles on resume only when one of those moved since it last did.

It also keeps new data waiting while it is hidden: a sync that changes records
would otherwise have every mounted screen re-read them, on the event loop, while
the user presses keys on another. ``when_shown`` runs a re-read at once for the
screen on top, and otherwise once, when the screen is next shown or the App is
idle, however many changes came meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Self, TypeVar

from textual import events
from textual.geometry import Region
from textual.screen import Screen

ResultType = TypeVar("ResultType")


class KeptScreen(Screen[ResultType]):
    """A Screen installed once and pushed many times."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._styled_for: Hashable | None = None
        self._deferred: dict[str, Callable[[], object]] = {}
        self._drawn_look: Hashable | None = None

    def _app_style_state(self) -> Hashable:
        app = self.app
        # _css_update_count moves on every theme change and stylesheet reload (Textual 8.2; pinned)
        return (app._css_update_count, frozenset(app.classes), app.current_theme.name, app.app_focus)

    def on_mount(self) -> None:
        # mounting styled every widget with the stylesheet as it is now
        self._styled_for = self._app_style_state()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # runs before Screen's own handler (subclass first in the MRO), which then skips the restyle
        state = self._app_style_state()
        if event.refresh_styles and state == self._styled_for:
            event.refresh_styles = False
        self._styled_for = state
        self.catch_up()

    def _own_look(self) -> Hashable:
        """What the screen's own lines (its background, under the widgets) are drawn from."""
        styles = self.styles
        return (self.size, styles.background, styles.color, styles.tint, styles.background_tint,
                self._app_style_state())

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if repaint and not (regions or layout or recompose) and self.is_mounted:
            look = self._own_look()
            if look == self._drawn_look:
                # Textual asks this of both screens on every switch, though nothing about either screen's own
                # background changed: re-rendering its 160×50 blank cells cost ~1.5 ms of every switch. The
                # screen coming up needs every cell sent to the terminal again; the one going under needs
                # nothing (asked to repaint, it would pass its whole area on to the screen coming up, as a region
                # to render afresh). Which is which is settled once the push or pop that asked is over.
                self.call_next(self._repaint_if_on_top)
                return self
            self._drawn_look = look
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _repaint_if_on_top(self) -> None:
        """Every cell to the terminal again, drawn from the widgets' cached lines, this screen's own included:
        Widget._set_dirty without clearing the line cache."""
        if self.on_top and self.is_mounted:
            region = self.outer_size.region
            self._dirty_regions.add(region)
            self._repaint_regions.add(region)
            self._repaint_required = True
            self.check_idle()

    # --- data that changed while hidden -------------------------------------------------------------------

    def when_shown(self, key: str, reread: Callable[[], object], *, at_once: bool = False) -> None:
        """Run ``reread`` now if this screen is on top (or ``at_once``); else once it is shown again or the App
        is idle. A later call with the same ``key`` replaces a waiting one (each re-read reads whatever is
        newest)."""
        if at_once or self.on_top:
            self.forget(key)
            reread()
        else:
            self._deferred[key] = reread

    @property
    def on_top(self) -> bool:
        # not Screen.is_current, which also holds for the screen just below the top one
        return self.is_attached and self.app.screen is self

    def forget(self, key: str) -> None:
        """Drop a waiting re-read: the screen has just read everything it would have."""
        self._deferred.pop(key, None)

    @property
    def behind(self) -> bool:
        """Whether a re-read is waiting."""
        return bool(self._deferred)

    def catch_up(self) -> None:
        """Run the waiting re-reads."""
        waiting, self._deferred = self._deferred, {}
        for reread in waiting.values():
            reread()
