"""Staff accounts. Everyone signed in may list colleagues (to reassign work); only admins change them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, update

from server import clock, pagination
from server.access import record
from server.auth import Db, OneHopRoute, User, hash_password, require_role, revoke_user_tokens
from server.conditional import cached_json, json_with_etag, require_if_match, version_etag
from server.idempotency import once
from server.problems import ProblemError
from server.routes.common import Id, record_change, responses
from server.schemas import UserCreate, UserOut, UserPage, UserPatch
from server.tables import users

router = APIRouter(tags=["users"], route_class=OneHopRoute)

PUBLIC_FIELDS = tuple(UserOut.model_fields)


def _public(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in PUBLIC_FIELDS}


@router.get("/users", response_model=UserPage, responses=responses(304))
def list_users(
    user: User, conn: Db, request: Request,
    active: bool | None = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    after = pagination.decode(cursor, int)
    query = select(users)
    if active is not None:
        query = query.where(users.c.active == active)
    if team:
        query = query.where(users.c.team == team)
    if after:
        query = query.where(users.c.id > after[0])
    rows = list(conn.execute(query.order_by(users.c.id).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["id"],))
    return cached_json(request, {"items": [_public(r) for r in rows], "next_cursor": next_cursor})


def _user_row(conn: Db, user_id: int) -> dict[str, Any]:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise ProblemError(404, f"There is no user {user_id}.")
    return dict(row)


@router.get("/users/{user_id}", response_model=UserOut, responses=responses(304, 404))
def get_user(user_id: Id, user: User, conn: Db, request: Request) -> Response:
    row = _user_row(conn, user_id)
    return cached_json(request, _public(row), etag=version_etag(row["version"]))


@router.post("/users", status_code=201, response_model=UserOut, responses=responses(403, 409))
def add_user(body: UserCreate, user: User, conn: Db, request: Request) -> JSONResponse:
    """Admin only. Needs an ``Idempotency-Key``."""
    require_role(user, "admin", doing="add users")

    def create() -> tuple[int, Any, str | None]:
        taken = conn.execute(select(users.c.id).where(users.c.username == body.username)).first()
        if taken:
            raise ProblemError(409, f"The username {body.username} is taken.")
        new_id = conn.execute(users.insert().values(
            username=body.username, display_name=body.display_name, role=body.role, team=body.team, active=True,
            password_hash=hash_password(body.password), version=1, created_at=clock.now_iso(),
        )).inserted_primary_key[0]
        record_change(conn, "user", new_id, 1, None)
        record(conn, user, "user.created", None, detail=body.username)
        return 201, _public(_user_row(conn, new_id)), f"/v1/users/{new_id}"

    return once(conn, request, user, body.model_dump(), create)


@router.patch("/users/{user_id}", response_model=UserOut, responses=responses(403, 404, 409, 412, 428))
def change_user(user_id: Id, body: UserPatch, user: User, conn: Db, request: Request) -> JSONResponse:
    """Admin only: role, team, display name, active, password. Needs ``If-Match``."""
    require_role(user, "admin", doing="change users")
    row = _user_row(conn, user_id)
    require_if_match(request, version_etag(row["version"]), "user")
    values: dict[str, Any] = {}
    for name in ("display_name", "role", "team", "active"):
        if name in body.model_fields_set:
            if getattr(body, name) is None:
                raise ProblemError(422, f"{name} cannot be empty.")
            values[name] = getattr(body, name)
    if body.password is not None:
        values["password_hash"] = hash_password(body.password)
    stops_being_admin = row["role"] == "admin" and (values.get("role", "admin") != "admin" or values.get("active") is False)
    if stops_being_admin:
        admins = conn.execute(select(func.count()).select_from(users).where(
            users.c.role == "admin", users.c.active.is_(True))).scalar_one()
        if admins <= 1:
            raise ProblemError(409, "This is the last active administrator; make another admin first.")
    new_version = row["version"] + 1
    result = conn.execute(update(users).where(users.c.id == user_id, users.c.version == row["version"])
                          .values(**values, version=new_version))
    if result.rowcount != 1:
        raise ProblemError(412, "The user has changed since you read it. Reload it and try again.")
    if values.get("active") is False or "password_hash" in values or "role" in values:
        revoke_user_tokens(conn, user_id)
    record_change(conn, "user", user_id, new_version, None)
    record(conn, user, "user.updated", None, detail=f"{row['username']}: " + ", ".join(sorted(values)))
    return json_with_etag(_public(_user_row(conn, user_id)), version_etag(new_version))
