"""Sign in again, over whatever is on screen: nothing underneath is lost."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class SignInScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with (username, password), or None if the person chose to stay offline."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    #sign-in { width: 64; height: auto; border: round $warning; background: $surface; padding: 1 2; }
    #sign-in Input { margin-bottom: 1; }
    #sign-in-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "stay_offline", "Stay offline")]

    def __init__(self, username: str, reason: str, error: str = "") -> None:
        super().__init__()
        self.username = username
        self.reason = reason
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in"):
            yield Static(f"[b]Sign in again[/b]\n{self.reason}\nYour screen, drafts and unsent work are kept.")
            yield Label("Username")
            yield Input(self.username, id="sign-in-username")
            yield Label("Password")
            yield Input(password=True, id="sign-in-password")
            yield Static(self.error, id="sign-in-error")
            yield Button("Sign in", variant="primary", id="sign-in-button")

    def on_mount(self) -> None:
        self.query_one("#sign-in-password", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "sign-in-username":
            self.query_one("#sign-in-password", Input).focus()
        else:
            self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._submit()

    def _submit(self) -> None:
        username = self.query_one("#sign-in-username", Input).value.strip()
        password = self.query_one("#sign-in-password", Input).value
        if not username or not password:
            self.query_one("#sign-in-error", Static).update("Enter your username and password.")
            return
        self.dismiss((username, password))

    def action_stay_offline(self) -> None:
        self.dismiss(None)
