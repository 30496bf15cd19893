"""Server benchmark: seeds 100,000 cases and measures the Case API over loopback.

Prints one JSON object. For SQLite and PostgreSQL each: p50/p95 of GET case,
a chronology page, search, the changes feed and PATCH task, taken one request
at a time against `casework server serve` (uvicorn) in its own process, then
requests per second with 8 concurrent clients.

    python bench/server.py [--cases 100000] [--requests 400] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server import db  # noqa: E402
from server.auth import issue_tokens  # noqa: E402
from server.seed import seed  # noqa: E402
from server.tables import cases, people, tasks, users  # noqa: E402

PG_ADMIN = os.environ.get("CASEWORK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "server", "serve", "--database-url", url,
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def timed(samples: list[float], call: Callable[[], httpx.Response], expect: int = 200) -> httpx.Response:
    started = time.perf_counter()
    response = call()
    samples.append((time.perf_counter() - started) * 1000)
    if response.status_code != expect:
        raise SystemExit(f"unexpected {response.status_code}: {response.text[:300]}")
    return response


def fixtures(url: str) -> dict[str, Any]:
    engine = db.make_engine(url)
    rng = random.Random(7)
    with engine.begin() as conn:
        duty_id = conn.execute(select(users.c.id).where(users.c.username == "duty")).scalar_one()
        token = issue_tokens(conn, duty_id, 3600, 3600)["access_token"]
        case_ids = list(conn.execute(select(cases.c.id).where(cases.c.restricted.is_(False))).scalars())
        names = list(conn.execute(select(people.c.given_name, people.c.family_name).limit(5000)).all())
        task_ids = list(conn.execute(select(tasks.c.id).join(cases, cases.c.id == tasks.c.case_id)
                                     .where(cases.c.restricted.is_(False)).limit(20000)).scalars())
    engine.dispose()
    misspell = {"Mohammed": "Muhammad", "Smith": "Smyth", "Catherine": "Kathryn", "Jones": "Jons"}
    queries = []
    for given, family in rng.sample(names, 200):
        queries.append(rng.choice([f"{given} {family}", misspell.get(given, given[:3]) + " " + family,
                                   f"{given[:4]} {misspell.get(family, family)}", family]))
    return {"token": token, "case_ids": case_ids, "queries": queries, "task_ids": task_ids, "rng": rng}


def measure(url: str, requests: int, seconds: float) -> dict[str, float]:
    data = fixtures(url)
    rng: random.Random = data["rng"]
    process, base = start_server(url)
    headers = {"Authorization": f"Bearer {data['token']}"}
    out: dict[str, float] = {}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            head = client.get("/v1/changes").json()["next_cursor"]
            for _ in range(20):  # warm the connection and the caches
                client.get(f"/v1/cases/{rng.choice(data['case_ids'])}")
            get_case: list[float] = []
            chronology: list[float] = []
            search: list[float] = []
            patch: list[float] = []
            changes: list[float] = []
            for _ in range(requests):
                case_id = rng.choice(data["case_ids"])
                timed(get_case, lambda: client.get(f"/v1/cases/{case_id}"))
                timed(chronology, lambda: client.get(f"/v1/cases/{case_id}/chronology?limit=200"))
                query = rng.choice(data["queries"])
                timed(search, lambda: client.get("/v1/search", params={"q": query}))
            for task_id in rng.sample(data["task_ids"], min(requests, len(data["task_ids"]))):
                version = client.get(f"/v1/tasks/{task_id}").headers["etag"]
                timed(patch, lambda: client.patch(f"/v1/tasks/{task_id}", json={"priority": "high"},
                                                  headers={"If-Match": version}))
            for _ in range(requests):
                timed(changes, lambda: client.get("/v1/changes", params={"since": head, "limit": 100}))
        for name, samples in (("get_case", get_case), ("chronology", chronology), ("search", search),
                              ("changes", changes), ("patch_task", patch)):
            out[f"{name}_p50_ms"] = round(statistics.median(samples), 2)
            out[f"{name}_p95_ms"] = round(percentile(samples, 0.95), 2)
        out["rps_8_clients"] = round(throughput(base, headers, data, seconds), 1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return out


def throughput(base: str, headers: dict[str, str], data: dict[str, Any], seconds: float) -> float:
    """8 clients, each a thread with its own connection, reading cases and searching, for ``seconds``."""
    done = [0] * 8
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.monotonic() < stop:
                if rng.random() < 0.8:
                    client.get(f"/v1/cases/{rng.choice(data['case_ids'])}")
                else:
                    client.get("/v1/search", params={"q": rng.choice(data["queries"])})
                done[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def seeded(url: str, count: int) -> float:
    engine = db.make_engine(url)
    db.migrate(engine)
    started = time.perf_counter()
    seed(engine, cases=count, seed=1)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    import psycopg

    result: dict[str, Any] = {"cases": args.cases}
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        result["seed_seconds"] = round(seeded(sqlite_url, args.cases), 1)
        result["sqlite"] = measure(sqlite_url, args.requests, args.seconds)
    name = f"cw_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
        result["postgresql_seed_seconds"] = round(seeded(pg_url, args.cases), 1)
        result["postgresql"] = measure(pg_url, args.requests, args.seconds)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result))


if __name__ == "__main__":
    main()
