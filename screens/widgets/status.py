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
            self.update(self.describe(state))

    def on_mount(self) -> None:
        self.update(self.describe(self.state))

    @staticmethod
    def describe(state: SyncState) -> Text:
        text = Text()
        if not state.signed_in:
            text.append("● signed out", style="bold red")
        elif state.online:
            text.append("● online", style="bold green")
        else:
            text.append("○ offline — working from this device", style="bold yellow")
        text.append(f"   {state.pending} unsent")
        if state.failed:
            text.append(f" ({state.failed} retrying)", style="yellow")
        if state.conflicts:
            text.append(f"   {state.conflicts} conflict{'s' if state.conflicts != 1 else ''} to resolve",
                        style="bold red")
        if state.phase and state.total:
            filled = int(20 * min(state.done, state.total) / state.total)
            text.append(f"   syncing {state.phase} [{'█' * filled}{'░' * (20 - filled)}] {state.done}/{state.total}")
        elif state.last_sync:
            text.append(f"   synced {format.as_of(state.last_sync).removeprefix('as of ')}")
        else:
            text.append("   not synced yet")
        return text
