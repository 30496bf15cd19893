"""Cases, their chronology, notes and tasks."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, or_, select

from server import clock, pagination, views
from server.access import case_for_reading, readable_cases
from server.auth import Db, OneHopRoute, User
from server.conditional import cached_json, version_etag
from server.idempotency import once
from server.problems import ProblemError
from server.routes.common import Id, record_change, responses
from server.schemas import Case, CasePage, ChronologyPage, Note, NoteCreate, NotePage, TaskPage
from server.tables import cases, chronology, notes, tasks
from server.vocab import EVENT_KINDS, NOTE_EVENT_KIND, Category, CaseStatus, TaskStatus

router = APIRouter(tags=["cases"], route_class=OneHopRoute)

Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor from the previous page")]



@router.get("/cases", response_model=CasePage, responses=responses(304, 403))
def list_cases(
    user: User, conn: Db, request: Request,
    scope: Literal["mine", "team", "all"] = "mine",
    status: CaseStatus | None = "open",
    category: Category | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Case summaries for lists, ordered by id. ``mine`` is the caseload allocated to you."""
    if not user.reads_cases:
        raise ProblemError(403, "Administrators do not have access to case records.")
    after = pagination.decode(cursor, int)
    query = views.summary_select().where(readable_cases(user))
    if scope == "mine":
        query = query.where(cases.c.allocated_worker == user.username)
    elif scope == "team":
        query = query.where(cases.c.team == user.team)
    if status:
        query = query.where(cases.c.status == status)
    if category:
        query = query.where(cases.c.category == category)
    if after:
        query = query.where(cases.c.id > after[0])
    rows = list(conn.execute(query.order_by(cases.c.id).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["id"],))
    return cached_json(request, {"items": views.case_summaries(conn, rows), "next_cursor": next_cursor})


@router.get("/cases/{case_id}", response_model=Case, responses=responses(304, 403, 404))
def get_case(case_id: Id, user: User, conn: Db, request: Request) -> Response:
    """The whole case: person, flags, whereabouts, key contacts. The ETag is the case's version."""
    row = case_for_reading(conn, user, case_id, "case.read")
    return cached_json(request, views.full_case(conn, row), etag=version_etag(row["version"]))


@router.get("/cases/{case_id}/chronology", response_model=ChronologyPage, responses=responses(304, 403, 404))
def get_chronology(
    case_id: Id, user: User, conn: Db, request: Request,
    kind: Annotated[list[str] | None, Query(description=f"one or more of: {', '.join(EVENT_KINDS)}")] = None,
    key_only: bool = False,
    q: Annotated[str | None, Query(max_length=200, description="words the summary contains")] = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Response:
    """Events newest first."""
    unknown = sorted(set(kind or ()) - set(EVENT_KINDS))
    if unknown:
        raise ProblemError(422, f"Unknown chronology kind {', '.join(unknown)}; use one of: {', '.join(EVENT_KINDS)}.")
    after = pagination.decode(cursor, str, int)
    case_for_reading(conn, user, case_id, "chronology.read")
    query = select(chronology).where(chronology.c.case_id == case_id)
    if kind:
        query = query.where(chronology.c.kind.in_(kind))
    if key_only:
        query = query.where(chronology.c.key_event.is_(True))
    for word in (q or "").split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(chronology.c.summary.ilike(pattern, escape="\\"),
                                chronology.c.detail.ilike(pattern, escape="\\")))
    if after:
        at, event_id = after
        query = query.where(or_(chronology.c.occurred_at < at,
                                and_(chronology.c.occurred_at == at, chronology.c.id < event_id)))
    query = query.order_by(chronology.c.occurred_at.desc(), chronology.c.id.desc()).limit(limit + 1)
    rows = list(conn.execute(query).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["occurred_at"], r["id"]))
    return cached_json(request, {"items": [views.event(r) for r in rows], "next_cursor": next_cursor})


@router.get("/cases/{case_id}/notes", response_model=NotePage, responses=responses(304, 403, 404))
def list_notes(case_id: Id, user: User, conn: Db, request: Request,
               limit: Limit = 200, cursor: Cursor = None) -> Response:
    """Notes newest first. Notes are never edited; a correction is a new note that ``amends`` one."""
    after = pagination.decode(cursor, int)
    case_for_reading(conn, user, case_id, "notes.read")
    query = select(notes).where(notes.c.case_id == case_id)
    if after:
        query = query.where(notes.c.id < after[0])
    rows = list(conn.execute(query.order_by(notes.c.id.desc()).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["id"],))
    return cached_json(request, {"items": [views.note(r) for r in rows], "next_cursor": next_cursor})


