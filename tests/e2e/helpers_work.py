"""A tmux of our own for the work e2e tests: several sessions (a program can be killed and started again in a
new one), every XDG folder under the test's tmp_path, and bounded polls of the screen only."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

CASEWORK = Path(sys.executable).with_name("casework")
START_TIMEOUT = 40.0
STEP_TIMEOUT = 15.0
UNSENT = re.compile(r"(\d+) unsent")
SYNCED = re.compile(r"\bsynced \d\d:\d\d")


class Tmux:
    def __init__(self, tmp_path: Path, width: int = 160, height: int = 50, term: str = "xterm-256color") -> None:
        self.socket = f"casework-work-{uuid.uuid4().hex[:12]}"
        self.width, self.height, self.term = width, height, term
        self.tmp_path = tmp_path
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("TMUX", "TMUX_PANE", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TEXTUAL",
                                   "COLUMNS", "LINES")}  # Textual would take these over the terminal
        for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            folder = tmp_path / name.lower()
            folder.mkdir(exist_ok=True)
            self.env[name] = str(folder)
        self.env["TERM"] = term
        self.session = ""

    @property
    def demo_db(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "casework" / "demo.db"

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=10)
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str], session: str) -> None:
        """Run ``command`` in a new session, which becomes the one keys go to; the pane outlives it."""
        xdg = " ".join(f"{k}={self.env[k]}" for k in sorted(self.env) if k.startswith("XDG_"))
        exit_file = self.tmp_path / f"exit-{session}"
        shell = f"env TERM={self.term} {xdg} {' '.join(command)}; echo $? > {exit_file}; sleep 120"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", session, "-x", str(self.width), "-y",
                  str(self.height), shell)
        self.session = session
        # some tmux versions size a detached session by default-size, not -x/-y: make sure of the size
        self.tmux("set-option", "-t", session, "window-size", "manual")
        self.tmux("resize-window", "-t", session, "-x", str(self.width), "-y", str(self.height))
        size = self.tmux("display-message", "-p", "-t", session, "#{window_width}x#{window_height}").strip()
        assert size == f"{self.width}x{self.height}", f"the tmux window is {size}, not {self.width}x{self.height}"

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str, pause: float = 0.0) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)
            if pause:
                time.sleep(pause)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, what: str | Callable[[str], object], timeout: float = STEP_TIMEOUT, why: str = "") -> str:
        check = (lambda screen: what in screen) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {why or repr(what)}; the screen shows:\n{screen}")
            time.sleep(0.05)

    def program_pid(self) -> int:
        """The casework process: the child of the pane's shell."""
        shell = int(self.tmux("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True)
            pids = [int(p) for p in done.stdout.split()]
            for pid in pids:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                if b"casework" in cmdline:
                    return pid
            time.sleep(0.05)
        raise AssertionError(f"no casework process under the pane's shell {shell}")

    def exit_status(self, session: str, timeout: float) -> int:
        exit_file = self.tmp_path / f"exit-{session}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if exit_file.exists() and exit_file.read_text().strip():
                return int(exit_file.read_text())
            time.sleep(0.05)
        raise AssertionError(f"casework did not exit within {timeout:.0f} s; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=10)


def kill9(pid: int, timeout: float = 5.0) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
        if ") Z" in stat:
            return  # a zombie: dead, waiting for its shell to reap it
        assert time.monotonic() < deadline, f"process {pid} still alive after SIGKILL"
        time.sleep(0.02)


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Read the server's SQLite database (WAL: a reader sees what the server committed)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def poll(condition: Callable[[], object], timeout: float, why: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {why}")
        time.sleep(0.1)


def unsent(screen: str) -> int | None:
    found = UNSENT.search(screen)
    return int(found.group(1)) if found else None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
