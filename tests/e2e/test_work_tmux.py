"""The day's work in a real terminal (tmux): clearing tasks with undo, a draft that survives SIGKILL, and notes
written with the server down that reach it exactly once when it comes back.

Each test has its own tmux server, its own free port and every XDG folder under ``tmp_path`` (``pytest -n 2``);
every wait is a bounded poll that fails with the screen as it was.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers_work import (CASEWORK, START_TIMEOUT, STEP_TIMEOUT, SYNCED, Tmux, free_port, kill9, poll,
                                    query, unsent)

pytestmark = pytest.mark.e2e

CASES = 300
TRAY = re.compile(r"My tasks · (\d+) open")
HEADER = re.compile(r"^ (\S.*?)  .*\bcase (\d+) · ", re.M)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: apt-get install tmux, or deselect with -m 'not e2e'")
    if not CASEWORK.exists():
        pytest.fail(f"{CASEWORK} is missing: install the project into this venv (pip install -e .)")
    made = Tmux(tmp_path)
    yield made
    made.close()


def demo(port: int, *extra: str) -> list[str]:
    return [str(CASEWORK), "demo", "--user", "worker", "--port", str(port), "--cases", str(CASES), *extra]


def settled(screen: str) -> bool:
    """The first sync is done and nothing is waiting to go."""
    return bool(SYNCED.search(screen)) and "syncing" not in screen and unsent(screen) == 0


def tray_open(screen: str) -> int | None:
    found = TRAY.search(screen)
    return int(found.group(1)) if found else None


def selected_rows(screen: str) -> list[tuple[str, int]]:
    """(task title, case number) of every row the tray marks selected (●)."""
    rows = []
    for line in screen.splitlines():
        if line.startswith("●"):
            fields = re.split(r"\s{2,}", line[1:].strip())
            rows.append((fields[3], int(fields[-1].lstrip("#"))))
    return rows


def worker_tasks(db: Path, status: str) -> set[int]:
    return {row[0] for row in query(db, "SELECT id FROM tasks WHERE assignee = 'worker' AND status = ?", status)}


def test_clear_twenty_tasks_with_undo(tmux: Tmux) -> None:
    port = free_port()
    tmux.start(demo(port), "one")
    tmux.wait_for(lambda s: "My cases ·" in s and settled(s), timeout=START_TIMEOUT, why="the synced caseload")
    db = tmux.demo_db
    open_before = worker_tasks(db, "open")
    titles = {row[0]: (row[1], row[2]) for row in query(db, "SELECT id, title, case_id FROM tasks")}

    tmux.keys("3")
    screen = tmux.wait_for(lambda s: tray_open(s) is not None, why="the task tray")
    count = tray_open(screen)
    assert count is not None and count >= 20, screen

    # 20 × space selects the first 20 rows, x completes them all
    tmux.keys(*["Space"] * 20)
    screen = tmux.wait_for("20 selected", why="20 tasks selected")
    chosen = selected_rows(screen)
    assert len(chosen) == 20, screen
    tmux.keys("x")
    tmux.wait_for(lambda s: tray_open(s) == count - 20 and "selected" not in s.splitlines()[0],
                  why=f"{count - 20} open after completing 20")

    # u undoes the whole bulk, and the server is told
    tmux.keys("u")
    tmux.wait_for(lambda s: tray_open(s) == count and "Undone" in s, why=f"{count} open again after undo")
    poll(lambda: worker_tasks(db, "open") == open_before, STEP_TIMEOUT, "the server to have the 20 open again")

    # the same 20 again, for good
    tmux.keys("g", "Space", *["Space"] * 19)
    screen = tmux.wait_for("20 selected", why="20 tasks selected again")
    assert selected_rows(screen) == chosen, "the tray after undo is not the tray before"
    tmux.keys("x")
    tmux.wait_for(lambda s: tray_open(s) == count - 20, why=f"{count - 20} open after completing 20 again")
    # everything sent: the server has 20 fewer open before we quit
    poll(lambda: len(open_before - worker_tasks(db, "open")) == 20, STEP_TIMEOUT, "the 20 completions on the server")
    tmux.wait_for(settled, why="0 unsent")

    tmux.keys("C-q")
    assert tmux.exit_status("one", STEP_TIMEOUT) == 0, tmux.screen()

    now_open, now_done = worker_tasks(db, "open"), worker_tasks(db, "done")
    completed = open_before - now_open
    assert len(completed) == 20 and completed <= now_done
    assert Counter(titles[i] for i in completed) == Counter(chosen), "the server completed other tasks than the 20 chosen"
    assert now_open == open_before - completed, "tasks other than the 20 changed on the server"
    states = query(db, f"SELECT status, completed_at FROM tasks WHERE id IN ({','.join(map(str, completed))})")
    assert all(status == "done" and completed_at for status, completed_at in states), states


def test_draft_survives_sigkill(tmux: Tmux) -> None:
    port = free_port()
    sentence = f"Zebra-{uuid.uuid4().hex[:6]} said the kitchen cupboards were full this week"
    tmux.start(demo(port), "one")
    tmux.wait_for(lambda s: "My cases ·" in s and settled(s), timeout=START_TIMEOUT, why="the synced caseload")

    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: HEADER.search(s) and "Who to call" in s, why="the first case")
    name_upper, case_number = HEADER.search(screen).groups()  # type: ignore[union-attr]
    given, family = name_upper.rsplit(" ", 1)
    name = f"{given} {family.title()}"
    tmux.keys("n")
    time.sleep(0.3)
    tmux.type(sentence)
    tmux.wait_for(sentence, why="the sentence in the note box")
    time.sleep(1.0)  # the draft is written after 0.25 s of quiet
    kill9(tmux.program_pid())
    assert tmux.exit_status("one", STEP_TIMEOUT) == 128 + signal.SIGKILL

    # again, same folders, same port: the same case has the sentence in its note box
    tmux.start(demo(port), "two")
    tmux.wait_for(lambda s: "My cases ·" in s and settled(s), timeout=START_TIMEOUT, why="the caseload after restart")
    tmux.keys("/")
    time.sleep(0.3)
    tmux.type(name)
    tmux.wait_for("showing", why=f"the caseload filtered to {name}")
    tmux.keys("Enter", pause=0.3)
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: f"case {case_number} · " in s and sentence in s,
                           why=f"case {case_number} with the draft in its note box")
    header = HEADER.search(screen)
    assert header and header.group(1) == name_upper
    tmux.keys("C-q")
    assert tmux.exit_status("two", STEP_TIMEOUT) == 0, tmux.screen()


def test_notes_written_offline_reach_the_server_once(tmux: Tmux, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"

    def serve() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            server = subprocess.Popen([*demo(port, "--server-only")], env=tmux.env, stdout=out,
                                      stderr=subprocess.STDOUT)
        poll(lambda: server.poll() is not None or "ctrl+c stops" in log.read_text(), START_TIMEOUT,
             "the demo server to start")
        assert server.poll() is None, log.read_text()
        return server

    def stop(server: subprocess.Popen[bytes]) -> None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)

    server = serve()
    try:
        # sign in once so tokens are saved, and say where the server is
        signed = subprocess.run(
            [str(CASEWORK.with_name("python")), "-c",
             "import asyncio, sys; from tui.launch import _sign_in; "
             "asyncio.run(_sign_in(sys.argv[1], 'worker', 'demo'))", url],
            env=tmux.env, capture_output=True, text=True, timeout=30)
        assert signed.returncode == 0, signed.stderr
        config = Path(tmux.env["XDG_CONFIG_HOME"]) / "casework"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text(f'server_url = "{url}"\nusername = "worker"\n')

        tmux.start([str(CASEWORK)], "tui")
        tmux.wait_for(lambda s: "My cases ·" in s and settled(s), timeout=START_TIMEOUT, why="the synced caseload")
        stop(server)

        bodies = [f"Offline note {n} {uuid.uuid4().hex[:8]}: spoke to the school nurse" for n in (1, 2, 3)]
        for n, body in enumerate(bodies):
            tmux.keys("Enter")
            tmux.wait_for(lambda s: HEADER.search(s) and "Who to call" in s, why="a case")
            tmux.keys("n")
            time.sleep(0.3)
            tmux.type(body)
            tmux.wait_for(body, why="the note in the box")
            tmux.keys("C-s")
            tmux.wait_for(lambda s, want=n + 1: unsent(s) == want, why=f"{n + 1} unsent")
            tmux.keys("Escape")
            tmux.wait_for("My cases ·", why="back on the caseload")
            time.sleep(0.3)
            tmux.keys("j")
            time.sleep(0.2)
        screen = tmux.wait_for(lambda s: "offline" in s.lower() and unsent(s) == 3, why="offline, 3 unsent")

        server = serve()
        deadline = time.monotonic() + 30
        while True:
            screen = tmux.screen()
            if unsent(screen) == 0:
                break
            if "Sign in" in screen and "assword" in screen:
                tmux.type("demo")
                tmux.keys("Enter")
                time.sleep(1)
            assert time.monotonic() < deadline, f"waited 30 s for 0 unsent; the screen shows:\n{screen}"
            time.sleep(0.1)
        tmux.keys("C-q")
        assert tmux.exit_status("tui", STEP_TIMEOUT) == 0, tmux.screen()
    finally:
        stop(server)

    for body in bodies:
        rows = query(tmux.demo_db, "SELECT id FROM notes WHERE body = ?", body)
        assert len(rows) == 1, f"{body!r} is on the server {len(rows)} times"