def _summary(body: str, amends: dict[str, Any] | None) -> str:
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    text = first_line if len(first_line) <= 200 else first_line[:199] + "…"
    if amends is not None:
        return f"Amendment to the note of {amends['occurred_at'][:10]}: {text}"
    return text


@router.post("/cases/{case_id}/notes", status_code=201, response_model=Note,
             responses=responses(403, 404, 409))
def add_note(case_id: Id, body: NoteCreate, user: User, conn: Db, request: Request) -> JSONResponse:
    """Adds a note and its chronology entry. Needs an ``Idempotency-Key`` header."""
    case_for_reading(conn, user, case_id, "note.create")
    created = clock.now_iso()
    occurred = created
    if body.occurred_at is not None:
        moment = body.occurred_at if body.occurred_at.tzinfo else body.occurred_at.replace(tzinfo=UTC)
        if moment > clock.now() + timedelta(minutes=5):
            raise ProblemError(422, "occurred_at is in the future; a note records what has happened.")
        occurred = clock.iso(moment)
    amended: dict[str, Any] | None = None
    if body.amends is not None:
        found = conn.execute(select(notes).where(notes.c.id == body.amends)).mappings().first()
        if found is None or found["case_id"] != case_id:
            raise ProblemError(422, f"Note {body.amends} is not a note on case {case_id}, so it cannot be amended here.")
        amended = dict(found)

    def create() -> tuple[int, Any, str | None]:
        note_id = conn.execute(notes.insert().values(
            case_id=case_id, kind=body.kind, occurred_at=occurred, body=body.body, author=user.username,
            created_at=created, amends=body.amends,
        )).inserted_primary_key[0]
        conn.execute(chronology.insert().values(
            case_id=case_id, occurred_at=occurred, kind=NOTE_EVENT_KIND[body.kind], source_agency="Children's Services",
            summary=_summary(body.body, amended), detail=body.body, key_event=False, author=user.username,
            note_id=note_id,
        ))
        if body.kind in ("home_visit", "school_visit", "office_visit"):
            conn.execute(cases.update().where(cases.c.id == case_id, or_(
                cases.c.last_visit_at.is_(None), cases.c.last_visit_at < occurred)).values(last_visit_at=occurred))
        record_change(conn, "note", note_id, 1, case_id)
        row = conn.execute(select(notes).where(notes.c.id == note_id)).mappings().one()
        return 201, views.note(row), f"/v1/cases/{case_id}/notes/{note_id}"

    return once(conn, request, user, {"case_id": case_id, **body.model_dump(mode="json")}, create)


@router.get("/cases/{case_id}/notes/{note_id}", response_model=Note, responses=responses(304, 403, 404))
def get_note(case_id: Id, note_id: Id, user: User, conn: Db, request: Request) -> Response:
    case_for_reading(conn, user, case_id, "notes.read")
    row = conn.execute(select(notes).where(notes.c.id == note_id, notes.c.case_id == case_id)).mappings().first()
    if row is None:
        raise ProblemError(404, f"There is no note {note_id} on case {case_id}.")
    return cached_json(request, views.note(row), etag=version_etag(1))


@router.get("/cases/{case_id}/tasks", response_model=TaskPage, responses=responses(304, 403, 404))
def case_tasks(case_id: Id, user: User, conn: Db, request: Request,
               status: TaskStatus | None = None, limit: Limit = 200, cursor: Cursor = None) -> Response:
    """The case's tasks, soonest due first."""
    after = pagination.decode(cursor, str, int)
    case_for_reading(conn, user, case_id, "tasks.read")
    query = select(tasks).where(tasks.c.case_id == case_id)
    if status:
        query = query.where(tasks.c.status == status)
    if after:
        query = query.where(or_(tasks.c.due_on > after[0], and_(tasks.c.due_on == after[0], tasks.c.id > after[1])))
    rows = list(conn.execute(query.order_by(tasks.c.due_on, tasks.c.id).limit(limit + 1)).mappings())
    rows, next_cursor = pagination.page(rows, limit, lambda r: (r["due_on"], r["id"]))
    return cached_json(request, {"items": [views.task(r) for r in rows], "next_cursor": next_cursor})

