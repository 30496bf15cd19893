"""The line at the foot of every screen: online or not, unsent work, conflicts, last sync."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from screens import format


@dataclass(frozen=True)
class SyncState:
    online: bool = False
    signed_in: bool = True
    pending: int = 0
    failed: int = 0
    conflicts: int = 0
    last_sync: str | None = None
    phase: str | None = None  # "caseload", "team", "directory" during a sync
    done: int = 0
    total: int = 0


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self) -> None:
        super().__init__("", classes="status-line")
        self.state = SyncState()

    def show(self, state: SyncState) -> None:
        if state != self.state:
            self.state = state
            # one line whatever it says: a layout here would arrange the whole screen again, and sync events
            # arrive while keys are pressed (every few hundred ms through a first sync on a slow network)
            self.update(self.describe(state, self._palette()), layout=False)

    def on_mount(self) -> None:
        # a screen shown for the first time mounts its line late: start from the App's current state,
        # not the default, or it says "0 unsent" until the next sync event
        current = getattr(self.app, "sync_state", None)
        if isinstance(current, SyncState):
            self.state = current
        self.update(self.describe(self.state, self._palette()))

    def _palette(self) -> dict[str, str]:
        theme = self.app.current_theme
        return {"ok": theme.success or "green", "warn": theme.warning or "yellow", "bad": theme.error or "red"}

    @staticmethod
    def describe(state: SyncState, palette: dict[str, str]) -> Text:
        text = Text()
        if not state.signed_in:
            text.append("● signed out — sign in to send and receive", style=f"bold {palette['bad']}")
        elif state.online:
            text.append("● online", style=f"bold {palette['ok']}")
        else:
            text.append("○ offline — working from this device", style=f"bold {palette['warn']}")
        text.append(f"   {state.pending} unsent")
        if state.failed:
            text.append(f" ({state.failed} retrying)", style=palette["warn"])
        if state.conflicts:
            text.append(f"   {state.conflicts} conflict{'s' if state.conflicts != 1 else ''} to resolve",
                        style=f"bold {palette['bad']}")
        if state.phase and state.total:
            filled = int(20 * min(state.done, state.total) / state.total)
            text.append(f"   syncing {state.phase} [{'█' * filled}{'░' * (20 - filled)}] {state.done}/{state.total}")
        elif state.last_sync:
            text.append(f"   synced {format.as_of(state.last_sync).removeprefix('as of ')}")
        else:
            text.append("   not synced yet")
        return text
