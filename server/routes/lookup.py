"""Duty search and the slim directory the client keeps for offline search."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from server import pagination, views
from server.access import record, restricted_message
from server.auth import Db, OneHopRoute, User
from server.conditional import cached_json
from server.problems import ProblemError
from server.routes.common import responses
from server.schemas import DirectoryPage, SearchResults
from server.tables import case_access, cases, people

router = APIRouter(tags=["search"], route_class=OneHopRoute)


def _refuse_admin(user: User) -> None:
    if not user.reads_cases:
        raise ProblemError(403, "Administrators do not have access to case records.")


@router.get("/search", response_model=SearchResults, responses=responses(304, 403))
def search(
    user: User, conn: Db, request: Request,
    q: Annotated[str, Query(max_length=200, description="a name (misspellings and aliases too), a date of "
                                                        "birth or part of one, an address or postcode, or any ID")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """People and their cases, best match first. Restricted records come back only as a stub."""
    _refuse_admin(user)
    from server.search import search as run_search

    hits = run_search(conn, user, q, limit)
    record(conn, user, "search", None, detail=q[:200])
    return cached_json(request, {"query": q, "items": hits})


@router.get("/directory", response_model=DirectoryPage, responses=responses(304, 403))
def directory(
    user: User, conn: Db, request: Request,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Every person you may look up, slim, by person id: what the client needs to search offline."""
    _refuse_admin(user)
    after = pagination.decode(cursor, int)
    # each person with their most recent case (a child rarely has more than one)
    latest = (select(cases.c.person_id, func.max(cases.c.id).label("case_id"))
              .group_by(cases.c.person_id).subquery())
    query = (select(people, cases.c.id.label("case_id"), cases.c.category, cases.c.status, cases.c.allocated_worker,
                    cases.c.team, cases.c.restricted, cases.c.restricted_contact)
             .outerjoin(latest, latest.c.person_id == people.c.id)
             .outerjoin(cases, cases.c.id == latest.c.case_id))
    if after:
        query = query.where(people.c.id > after[0])
    rows = list(conn.execute(query.order_by(people.c.id).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["id"],))
    restricted_ids = [r["case_id"] for r in rows if r["restricted"]]
    allowed = set()
    if restricted_ids:
        allowed = set(conn.execute(select(case_access.c.case_id).where(
            case_access.c.case_id.in_(restricted_ids), case_access.c.user_id == user.id)).scalars())
    flags = views.flags_by_case(conn, [r["case_id"] for r in rows if r["case_id"] is not None])
    items = []
    for r in rows:
        if r["restricted"] and r["case_id"] not in allowed:
            items.append({"person_id": None, "case_id": r["case_id"], "restricted": True, "given_name": None,
                          "family_name": None, "aliases": [], "dob": None, "address": None, "postcode": None,
                          "la_child_id": None, "upn": None, "nhs_number": None, "category": None, "status": None,
                          "flags": [], "allocated_worker": None, "team": r["team"],
                          "message": restricted_message(r["restricted_contact"])})
            continue
        items.append({"person_id": r["id"], "case_id": r["case_id"], "restricted": bool(r["restricted"]),
                      "given_name": r["given_name"], "family_name": r["family_name"],
                      "aliases": json.loads(r["aliases"] or "[]"), "dob": r["dob"] or r["expected_dob"],
                      "address": r["address"], "postcode": r["postcode"], "la_child_id": r["la_child_id"],
                      "upn": r["upn"], "nhs_number": r["nhs_number"], "category": r["category"],
                      "status": r["status"], "flags": [f["code"] for f in flags.get(r["case_id"], [])],
                      "allocated_worker": r["allocated_worker"], "team": r["team"], "message": None})
    return cached_json(request, {"items": items, "next_cursor": next_cursor})

