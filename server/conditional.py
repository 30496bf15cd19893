"""ETags, If-None-Match (304) and If-Match (428/412)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from server.problems import ProblemError


def version_etag(version: int) -> str:
    """Versioned resources (case, task, user): the ETag is the quoted version."""
    return f'"{version}"'


def _body(payload: Any) -> bytes:
    # payloads are built from rows as plain JSON types already: json.dumps directly, not jsonable_encoder's walk
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in candidates or etag in candidates


def cached_json(request: Request, payload: Any, etag: str | None = None) -> Response:
    """A 200 with an ETag, or a bare 304 when the client already holds it."""
    body = _body(payload)
    tag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def json_with_etag(payload: Any, etag: str, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(payload), status_code=status,
                        headers={"ETag": etag, "Cache-Control": "private, no-cache"})


def require_if_match(request: Request, current_etag: str, what: str) -> None:
    header = request.headers.get("if-match")
    if not header:
        raise ProblemError(428, f"Send If-Match with the ETag of the {what} you are changing, so that "
                                "nobody else's change is overwritten.")
    if not _matches(header, current_etag):
        raise ProblemError(412, f"The {what} has changed since you read it. Reload it and try again.",
                           headers={"ETag": current_etag})
