"""Starting the TUI, signing in and out, and purging this device's copy."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tui.cli import CommandError
from tui import config as config_file


def open_store(server_url: str, username: str):  # type: ignore[no-untyped-def]
    from client.paths import StoreError
    from client.store import Store, store_path

    try:
        return Store.open(store_path(server_url, username))
    except StoreError as error:
        raise CommandError(str(error)) from None


def run_tui(server_url: str, username: str, *, start_screen: str | None = None) -> int:
    """Open the App on this device's store; sync runs in the background."""
    from client.api import CaseAPI
    from client.credentials import FileTokenStore
    from client.sync import SyncEngine
    from tui import keymap
    from tui.app import CaseworkApp

    store = open_store(server_url, username)
    try:
        api = CaseAPI(server_url, tokens=FileTokenStore(server_url, username))
        sync = SyncEngine(api, store, username=username)
        app = CaseworkApp(store=store, api=api, username=username, keymap=keymap.load(config_file.keybindings_path()),
                          sync=sync, start_screen=start_screen)
        app.run()  # the App closes sync and the HTTP client itself, on its own event loop
    finally:
        store.close()
    return app.return_code or 0


def configured() -> config_file.Config:
    try:
        return config_file.load()
    except config_file.ConfigError as error:
        raise CommandError(str(error)) from None


def start(args: object) -> int:
    config = configured()
    if not config.server_url or not config.username:
        raise CommandError("no server is configured yet: run `casework login --server URL --user NAME`, "
                           "or `casework demo` to try it")
    return run_tui(config.server_url, config.username)


async def _sign_in(server_url: str, username: str, password: str) -> None:
    from client.api import CaseAPI
    from client.credentials import FileTokenStore
    from client.errors import CaseworkError

    async with CaseAPI(server_url, tokens=FileTokenStore(server_url, username)) as api:
        try:
            await api.sign_in(username, password)
        except CaseworkError as error:
            raise CommandError(str(error)) from None


def login(args: object) -> int:
    config = configured()
    server_url = getattr(args, "server", None) or config.server_url
    username = getattr(args, "user", None) or config.username
    if not server_url:
        raise CommandError("give the server with --server URL (for example https://casework.example.gov.uk)")
    if not username:
        raise CommandError("give your username with --user NAME")
    if not sys.stdin.isatty():
        raise CommandError("sign in from a terminal: the password is asked for at the prompt")
    import getpass  # only signing in asks for a password

    password = getpass.getpass(f"password for {username} at {server_url}: ")
    asyncio.run(_sign_in(server_url, username, password))
    path = config_file.save(config_file.Config(server_url=server_url, username=username))
    print(f"signed in as {username}; settings saved in {path}. Run `casework` to start.")
    return 0


def purge(args: object, *, signing_out: bool = False) -> int:
    """Remove this device's store (and, signing out, the saved sign-in) after saying what would be lost."""
    from client.credentials import FileTokenStore
    from client.store import purge_preview, purge_store, store_path

    config = configured()
    if not config.server_url or not config.username:
        print("nothing to remove: no server is configured")
        return 0
    path = store_path(config.server_url, config.username)
    preview = purge_preview(path)
    if (preview.unsent or preview.drafts) and not getattr(args, "yes", False):
        print(f"This device still holds {len(preview.unsent)} change(s) not yet sent to the server and "
              f"{len(preview.drafts)} unsaved draft note(s); they would be lost.", file=sys.stderr)
        for item in preview.unsent[:10]:
            print(f"  unsent: {item.op} on case {item.case_id}", file=sys.stderr)
        for draft in preview.drafts[:10]:
            print(f"  draft on case {draft.case_id}: {draft.body[:60]!r}", file=sys.stderr)
        raise CommandError("run `casework` while online to send them, or add --yes to remove them anyway")
    note = ""
    if signing_out:
        # before the tokens are forgotten: the server must end the sessions they belong to
        note = asyncio.run(_end_sessions(config.server_url, config.username))
    report = purge_store(path)
    if signing_out:
        FileTokenStore(config.server_url, config.username).clear()
    removed = ", ".join(str(Path(p).name) for p in report.removed_files) or "nothing"
    print(f"removed the local store for {config.username} ({removed})" + ("; signed out" if signing_out else "")
          + note)
    return 0


async def _end_sessions(server_url: str, username: str) -> str:
    """Ask the server to end this user's sessions, so a copied refresh token is no use; say if it could not."""
    from client.api import CaseAPI
    from client.credentials import FileTokenStore
    from client.errors import CaseworkError

    async with CaseAPI(server_url, tokens=FileTokenStore(server_url, username)) as api:
        if not api.signed_in:
            return ""
        try:
            await api.logout()
        except CaseworkError as error:
            return f" (the server was not told: {error}; the sign-in on this device is removed anyway)"
    return ""


def logout(args: object) -> int:
    return purge(args, signing_out=True)
