"""Who may read and change what. The server enforces every rule here.

- practitioner, duty and manager may read any case that is not restricted;
  a restricted case only if they are on its access list;
- admin manages users and reads the audit trail, and reads no case records;
- a practitioner may change only tasks assigned to them or on cases allocated
  to them; duty and managers may change any task they can read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, exists, false, or_, select

from server import clock
from server.auth import Principal
from server.problems import ProblemError
from server.tables import audit_events, case_access, cases


def readable_cases(user: Principal) -> ColumnElement[bool]:
    """A WHERE clause over ``cases`` for the cases this user may read."""
    if not user.reads_cases:
        return false()
    member = exists().where(and_(case_access.c.case_id == cases.c.id, case_access.c.user_id == user.id))
    return or_(cases.c.restricted == false(), member)


# Statements that every case read runs are built once: a constant statement keeps its cache key, where a fresh
# select() is built, coerced and hashed again on each call (most of what a point lookup costs in Python)
_MEMBER = select(case_access.c.case_id).where(case_access.c.case_id == bindparam("case_id"),
                                              case_access.c.user_id == bindparam("user_id"))
_CASE = select(cases).where(cases.c.id == bindparam("case_id"))
_AUDIT_INSERT = audit_events.insert()


def is_member(conn: Connection, user: Principal, case_id: int) -> bool:
    return conn.execute(_MEMBER, {"case_id": case_id, "user_id": user.id}).first() is not None


def record(
    conn: Connection, user: Principal, action: str, case_id: int | None, *, source: str = "server",
    detail: str | None = None, at: str | None = None,
) -> None:
    # one statement with bound parameters, compiled once: every case read pays for this (~40 µs, not ~160 µs
    # for a fresh .values() statement each time)
    conn.execute(_AUDIT_INSERT, {"at": at or clock.now_iso(), "username": user.username, "action": action,
                                 "case_id": case_id, "source": source, "detail": detail})


def restricted_message(contact: str | None) -> str:
    who = contact or "the allocated team"
    return f"This record is restricted. Contact {who} if you need access."


def case_for_reading(conn: Connection, user: Principal, case_id: int, action: str) -> dict[str, Any]:
    """The case row, after checking access; the read is audited either way."""
    row = conn.execute(_CASE, {"case_id": case_id}).mappings().first()
    if row is None:
        raise ProblemError(404, f"There is no case {case_id}.")
    if not user.reads_cases:
        _record_denied(conn, user, case_id, action)
        raise ProblemError(403, "Administrators do not have access to case records.")
    if row["restricted"] and not is_member(conn, user, case_id):
        _record_denied(conn, user, case_id, action)
        raise ProblemError(403, restricted_message(row["restricted_contact"]))
    record(conn, user, action, case_id)
    return dict(row)


def _record_denied(conn: Connection, user: Principal, case_id: int, action: str) -> None:
    # the request's own transaction rolls back with the 403, so the denial is kept apart
    with conn.engine.begin() as own:
        record(own, user, "denied:" + action, case_id)


def check_task_change(user: Principal, task_assignee: str | None, case_worker: str | None) -> None:
    if user.role in ("duty", "manager"):
        return
    if user.role == "practitioner" and user.username in (task_assignee, case_worker):
        return
    raise ProblemError(403, "You may change only tasks assigned to you or on cases allocated to you.")
