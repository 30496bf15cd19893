"""The admin screen against the real Case API in process: users, audit, health, and the server down.

A minimal App pushes ``AdminScreen``; its ``CaseAPI`` talks to ``server.app`` through
``httpx.ASGITransport`` on this test's own copy of the exact test dataset
(tests/server/dataset.py: pat, pam, dot, max, ada and the disabled "gone").
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from textual.app import App
from textual.widgets import Input, Static

from client.api import CaseAPI
from client.credentials import MemoryTokenStore, Tokens
from client.store import Store
from client.sync import LAST_SYNC
from screens.admin import (AddUserScreen, AdminScreen, AskScreen, AuditList, ChooseScreen, ConfirmScreen, OFFLINE,
                           UserList, parse_audit_filter, parse_day)
from tests.server import dataset

BASE_URL = "http://casework.test"
SIZE = (140, 40)


# --- fixtures --------------------------------------------------------------------------------------------------

@pytest.fixture
def server_app(sqlite_template: Path, tmp_path: Path) -> Iterator[Any]:
    from server.app import create_app

    target = tmp_path / "server.db"
    shutil.copyfile(sqlite_template, target)
    application = create_app(f"sqlite:///{target}")
    yield application
    application.state.engine.dispose()


@pytest.fixture
async def apis() -> AsyncIterator[list[CaseAPI]]:
    made: list[CaseAPI] = []
    yield made
    for api in made:
        await api.aclose()


ApiFactory = Callable[..., Awaitable[CaseAPI]]


@pytest.fixture
def make_api(server_app: Any, apis: list[CaseAPI]) -> ApiFactory:
    """``await make_api("ada")``: a CaseAPI signed in to the in-process server as that dataset user."""

    async def make(username: str, transport: httpx.AsyncBaseTransport | None = None) -> CaseAPI:
        api = CaseAPI(BASE_URL, transport=transport or httpx.ASGITransport(app=server_app))
        apis.append(api)
        await api.sign_in(username, dataset.PASSWORD)
        return api

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "client" / "ada.db")
    yield opened
    opened.close()


class AdminApp(App[None]):
    def __init__(self, screen: AdminScreen) -> None:
        super().__init__()
        self.admin = screen

    def on_mount(self) -> None:
        self.push_screen(self.admin)


async def settle(pilot: Any) -> None:
    """Let the workers finish their requests and the screen draw what they brought."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def message(screen: AdminScreen, section: str) -> str:
    return str(screen.query_one(f"#admin-{section}-message", Static).render())


def users_on_server(server_app: Any) -> dict[str, dict[str, Any]]:
    from sqlalchemy import select

    from server.tables import users

    with server_app.state.engine.connect() as conn:
        return {row["username"]: dict(row) for row in conn.execute(select(users)).mappings()}


def move_to(screen: AdminScreen, username: str) -> None:
    index = next(n for n, u in enumerate(screen.users) if u.username == username)
    screen.query_one(UserList).move_to(index)


def footer_actions(screen: AdminScreen) -> set[str]:
    return {binding.action for _key, binding, enabled, _tip in screen.app.active_bindings.values()
            if enabled and binding.show}


# --- users --------------------------------------------------------------------------------------------------

async def test_lists_users(make_api: ApiFactory, store: Store) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [u.username for u in screen.users] == list(dataset.STAFF)
        lines = screen.query_one(UserList)
        assert lines.count == len(dataset.STAFF)
        first = "".join(s.text for s in lines.render_line(0))
        assert "pat" in first and "Pat Example" in first and "practitioner" in first and "North" in first
        gone = "".join(s.text for s in lines.render_line(5))
        assert "gone" in gone and "disabled" in gone
        assert "6 users, 5 active." in message(screen, "users")
        # the editing keys are offered to an admin
        assert {"add_user", "toggle_active", "change_role", "change_team"} <= footer_actions(screen)


