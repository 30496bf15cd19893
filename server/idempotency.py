"""Idempotency-Key on POST: a replay returns the first response; a different body is 422."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from server import clock
from server.auth import Principal
from server.problems import ProblemError
from server.tables import idempotency_keys

KEEP_FOR = timedelta(hours=48)  # the contract promises at least 24 h
MAX_KEY_LENGTH = 200


def require_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        raise ProblemError(400, "Send an Idempotency-Key header (a new random value for each new item), "
                                "so that a retry cannot create it twice.")
    if len(key) > MAX_KEY_LENGTH:
        raise ProblemError(400, f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
    return key


def _digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _replay(row: Any, request: Request, request_hash: str) -> JSONResponse:
    if row["request_hash"] != request_hash or row["path"] != request.url.path:
        raise ProblemError(422, "This Idempotency-Key was already used for a different request. "
                                "Use a new key for a new item.")
    headers = {"Idempotent-Replayed": "true"}
    if row["location"]:
        headers["Location"] = row["location"]
    return JSONResponse(json.loads(row["body"]), status_code=row["status"], headers=headers)


def once(
    conn: Connection, request: Request, user: Principal, body: Any,
    create: Callable[[], tuple[int, Any, str | None]],
) -> JSONResponse:
    """Run ``create`` at most once per (user, key); it returns (status, payload, location)."""
    key = require_key(request)
    request_hash = _digest(body)
    where = (idempotency_keys.c.user_id == user.id, idempotency_keys.c.key == key)
    row = conn.execute(select(idempotency_keys).where(*where)).mappings().first()
    if row is not None:
        return _replay(row, request, request_hash)
    status, payload, location = create()
    forget_expired(conn)
    try:
        with conn.begin_nested():
            conn.execute(idempotency_keys.insert().values(
                user_id=user.id, key=key, method=request.method, path=request.url.path,
                request_hash=request_hash, status=status, body=json.dumps(payload, default=str),
                location=location, created_at=clock.now_iso(),
            ))
    except IntegrityError:
        # a concurrent request with the same key won the race: undo ours, answer as it did
        raise ProblemError(409, "The same Idempotency-Key is being used by another request right now; "
                                "retry.") from None
    headers = {"Location": location} if location else None
    return JSONResponse(payload, status_code=status, headers=headers)


def forget_expired(conn: Connection) -> None:
    conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < clock.iso(clock.now() - KEEP_FOR)))
