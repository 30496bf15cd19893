"""Passwords, bearer tokens, the signed-in user and each request's connection."""

from __future__ import annotations

import functools
import hashlib
import inspect
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from server import clock
from server.problems import ProblemError
from server.tables import tokens, users

_hasher = PasswordHasher()
bearer = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/token")

ACCESS_TTL_SECONDS = 15 * 60
REFRESH_TTL_SECONDS = 7 * 24 * 3600


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    id: int
    username: str
    display_name: str
    role: str
    team: str

    @property
    def reads_cases(self) -> bool:
        # admins run the system; they do not read children's records
        return self.role != "admin"


def issue_tokens(conn: Connection, user_id: int, access_ttl: int, refresh_ttl: int) -> dict[str, object]:
    # sessions that ended are of no further use; clearing them here keeps the table small
    conn.execute(delete(tokens).where(tokens.c.user_id == user_id, tokens.c.expires_at < clock.now_iso()))
    access = secrets.token_urlsafe(32)
    refresh = secrets.token_urlsafe(32)
    conn.execute(
        tokens.insert(),
        [
            {"token_hash": token_digest(access), "user_id": user_id, "kind": "access",
             "expires_at": clock.in_seconds(access_ttl), "revoked": False},
            {"token_hash": token_digest(refresh), "user_id": user_id, "kind": "refresh",
             "expires_at": clock.in_seconds(refresh_ttl), "revoked": False},
        ],
    )
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": access_ttl}


def revoke_user_tokens(conn: Connection, user_id: int) -> None:
    conn.execute(update(tokens).where(tokens.c.user_id == user_id).values(revoked=True))


# --- one thread hop per request ------------------------------------------------------------------------------
#
# The routes are plain functions that block on the database, so they run in a worker thread. Left to FastAPI,
# a route with ``Db`` and ``User`` takes four hops between the event loop and the thread pool (opening the
# connection, checking the token, the route, the commit), each a pair of thread wake-ups that cost CPU and, on a
# busy machine, a wait for a core. ``Db`` and ``User`` therefore only note what the route needs; ``OneHopRoute``
# then opens the connection, checks the token, runs the route and commits in one hop. The commit still comes
# before the response is sent, so a client is never told a write succeeded that could still fail to commit.


@dataclass(frozen=True, slots=True)
class _Unopened:
    """``Db`` until the route's thread opens the connection."""

    engine: Engine


@dataclass(frozen=True, slots=True)
class _Unchecked:
    """``User`` until the route's thread checks the token."""

    engine: Engine
    token: str


async def get_db(request: Request) -> _Unopened:
    return _Unopened(request.app.state.engine)


Db = Annotated[Connection, Depends(get_db)]

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}
_EXPIRED = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
# request.state key: the token of a request whose ``User`` was resolved, for token_problem
_UNCHECKED_TOKEN = "unchecked_token"


async def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> _Unchecked:
    if credentials is None:
        raise ProblemError(401, "Sign in first: this request needs a bearer token.", headers=_UNAUTHENTICATED)
    setattr(request.state, _UNCHECKED_TOKEN, credentials.credentials)
    return _Unchecked(request.app.state.engine, credentials.credentials)


User = Annotated[Principal, Depends(current_user)]

# a constant statement is compiled once and keeps its cache key: every request signs in through this
_SIGNED_IN = (
    select(tokens.c.expires_at, tokens.c.revoked, tokens.c.kind, users)
    .join(users, users.c.id == tokens.c.user_id)
    .where(tokens.c.token_hash == bindparam("token_hash"))
)


def signed_in(conn: Connection, token: str) -> Principal:
    """The user a bearer token belongs to, or a 401."""
    row = conn.execute(_SIGNED_IN, {"token_hash": token_digest(token)}).mappings().first()
    if row is None or row["kind"] != "access" or row["revoked"]:
        raise ProblemError(401, "This session is not valid; sign in again.", headers=_EXPIRED)
    if row["expires_at"] <= clock.now_iso():
        raise ProblemError(401, "Your session has expired; sign in again.", headers=_EXPIRED)
    if not row["active"]:
        raise ProblemError(401, "This account has been disabled.", headers=_EXPIRED)
    return Principal(row["id"], row["username"], row["display_name"], row["role"], row["team"])


async def token_problem(request: Request) -> ProblemError | None:
    """The 401 a request that failed validation earns first, if its token is not good.

    FastAPI resolves ``User`` before it validates the parameters and the body, so a bad token has always won
    over a bad parameter; with the token itself checked in the route's hop, the 422 handler asks here.
    """
    token = getattr(request.state, _UNCHECKED_TOKEN, None)
    if token is None:
        return None

    def check() -> ProblemError | None:
        with request.app.state.engine.connect() as conn:
            try:
                signed_in(conn, token)
            except ProblemError as error:
                return error
        return None

    return await anyio.to_thread.run_sync(check)


def _run(endpoint: Callable[..., Any], values: dict[str, Any]) -> Any:
    """In the worker thread: open the connection, check the token, run the route, commit."""
    engine = next((v.engine for v in values.values() if isinstance(v, (_Unopened, _Unchecked))), None)
    if engine is None:  # a route that needs neither, such as /health
        return endpoint(**values)
    with engine.begin() as conn:
        return endpoint(**{name: _opened(conn, value) for name, value in values.items()})


def _opened(conn: Connection, value: Any) -> Any:
    if isinstance(value, _Unopened):
        return conn
    if isinstance(value, _Unchecked):
        return signed_in(conn, value.token)
    return value


class OneHopRoute(APIRoute):
    """A route whose plain ``def`` endpoint runs, with its ``Db`` and ``User``, in one worker-thread hop.

    Every router that uses ``Db`` or ``User`` must be made with ``route_class=OneHopRoute``; ``create_app``
    checks that none is left out.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__}: write routes as plain functions; they run in one thread hop")
        super().__init__(path, _in_one_hop(endpoint), **kwargs)


def _in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    # FastAPI reads the parameters through __wrapped__ and, seeing a coroutine function, calls it on the loop
    @functools.wraps(endpoint)
    async def run(**values: Any) -> Any:
        return await anyio.to_thread.run_sync(_run, endpoint, values)

    return run


def require_role(user: Principal, *roles: str, doing: str) -> None:
    if user.role not in roles:
        raise ProblemError(403, f"Your role ({user.role}) may not {doing}.")
