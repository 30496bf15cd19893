"""One line of the keys that work on this screen, worked out once when the screen mounts.

Textual's Footer rebuilds its key widgets on every screen switch and focus change:
about 13 ms of the 40 ms an open-case key press took at 160×50. These keys do not
change while a screen is up (the keymap is fixed for the session), so a single
line of text, drawn once, does the same job.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from screens.widgets.line_list import LineList


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        padding: 0 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__("", classes="key-bar")

    def on_mount(self) -> None:
        self.update(self.describe())

    def _shown_bindings(self) -> list[Binding]:
        screen = self.screen
        owners: list[tuple[object, list[Binding]]] = [(screen, list(getattr(type(screen), "BINDINGS", [])))]
        if screen.query(LineList):
            owners.append((None, list(LineList.BINDINGS)))
        owners.append((self.app, list(getattr(type(self.app), "BINDINGS", []))))
        shown = []
        for owner, bindings in owners:
            for binding in bindings:
                if not isinstance(binding, Binding) or not binding.show:
                    continue
                check = getattr(owner, "check_action", None)
                # an action its owner switches off (a manager's admin keys, say) is not offered
                if check is not None and check(binding.action.split("(")[0], ()) is False:
                    continue
                shown.append(binding)
        return shown

    def describe(self) -> Text:
        keymap: dict[str, str] = getattr(self.app, "_keymap", {}) or {}
        key_style = f"bold {self.app.current_theme.accent or 'yellow'}"
        text = Text()
        seen: set[str] = set()
        for binding in self._shown_bindings():
            if binding.description in seen:
                continue
            seen.add(binding.description)
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            shown = self.app.get_key_display(Binding(keys.split(",")[0], ""))
            text.append(f"{shown}", style=key_style)
            text.append(f" {binding.description}  ")
        return text
