"""The sign-in gate of ``casework web``: a browser tab shows nothing of the store until the server has checked the
configured user's password, and keeps its tokens in memory only.

Pilot tests on the real ``CaseworkApp`` over the seeded Case API (in process) and a copy of ``worker``'s synced
store, with the TUI tests' fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input, Static

from client.api import CaseAPI
from client.credentials import FileTokenStore, MemoryTokenStore, Tokens
from client.store import Store
from screens.sign_in import SignInScreen
from tests.tui.conftest import (  # noqa: F401 - fixtures
    BASE_URL, DOWN_URL, apis, make_store, seeded_db, server_app, synced_stores, worker_store,
)
from tests.tui.helpers import wait_until

SIZE = (140, 40)


def gated_app(store: Store, api: CaseAPI) -> Any:
    from tui import keymap
    from tui.app import CaseworkApp

    return CaseworkApp(store=store, api=api, username="worker", keymap=keymap.load(None), sync=None,
                       start_screen="caseload", require_sign_in=True)


def family_names(store: Store) -> list[str]:
    """A word from each child's name on worker's caseload: none may be on screen before sign-in."""
    names = [c.name for c in store.caseload("worker") if c.name]
    assert names
    return sorted({max(name.split(), key=len).upper() for name in names} | {n.split()[0] for n in names})


def screen_text(app: Any) -> str:
    """Every character on screen (the SVG screenshot's text, spaces as the SVG writes them)."""
    return app.export_screenshot().replace("&#160;", " ")


def shown_names(app: Any, names: list[str]) -> list[str]:
    text = screen_text(app)
    return [name for name in names if name in text]


async def sign_in(pilot: Any, password: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, SignInScreen)
    dialog.query_one("#sign-in-password", Input).value = password
    dialog.query_one("#sign-in-password", Input).focus()
    await pilot.press("enter")


def error_text(app: Any) -> str:
    return str(app.screen.query_one("#sign-in-error", Static).render())


@pytest.fixture
def server_api(server_app: Any, apis: list[CaseAPI]) -> CaseAPI:  # noqa: F811
    """Not signed in, tokens in memory: what a browser tab gets."""
    api = CaseAPI(BASE_URL, transport=httpx.ASGITransport(app=server_app), tokens=MemoryTokenStore())
    apis.append(api)
    return api


async def test_only_the_sign_in_dialog_until_the_password_is_right(worker_store: Store,  # noqa: F811
                                                                    server_api: CaseAPI) -> None:
    names = family_names(worker_store)
    app = gated_app(worker_store, server_api)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        # the dialog over the empty default screen, and no screen of records even installed
        assert len(app.screen_stack) == 2 and type(app.screen_stack[0]).__name__ == "Screen"
        assert not app.screen_stack[0].children
        assert "caseload" not in app._installed_screens and "tasks" not in app._installed_screens
        assert shown_names(app, names) == []
        assert "worker" in screen_text(app)

        # the app's own keys do nothing behind the dialog: no caseload, tray, search, help or palette
        app.screen.query_one("#sign-in-button").focus()
        for key in ("1", "2", "3", "4", "question_mark", "ctrl+p"):
            await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and len(app.screen_stack) == 2
        assert "caseload" not in app._installed_screens
        assert shown_names(app, names) == []

        # escape ("stay offline" in the terminal) only brings the dialog back
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the dialog again")
        assert len(app.screen_stack) == 2 and shown_names(app, names) == []

        # a wrong password: the server says no, the dialog stays with the reason
        await sign_in(pilot, "not-the-password")
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen) and "not right" in error_text(app),
                         what="the wrong password's error")
        assert len(app.screen_stack) == 2
        assert "caseload" not in app._installed_screens
        assert shown_names(app, names) == []
        assert server_api.token_store.load() is None

        # the right one: the caseload, with the children's names
        await sign_in(pilot, "demo")
        await wait_until(pilot, lambda: app.screen.name == "caseload", what="the caseload")
        await pilot.pause()
        assert shown_names(app, names), "no child's name on the caseload after signing in"
        assert not app.gated
        # the app's keys work again
        await pilot.press("3")
        await wait_until(pilot, lambda: app.screen.name == "tasks", what="the work tray")
        assert isinstance(server_api.token_store, MemoryTokenStore) and server_api.token_store.load() is not None


async def test_another_user_cannot_open_this_users_records(worker_store: Store,  # noqa: F811
                                                           server_api: CaseAPI) -> None:
    names = family_names(worker_store)
    app = gated_app(worker_store, server_api)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        app.screen.query_one("#sign-in-username", Input).value = "duty"
        await sign_in(pilot, "demo")  # duty's right password, but this tab is worker's
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen) and "belongs to worker"
                         in error_text(app), what="the other user's refusal")
        assert "caseload" not in app._installed_screens and shown_names(app, names) == []


async def test_server_unreachable_says_so_and_opens_nothing(worker_store: Store,  # noqa: F811
                                                            apis: list[CaseAPI]) -> None:  # noqa: F811
    names = family_names(worker_store)
    api = CaseAPI(DOWN_URL, tokens=MemoryTokenStore())
    apis.append(api)
    app = gated_app(worker_store, api)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await sign_in(pilot, "demo")
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen) and "could not be reached"
                         in error_text(app), what="the offline error")
        assert "not opened offline" in error_text(app)
        assert len(app.screen_stack) == 2 and "caseload" not in app._installed_screens
        assert shown_names(app, names) == []


async def test_the_terminal_app_is_unchanged(worker_store: Store, server_api: CaseAPI,  # noqa: F811
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tui import keymap
    from tui.app import WEB_ENV, CaseworkApp

    monkeypatch.delenv(WEB_ENV, raising=False)
    app = CaseworkApp(store=worker_store, api=server_api, username="worker", keymap=keymap.load(None),
                      start_screen="caseload")
    assert not app.gated
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.name == "caseload", what="the caseload")
        assert not any(isinstance(s, SignInScreen) for s in app.screen_stack)
    # and the environment variable alone turns the gate on
    monkeypatch.setenv(WEB_ENV, "1")
    assert CaseworkApp(store=worker_store, api=server_api, username="worker", keymap=keymap.load(None)).gated


def test_each_tab_runs_gated_with_tokens_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command textual-serve runs per tab, and what it builds: never the saved token file."""
    from tui import config as config_file
    from tui import web
    from tui.app import CaseworkApp

    command = web.tui_command()
    assert command.startswith("CASEWORK_WEB=1 ") and command.endswith("-m tui.web --tab")
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        (tmp_path / name.lower()).mkdir(mode=0o700)
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    url = "http://127.0.0.1:9"
    config_file.save(config_file.Config(server_url=url, username="worker"))
    # whoever started `casework web` is signed in: their saved tokens must not reach the tab
    saved = FileTokenStore(url, "worker")
    saved.save(Tokens("saved-access", "saved-refresh"))
    built: list[CaseworkApp] = []

    def run(self: CaseworkApp) -> None:
        built.append(self)

    monkeypatch.setattr(CaseworkApp, "run", run)
    assert web.main(["--tab"]) == 0
    (app,) = built
    assert app.gated and app.username == "worker"
    assert isinstance(app.api.token_store, MemoryTokenStore) and app.api.token_store.load() is None
    assert saved.load() == Tokens("saved-access", "saved-refresh")  # left as it was
