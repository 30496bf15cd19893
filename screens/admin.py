"""Admin: staff accounts, the audit trail, and the health of the server and of this device's store.

Three sections switched by keys: Users, Audit and Health. Unlike the other
screens this one is online only: users and the audit trail live on the server
and are never kept on the device. Every request runs in a Textual worker, so no
key press waits on the network; what was last loaded stays on screen while a
reload runs, and a failure is said in words on the section's message line
(there are no spinners).

Admins may add users, disable and enable them, and change their role and team;
each change is a ``PATCH`` with ``If-Match`` from the version the list showed,
so a colleague's change made in the meantime is never overwritten (412: the
list is reloaded and the admin told). Managers may read the list and the audit
trail; the editing keys are hidden for them, and should the server still refuse
(a role changed since sign-in), its own sentence is shown.

Keys are ``Binding``s with ``admin.*`` ids, so a user's keybindings.toml can
rebind them like every other action.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import ContentSwitcher, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from client.api import CaseAPI, new_idempotency_key
from client.errors import (AccessDenied, CaseworkError, Conflict, Invalid, NotFound, Offline, SessionExpired)
from client.models import AuditEvent, Health, Page, User
from client.store import Store
from client.sync import LAST_SYNC
from screens import format
from screens.kept import KeptScreen
from screens.keys import bind
from screens.widgets.line_list import LineList, cells
from screens.widgets.status import StatusLine

ROLES = ("practitioner", "duty", "manager", "admin")
SECTIONS = ("users", "audit", "health")
OFFLINE = "The server cannot be reached; admin needs a connection."
AUDIT_PAGE = 100

USER_COLUMNS = ("Username", "Name", "Role", "Team", "Active")
AUDIT_COLUMNS = ("When (UTC)", "Who", "Action", "Case", "Source", "Detail")

# the actions that change users: admins only
EDITING = frozenset({"add_user", "toggle_active", "change_role", "change_team"})
AUDIT_ONLY = frozenset({"audit_filter", "audit_clear", "audit_more"})


# --- plain helpers (no Textual) ------------------------------------------------------------------------------

def user_etag(user: User) -> str:
    """Users are versioned resources: the ETag is the quoted version (server/conditional.py)."""
    return f'"{user.version}"'


def parse_day(text: str, *, today: dt.date | None = None) -> dt.date | None:
    """A day typed as 2026-11-01, 1/11/2026, today, yesterday, 7d (days ago) or 2w (weeks ago).

    Blank gives None; anything else raises ValueError with the sentence to show."""
    text = text.strip().lower()
    if not text:
        return None
    today = today or format.today()
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{1,4})\s*([dw])", text):
        days = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        return today - dt.timedelta(days=days)
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            pass
    else:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: type 2026-11-01, 1/11/2026, today, yesterday, 7d or 2w")


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None
    case_id: int | None = None
    from_: dt.date | None = None
    to: dt.date | None = None

    def describe(self) -> str:
        parts = []
        if self.user:
            parts.append(f"user {self.user}")
        if self.case_id is not None:
            parts.append(f"case {self.case_id}")
        if self.from_ and self.to:
            parts.append(f"{self.from_.isoformat()} to {self.to.isoformat()}")
        elif self.from_:
            parts.append(f"from {self.from_.isoformat()}")
        elif self.to:
            parts.append(f"up to {self.to.isoformat()}")
        return ", ".join(parts)


def parse_audit_filter(user: str, case_id: str, from_: str, to: str) -> AuditFilter:
    """The filter as typed; ValueError with a readable sentence if a part cannot be used."""
    user = user.strip()
    case_text = case_id.strip().lstrip("#")
    case_number: int | None = None
    if case_text:
        if not case_text.isdigit() or int(case_text) < 1:
            raise ValueError(f"the case id {case_id.strip()!r} should be a number, like 1042")
        case_number = int(case_text)
    first = parse_day(from_)
    last = parse_day(to)
    if first and last and first > last:
        raise ValueError(f"'from' ({first.isoformat()}) is after 'to' ({last.isoformat()})")
    return AuditFilter(user or None, case_number, first, last)


def file_size(path: os.PathLike[str] | str) -> int:
    """Bytes on disk of a SQLite file with its -wal and -shm companions (0 for those that do not exist)."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += os.stat(f"{os.fspath(path)}{suffix}").st_size
        except OSError:
            pass
    return total


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def parse_utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def human_span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def server_words(error: CaseworkError) -> str:
    """What to show for a failed admin request: the server's own sentence where it gave one."""
    if isinstance(error, Offline):
        return OFFLINE
    if isinstance(error, SessionExpired):
        return "Your session has ended; sign in again to use admin."
    if isinstance(error, (AccessDenied, Invalid)) or (isinstance(error, Conflict) and error.status == 409):
        return error.detail or str(error)
    return str(error)


