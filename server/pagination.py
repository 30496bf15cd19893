"""Opaque cursors for keyset pages: ``?limit=&cursor=`` → ``{items, next_cursor}``."""

from __future__ import annotations

import base64
import json
from typing import Any

from server.problems import ProblemError


def encode(*keys: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(keys), separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The keys a cursor holds, checked against the expected types; 400 if it is not ours."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        keys = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        keys = None
    if (
        not isinstance(keys, list)
        or len(keys) != len(types)
        or not all(isinstance(k, t) and not (t is int and isinstance(k, bool)) for k, t in zip(keys, types))
    ):
        raise ProblemError(400, "The cursor is not one this server gave out; start again from the first page.")
    return tuple(keys)


def page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Given up to limit+1 rows, the page and the cursor for the next one."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode(*key(rows[-1]))
    return rows, None
