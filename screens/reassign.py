"""Give tasks to a colleague: type part of a name, a username or a team; enter picks, escape cancels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from client.models import User
from screens.keys import bind
from screens.widgets.line_list import LineList, cells
from screens.widgets.typing_input import TypingInput

_WORD_START = " ._-@"


def candidates(users: Sequence[User], exclude: str | None = None) -> list[User]:
    """The people tasks can go to: active, not admins, and not ``exclude`` (the person giving them)."""
    return [u for u in users if u.active and u.role != "admin" and u.username != exclude]


def fuzzy_score(query: str, text: str) -> int | None:
    """How well ``query`` matches ``text``: None if its letters do not appear in order in it; higher is
    better (a whole-word or leading substring beats scattered letters)."""
    query, text = query.lower(), text.lower()
    if not query:
        return 0
    at = text.find(query)
    if at >= 0:
        word_start = at == 0 or text[at - 1] in _WORD_START
        return 1000 + (500 if word_start else 0) - at
    score, position, previous = 0, -1, -2
    for char in query:
        position = text.find(char, position + 1)
        if position < 0:
            return None
        if position == previous + 1:
            score += 3
        elif position == 0 or text[position - 1] in _WORD_START:
            score += 2
        previous = position
    return score


def match_users(users: Sequence[User], query: str) -> list[User]:
    """``users`` whose display name, username or team match every word of ``query``, best first."""
    words = query.split()
    if not words:
        return sorted(users, key=lambda u: (u.display_name.lower(), u.username))
    scored: list[tuple[int, User]] = []
    for user in users:
        fields = (user.display_name, user.username, user.team)
        total = 0
        for word in words:
            best = max((s for s in (fuzzy_score(word, f) for f in fields) if s is not None), default=None)
            if best is None:
                break
            total += best
        else:
            scored.append((total, user))
    scored.sort(key=lambda pair: (-pair[0], pair[1].display_name.lower(), pair[1].username))
    return [user for _score, user in scored]


class PeopleList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"people-list--dim"}


class ReassignScreen(ModalScreen[str | None]):
    """Dismisses with the chosen username, or None."""

    DEFAULT_CSS = """
    ReassignScreen { align: center middle; }
    ReassignScreen > #reassign-box {
        width: 72; max-width: 100%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ReassignScreen #reassign-title { height: 1; text-style: bold; }
    ReassignScreen #reassign-people { height: 12; }
    ReassignScreen #reassign-hint { height: 1; color: $text-muted; }
    ReassignScreen PeopleList > .line-list--cursor { background: $accent 40%; }
    ReassignScreen PeopleList > .people-list--dim { color: $text-muted; }
    """
    BINDINGS = [
        bind("reassign.cancel", "cancel", "Cancel"),
        bind("reassign.down", "move(1)", "Down", show=False),
        bind("reassign.up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, users: Sequence[User], *, count: int = 1, exclude: str | None = None) -> None:
        super().__init__()
        self._people = candidates(users, exclude)
        self._shown: list[User] = list(self._people)
        self._count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="reassign-box"):
            what = "this task" if self._count == 1 else f"{self._count} tasks"
            yield Static(f"Reassign {what} to…", id="reassign-title")
            yield TypingInput(placeholder="name, username or team", id="reassign-query")
            yield PeopleList(empty_text="Nobody matches.", id="reassign-people")
            yield Static("enter: reassign · ↑↓: choose · escape: cancel", id="reassign-hint")

    def on_mount(self) -> None:
        self._refilter()
        self.query_one(Input).focus()

    def _refilter(self) -> None:
        self._shown = match_users(self._people, self.query_one(Input).value)
        self.query_one(PeopleList).set_rows(len(self._shown), self._render_row, cursor=0)

    def _render_row(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        user = self._shown[index]
        dim = style("people-list--dim")
        return cells([(user.display_name, 28, Style(bold=True)), (user.username, 16, dim), (user.team, 0, dim)],
                     width)

    @property
    def highlighted(self) -> User | None:
        people = self.query_one(PeopleList)
        return self._shown[people.cursor] if self._shown else None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._pick()

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        event.stop()
        self._pick()

    def _pick(self) -> None:
        user = self.highlighted
        if user is None:
            self.notify("Nobody matches that; change the name or press escape.", severity="warning", timeout=3)
            return
        self.dismiss(user.username)

    def action_move(self, step: int) -> None:
        people = self.query_one(PeopleList)
        people.move_to(people.cursor + step)

    def action_cancel(self) -> None:
        self.dismiss(None)
