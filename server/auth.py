"""Passwords, bearer tokens and the signed-in user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, delete, select, update

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


def get_db(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.begin() as conn:
        yield conn


# scope="function": the transaction commits before the response is sent, so a client is never told a write
# succeeded that could still fail to commit (FastAPI's default runs this exit code after the response)
Db = Annotated[Connection, Depends(get_db, scope="function")]

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}
_EXPIRED = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def current_user(
    conn: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise ProblemError(401, "Sign in first: this request needs a bearer token.", headers=_UNAUTHENTICATED)
    row = conn.execute(
        select(tokens.c.expires_at, tokens.c.revoked, tokens.c.kind, users)
        .join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == token_digest(credentials.credentials))
    ).mappings().first()
    if row is None or row["kind"] != "access" or row["revoked"]:
        raise ProblemError(401, "This session is not valid; sign in again.", headers=_EXPIRED)
    if row["expires_at"] <= clock.now_iso():
        raise ProblemError(401, "Your session has expired; sign in again.", headers=_EXPIRED)
    if not row["active"]:
        raise ProblemError(401, "This account has been disabled.", headers=_EXPIRED)
    return Principal(row["id"], row["username"], row["display_name"], row["role"], row["team"])


User = Annotated[Principal, Depends(current_user)]


def require_role(user: Principal, *roles: str, doing: str) -> None:
    if user.role not in roles:
        raise ProblemError(403, f"Your role ({user.role}) may not {doing}.")
