"""The delta feed and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, exists, false, func, or_, select

from server import clock, pagination
from server.access import record
from server.auth import Db, OneHopRoute, User, require_role
from server.conditional import cached_json
from server.idempotency import once
from server.problems import ProblemError
from server.routes.common import responses
from server.schemas import Accepted, AuditPage, CachedViews, ChangePage
from server.tables import audit_events, case_access, cases, changes

router = APIRouter(tags=["sync and audit"], route_class=OneHopRoute)


@router.get("/changes", response_model=ChangePage, responses=responses(304))
def list_changes(
    user: User, conn: Db, request: Request,
    since: Annotated[str | None, Query(max_length=500, description="next_cursor from the last call; omit it to "
                                                                    "get the current position and no items")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Response:
    """What changed that you may see, in commit order."""
    if since is None:
        head = conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one()
        return cached_json(request, {"items": [], "next_cursor": pagination.encode(int(head))})
    (after,) = pagination.decode(since, int) or (0,)
    visible_case = or_(
        cases.c.restricted == false(),
        exists().where(and_(case_access.c.case_id == cases.c.id, case_access.c.user_id == user.id)),
    )
    query = select(changes).outerjoin(cases, cases.c.id == changes.c.case_id).where(changes.c.seq > after)
    if user.reads_cases:
        query = query.where(or_(changes.c.case_id.is_(None), visible_case))
    else:
        query = query.where(changes.c.case_id.is_(None))
    rows = list(conn.execute(query.order_by(changes.c.seq).limit(limit)).mappings())
    next_seq = rows[-1]["seq"] if rows else after
    items = [{"type": r["type"], "id": r["entity_id"], "version": r["version"], "case_id": r["case_id"]} for r in rows]
    return cached_json(request, {"items": items, "next_cursor": pagination.encode(int(next_seq))})


@router.post("/audit/views", status_code=202, response_model=Accepted, responses=responses(404, 409))
def upload_views(body: CachedViews, user: User, conn: Db, request: Request) -> JSONResponse:
    """Views the client served from its cache, uploaded in batches. Needs an ``Idempotency-Key``."""
    wanted = {v.case_id for v in body.views}
    known = set(conn.execute(select(cases.c.id).where(cases.c.id.in_(wanted))).scalars())
    missing = sorted(wanted - known)
    if missing:
        raise ProblemError(404, f"There is no case {', '.join(map(str, missing[:10]))}.")
    latest = clock.now() + dt.timedelta(minutes=5)

    def create() -> tuple[int, object, str | None]:
        for view in body.views:
            moment = view.viewed_at if view.viewed_at.tzinfo else view.viewed_at.replace(tzinfo=dt.UTC)
            if moment > latest:
                raise ProblemError(422, "viewed_at is in the future; check the device's clock.")
            record(conn, user, f"{view.what}.read", view.case_id, source="cache", at=clock.iso(moment))
        return 202, {"accepted": len(body.views)}, None

    return once(conn, request, user, body.model_dump(mode="json"), create)


@router.get("/audit", response_model=AuditPage, responses=responses(304, 403))
def list_audit(
    user: User, conn: Db, request: Request,
    case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    username: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[dt.date | None, Query(alias="from", description="first day, inclusive")] = None,
    to: Annotated[dt.date | None, Query(description="last day, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Who viewed or changed what, newest first (managers and admins)."""
    require_role(user, "manager", "admin", doing="read the audit trail")
    if from_ and to and from_ > to:
        raise ProblemError(422, "'from' is after 'to'.")
    after = pagination.decode(cursor, int)
    query = select(audit_events)
    if case_id:
        query = query.where(audit_events.c.case_id == case_id)
    if username:
        query = query.where(audit_events.c.username == username)
    if action:
        query = query.where(audit_events.c.action == action)
    if from_:
        query = query.where(audit_events.c.at >= from_.isoformat())
    if to:
        query = query.where(audit_events.c.at < (to + dt.timedelta(days=1)).isoformat())
    if after:
        query = query.where(audit_events.c.id < after[0])
    rows = list(conn.execute(query.order_by(audit_events.c.id.desc()).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["id"],))
    return cached_json(request, {"items": [dict(r) for r in rows], "next_cursor": next_cursor})
