"""Help, generated from the keymap in force (so a rebound key shows as rebound)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SECTIONS = {
    "app": "Everywhere",
    "list": "In any list",
    "caseload": "My cases",
    "case": "A case",
    "search": "Search",
}


class HelpScreen(ModalScreen[None]):
    """``rows`` are (action id, keys as shown, what it does)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 90%; max-width: 100; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", show=False)]

    def __init__(self, rows: Sequence[tuple[str, str, str]], problems: Sequence[str] = ()) -> None:
        super().__init__()
        self.rows = rows
        self.problems = problems

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table(title="casework keys  (escape closes; rebind them in your keybindings.toml)",
                      expand=True, show_edge=False, box=None, padding=(0, 2))
        table.add_column("keys", style="bold", no_wrap=True)
        table.add_column("does")
        table.add_column("action id", style="dim", no_wrap=True)
        current = None
        for action_id, keys, description in sorted(self.rows, key=lambda r: (list(SECTIONS).index(
                r[0].split(".")[0]) if r[0].split(".")[0] in SECTIONS else 99, r[0])):
            section = action_id.split(".")[0]
            if section != current:
                current = section
                table.add_row("", "", "")
                table.add_row(f"[reverse] {SECTIONS.get(section, section)} [/]", "", "")
            table.add_row(keys, description, action_id)
        for problem in self.problems:
            table.add_row("", f"[yellow]{problem}[/]", "")
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
