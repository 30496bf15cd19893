"""The ``casework`` command. Parsing stays light: nothing heavy is imported until a command runs."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, NoReturn, Sequence

if TYPE_CHECKING:
    import argparse


class CommandError(Exception):
    """A failure to report as one line, with a non-zero exit."""


def _positive(text: str) -> int:
    import argparse  # loaded by build_parser already: only the name is needed

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _port(text: str) -> int:
    import argparse

    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    # argparse (with gettext) is loaded here, not at the top: plain `casework` parses nothing (see main)
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    parser = Parser(prog="casework", description="A fast, keyboard-driven client for children's social care. "
                                                 "With no command, opens the app on the configured server.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")

    demo = commands.add_parser("demo", help="open the app on the reference server with synthetic data (127.0.0.1)")
    demo.add_argument("--port", type=_port, default=8765)
    demo.add_argument("--cases", type=_positive, default=2000, help="cases to seed on first run (default 2000)")
    demo.add_argument("--fresh", action="store_true", help="throw the demo database away and seed it again")
    demo.add_argument("--user", default="duty", help="demo user to sign in as (duty, worker, manager, admin)")
    demo.add_argument("--server-only", action="store_true", help="serve the API and print how to call it; no TUI")

    login = commands.add_parser("login", help="sign in to a Case API server and remember it")
    login.add_argument("--server", help="the server's URL, e.g. https://casework.example.gov.uk")
    login.add_argument("--user", help="your username")
    logout = commands.add_parser("logout", help="sign out and remove this device's copy of the records")
    logout.add_argument("--yes", action="store_true", help="even if unsent notes or drafts would be lost")
    purge = commands.add_parser("purge", help="remove this device's copy of the records (keeps the sign-in)")
    purge.add_argument("--yes", action="store_true", help="even if unsent notes or drafts would be lost")

    web = commands.add_parser("web", help="serve the app to a browser on 127.0.0.1 (textual-serve)")
    web.add_argument("--port", type=_port, default=8000, help="port on 127.0.0.1 for the browser (default 8000)")
    web.add_argument("--demo", action="store_true", help="serve the demo (synthetic data) instead of the "
                                                         "configured server")
    web.add_argument("--user", default="duty", help="with --demo: the demo user each browser tab signs in as")
    web.add_argument("--demo-port", type=_port, default=8765, help="with --demo: port of the demo Case API")
    web.add_argument("--cases", type=_positive, default=2000, help="with --demo: cases to seed on first run")

    server = commands.add_parser("server", help="the reference Case API server")
    server_commands = server.add_subparsers(dest="server_command", parser_class=Parser, metavar="COMMAND",
                                            required=True)

    def with_database(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--database-url", help="default: $CASEWORK_DATABASE_URL, else a SQLite file in the "
                                              "user data dir")
        return p

    serve = with_database(server_commands.add_parser("serve", help="serve the Case API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    with_database(server_commands.add_parser("migrate", help="bring the database schema up to date"))
    seed = with_database(server_commands.add_parser("seed", help="fill an empty database with synthetic data"))
    seed.add_argument("--cases", type=_positive, default=200)
    seed.add_argument("--seed", type=int, default=1, help="the random seed: the same seed gives the same data")
    seed.add_argument("--fresh", action="store_true", help="delete all existing data first")

    user_cmd = server_commands.add_parser("users", help="manage staff accounts (admin)")
    user_commands = user_cmd.add_subparsers(dest="users_command", parser_class=Parser, metavar="COMMAND",
                                            required=True)
    add = with_database(user_commands.add_parser("add", help="add a user"))
    add.add_argument("username")
    add.add_argument("--display-name", required=True)
    add.add_argument("--role", required=True, choices=("practitioner", "duty", "manager", "admin"))
    add.add_argument("--team", required=True)
    add.add_argument("--password", help="default: asked for at the prompt")
    with_database(user_commands.add_parser("list", help="list users"))
    disable = with_database(user_commands.add_parser("disable", help="disable a user and end their sessions"))
    disable.add_argument("username")
    set_role = with_database(user_commands.add_parser("set-role", help="change a user's role (and team)"))
    set_role.add_argument("username")
    set_role.add_argument("role", choices=("practitioner", "duty", "manager", "admin"))
    set_role.add_argument("--team")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # httpx imports its own command-line client (click, rich.progress, pygments) whenever click is installed,
    # and uvicorn installs it: ~30 ms of a 0.45 s cold start for a CLI we never run. A None entry makes that
    # import fail, and httpx then falls back to a stub (see httpx/__init__.py).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    argv = sys.argv[1:] if argv is None else list(argv)
    # plain `casework`, the start that is timed, has nothing to parse: argparse and the parser are ~6 ms of it
    args = build_parser().parse_args(argv) if argv else SimpleNamespace(command=None)
    try:
        if args.command == "server":
            from server import cli as server_cli

            return server_cli.run(args)
        if args.command == "web":
            from tui import web

            return web.run(args)
        if args.command == "demo":
            from tui import demo

            return demo.run(args)
        from tui import launch

        if args.command == "login":
            return launch.login(args)
        if args.command == "logout":
            return launch.logout(args)
        if args.command == "purge":
            return launch.purge(args)
        return launch.start(args)
    except CommandError as error:
        print(f"casework: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # run through the imported module, not __main__: the commands raise tui.cli.CommandError, which must be
    # the same class that main() catches
    from tui.cli import main as _main

    sys.exit(_main())
