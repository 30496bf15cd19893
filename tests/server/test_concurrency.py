"""Two caseworkers PATCH the same task with the same ETag at the same moment: one wins, one gets 412."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from server.tables import tasks
from tests.live import serve
from tests.server.dataset import IDS


def test_racing_patches_with_one_etag_have_exactly_one_winner(app, login):
    rounds = 15
    with serve(app) as base:
        clients = [httpx.Client(base_url=base, headers=login(who), timeout=30) for who in ("pat", "dot")]
        try:
            for round_no in range(rounds):
                with app.state.engine.connect() as conn:
                    version = conn.execute(select(tasks.c.version).where(tasks.c.id == IDS.pat_task)).scalar_one()
                barrier = threading.Barrier(2)
                statuses: list[int] = []
                lock = threading.Lock()
                body = {"status": "done" if round_no % 2 == 0 else "open"}

                def race(client: httpx.Client) -> None:
                    barrier.wait()
                    response = client.patch(f"/v1/tasks/{IDS.pat_task}", json=body,
                                            headers={"If-Match": f'"{version}"'})
                    with lock:
                        statuses.append(response.status_code)

                threads = [threading.Thread(target=race, args=(c,)) for c in clients]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert sorted(statuses) == [200, 412], f"round {round_no}: {statuses}"
                with app.state.engine.connect() as conn:
                    after = conn.execute(select(tasks.c.version).where(tasks.c.id == IDS.pat_task)).scalar_one()
                assert after == version + 1
        finally:
            for client in clients:
                client.close()