async def test_add_a_user(make_api: ApiFactory, store: Store, server_app: Any) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AddUserScreen)
        # first a username the server refuses and a short password: its words appear by the fields
        await pilot.press(*"Bad Name", "enter", *"Sam Example", "enter", *"North", "enter", *"short", "enter")
        await settle(pilot)
        assert pilot.app.screen is dialog
        username_error = str(dialog.query_one("#add-user-username-error", Static).render())
        password_error = str(dialog.query_one("#add-user-password-error", Static).render())
        assert "lower-case letter" in username_error
        assert "8 characters" in password_error
        assert "sam" not in users_on_server(server_app)
        # corrected, it goes through and the list shows the new user under the cursor
        dialog.query_one("#add-user-username", Input).value = "sam"
        dialog.query_one("#add-user-password", Input).value = "long enough password"
        dialog.query_one("#add-user-password", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert "Added sam (Sam Example, practitioner, North)." in message(screen, "users")
        assert screen.selected_user() is not None and screen.selected_user().username == "sam"  # type: ignore[union-attr]
    on_server = users_on_server(server_app)
    assert on_server["sam"]["display_name"] == "Sam Example" and on_server["sam"]["team"] == "North"
    listed = await (await make_api("ada")).users()
    assert "sam" in {u.username for u in listed.items}  # type: ignore[union-attr]


async def test_add_a_taken_username_says_so(make_api: ApiFactory, store: Store) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AddUserScreen)
        for field, value in (("username", "pat"), ("display_name", "Another Pat"), ("team", "North"),
                             ("password", "long enough")):
            dialog.query_one(f"#add-user-{field}", Input).value = value
        dialog.query_one("#add-user-password", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "The username pat is taken." in str(dialog.query_one("#add-user-message", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_disable_and_enable(make_api: ApiFactory, store: Store, server_app: Any) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "pam")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "Disabled pam" in message(screen, "users")
        assert users_on_server(server_app)["pam"]["active"] is False or not users_on_server(server_app)["pam"]["active"]
        pam = next(u for u in screen.users if u.username == "pam")
        assert not pam.active and pam.version == 2
        assert "disabled" in "".join(s.text for s in screen.query_one(UserList).render_line(1))
        # enabling needs no confirmation; the cursor stayed on pam
        await pilot.press("d")
        await settle(pilot)
        assert "Enabled pam" in message(screen, "users")
        assert users_on_server(server_app)["pam"]["active"]
        # and "no" leaves the user as they were
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot)
        assert users_on_server(server_app)["pam"]["active"]


async def test_change_role_and_team(make_api: ApiFactory, store: Store, server_app: Any) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "pat")
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ChooseScreen)
        await pilot.press("j", "j", "enter")  # practitioner → duty → manager
        await settle(pilot)
        assert "pat is now a manager" in message(screen, "users")
        assert users_on_server(server_app)["pat"]["role"] == "manager"
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AskScreen)
        box = pilot.app.screen.query_one(Input)
        box.value = "South"
        await pilot.press("enter")
        await settle(pilot)
        assert "pat is now in the South team." in message(screen, "users")
        row = users_on_server(server_app)["pat"]
        assert (row["role"], row["team"], row["version"]) == ("manager", "South", 3)


async def test_a_colleagues_change_is_not_overwritten(make_api: ApiFactory, store: Store, server_app: Any) -> None:
    from server.tables import users

    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "dot")
        # another admin changes dot after this list was loaded
        with server_app.state.engine.begin() as conn:
            conn.execute(update(users).where(users.c.username == "dot").values(team="Night", version=2))
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("j", "enter")  # duty → manager
        await settle(pilot)
        said = message(screen, "users")
        assert "Someone else changed dot since this list was loaded" in said and "nothing was changed" in said
        row = users_on_server(server_app)["dot"]
        assert (row["role"], row["team"]) == ("duty", "Night")
        dot = next(u for u in screen.users if u.username == "dot")
        assert dot.team == "Night" and dot.version == 2  # reloaded
        assert screen.selected_user() == dot


async def test_the_last_admin_cannot_be_disabled(make_api: ApiFactory, store: Store) -> None:
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "ada")
        await pilot.press("d", "y")
        await settle(pilot)
        assert "last active administrator" in message(screen, "users")


# --- a manager ----------------------------------------------------------------------------------------------

async def test_a_manager_reads_the_audit_but_cannot_edit_users(make_api: ApiFactory, store: Store,
                                                               server_app: Any) -> None:
    pat = await make_api("pat")
    await pat.case(dataset.IDS.open_case)  # a read, written to the audit trail
    screen = AdminScreen(await make_api("max"), store, "manager")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(screen.users) == len(dataset.STAFF)  # the list is readable
        assert "Only administrators can change users." in message(screen, "users")
        assert not {"add_user", "toggle_active", "change_role", "change_team"} & footer_actions(screen)
        move_to(screen, "pam")
        await pilot.press("d", "n", "o", "t")
        await settle(pilot)
        assert pilot.app.screen is screen  # no dialog opened
        assert users_on_server(server_app)["pam"]["active"]
        await pilot.press("a")
        await settle(pilot)
        assert screen.section == "audit"
        assert any(e.username == "pat" and e.case_id == dataset.IDS.open_case for e in screen.audit)


