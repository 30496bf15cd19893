"""``casework web``: the same app in a browser, for people who cannot use a terminal.

textual-serve runs a small aiohttp web server. The page it serves opens a
websocket, and for each browser tab that connects it starts one copy of this
program's own TUI as a subprocess (Textual's web driver, chosen through
``TEXTUAL_DRIVER``), so the browser shows exactly the terminal app: the same
screens, keys, local store and background sync.

- ``casework web`` serves the TUI of the configured server and user
  (``casework login``), with one difference from the terminal: each tab starts
  signed out (``CASEWORK_WEB=1``, ``python -m tui.web --tab``). It shows only
  the sign-in dialog, over an empty screen, until the person gives that user's
  password and the server accepts it; the tab's tokens are kept in its memory
  only, never in (or from) the saved token file of whoever started the server.
  With the server unreachable the tab says so and stays shut: no offline view.
- ``casework web --demo`` starts the demo Case API once, here, on 127.0.0.1, and
  each tab runs a TUI signed in to it as ``--user`` (default duty). Starting
  ``casework demo`` per tab instead would seed and serve a second API on the same
  port, and every tab after the first would fail.

It listens on 127.0.0.1 only; see ``LOOPBACK``. Nothing here is imported by
``casework --help``: textual-serve (and aiohttp under it) is imported when
the command runs.
"""

from __future__ import annotations

import argparse
import errno
import shlex
import socket
import sys
from collections.abc import Sequence

from tui.cli import CommandError

# Loopback only, and deliberately no --host option: the app shows child protection records (names, addresses,
# flags, chronologies), and textual-serve has no sign-in, TLS or origin check of its own. Each tab therefore
# asks for the configured user's password (checked by the server) before it shows anything, but the page and
# its sign-in dialog are still open to every local user who can reach the port, and the connection is plain
# HTTP. Bound to 0.0.0.0 anyone on the network could try passwords there and read what is typed. To reach it
# from another machine, tunnel it over SSH (ssh -L 8000:127.0.0.1:8000 host), which is authenticated and
# encrypted.
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8000
DEMO_API_PORT = 8765
WEB_ENV = "CASEWORK_WEB"  # tui.app.WEB_ENV: the App opens nothing before sign-in (not imported: no Textual here)


def add_arguments(parser: argparse.ArgumentParser, port: object = int) -> None:
    """The options of ``casework web`` (tui/cli.py passes its own port checker as ``port``)."""
    parser.add_argument("--port", type=port, default=DEFAULT_PORT,  # type: ignore[arg-type]
                        help=f"port on {LOOPBACK} for the browser (default {DEFAULT_PORT})")
    parser.add_argument("--demo", action="store_true",
                        help="serve the demo instead of the configured server: synthetic data on 127.0.0.1")
    parser.add_argument("--user", default="duty", help="with --demo: the demo user each browser tab signs in as "
                                                       "(duty, worker, manager, admin)")
    parser.add_argument("--demo-port", type=port, default=DEMO_API_PORT,  # type: ignore[arg-type]
                        help=f"with --demo: port of the demo Case API (default {DEMO_API_PORT})")
    parser.add_argument("--cases", type=int, default=2000, help="with --demo: cases to seed on first run")


def python_command(*arguments: str) -> str:
    """A shell command line running this Python (textual-serve runs the command through the shell)."""
    return " ".join(shlex.quote(part) for part in (sys.executable, *arguments))


def tui_command() -> str:
    """One browser tab's TUI on the configured server: signed out, tokens in memory (see ``_tab_session``)."""
    return f"{WEB_ENV}=1 " + python_command("-m", "tui.web", "--tab")


def demo_session_command(api_url: str, username: str) -> str:
    """One browser tab's TUI, signed in to the demo API this process already serves."""
    return python_command("-m", "tui.web", "--demo-session", api_url, "--user", username)


def check_port_free(port: int, what: str = "casework web") -> None:
    """Fail with one line now, rather than with aiohttp's traceback once the server starts."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((LOOPBACK, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(f"{what}: port {port} on {LOOPBACK} is in use; choose another with --port") from None
        raise CommandError(f"{what}: cannot listen on {LOOPBACK}:{port}: {error.strerror}") from None
    finally:
        probe.close()


def serve(command: str, port: int) -> int:
    """Serve ``command`` to browsers on 127.0.0.1:``port`` until ctrl+c (or SIGTERM)."""
    from textual_serve.server import Server

    check_port_free(port)
    server = Server(command, host=LOOPBACK, port=port, title="casework")
    print(f"casework web: open http://{LOOPBACK}:{port}/ in a browser on this machine; ctrl+c stops it.",
          flush=True)
    server.serve()
    return 0


def run(args: argparse.Namespace) -> int:
    if getattr(args, "demo", False):
        return _run_demo(args)
    from tui import launch

    config = launch.configured()
    if not config.server_url or not config.username:
        raise CommandError("no server is configured yet: run `casework login --server URL --user NAME` first, "
                           "or `casework web --demo` to try it")
    return serve(tui_command(), args.port)


def _run_demo(args: argparse.Namespace) -> int:
    from server.app import create_app
    from tui import demo

    check_port_free(args.port)
    path = demo.demo_database()
    demo.prepare(path, args.cases, False)
    api = create_app(f"sqlite:///{path}")
    try:
        with demo.BackgroundServer(api, args.demo_port) as api_server:
            print(f"casework web: demo Case API on {api_server.url}; each browser tab signs in as {args.user}",
                  flush=True)
            return serve(demo_session_command(api_server.url, args.user), args.port)
    finally:
        api.state.engine.dispose()


def _tab_session() -> int:
    """Inside one browser tab: the configured server and user's TUI, behind the sign-in gate.

    Not ``launch.run_tui``: that reads and writes the saved token file, which would hand this tab the session
    of whoever ran ``casework web``. Here the tokens live in a ``MemoryTokenStore`` and die with the tab."""
    import asyncio

    from client.api import CaseAPI
    from client.credentials import MemoryTokenStore
    from client.sync import SyncEngine
    from tui import config as config_file
    from tui import keymap, launch
    from tui.app import CaseworkApp

    config = launch.configured()
    if not config.server_url or not config.username:
        raise CommandError("no server is configured: run `casework login --server URL --user NAME` first")
    store = launch.open_store(config.server_url, config.username)
    try:
        api = CaseAPI(config.server_url, tokens=MemoryTokenStore())
        sync = SyncEngine(api, store, username=config.username)
        app = CaseworkApp(store=store, api=api, username=config.username,
                          keymap=keymap.load(config_file.keybindings_path()), sync=sync, require_sign_in=True)
        app.run()
        asyncio.run(api.aclose())
    finally:
        store.close()
    return app.return_code or 0


def _demo_session(api_url: str, username: str) -> int:
    """Inside one browser tab: sign in to the demo API and run the TUI (as ``casework demo`` does)."""
    from tui import demo

    return demo._run_tui(api_url, username, fresh=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tui.web``: the same options as ``casework web``, and the per-tab demo session."""
    parser = argparse.ArgumentParser(prog="casework web")
    add_arguments(parser)
    parser.add_argument("--demo-session", metavar="API_URL", help=argparse.SUPPRESS)
    parser.add_argument("--tab", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.tab:
            return _tab_session()
        if args.demo_session:
            return _demo_session(args.demo_session, args.user)
        return run(args)
    except CommandError as error:
        print(f"casework: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
