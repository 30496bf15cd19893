"""Saving a draft once typing goes quiet: shared by the quick note box and the full note editor."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

DRAFT_DELAY = 0.25  # seconds of quiet typing before the draft is written


class QuietTimer:
    """Calls ``save`` once no keystroke has come for ``delay`` seconds; each keystroke starts it again."""

    def __init__(self, owner: MessagePump, save: Callable[[], object], delay: float = DRAFT_DELAY) -> None:
        self._owner = owner
        self._save = save
        self._delay = delay
        self._timer: Timer | None = None

    @property
    def waiting(self) -> bool:
        """True while typed text has not been saved yet."""
        return self._timer is not None

    def restart(self) -> None:
        self.cancel()
        self._timer = self._owner.set_timer(self._delay, self._save)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
