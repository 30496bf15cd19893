"""``casework demo``: the reference server on 127.0.0.1 with synthetic data, and the TUI signed in to it."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tui.cli import CommandError

DEMO_PASSWORD = "demo"


def demo_database() -> Path:
    from platformdirs import user_data_path

    return user_data_path("casework", appauthor=False, ensure_exists=True) / "demo.db"


def prepare(path: Path, cases: int, fresh: bool) -> None:
    """Seed the demo database on first run, or again with --fresh."""
    from sqlalchemy import func, select

    from server import db
    from server.seed import seed
    from server.tables import people

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(people)).scalar_one() == 0
    if empty:
        print(f"seeding {cases} synthetic cases into {path} (first run; --fresh does it again) …", flush=True)
        report = seed(engine, cases=cases)
        print(f"seeded {report.cases} cases and {report.events:,} chronology events in {report.seconds:.1f} s",
              flush=True)
    engine.dispose()


class BackgroundServer:
    """uvicorn in a thread: real HTTP on loopback, stopped when the TUI quits."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="casework-demo-server", daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise CommandError(f"the demo server could not listen on {self.url} (is another demo running? "
                                   "try --port)")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def run(args: argparse.Namespace) -> int:
    from server.app import create_app

    path = demo_database()
    prepare(path, args.cases, args.fresh)
    app = create_app(f"sqlite:///{path}")
    with BackgroundServer(app, args.port) as server:
        if args.server_only:
            return _serve_only(server, args.user, path)
        return _run_tui(server.url, args.user, fresh=args.fresh)


def _run_tui(url: str, username: str, *, fresh: bool) -> int:
    from client.api import CaseAPI
    from client.credentials import FileTokenStore
    from client.errors import CaseworkError
    from client.store import purge_store, store_path
    from tui.launch import run_tui

    if fresh:
        # the server's data was made anew, so this device's copy of the old data must go too
        purge_store(store_path(url, username))

    async def sign_in() -> str:
        async with CaseAPI(url, tokens=FileTokenStore(url, username)) as api:
            await api.sign_in(username, DEMO_PASSWORD)
            return (await api.me()).value.role  # type: ignore[union-attr]

    try:
        role = asyncio.run(sign_in())
    except CaseworkError as error:
        raise CommandError(f"cannot sign in as {username}: {error} (demo users: duty, worker, manager, "
                           "admin)") from None
    start = {"duty": "search", "admin": "admin"}.get(role, "caseload")
    return run_tui(url, username, start_screen=start)


def _serve_only(server: BackgroundServer, username: str, path: Path) -> int:
    base = server.url + "/v1"
    print(f"""
casework demo: the reference Case API with synthetic data
  server     {base}   (API docs: {base}/docs)
  database   {path}
  sign in    {username} / {DEMO_PASSWORD}   (demo users: duty, worker, manager, admin)

try it:
  TOKEN=$(curl -s -X POST {base}/auth/token -H 'content-type: application/json' \\
      -d '{{"username": "{username}", "password": "{DEMO_PASSWORD}"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/search?q=mohammed'

ctrl+c stops the server.
""", flush=True)
    try:
        while server.thread.is_alive():
            server.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    return 0
