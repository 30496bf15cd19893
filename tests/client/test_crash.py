"""kill -9 never loses acknowledged work nor corrupts the store.

A subprocess (crash_writer.py) saves drafts and outbox items in a loop, printing
each id once the store has returned from saving it; it is SIGKILLed at a random
moment, 100 times over the same store. Afterwards the store passes
``PRAGMA integrity_check`` and holds everything it said it had saved.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from client.store import Store

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crash_writer.py")
RUNS = 100


@pytest.mark.slow
def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "srv_443" / "worker.db"
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261121")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    drafts: dict[int, int] = {}  # draft id -> the last body seq acknowledged
    discarded: set[int] = set()
    gone: set[int] = set()  # drafts turned into notes
    discarding: set[int] = set()  # drafts the writer was about to discard
    items: set[int] = set()
    wrote = 0
    for _ in range(RUNS):
        proc = subprocess.Popen([sys.executable, str(WRITER), str(path)], stdout=subprocess.PIPE, env=env,
                                cwd=ROOT, text=True)
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready == "ready\n", f"the writer did not start: {ready!r}"
        time.sleep(rng.uniform(0.02, 0.15))
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        for line in rest.split("\n")[:-1]:  # a line cut off by the kill was never fully printed
            kind, *values = line.split()
            wrote += 1
            if kind == "draft":
                drafts[int(values[0])] = int(values[1])
            elif kind == "item":
                items.add(int(values[0]))
            elif kind == "noted":
                gone.add(int(values[0]))
                items.add(int(values[1]))
            elif kind == "discarded":
                discarded.add(int(values[0]))
            elif kind == "discarding":
                discarding.add(int(values[0]))

    assert wrote > RUNS, "the writer was killed before it saved anything; the test proves nothing"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store.open(path)
    try:
        held = {d.id: d.body for d in store.drafts()}
        unsent = store.unsent()  # nothing is ever sent here, so every item is still unsent
    finally:
        store.close()
    outbox = {i.id for i in unsent}
    noted = {i.body["body"] for i in unsent if i.op == "note"}
    missing_items = items - outbox
    assert not missing_items, f"acknowledged outbox items lost: {sorted(missing_items)[:10]}"
    for draft_id, seq in drafts.items():
        if draft_id in discarded or draft_id in gone:
            assert draft_id not in held, f"draft {draft_id} was discarded or sent as a note, yet is still there"
            continue
        if draft_id not in held:
            # killed after the commit that removed it, before the writer could say so
            assert draft_id in discarding or f"note from draft {draft_id}" in noted, \
                f"acknowledged draft {draft_id} was lost"
            continue
        held_seq = int(held[draft_id].split()[1])
        assert held_seq >= seq, f"draft {draft_id} lost an acknowledged save ({held_seq} < {seq})"
