"""Fixtures for client tests: the real Case API on a private SQLite copy, reached in process or over loopback."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from fastapi import FastAPI

from client.api import CaseAPI
from client.credentials import MemoryTokenStore
from server.app import create_app
from tests.server import dataset

BASE_URL = "http://casework.test"


@pytest.fixture
def server_db(sqlite_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the exact test dataset (tests/server/dataset.py)."""
    target = tmp_path / "server.db"
    shutil.copyfile(sqlite_template, target)
    return target


@pytest.fixture
def server_app(server_db: Path) -> Iterator[FastAPI]:
    application = create_app(f"sqlite:///{server_db}")
    yield application
    application.state.engine.dispose()


@pytest.fixture
def server_engine(server_app: FastAPI) -> sqlalchemy.Engine:
    """For editing the server's data behind the client's back (a colleague's edit, a revoked access)."""
    return server_app.state.engine


@pytest.fixture
def transport(server_app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=server_app)


ApiFactory = Callable[..., Awaitable[CaseAPI]]


@pytest.fixture
async def make_api(transport: httpx.ASGITransport) -> AsyncIterator[ApiFactory]:
    """``await make_api("pat")``: a CaseAPI signed in as that dataset user (``transport=`` to wrap the server)."""
    made: list[CaseAPI] = []

    async def make(username: str | None = "pat", *, transport_: httpx.AsyncBaseTransport | None = None,
                   tokens: MemoryTokenStore | None = None) -> CaseAPI:
        api = CaseAPI(BASE_URL, transport=transport_ or transport, tokens=tokens or MemoryTokenStore())
        made.append(api)
        if username is not None:
            await api.sign_in(username, dataset.PASSWORD)
        return api

    yield make
    for api in made:
        await api.aclose()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free one, and we keep the socket so nobody takes it
    return sock


@pytest.fixture
def live_server(server_app: FastAPI) -> Iterator[str]:
    """The server on a loopback port, run by uvicorn in a thread, for end-to-end tests; its base URL."""
    import uvicorn

    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(server_app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def expire_access_tokens(engine: sqlalchemy.Engine, *, refresh_too: bool = False) -> None:
    """Make every issued access token (and optionally refresh token) already expired, as time passing would."""
    from server.tables import tokens

    kinds = ("access", "refresh") if refresh_too else ("access",)
    with engine.begin() as conn:
        conn.execute(tokens.update().where(tokens.c.kind.in_(kinds)).values(expires_at="2000-01-01T00:00:00Z"))


class CountingTransport(httpx.AsyncBaseTransport):
    """Forwards to the server and remembers each request and the status it got."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status_code)
        return response

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]

    def exchanges(self) -> list[tuple[httpx.Request, int]]:
        return list(zip(self.requests, self.statuses))


Match = Callable[[httpx.Request], bool]


def any_request(_request: httpx.Request) -> bool:
    return True


def writes(request: httpx.Request) -> bool:
    return request.method in ("POST", "PATCH") and not request.url.path.startswith("/v1/auth/")


class FaultyTransport(httpx.AsyncBaseTransport):
    """Sits between client and server and misbehaves on demand, as real networks do.

    - ``down``: every request fails to connect (the server never sees it);
    - ``lose(match, n)``: the next n matching requests reach the server, which commits, but the answer is
      lost on the way back (ReadError): the client cannot tell whether it happened;
    - ``duplicate(match, n)``: the next n matching requests are delivered twice, and the client gets the
      second answer (a retrying proxy);
    - ``fail(match, status, n)``: answer with a problem+json error without reaching the server (a 5xx from a
      gateway, say).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self._lose: list[tuple[Match, int]] = []
        self._duplicate: list[tuple[Match, int]] = []
        self._fail: list[tuple[Match, int, int]] = []
        self.delivered: list[tuple[httpx.Request, int]] = []  # what reached the server, and its status

    def lose(self, match: Match = writes, times: int = 1) -> None:
        self._lose.append((match, times))

    def duplicate(self, match: Match = writes, times: int = 1) -> None:
        self._duplicate.append((match, times))

    def fail(self, status: int, match: Match = writes, times: int = 1) -> None:
        self._fail.append((match, status, times))

    def clear(self) -> None:
        self.down = False
        self._lose.clear()
        self._duplicate.clear()
        self._fail.clear()

    @staticmethod
    def _take(rules: list, request: httpx.Request) -> tuple | None:  # type: ignore[type-arg]
        for index, rule in enumerate(rules):
            if rule[0](request):
                remaining = rule[-1] - 1
                rules[index] = (*rule[:-1], remaining)
                if remaining <= 0:
                    del rules[index]
                return rule
        return None

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.delivered.append((request, response.status_code))
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("the server is down (simulated)", request=request)
        failing = self._take(self._fail, request)
        if failing is not None:
            status = failing[1]
            body = ('{"type":"about:blank","title":"Error","status":%d,"detail":"Simulated gateway error."}'
                    % status).encode()
            return httpx.Response(status, content=body, headers={"content-type": "application/problem+json"})
        if self._take(self._duplicate, request) is not None:
            await self._forward(request)
            return await self._forward(request)
        response = await self._forward(request)
        if self._take(self._lose, request) is not None:
            raise httpx.ReadError("the answer was lost (simulated)", request=request)
        return response


# --- sync fixtures -------------------------------------------------------------------------------------------

def fast_settings(**overrides: object):  # type: ignore[no-untyped-def]
    """No waiting in tests: a failed send is due again at once, and nothing sleeps for a minute."""
    from client.sync import SyncSettings

    values: dict[str, object] = dict(sync_interval=0.2, probe_interval=0.05, backoff_base=0.0, invalid_retry=0.0,
                                     concurrency=4)
    values.update(overrides)
    return SyncSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "client" / "pat.db"


@pytest.fixture
def open_store(store_file: Path) -> Iterator[Callable[..., object]]:
    """``open_store()``: the client's store (the same file each call, as after a restart); closed after."""
    from client.store import Store

    opened: list[Store] = []

    def make(path: Path | None = None) -> Store:
        store = Store.open(path or store_file)
        opened.append(store)
        return store

    yield make
    for store in opened:
        try:
            store.close()
        except Exception:
            pass  # already closed by the test (a "kill")
