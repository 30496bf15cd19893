"""``casework web`` in a subprocess: the page is served on 127.0.0.1, a browser tab's websocket starts the TUI.

Everything the program writes (config, tokens, the demo database, the store) goes under a temporary home
through the XDG variables, which platformdirs honours on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_command() -> list[str]:
    """``casework web`` once tui/cli.py knows the command; until then the same options through ``python -m
    tui.web``, which runs the same ``tui.web.run``."""
    from tui.cli import build_parser

    try:
        build_parser().parse_args(["web", "--port", "1"])
    except SystemExit:
        return [sys.executable, "-m", "tui.web"]
    return [sys.executable, "-m", "tui.cli", "web"]


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        folder = tmp_path / name.lower()
        folder.mkdir(mode=0o700)
        env[f"XDG_{name}_HOME"] = str(folder)
    env.pop("TEXTUAL_DRIVER", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Running:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self) -> str:
        try:
            out, _ = self.process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            return "(still running)"
        return out.decode(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # textual-serve's own graceful exit
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the TUI subprocesses go too
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


@pytest.fixture
def start(home: dict[str, str], tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[Running] = []

    def run(*arguments: str) -> Running:
        running = Running([*web_command(), *arguments], home, tmp_path)
        started.append(running)
        return running

    yield run
    for running in started:
        running.stop()


def wait_for_page(running: Running, port: int, deadline: float) -> httpx.Response:
    url = f"http://127.0.0.1:{port}/"
    while True:
        if running.process.poll() is not None:
            pytest.fail(f"casework web exited with {running.process.returncode}:\n{running.output()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"nothing answered on {url} in time")
            time.sleep(0.1)


async def first_screen(port: int, timeout: float) -> bytes:
    """Open a browser tab's websocket and return the first bytes the TUI draws."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            received = b""
            async with asyncio.timeout(timeout):
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.BINARY:
                        received += message.data
                        if len(received) > 2000:
                            break
                    elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                          aiohttp.WSMsgType.ERROR):
                        break
            await ws.close()
            return received


def test_serves_the_configured_server_on_loopback(start, home: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    config = Path(home["XDG_CONFIG_HOME"]) / "casework"
    config.mkdir(mode=0o700)
    # the discard port: nothing listens, so the TUI starts offline on its (empty) store
    (config / "config.toml").write_text('server_url = "http://127.0.0.1:9"\nusername = "pat"\n')
    port = free_port()
    running = start("--port", str(port))
    page = wait_for_page(running, port, began + 20)
    assert page.status_code == 200
    assert "textual.js" in page.text and f"ws://127.0.0.1:{port}/ws" in page.text
    assert "<title>casework</title>" in page.text or "casework" in page.text
    drawn = asyncio.run(first_screen(port, timeout=20))
    assert drawn, f"the TUI drew nothing in the browser:\n{running.stop() and running.output()}"
    # only loopback: the same port on this machine's other addresses is not served
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
    if listening.returncode == 0 and listening.stdout.strip():
        assert all("127.0.0.1:" in line for line in listening.stdout.strip().splitlines()), listening.stdout
    assert running.stop() == 0
    assert time.monotonic() - began < 30


def test_demo(start) -> None:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    port, api_port = free_port(), free_port()
    running = start("--port", str(port), "--demo", "--demo-port", str(api_port), "--cases", "20", "--user", "admin")
    page = wait_for_page(running, port, began + 25)
    assert page.status_code == 200 and "textual.js" in page.text
    assert httpx.get(f"http://127.0.0.1:{api_port}/v1/health", timeout=5).json()["status"] == "ok"
    drawn = asyncio.run(first_screen(port, timeout=max(5.0, 28 - (time.monotonic() - began))))
    assert drawn
    assert running.stop() == 0
    assert time.monotonic() - began < 30


def test_no_configured_server_is_one_line(home: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run([*web_command(), "--port", str(free_port())], env=home, cwd=tmp_path,
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "no server is configured" in done.stderr


def test_port_in_use_is_one_line(home: dict[str, str], tmp_path: Path) -> None:
    config = Path(home["XDG_CONFIG_HOME"]) / "casework"
    config.mkdir(mode=0o700)
    (config / "config.toml").write_text('server_url = "http://127.0.0.1:9"\nusername = "pat"\n')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*web_command(), "--port", str(port)], env=home, cwd=tmp_path, capture_output=True,
                              text=True, timeout=20)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr


async def screen_until(port: int, needles: tuple[bytes, ...], timeout: float) -> bytes:
    """A browser tab's bytes until each of ``needles`` has been drawn (or the timeout)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            received = b""
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.BINARY:
                            received += message.data
                            if all(needle in received for needle in needles):
                                break
                        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                              aiohttp.WSMsgType.ERROR):
                            break
            await ws.close()
            return received


def test_a_tab_opens_on_the_sign_in_dialog_not_the_records(start, home: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Whoever reaches the port meets the sign-in dialog, even though the user who started it is signed in."""
    import sys as _sys

    _sys.path.insert(0, str(ROOT))
    from client.credentials import FileTokenStore, Tokens

    began = time.monotonic()
    config = Path(home["XDG_CONFIG_HOME"]) / "casework"
    config.mkdir(mode=0o700)
    url = "http://127.0.0.1:9"
    (config / "config.toml").write_text(f'server_url = "{url}"\nusername = "pat"\n')
    # pat's saved session, as `casework login` leaves it: the tab must not use it
    state = Path(home["XDG_STATE_HOME"]) / "casework" / "credentials"
    FileTokenStore(url, "pat", base_dir=state).save(Tokens("saved-access", "saved-refresh"))
    port = free_port()
    running = start("--port", str(port))
    wait_for_page(running, port, began + 20)
    drawn = asyncio.run(screen_until(port, (b"Password", b"casework in a browser"), timeout=20))
    assert b"Password" in drawn and b"casework in a browser" in drawn, drawn[-2000:]
    assert running.stop() == 0
