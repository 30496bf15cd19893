"""The work tray: tasks across cases, and changing one with If-Match."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, bindparam, or_, select, update

from server import clock, pagination, views
from server.access import case_for_reading, readable_cases, record
from server.auth import Db, OneHopRoute, User
from server.conditional import cached_json, json_with_etag, require_if_match, version_etag
from server.problems import ProblemError
from server.routes.common import Id, record_change, responses
from server.schemas import Task, TaskPage, TaskPatch
from server.tables import cases, tasks, users
from server.vocab import TaskStatus

router = APIRouter(tags=["tasks"], route_class=OneHopRoute)


@router.get("/tasks", response_model=TaskPage, responses=responses(304, 403))
def list_tasks(
    user: User, conn: Db, request: Request,
    assignee: Annotated[str, Query(max_length=64, description="a username, or 'me'")] = "me",
    status: TaskStatus | None = "open",
    due_before: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Tasks soonest due first. ``/tasks?assignee=me&status=open`` is the work tray."""
    if not user.reads_cases:
        raise ProblemError(403, "Administrators do not have access to case records.")
    after = pagination.decode(cursor, str, int)
    who = user.username if assignee == "me" else assignee
    query = (select(tasks).join(cases, cases.c.id == tasks.c.case_id)
             .where(tasks.c.assignee == who, readable_cases(user)))
    if status:
        query = query.where(tasks.c.status == status)
    if due_before:
        query = query.where(tasks.c.due_on < due_before.isoformat())
    if after:
        query = query.where(or_(tasks.c.due_on > after[0], and_(tasks.c.due_on == after[0], tasks.c.id > after[1])))
    rows = list(conn.execute(query.order_by(tasks.c.due_on, tasks.c.id).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["due_on"], r["id"]))
    return cached_json(request, {"items": [views.task(r) for r in rows], "next_cursor": next_cursor})


# built once: a constant statement keeps its cache key, where a fresh select() is hashed again on each call
_TASK = select(tasks).where(tasks.c.id == bindparam("task_id"))


def _task_row(conn: Db, task_id: int) -> dict[str, Any]:
    row = conn.execute(_TASK, {"task_id": task_id}).mappings().first()
    if row is None:
        raise ProblemError(404, f"There is no task {task_id}.")
    return dict(row)


@router.get("/tasks/{task_id}", response_model=Task, responses=responses(304, 403, 404))
def get_task(task_id: Id, user: User, conn: Db, request: Request) -> Response:
    """One task. The ETag is its version; send it back in If-Match to change it."""
    row = _task_row(conn, task_id)
    case_for_reading(conn, user, row["case_id"], "tasks.read")
    return cached_json(request, views.task(row), etag=version_etag(row["version"]))


def _changes(row: dict[str, Any], body: TaskPatch, conn: Db) -> dict[str, Any]:
    fields = body.model_fields_set
    values: dict[str, Any] = {}
    today = clock.today()
    status = body.status if "status" in fields and body.status else row["status"]
    if "assignee" in fields:
        if body.assignee is None:
            raise ProblemError(422, "A task must have an assignee; choose a colleague to reassign it to.")
        found = conn.execute(select(users.c.role, users.c.active).where(users.c.username == body.assignee)).first()
        if found is None or not found.active or found.role == "admin":
            raise ProblemError(422, f"{body.assignee} is not an active caseworker, so cannot take this task.")
        values["assignee"] = body.assignee
    if "due_on" in fields:
        if body.due_on is None:
            raise ProblemError(422, "due_on cannot be empty.")
        values["due_on"] = body.due_on.isoformat()
    if "priority" in fields:
        if body.priority is None:
            raise ProblemError(422, "priority cannot be empty.")
        values["priority"] = body.priority
    if "status" in fields and body.status is None:
        raise ProblemError(422, "status cannot be empty; use open, done or snoozed.")
    if status == "snoozed":
        until = body.snoozed_until if "snoozed_until" in fields else None
        if until is None and row["status"] == "snoozed" and "status" not in fields:
            until = dt.date.fromisoformat(row["snoozed_until"]) if row["snoozed_until"] else None
        if until is None:
            raise ProblemError(422, "To snooze a task, give snoozed_until: the date it should come back.")
        if until <= today:
            raise ProblemError(422, "snoozed_until must be after today.")
        values.update(status="snoozed", snoozed_until=until.isoformat(), completed_at=None)
    elif "snoozed_until" in fields and body.snoozed_until is not None:
        raise ProblemError(422, "snoozed_until is only for a snoozed task; send status snoozed with it.")
    elif status == "done":
        values.update(status="done", snoozed_until=None)
        if row["status"] != "done":
            values["completed_at"] = clock.now_iso()
    elif status == "open":
        values.update(status="open", snoozed_until=None, completed_at=None)
    return values


@router.patch("/tasks/{task_id}", response_model=Task, responses=responses(403, 404, 412, 428))
def change_task(task_id: Id, body: TaskPatch, user: User, conn: Db, request: Request) -> JSONResponse:
    """Complete, snooze, reopen or reassign a task. Needs ``If-Match`` with the task's ETag."""
    row = _task_row(conn, task_id)
    case = case_for_reading(conn, user, row["case_id"], "task.update")
    if user.role == "practitioner" and user.username not in (row["assignee"], case["allocated_worker"]):
        raise ProblemError(403, "You may change only tasks assigned to you or on cases allocated to you.")
    require_if_match(request, version_etag(row["version"]), "task")
    values = _changes(row, body, conn)
    new_version = row["version"] + 1
    # the version check in the WHERE makes two racing PATCHes with one ETag safe: one wins, one gets 412
    result = conn.execute(
        update(tasks).where(tasks.c.id == task_id, tasks.c.version == row["version"])
        .values(**values, version=new_version, updated_at=clock.now_iso())
    )
    if result.rowcount != 1:
        current = _task_row(conn, task_id)
        raise ProblemError(412, "The task has changed since you read it. Reload it and try again.",
                           headers={"ETag": version_etag(current["version"])})
    record_change(conn, "task", task_id, new_version, row["case_id"])
    record(conn, user, "task.updated", row["case_id"], detail=f"task {task_id}: " + ", ".join(sorted(values)))
    updated = _task_row(conn, task_id)
    return json_with_etag(views.task(updated), version_etag(new_version))