# --- lists --------------------------------------------------------------------------------------------------

class UserList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"user-list--disabled", "user-list--admin"}


class AuditList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"audit-list--dim", "audit-list--change"}


# --- dialogs ------------------------------------------------------------------------------------------------

class AddUserScreen(ModalScreen["User | None"]):
    """Username, display name, role, team, password; the server checks them and its words are shown by the
    fields. Dismisses with the new User, or None if cancelled."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [bind("admin.dialog_cancel", "cancel", "Cancel")]
    FIELDS = ("username", "display_name", "team", "password")

    def __init__(self, api: CaseAPI, teams: list[str]) -> None:
        super().__init__()
        self.api = api
        self.teams = teams
        # one key per body: a resend after a lost answer is not added twice, yet a corrected form is a new request
        self._sent: tuple[tuple[tuple[str, str], ...], str] | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="add-user", classes="admin-dialog"):
            yield Static(Text("Add a user", style="bold"))
            yield Static("enter: next field, and save from the last · escape: cancel",
                         classes="admin-hint")
            with Vertical(id="add-user-fields"):
                for field, label, widget in (
                    ("username", "Username", Input(placeholder="lower case: letters, digits, . _ -", compact=True,
                                                   id="add-user-username")),
                    ("display_name", "Display name", Input(compact=True, id="add-user-display_name")),
                    ("role", "Role", Select([(role, role) for role in ROLES], value="practitioner",
                                            allow_blank=False, compact=True, id="add-user-role")),
                    ("team", "Team", Input(compact=True, id="add-user-team",
                                           suggester=SuggestFromList(self.teams, case_sensitive=False))),
                    ("password", "Password", Input(placeholder="at least 8 characters", password=True,
                                                   compact=True, id="add-user-password")),
                ):
                    with Horizontal(classes="add-user-row"):
                        yield Label(label)
                        yield widget
                    yield Static(id=f"add-user-{field}-error", classes="field-error")
            yield Static(id="add-user-message", classes="admin-message")

    def on_mount(self) -> None:
        self.query_one("#add-user-username", Input).focus()

    def values(self) -> dict[str, str]:
        found = {name: self.query_one(f"#add-user-{name}", Input).value for name in self.FIELDS}
        found["role"] = str(self.query_one("#add-user-role", Select).value)
        return found

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        order = ["add-user-username", "add-user-display_name", "add-user-team", "add-user-password"]
        current = event.input.id or ""
        if current != order[-1]:
            self.query_one(f"#{order[order.index(current) + 1]}", Input).focus()
            return
        self.save()

    def save(self) -> None:
        if self._busy:
            return
        values = self.values()
        missing = [name for name in ("username", "display_name", "team", "password") if not values[name].strip()]
        self._clear_errors()
        if missing:
            for name in missing:
                self._field_error(name, "is needed")
            self._say("Fill in every field.", "error")
            return
        body = tuple(sorted(values.items()))
        if self._sent is None or self._sent[0] != body:
            self._sent = (body, new_idempotency_key())
        self._busy = True
        self._say("Adding the user…", "info")
        self.run_worker(self._add(values, self._sent[1]), group="admin-add-user", exclusive=True)

    async def _add(self, values: dict[str, str], key: str) -> None:
        try:
            reply = await self.api.add_user(username=values["username"].strip(),
                                            display_name=values["display_name"].strip(), role=values["role"],
                                            team=values["team"].strip(), password=values["password"],
                                            idempotency_key=key)
        except Invalid as error:
            self._busy = False
            for field_error in error.errors:
                self._field_error(field_error.field.split(".")[-1], _field_words(field_error.field,
                                                                                 field_error.message))
            self._say(error.detail or str(error) if not error.errors else "Check the fields marked above.",
                      "error")
            return
        except CaseworkError as error:
            self._busy = False
            self._say(server_words(error), "error")
            return
        self.dismiss(reply.value)

    def _clear_errors(self) -> None:
        for widget in self.query(".field-error"):
            assert isinstance(widget, Static)
            widget.update("")
            widget.remove_class("-shown")

    def _field_error(self, field: str, message: str) -> None:
        matches = self.query(f"#add-user-{field}-error")
        if matches:
            label = {"display_name": "display name"}.get(field, field)
            shown = matches.first(Static)
            shown.update(Text(f"{label.capitalize()} {message}."))
            shown.add_class("-shown")

    def _say(self, text: str, level: str) -> None:
        line = self.query_one("#add-user-message", Static)
        line.set_classes(f"admin-message -{level}")
        line.update(Text(text))  # the server's words and user names are never markup

    def action_cancel(self) -> None:
        self.dismiss(None)


def _field_words(field: str, message: str) -> str:
    """Pydantic's pattern message quotes a regular expression: say what it means instead."""
    name = field.split(".")[-1]
    if name == "username" and "pattern" in message:
        return ("should start with a lower-case letter and use only lower-case letters, digits, dots, dashes "
                "and underscores (2 to 64 characters)")
    return message


