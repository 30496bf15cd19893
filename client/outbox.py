"""The records of unsent work, and the rules for applying a task change locally.

These are the store's own records (the outbox, conflicts, drafts, cached views,
a purge report), so they live here rather than in ``client.models``, which holds
the API's records. ``Cached`` is generic and is in ``client.models``.

The task rules mirror what the server does with ``PATCH /v1/tasks/{id}``, so the
local state a screen shows straight after a key press is what the server will
store when the change arrives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

# the task fields a change can touch, and so the ones undo restores
TASK_STATE_FIELDS: tuple[str, ...] = ("status", "snoozed_until", "assignee", "completed_at")

# the chronology kind a note appears as (server/vocab.py NOTE_EVENT_KIND; the client may not import it)
NOTE_EVENT_KIND: dict[str, str] = {
    "case_note": "note",
    "home_visit": "visit",
    "phone_call": "contact",
    "office_visit": "visit",
    "school_visit": "school",
    "supervision": "supervision",
    "management_oversight": "management_oversight",
    "strategy_discussion": "strategy_discussion",
}

# outbox states
PENDING = "pending"      # waiting to be sent (failed attempts stay pending, with attempts > 0)
SENT = "sent"
CONFLICT = "conflict"    # the server refused it with 412; waits for the user
BLOCKED = "blocked"      # access to the case was revoked; kept and shown, never sent
CANCELLED = "cancelled"  # undone before it was sent
DROPPED = "dropped"      # the user took the server's version in a conflict
UNSENT_STATES: tuple[str, ...] = (PENDING, CONFLICT, BLOCKED)

ACCESS_REVOKED = "blocked: access revoked"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One write waiting for (or given) the server's answer. ``id`` is the send order."""

    id: int
    op: str  # note | complete | reopen | snooze | reassign | undo | resolve
    case_id: int
    task_id: int | None
    method: str  # POST | PATCH
    path: str    # e.g. /v1/cases/12/notes, /v1/tasks/7
    body: Mapping[str, Any]
    idempotency_key: str
    base_version: int | None
    state: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    reason: str | None
    created_at: str
    local_note_id: int | None = None
    undo_of: int | None = None

    @property
    def if_match(self) -> str | None:
        """The If-Match header a PATCH needs (the server's ETag is the quoted version)."""
        return None if self.base_version is None else f'"{self.base_version}"'

    @property
    def failed(self) -> bool:
        return self.state == PENDING and self.attempts > 0


@dataclass(frozen=True, slots=True)
class Conflict:
    """A change the server refused because the record had moved on: both sides, kept until resolved."""

    id: int
    item_id: int
    case_id: int
    task_id: int | None
    op: str
    changes: Mapping[str, Any]  # what my change set (the PATCH body)
    mine: Mapping[str, Any]     # my record as I left it
    theirs: Mapping[str, Any]   # the server's record
    created_at: str
    resolved_at: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    case_id: int
    kind: str
    body: str
    amends: int | None
    created_at: str
    updated_at: str
    blocked: str | None = None  # "blocked: access revoked": kept and shown, but cannot be sent


@dataclass(frozen=True, slots=True)
class View:
    """A view of a case served from the cache, waiting for POST /v1/audit/views."""

    id: int
    case_id: int
    what: str
    viewed_at: str

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "viewed_at": self.viewed_at, "what": self.what}


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge is about to lose (computed before anything is deleted) and what it removed."""

    unsent: tuple[OutboxItem, ...]
    drafts: tuple[Draft, ...]
    removed_files: tuple[Path, ...]

    @property
    def lost_work(self) -> bool:
        return bool(self.unsent or self.drafts)


def item_from_row(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row["id"], op=row["op"], case_id=row["case_id"], task_id=row["task_id"], method=row["method"],
        path=row["path"], body=json.loads(row["body"]), idempotency_key=row["idempotency_key"],
        base_version=row["base_version"], state=row["state"], attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"], last_error=row["last_error"], reason=row["reason"],
        created_at=row["created_at"], local_note_id=row["local_note_id"], undo_of=row["undo_of"],
    )


def draft_from_row(row: Any) -> Draft:
    return Draft(row["id"], row["case_id"], row["kind"], row["body"], row["amends"], row["created_at"],
                 row["updated_at"], row["blocked"])


def task_state(task: Mapping[str, Any]) -> dict[str, Any]:
    return {field: task.get(field) for field in TASK_STATE_FIELDS}


def apply_task_change(task: Mapping[str, Any], body: Mapping[str, Any], now_iso: str) -> dict[str, Any]:
    """The task as the server will store it once ``body`` (a TaskPatch) is applied."""
    new = dict(task)
    if "assignee" in body:
        new["assignee"] = body["assignee"]
    for field in ("due_on", "priority"):
        if field in body:
            new[field] = body[field]
    if "status" in body or "snoozed_until" in body:
        status = body.get("status") or task["status"]
        if status == "snoozed":
            new.update(status="snoozed", snoozed_until=body.get("snoozed_until", task.get("snoozed_until")),
                       completed_at=None)
        elif status == "done":
            new.update(status="done", snoozed_until=None)
            if task.get("status") != "done":
                new["completed_at"] = now_iso
        else:
            new.update(status="open", snoozed_until=None, completed_at=None)
    return new


def inverse_change(body: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that puts back what ``body`` changed, given the task's state before it."""
    inverse: dict[str, Any] = {}
    if "status" in body or "snoozed_until" in body:
        inverse["status"] = before.get("status") or "open"
        if inverse["status"] == "snoozed":
            inverse["snoozed_until"] = before.get("snoozed_until")
    if "assignee" in body and before.get("assignee"):
        inverse["assignee"] = before["assignee"]
    return inverse


def differing_fields(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH body that makes ``theirs`` look like ``mine`` in every field a change can touch."""
    body: dict[str, Any] = {}
    if mine.get("assignee") != theirs.get("assignee") and mine.get("assignee"):
        body["assignee"] = mine["assignee"]
    if mine.get("status") != theirs.get("status") or mine.get("snoozed_until") != theirs.get("snoozed_until"):
        body["status"] = mine.get("status") or "open"
        if body["status"] == "snoozed":
            body["snoozed_until"] = mine.get("snoozed_until")
    return body


def note_summary(body: str, amended_occurred_at: str | None) -> str:
    """The chronology summary the server will give a note (first non-blank line, at most 200 characters)."""
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    text = first_line if len(first_line) <= 200 else first_line[:199] + "…"
    if amended_occurred_at is not None:
        return f"Amendment to the note of {amended_occurred_at[:10]}: {text}"
    return text