async def test_the_server_refusal_is_shown_in_its_words(make_api: ApiFactory, store: Store,
                                                        server_app: Any) -> None:
    """A manager whose screen still thinks they are an admin (a role changed since sign-in): the 403 is shown."""
    screen = AdminScreen(await make_api("max"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "pam")
        await pilot.press("d", "y")
        await settle(pilot)
        assert "Your role (manager) may not change users." in message(screen, "users")
        assert users_on_server(server_app)["pam"]["active"]


# --- audit ----------------------------------------------------------------------------------------------------

async def test_audit_filtered_by_user_and_case(make_api: ApiFactory, store: Store) -> None:
    pat, pam = await make_api("pat"), await make_api("pam")
    await pat.case(dataset.IDS.open_case)
    await pat.case(dataset.IDS.restricted_case)
    await pam.case(dataset.IDS.other_case)
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        everyone = screen.audit
        assert {("pat", 1), ("pat", 2), ("pam", 3)} <= {(e.username, e.case_id) for e in everyone}
        assert [e.id for e in everyone] == sorted((e.id for e in everyone), reverse=True)  # newest first
        # type the filter as a person would: / then the boxes, enter
        await pilot.press("slash", *"pat", "enter")
        await settle(pilot)
        assert screen.audit and {e.username for e in screen.audit} == {"pat"}
        assert "user pat" in message(screen, "audit")
        screen.set_audit_filter(user="pat", case_id="2")
        await settle(pilot)
        assert screen.audit and {(e.username, e.case_id) for e in screen.audit} == {("pat", 2)}
        screen.set_audit_filter(case_id="3", from_="today", to="today")
        await settle(pilot)
        assert {(e.username, e.case_id) for e in screen.audit} == {("pam", 3)}
        screen.set_audit_filter(from_="2000-01-01", to="2000-01-02")
        await settle(pilot)
        assert screen.audit == [] and "Nothing in the audit trail matches" in message(screen, "audit")
        # a date that is not a date is said in words, and the last result stays
        screen.set_audit_filter(from_="last tuesday")
        await settle(pilot)
        assert "Cannot filter: 'last tuesday' is not a date" in message(screen, "audit")
        # ctrl+x clears the filter
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert len(screen.audit) == len(everyone)


async def test_audit_pages_with_next_cursor(make_api: ApiFactory, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import screens.admin

    monkeypatch.setattr(screens.admin, "AUDIT_PAGE", 2)
    pat = await make_api("pat")
    for case_id in (1, 2, 1, 2, 1):
        await pat.case(case_id)
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen.set_audit_filter(user="pat")
        await settle(pilot)
        assert len(screen.audit) == 2 and screen.audit_cursor
        assert "m loads the next page" in message(screen, "audit")
        await pilot.press("m")
        await settle(pilot)
        assert len(screen.audit) == 4
        await pilot.press("G")  # reaching the last row loads the next page by itself
        await settle(pilot)
        assert len(screen.audit) == 5 and screen.audit_cursor is None
        ids = [e.id for e in screen.audit]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
        assert screen.query_one(AuditList).count == 5


async def test_enter_follows_a_user_or_a_case_into_the_audit(make_api: ApiFactory, store: Store) -> None:
    pat, pam = await make_api("pat"), await make_api("pam")
    await pat.case(dataset.IDS.open_case)
    await pam.case(dataset.IDS.other_case)
    await pat.case(dataset.IDS.restricted_case)
    screen = AdminScreen(await make_api("ada"), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        move_to(screen, "pam")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.section == "audit"
        assert screen.audit and {(e.username, e.case_id) for e in screen.audit} == {("pam", 3)}
        await pilot.press("enter")  # on pam's read of case 3: everyone's reads of case 3
        await settle(pilot)
        assert screen.audit_filter.case_id == 3 and screen.audit_filter.user is None
        assert {e.case_id for e in screen.audit} == {3}


# --- health -----------------------------------------------------------------------------------------------------

async def test_health_shows_server_database_and_store_size(make_api: ApiFactory, store: Store) -> None:
    store.set_meta(LAST_SYNC, "2026-11-21T09:00:00Z")
    import datetime as dt

    screen = AdminScreen(await make_api("ada"), store, "admin",
                         clock=lambda: dt.datetime(2026, 11, 21, 9, 12, tzinfo=dt.timezone.utc))
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await settle(pilot)
        rows = dict(screen.health_lines())
        assert rows["Database"] == "sqlite"
        assert rows["Server"].startswith("casework API ")
        assert rows["Schema revision"] and rows["Schema revision"] != "not reported"
        assert rows["Sync lag"].startswith("12 min")
        assert str(store.path) in rows["Local store"]
        assert any(unit in rows["Local store"] for unit in ("KB", "MB"))
        body = str(screen.query_one("#admin-health-body", Static).render())
        assert "sqlite" in body and "Sync lag" in body and "Local store" in body


# --- the server down --------------------------------------------------------------------------------------------

class DownTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused (simulated)", request=request)


async def test_server_down_says_so_and_nothing_crashes(store: Store, apis: list[CaseAPI]) -> None:
    api = CaseAPI(BASE_URL, transport=DownTransport(), tokens=MemoryTokenStore(Tokens("access", "refresh")))
    apis.append(api)
    screen = AdminScreen(api, store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert message(screen, "users") == OFFLINE
        assert screen.users == []
        await pilot.press("n")  # the form opens; saving says offline, and the typed values stay
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AddUserScreen)
        for field, value in (("username", "sam"), ("display_name", "Sam Example"), ("team", "North"),
                             ("password", "long enough")):
            dialog.query_one(f"#add-user-{field}", Input).value = value
        dialog.query_one("#add-user-password", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is dialog
        assert OFFLINE in str(dialog.query_one("#add-user-message", Static).render())
        assert dialog.query_one("#add-user-username", Input).value == "sam"
        await pilot.press("escape")
        await pilot.press("a")
        await settle(pilot)
        assert message(screen, "audit") == OFFLINE
        await pilot.press("slash", *"pat", "enter", "m", "G")
        await settle(pilot)
        assert message(screen, "audit") == OFFLINE
        await pilot.press("h")
        await settle(pilot)
        assert message(screen, "health") == OFFLINE
        rows = dict(screen.health_lines())
        assert "Database" not in rows and rows["Sync lag"] == "never synced on this device"
        assert "Local store" in rows
        await pilot.press("ctrl+r", "u", "d", "o", "t")
        await settle(pilot)
        assert pilot.app.is_running


async def test_going_offline_keeps_the_list_and_says_when_it_was_loaded(make_api: ApiFactory, server_app: Any,
                                                                        store: Store) -> None:
    class Switch(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=server_app)
            self.down = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.down:
                raise httpx.ConnectError("down", request=request)
            return await self.inner.handle_async_request(request)

    switch = Switch()
    screen = AdminScreen(await make_api("ada", switch), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        switch.down = True
        move_to(screen, "pam")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert message(screen, "users").startswith(OFFLINE + " Showing the list as loaded at ")
        assert len(screen.users) == len(dataset.STAFF)
        await pilot.press("d", "y")
        await settle(pilot)
        assert message(screen, "users") == OFFLINE
        assert next(u for u in screen.users if u.username == "pam").active


async def test_keys_never_wait_for_the_network(make_api: ApiFactory, server_app: Any, store: Store) -> None:
    """While a request hangs, switching sections and moving still work at once."""

    class Stall(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=server_app)
            self.gate = asyncio.Event()
            self.stall = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.stall:
                await self.gate.wait()
            return await self.inner.handle_async_request(request)

    stall = Stall()
    screen = AdminScreen(await make_api("ada", stall), store, "admin")
    async with AdminApp(screen).run_test(size=SIZE) as pilot:
        await settle(pilot)
        stall.stall = True
        await pilot.press("ctrl+r", "j", "a", "h", "u")
        await pilot.pause()
        assert screen.section == "users" and screen.query_one(UserList).cursor == 1
        assert "Asking the server how it is" in message(screen, "health")
        stall.gate.set()
        await settle(pilot)
        assert len(screen.users) == len(dataset.STAFF)


# --- parsing what is typed ----------------------------------------------------------------------------------

def test_days_typed_as_text() -> None:
    import datetime as dt

    today = dt.date(2026, 11, 21)
    assert parse_day("2026-11-01", today=today) == dt.date(2026, 11, 1)
    assert parse_day("1/11/2026", today=today) == dt.date(2026, 11, 1)
    assert parse_day("today", today=today) == today
    assert parse_day("Yesterday", today=today) == dt.date(2026, 11, 20)
    assert parse_day("7d", today=today) == dt.date(2026, 11, 14)
    assert parse_day("2w", today=today) == dt.date(2026, 11, 7)
    assert parse_day("  ", today=today) is None
    for bad in ("31/02/2026", "next week", "2026-13-01"):
        with pytest.raises(ValueError, match="is not a date"):
            parse_day(bad, today=today)
    with pytest.raises(ValueError, match="should be a number"):
        parse_audit_filter("", "abc", "", "")
    with pytest.raises(ValueError, match="is after"):
        parse_audit_filter("", "", "2026-11-02", "2026-11-01")
    assert parse_audit_filter(" pat ", "#12", "", "").case_id == 12
