"""Pieces every router shares: declared error statuses and change-feed writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from sqlalchemy import Connection

from server import clock
from server.problems import PROBLEM_MEDIA_TYPE, Problem
from server.tables import changes

_DESCRIPTIONS = {
    304: "Not modified: the ETag in If-None-Match still matches",
    400: "Malformed request (bad cursor, missing header, body not JSON)",
    401: "Not signed in, or the session expired",
    403: "Your role or the record's restrictions do not allow this",
    404: "No such record",
    409: "Conflicts with the current state",
    412: "If-Match no longer matches: someone else changed it first",
    413: "Request body too large",
    422: "The request is well-formed but its values are not valid",
    428: "If-Match is required",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return (always 400, 401, 413 and 422 too)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({400, 401, 413, 422, *codes}):
        if code == 304:
            out[code] = {"description": _DESCRIPTIONS[code]}
        else:
            out[code] = {"model": Problem, "description": _DESCRIPTIONS[code],
                         "content": {PROBLEM_MEDIA_TYPE: {}}}
    return out


def public_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """As ``responses`` for routes that need no sign-in."""
    out = responses(*codes)
    out.pop(401, None)
    return out


_CHANGE_INSERT = changes.insert()


def record_change(conn: Connection, kind: str, entity_id: int, version: int, case_id: int | None) -> None:
    # bound parameters into the constant statement, as access.record does: every write pays for this
    conn.execute(_CHANGE_INSERT, {"type": kind, "entity_id": entity_id, "version": version, "case_id": case_id,
                                  "at": clock.now_iso()})


# ids are 32-bit on every backend; a bigger number is a 422, not a database overflow
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
