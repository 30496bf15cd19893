"""Client benchmark: the first full sync of a big caseload, and the store reads screens make on key presses.

Seeds 100,000 cases (``server.seed``), gives the demo practitioner ``worker`` a 500-case caseload in a team
of their own (so "the team's cases" is the same 500 and the figure is for the caseload the task names),
serves the Case API with uvicorn in its own process (so the RSS measured here is the client's alone), then:

- ``initial_sync_s``: SyncEngine.sync_once() into an empty store: 500 cases with details, chronology,
  notes and tasks, the work tray, the 100,000-person directory and the users;
- ``store_mb``: the store's files on disk afterwards;
- p50/p95 of the store reads: a case, a 50-row chronology window at a random offset, the work tray,
  and duty search over the 100k directory (names, misspellings, dates of birth, postcodes, ids);
- ``rss_mb``: this process's resident memory after loading.

Prints one JSON object on stdout; progress goes to stderr.

    python bench/client.py [--cases 100000] [--caseload 500] [--reads 1000] [--server-db PATH]

``--server-db`` keeps the seeded server database at PATH and reuses it next time (seeding takes a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from client.api import CaseAPI, Timeouts  # noqa: E402
from client.store import Store  # noqa: E402
from client.sync import Progress, SyncEngine, SyncSettings  # noqa: E402

USERNAME = "worker"
PASSWORD = "demo"
BENCH_TEAM = "Bench caseload"


def say(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed_server(path: Path, cases: int, caseload: int) -> None:
    """A seeded server database where ``worker`` holds ``caseload`` open, unrestricted cases."""
    from sqlalchemy import text

    from server import db
    from server.seed import seed

    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    started = time.perf_counter()
    seed(engine, cases=cases, seed=1, progress=lambda line: say("  seed:", line))
    say(f"seeded {cases:,} cases in {time.perf_counter() - started:.0f} s")
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET team = :team WHERE username = :u"), {"team": BENCH_TEAM, "u": USERNAME})
        ids = [row[0] for row in conn.execute(text(
            "SELECT id FROM cases WHERE status = 'open' AND NOT restricted ORDER BY id LIMIT :n"), {"n": caseload})]
        conn.execute(text("UPDATE cases SET allocated_worker = :u, team = :team WHERE id IN (%s)"
                          % ",".join(map(str, ids))), {"u": USERNAME, "team": BENCH_TEAM})
        # the rest of worker's old caseload goes to a colleague, so "mine" is exactly the bench caseload
        conn.execute(text("UPDATE cases SET allocated_worker = NULL WHERE allocated_worker = :u AND team != :team"),
                     {"u": USERNAME, "team": BENCH_TEAM})
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "server", "serve", "--database-url",
                                f"sqlite:///{path}", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


async def initial_sync(base: str, store: Store) -> tuple[float, dict[str, int]]:
    phases: dict[str, int] = {}
    async with CaseAPI(base, timeouts=Timeouts(read=60)) as api:
        await api.sign_in(USERNAME, PASSWORD)
        engine = SyncEngine(api, store, username=USERNAME, settings=SyncSettings())

        def progress(event: object) -> None:
            if isinstance(event, Progress):
                phases[event.phase] = event.done

        engine.subscribe(progress)
        started = time.perf_counter()
        result = await engine.sync_once()
        elapsed = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"the sync failed: {result.error}")
    return elapsed, phases


def timed(samples: list[float], call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = call()
    samples.append((time.perf_counter() - started) * 1000)
    return value


def search_queries(store: Store, rng: random.Random, count: int) -> list[str]:
    """What a duty worker types: names (some misspelt), a date of birth, a postcode, an id."""
    rows = store._read("SELECT json FROM directory WHERE person_id IS NOT NULL ORDER BY random() LIMIT ?",
                       (count,))
    people = [json.loads(r[0]) for r in rows]
    queries = []
    for i, person in enumerate(people):
        given, family = person.get("given_name") or "", person.get("family_name") or ""
        kind = i % 6
        if kind == 0:
            queries.append(f"{given} {family}")
        elif kind == 1 and len(family) > 4:
            k = rng.randrange(1, len(family) - 1)  # a dropped letter: "Smth"
            queries.append(f"{given} {family[:k] + family[k + 1:]}")
        elif kind == 2:
            queries.append(family[:3].lower())  # typing has just begun
        elif kind == 3 and person.get("dob"):
            queries.append(f"{family} {person['dob'][:4]}")
        elif kind == 4 and person.get("postcode"):
            queries.append(person["postcode"])
        else:
            queries.append(person.get("la_child_id") or family)
    return queries


def measure_reads(store: Store, reads: int, searches: int) -> dict[str, float]:
    rng = random.Random(7)
    caseload = store.caseload(USERNAME)
    case_ids = [c.id for c in caseload]
    counts = {case_id: store.chronology_count(case_id) for case_id in case_ids}
    case_t: list[float] = []
    window_t: list[float] = []
    tasks_t: list[float] = []
    search_t: list[float] = []
    for _ in range(reads):
        case_id = rng.choice(case_ids)
        timed(case_t, lambda: store.case(case_id))
        offset = rng.randrange(max(1, counts[case_id]))
        timed(window_t, lambda: store.chronology_window(case_id, offset, 50))
        if rng.random() < 0.5:
            timed(tasks_t, lambda: store.tasks(assignee=USERNAME))  # the work tray
        else:
            timed(tasks_t, lambda: store.tasks(case_id=case_id))  # the case screen's open tasks
    for query in search_queries(store, rng, searches):
        timed(search_t, lambda: store.search(query, 50))
    out: dict[str, float] = {}
    for name, samples in (("read_case", case_t), ("chronology_window", window_t), ("tasks", tasks_t),
                          ("search", search_t)):
        out[f"{name}_p50_ms"] = round(statistics.median(samples), 3)
        out[f"{name}_p95_ms"] = round(percentile(samples, 0.95), 3)
    caseload_t: list[float] = []
    for _ in range(50):
        timed(caseload_t, lambda: store.caseload(USERNAME))
    out["caseload_p50_ms"] = round(statistics.median(caseload_t), 3)
    out["chronology_events_max"] = max(counts.values())
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def store_size_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return round(total / 1024 / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--caseload", type=int, default=500)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--server-db", type=Path, default=None)
    parser.add_argument("--seed-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed_server(args.seed_only, args.cases, args.caseload)
        return

    work = Path(tempfile.mkdtemp(prefix="casework-bench-client-"))
    server_db = args.server_db or work / "server.db"
    try:
        if not server_db.exists():
            server_db.parent.mkdir(parents=True, exist_ok=True)
            # in its own process, so that seeding's memory does not count in this process's peak RSS
            subprocess.run([sys.executable, __file__, "--seed-only", str(server_db), "--cases", str(args.cases),
                            "--caseload", str(args.caseload)], check=True)
        process, base = start_server(server_db)
        try:
            store_file = work / "client" / "worker.db"
            store = Store.open(store_file)
            say("initial sync…")
            elapsed, phases = asyncio.run(initial_sync(base, store))
            say(f"initial sync: {elapsed:.1f} s {phases}")
        finally:
            process.terminate()
            process.wait(timeout=30)
        result: dict[str, Any] = {
            "initial_sync_s": round(elapsed, 2),
            "store_mb": store_size_mb(store_file),
            "caseload_cases": len(store.caseload(USERNAME)),
            "directory_entries": store._read("SELECT count(*) FROM directory")[0][0],
        }
        result.update(measure_reads(store, args.reads, args.searches))
        result["rss_mb"] = rss_mb()
        result["rss_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        store.close()
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
