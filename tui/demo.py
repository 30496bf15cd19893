"""``casework demo``: the reference server on 127.0.0.1 with synthetic data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def demo_database() -> Path:
    from platformdirs import user_data_path

    return user_data_path("casework", appauthor=False, ensure_exists=True) / "demo.db"


def prepare(path: Path, cases: int, fresh: bool) -> None:
    """Seed the demo database on first run, or again with --fresh."""
    from server import db
    from server.seed import seed

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    from sqlalchemy import func, select

    from server.tables import people

    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(people)).scalar_one() == 0
    if empty:
        print(f"seeding {cases} synthetic cases into {path} (first run) ...", flush=True)
        report = seed(engine, cases=cases)
        print(f"seeded {report.cases} cases and {report.events} chronology events in {report.seconds:.1f} s",
              flush=True)
    engine.dispose()


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    path = demo_database()
    prepare(path, args.cases, args.fresh)
    app = create_app(f"sqlite:///{path}")
    base = f"http://127.0.0.1:{args.port}/v1"
    print(f"""
casework demo: the reference Case API with synthetic data
  server     {base}   (API docs: {base}/docs)
  database   {path}
  sign in    {args.user} / demo   (demo users: duty, worker, manager, admin; password demo)

try it:
  TOKEN=$(curl -s -X POST {base}/auth/token -H 'content-type: application/json' \\
      -d '{{"username": "{args.user}", "password": "demo"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/search?q=mohammed'

ctrl+c stops the server.
""", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    server.run()
    if not server.started:
        print(f"casework demo: could not listen on 127.0.0.1:{args.port}; try --port", file=sys.stderr)
        return 1
    return 0