class ChoiceList(OptionList):
    """An OptionList that also moves with j and k, like every list here."""

    BINDINGS = [
        bind("admin.choice_down", "cursor_down", "Down", show=False),
        bind("admin.choice_up", "cursor_up", "Up", show=False),
    ]


class ChooseScreen(ModalScreen["str | None"]):
    """Pick one of a few values (a role): j/k or arrows, enter; escape cancels."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [bind("admin.dialog_cancel", "cancel", "Cancel")]

    def __init__(self, title: Text | str, choices: tuple[str, ...], current: str) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="admin-dialog admin-choose"):
            yield Static(self.title_text)
            yield ChoiceList(*[Option(f"{c}{'  (now)' if c == self.current else ''}", id=c) for c in self.choices],
                             id="choose-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.choices.index(self.current) if self.current in self.choices else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskScreen(ModalScreen["str | None"]):
    """One line of text (a team); enter saves, escape cancels."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [bind("admin.dialog_cancel", "cancel", "Cancel")]

    def __init__(self, title: Text | str, value: str, suggestions: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        with Vertical(classes="admin-dialog"):
            yield Static(self.title_text)
            yield Input(self.value, id="ask-value", suggester=SuggestFromList(self.suggestions, case_sensitive=False))
            yield Static("", id="ask-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#ask-error", Static).update("Type a name, or escape to leave it as it is.")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no: y or enter confirms, n or escape does not."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [
        bind("admin.dialog_yes", "answer(True)", "Yes"),
        bind("admin.dialog_no", "answer(False)", "No"),
    ]

    def __init__(self, question: Text | str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="admin-dialog admin-confirm"):
            yield Static(self.question)
            yield Static(Text.assemble(("y", "bold"), " yes   ·   ", ("n", "bold"), " no"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# --- the screen ---------------------------------------------------------------------------------------------

class AdminScreen(KeptScreen[None]):
    """Built once and kept mounted; each section reloads in a worker when shown."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [
        bind("admin.users", "show('users')", "Users"),
        bind("admin.audit", "show('audit')", "Audit"),
        bind("admin.health", "show('health')", "Health"),
        bind("admin.reload", "reload", "Reload"),
        bind("admin.add_user", "add_user", "Add user"),
        bind("admin.toggle_active", "toggle_active", "Disable/enable"),
        bind("admin.change_role", "change_role", "Role"),
        bind("admin.change_team", "change_team", "Team"),
        bind("admin.audit_filter", "audit_filter", "Filter"),
        # priority: it must work while typing in a filter box, whose Input would take ctrl+x as "cut"
        bind("admin.audit_clear", "audit_clear", "Clear filter", priority=True),
        bind("admin.audit_more", "audit_more", "More"),
    ]

    def __init__(self, api: CaseAPI, store: Store, role: str, *,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        super().__init__(name="admin")
        self.api = api
        self.store = store
        self.role = role
        self.clock = clock
        self.section = "users"
        self.users: list[User] = []
        self.audit: list[AuditEvent] = []
        self.audit_cursor: str | None = None
        self.audit_filter = AuditFilter()
        self.health: Health | None = None
        self._health_at: dt.datetime | None = None
        self._health_error: str | None = None
        self._audit_worker: Worker[None] | None = None

    @property
    def can_edit(self) -> bool:
        return self.role == "admin"

    def compose(self) -> ComposeResult:
        with Horizontal(id="admin-tabs"):
            yield Static("Users", id="admin-tab-users", classes="admin-tab -current")
            yield Static("Audit", id="admin-tab-audit", classes="admin-tab")
            yield Static("Health", id="admin-tab-health", classes="admin-tab")
            yield Static(self._role_note(), id="admin-role")
        with ContentSwitcher(initial="admin-users", id="admin-sections"):
            with Vertical(id="admin-users"):
                yield Static(id="admin-users-columns", classes="admin-columns")
                yield UserList(empty_text="No users loaded yet.", id="admin-user-list")
                yield Static(id="admin-users-message", classes="admin-message")
            with Vertical(id="admin-audit"):
                with Horizontal(id="audit-filters"):
                    yield Input(placeholder="user", compact=True, id="audit-user")
                    yield Input(placeholder="case id", compact=True, id="audit-case")
                    yield Input(placeholder="from (2026-11-01, 7d, today)", compact=True, id="audit-from")
                    yield Input(placeholder="to", compact=True, id="audit-to")
                yield Static(id="audit-columns", classes="admin-columns")
                yield AuditList(empty_text="No audit events loaded yet.", id="admin-audit-list")
                yield Static(id="admin-audit-message", classes="admin-message")
            with Vertical(id="admin-health"):
                yield Static(id="admin-health-body")
                yield Static(id="admin-health-message", classes="admin-message")
        yield StatusLine()
        yield Footer()

    def _role_note(self) -> str:
        if self.role == "admin":
            return "administrator"
        if self.role == "manager":
            return "manager: read only"
        return f"{self.role}: admin is for managers and administrators"

    def on_mount(self) -> None:
        self.query_one(UserList).set_rows(0, self._render_user)
        self.query_one(AuditList).set_rows(0, self._render_audit)
        self._draw_columns()
        self.show_section(self.section, load=False)  # on_screen_resume, which follows, loads it

    def on_screen_suspend(self) -> None:
        # a dialog over this screen (ours, help, sign-in) leaves it visible: coming back needs no reload
        self._under_dialog = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        # kept mounted: coming back from another screen refreshes what is shown, in the background, cursor kept
        if not self._under_dialog:
            self.reload()
        self._under_dialog = False

    _under_dialog = False

    def on_resize(self) -> None:
        self._draw_columns()

    # --- sections -------------------------------------------------------------------------------------

    def show_section(self, section: str, *, load: bool = True) -> None:
        """Switch to users, audit or health and load it in the background."""
        if section not in SECTIONS:
            raise ValueError(section)
        self.section = section
        self.query_one(ContentSwitcher).current = f"admin-{section}"
        for name in SECTIONS:
            self.query_one(f"#admin-tab-{name}").set_class(name == section, "-current")
        if section == "users":
            self.query_one(UserList).focus()
        elif section == "audit":
            self.query_one(AuditList).focus()
        else:
            self.set_focus(None)
        self.refresh_bindings()
        if load:
            self.reload()

    def reload(self) -> None:
        if self.section == "users":
            self.load_users()
        elif self.section == "audit":
            self.load_audit()
        else:
            self.load_health()

    def action_show(self, section: str) -> None:
        self.show_section(section)

    def action_reload(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in EDITING:
            return self.can_edit and self.section == "users"
        if action in AUDIT_ONLY:
            return self.section == "audit"
        return True

    def _say(self, section: str, text: str, level: str = "info") -> None:
        line = self.query_one(f"#admin-{section}-message", Static)
        line.set_classes(f"admin-message -{level}")
        line.update(Text(text))  # the server's words and user names are never markup

    def _session_over(self, error: CaseworkError) -> None:
        if isinstance(error, SessionExpired):
            ask = getattr(self.app, "ask_to_sign_in", None)
            if callable(ask):
                ask("Your session has ended.")

    # --- users ------------------------------------------------------------------------------------------

    def load_users(self, *, keep: int | None = None, then: str | None = None, level: str = "ok") -> None:
        """Reload the list in the background, the cursor kept on ``keep`` (or where it was); ``then`` is said
        before the summary when it has loaded."""
        if not self.users:
            self._say("users", "Asking the server for the list of users…")
        self.run_worker(self._load_users(keep, then, level), group="admin-users", exclusive=True)

    async def _load_users(self, keep: int | None, then: str | None, level: str) -> None:
        found: list[User] = []
        try:
            async for page in self.api.every(self.api.users, limit=1000):
                found.extend(page.items)
        except CaseworkError as error:
            when = f" Showing the list as loaded at {self._users_as_of}." if self.users else ""
            self._say("users", server_words(error) + when, "warning" if isinstance(error, Offline) else "error")
            self._session_over(error)
            return
        lines = self.query_one(UserList)
        current = keep
        if current is None and self.users and lines.cursor < len(self.users):
            current = self.users[lines.cursor].id
        self.users = found
        self._users_as_of = self.clock().strftime("%H:%M")
        cursor = next((n for n, u in enumerate(found) if u.id == current), None) if current is not None else None
        lines.set_rows(len(found), self._render_user, cursor=cursor)
        active = sum(1 for u in found if u.active)
        summary = f"{len(found)} users, {active} active."
        if not self.can_edit:
            summary += " Only administrators can change users."
        self._say("users", f"{then} {summary}" if then else summary, level if then else "info")

    _users_as_of = ""

    def selected_user(self) -> User | None:
        lines = self.query_one(UserList)
        if not self.users or lines.cursor >= len(self.users):
            return None
        return self.users[lines.cursor]

    def _teams(self) -> list[str]:
        return sorted({u.team for u in self.users})

    def action_add_user(self) -> None:
        if not self.can_edit:
            return
        self.app.push_screen(AddUserScreen(self.api, self._teams()), self._user_added)

    def _user_added(self, user: User | None) -> None:
        if user is None:
            return
        self.load_users(keep=user.id, then=f"Added {user.username} ({user.display_name}, {user.role}, {user.team}).")

    def action_toggle_active(self) -> None:
        user = self.selected_user()
        if user is None or not self.can_edit:
            return
        if not user.active:
            self.patch_user(user, {"active": True}, f"Enabled {user.username}; they can sign in again.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.patch_user(user, {"active": False}, f"Disabled {user.username}; their sessions have ended.")

        self.app.push_screen(ConfirmScreen(Text.assemble(
            "Disable ", (user.display_name, "bold"), f" ({user.username})?\nThey are signed out at once and cannot "
            "sign in until enabled again. Their cases and tasks stay as they are.")), answered)

    def action_change_role(self) -> None:
        user = self.selected_user()
        if user is None or not self.can_edit:
            return

        def chosen(role: str | None) -> None:
            if role and role != user.role:
                self.patch_user(user, {"role": role}, f"{user.username} is now {_article(role)} {role}; they sign "
                                                      "in again to pick it up.")

        self.app.push_screen(ChooseScreen(_naming("Role for", user), ROLES, user.role), chosen)

    def action_change_team(self) -> None:
        user = self.selected_user()
        if user is None or not self.can_edit:
            return

        def typed(team: str | None) -> None:
            if team and team != user.team:
                self.patch_user(user, {"team": team}, f"{user.username} is now in the {team} team.")

        self.app.push_screen(AskScreen(_naming("Team for", user), user.team, self._teams()), typed)

    def patch_user(self, user: User, changes: dict[str, Any], done: str) -> None:
        """PATCH in the background with If-Match from the version on screen."""
        self._say("users", f"Saving the change to {user.username}…")
        self.run_worker(self._patch_user(user, changes, done), group="admin-user-write")

    async def _patch_user(self, user: User, changes: dict[str, Any], done: str) -> None:
        try:
            reply = await self.api.patch_user(user.id, changes, if_match=user_etag(user))
        except Conflict as error:
            if error.status == 412:
                warning = (f"Someone else changed {user.username} since this list was loaded, so nothing was "
                           "changed. The list has been reloaded: check it and try again.")
                self._say("users", warning, "warning")
                self.load_users(keep=user.id, then=warning, level="warning")
                return
            self._say("users", server_words(error), "error")
            return
        except NotFound:
            self._say("users", f"{user.username} is no longer on the server; the list is reloaded.", "warning")
            self.load_users()
            return
        except CaseworkError as error:
            self._say("users", server_words(error), "warning" if isinstance(error, Offline) else "error")
            self._session_over(error)
            return
        updated = reply.value
        self.users = [updated if u.id == updated.id else u for u in self.users]
        self.query_one(UserList).refresh_rows()
        self._say("users", done, "ok")

    def _user_widths(self, width: int) -> list[int]:
        if width >= 100:
            return [18, 28, 14, 18, 0]
        return [14, 20, 13, 12, 0]

    def _render_user(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        user = self.users[index]
        widths = self._user_widths(width)
        base = style("user-list--disabled") if not user.active else Style()
        role_style = base + style("user-list--admin") if user.role == "admin" and user.active else base
        return cells([
            (user.username, widths[0], base + Style(bold=user.active)),
            (user.display_name, widths[1], base),
            (user.role, widths[2], role_style),
            (user.team, widths[3], base),
            ("yes" if user.active else "disabled", widths[4], base),
        ], width)

    # --- audit -------------------------------------------------------------------------------------------

    def action_audit_filter(self) -> None:
        self.query_one("#audit-user", Input).focus()

    def action_audit_clear(self) -> None:
        if self.section != "audit":
            return
        for box in self.query("#audit-filters Input"):
            assert isinstance(box, Input)
            box.value = ""
        self.query_one(AuditList).focus()
        self.load_audit()

    def action_audit_more(self) -> None:
        if self.audit_cursor and (self._audit_worker is None or self._audit_worker.is_finished):
            self.load_audit(more=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("audit-"):
            event.stop()
            self.query_one(AuditList).focus()
            self.load_audit()

    def set_audit_filter(self, *, user: str = "", case_id: str = "", from_: str = "", to: str = "") -> None:
        """Type a filter into the boxes (as a person would) and load it."""
        for name, value in (("user", user), ("case", case_id), ("from", from_), ("to", to)):
            self.query_one(f"#audit-{name}", Input).value = value
        self.load_audit()

    def load_audit(self, *, more: bool = False) -> None:
        if not more:
            try:
                wanted = parse_audit_filter(*(self.query_one(f"#audit-{name}", Input).value
                                              for name in ("user", "case", "from", "to")))
            except ValueError as error:
                self._say("audit", f"Cannot filter: {error}.", "error")
                return
            self.audit_filter = wanted
            if not self.audit:
                self._say("audit", "Asking the server for the audit trail…")
        self._audit_worker = self.run_worker(self._load_audit(self.audit_filter, self.audit_cursor if more else None),
                        group="admin-audit", exclusive=True)

    async def _load_audit(self, wanted: AuditFilter, cursor: str | None) -> None:
        try:
            page = await self.api.audit(case_id=wanted.case_id, user=wanted.user, from_=wanted.from_, to=wanted.to,
                                        limit=AUDIT_PAGE, cursor=cursor)
        except CaseworkError as error:
            self._say("audit", server_words(error), "warning" if isinstance(error, Offline) else "error")
            self._session_over(error)
            return
        finally:
            self._audit_worker: Worker[None] | None = None
        assert isinstance(page, Page)
        lines = self.query_one(AuditList)
        if cursor is None:
            self.audit = list(page.items)
            lines.set_rows(len(self.audit), self._render_audit, cursor=0)
        else:
            self.audit.extend(page.items)
            lines.set_rows(len(self.audit), self._render_audit)
        self.audit_cursor = page.next_cursor
        described = wanted.describe()
        text = f"{len(self.audit)} event{'s' if len(self.audit) != 1 else ''}, newest first"
        if described:
            text += f" · {described}"
        if self.audit_cursor:
            text += " · there are more: m loads the next page"
        elif not self.audit:
            text = "Nothing in the audit trail matches" + (f" {described}." if described else ".")
        self._say("audit", text)

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        """enter on a user shows their audit trail; enter on an audit event shows that case's trail."""
        event.stop()
        if isinstance(event.line_list, UserList) and event.index < len(self.users):
            self._audit_for(user=self.users[event.index].username)
        elif isinstance(event.line_list, AuditList) and event.index < len(self.audit):
            case_id = self.audit[event.index].case_id
            if case_id is not None:
                self._audit_for(case_id=str(case_id))

    def _audit_for(self, *, user: str = "", case_id: str = "") -> None:
        for name, value in (("user", user), ("case", case_id), ("from", ""), ("to", "")):
            self.query_one(f"#audit-{name}", Input).value = value
        self.show_section("audit")

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        # reaching the last row loads the next page, so paging by j/k or G needs no extra key
        if isinstance(event.line_list, AuditList) and event.index >= len(self.audit) - 1:
            self.action_audit_more()

    def _audit_widths(self, width: int) -> list[int]:
        if width >= 110:
            return [19, 14, 18, 7, 8, 0]
        return [14, 10, 14, 6, 0, 0]

    def _render_audit(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        event = self.audit[index]
        widths = self._audit_widths(width)
        dim = style("audit-list--dim")
        action_style = Style() if event.action.endswith(".read") else style("audit-list--change")
        parts = [
            (format.short_datetime(event.at), widths[0], dim),
            (event.username, widths[1], Style(bold=True)),
            (event.action, widths[2], action_style),
            (str(event.case_id) if event.case_id is not None else "", widths[3], Style()),
        ]
        if widths[4]:
            parts.append(("cache" if event.source == "cache" else "server", widths[4], dim))
        parts.append((event.detail or "", 0, dim))
        return cells(parts, width)

    # --- health ---------------------------------------------------------------------------------------------

    def load_health(self) -> None:
        self._draw_health()  # the device's own half needs no network
        self.run_worker(self._load_health(), group="admin-health", exclusive=True)

    async def _load_health(self) -> None:
        try:
            health = await self.api.health()
        except CaseworkError as error:
            self._health_error = server_words(error)
            self._draw_health()
            return
        self.health = health
        self._health_at = self.clock()
        self._health_error = None
        self._draw_health()

    def health_lines(self) -> list[tuple[str, str]]:
        """(label, value) rows: the server's half (if known) and this device's half."""
        rows: list[tuple[str, str]] = []
        now = self.clock()
        health = self.health
        if health is not None:
            rows.append(("Server", f"casework API {health.version} · status {health.status}"))
            rows.append(("Database", health.database))
            rows.append(("Schema revision", health.schema_revision or "not reported"))
            server_time = parse_utc(health.time)
            time_text = health.time
            if server_time is not None and self._health_at is not None:
                skew = (server_time - self._health_at).total_seconds()
                time_text += " (same as this device)" if abs(skew) < 5 else \
                    f" (this device's clock is {human_span(abs(skew))} {'behind' if skew > 0 else 'ahead'})"
            rows.append(("Server time", time_text))
            if self._health_at is not None and self._health_error:
                rows.append(("Checked", f"at {self._health_at.strftime('%H:%M')} UTC, before the connection failed"))
        last = self.store.get_meta(LAST_SYNC)
        last_at = parse_utc(last)
        if last_at is None:
            rows.append(("Sync lag", "never synced on this device"))
        else:
            rows.append(("Sync lag", f"{human_span((now - last_at).total_seconds())} "
                                     f"(last sync {last_at.strftime('%Y-%m-%d %H:%M')} UTC)"))
        rows.append(("Local store", f"{human_size(file_size(self.store.path))} on disk · {self.store.path}"))
        return rows

    def _draw_health(self) -> None:
        if not self.is_mounted:
            return
        text = Text()
        rows = self.health_lines()
        width = max(len(label) for label, _ in rows) + 2
        for label, value in rows:
            text.append(label.ljust(width), style="bold")
            text.append(value + "\n")
        self.query_one("#admin-health-body", Static).update(text)
        if self._health_error:
            self._say("health", self._health_error, "warning")
        elif self.health is None:
            self._say("health", "Asking the server how it is…")
        else:
            self._say("health", f"Checked at {self._health_at.strftime('%H:%M') if self._health_at else ''} UTC. "
                                "r checks again.")

    # --- columns --------------------------------------------------------------------------------------------

    def _draw_columns(self) -> None:
        width = self.size.width or 80
        for target, names, widths in (("#admin-users-columns", USER_COLUMNS, self._user_widths(width)),
                                      ("#audit-columns", AUDIT_COLUMNS, self._audit_widths(width))):
            header = "".join(name[:w].ljust(w) if w else name for name, w in zip(names, widths) if w or
                             name == names[-1])
            self.query_one(target, Static).update(Text(header[:width]))


def _naming(what: str, user: User) -> Text:
    """"Role for **Pat Example** (pat)", as Text: user names are data, never markup."""
    return Text.assemble(f"{what} ", (user.display_name, "bold"), f" ({user.username})")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
