"""Sign-in, token refresh, sign-out and the signed-in user."""

from __future__ import annotations


from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select, update

from server import clock
from server.auth import Db, OneHopRoute, User, issue_tokens, revoke_user_tokens, token_digest, verify_password
from server.conditional import cached_json
from server.problems import ProblemError
from server.routes.common import responses
from server.schemas import RefreshRequest, TokenPair, TokenRequest, UserOut
from server.tables import tokens, users

router = APIRouter(tags=["auth"], route_class=OneHopRoute)


def _ttls(request: Request) -> tuple[int, int]:
    settings = request.app.state.settings
    return settings.access_ttl, settings.refresh_ttl


@router.post("/auth/token", response_model=TokenPair, responses=responses())
def sign_in(body: TokenRequest, conn: Db, request: Request) -> dict[str, object]:
    row = conn.execute(select(users).where(users.c.username == body.username)).mappings().first()
    if row is None or not verify_password(row["password_hash"], body.password):
        raise ProblemError(401, "The username or password is not right.", headers={"WWW-Authenticate": "Bearer"})
    if not row["active"]:
        raise ProblemError(401, "This account has been disabled; ask an administrator.",
                           headers={"WWW-Authenticate": "Bearer"})
    return issue_tokens(conn, row["id"], *_ttls(request))


@router.post("/auth/refresh", response_model=TokenPair, responses=responses())
def refresh(body: RefreshRequest, conn: Db, request: Request) -> dict[str, object]:
    digest = token_digest(body.refresh_token)
    row = conn.execute(
        select(tokens, users.c.active).join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == digest, tokens.c.kind == "refresh")
    ).mappings().first()
    if row is None or row["revoked"] or row["expires_at"] <= clock.now_iso() or not row["active"]:
        raise ProblemError(401, "This sign-in has ended; sign in again with your password.",
                           headers={"WWW-Authenticate": "Bearer"})
    # rotation: each refresh token works once
    conn.execute(update(tokens).where(tokens.c.token_hash == digest).values(revoked=True))
    return issue_tokens(conn, row["user_id"], *_ttls(request))


@router.post("/auth/logout", status_code=204, responses=responses())
def sign_out(user: User, conn: Db) -> Response:
    """Ends every session of the signed-in user."""
    revoke_user_tokens(conn, user.id)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, responses=responses(304))
def me(user: User, conn: Db, request: Request) -> Response:
    row = conn.execute(select(users).where(users.c.id == user.id)).mappings().one()
    return cached_json(request, UserOut.model_validate(dict(row)).model_dump())
