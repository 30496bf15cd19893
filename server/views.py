"""Rows to API shapes: the one place a case, a task or a note is put together."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, bindparam, case, func, select

from server import clock
from server.tables import case_flags, cases, key_contacts, notes, people, tasks, users

PERSON_FIELDS = ("id", "la_child_id", "upn", "nhs_number", "given_name", "family_name", "dob", "expected_dob",
                 "gender", "ethnicity", "disability", "first_language", "address", "postcode", "school")
TASK_FIELDS = tuple(c.name for c in tasks.columns)
NOTE_FIELDS = tuple(c.name for c in notes.columns)


def person(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: row[name] for name in PERSON_FIELDS}
    out["aliases"] = json.loads(row["aliases"] or "[]")
    return out


def flag(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "label": row["label"], "severity": row["severity"], "since": row["since"]}


# Built once, for every case read and search: a constant statement keeps its cache key, where a fresh select()
# is built, coerced and hashed again on each call
_FLAGS = (select(case_flags).where(case_flags.c.case_id.in_(bindparam("case_ids", expanding=True)))
          .order_by(case_flags.c.case_id, case_flags.c.id))
_PERSON = select(people).where(people.c.id == bindparam("person_id"))
_KEY_CONTACTS = (select(key_contacts).where(key_contacts.c.case_id == bindparam("case_id"))
                 .order_by(key_contacts.c.position))
_WORKER_NAME = select(users.c.display_name).where(users.c.username == bindparam("username"))


def flags_by_case(conn: Connection, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    ids = list(case_ids)
    out: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in ids}
    if not ids:
        return out
    for row in conn.execute(_FLAGS, {"case_ids": ids}).mappings():
        out[row["case_id"]].append(flag(row))
    return out


def full_case(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    person_row = conn.execute(_PERSON, {"person_id": row["person_id"]}).mappings().one()
    contacts = conn.execute(_KEY_CONTACTS, {"case_id": row["id"]}).mappings()
    worker_name = None
    if row["allocated_worker"]:
        worker_name = conn.execute(_WORKER_NAME, {"username": row["allocated_worker"]}).scalar()
    return {
        "id": row["id"],
        "person": person(person_row),
        "status": row["status"],
        "category": row["category"],
        "legal_status": row["legal_status"],
        "allocated_worker": row["allocated_worker"],
        "allocated_worker_name": worker_name,
        "team": row["team"],
        "opened_at": row["opened_at"],
        "closed_at": row["closed_at"],
        "whereabouts": {
            "placement_type": row["placement_type"],
            "address": row["whereabouts_address"],
            "carer": row["carer"],
            "since": row["whereabouts_since"],
            "missing_since": row["missing_since"],
        },
        "flags": flags_by_case(conn, [row["id"]])[row["id"]],
        "key_contacts": [
            {"role": c["role"], "name": c["name"], "relationship": c["relationship"], "phone": c["phone"]}
            for c in contacts
        ],
        "last_visit_at": row["last_visit_at"],
        "restricted": bool(row["restricted"]),
        "version": row["version"],
        "updated_at": row["updated_at"],
    }


def case_summaries(conn: Connection, rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    flags = flags_by_case(conn, ids)
    today = clock.today().isoformat()
    due: dict[int, tuple[str | None, int]] = {}
    if ids:
        open_tasks = (tasks.c.case_id.in_(ids)) & (tasks.c.status == "open")
        for case_id, next_due, overdue in conn.execute(
            select(tasks.c.case_id, func.min(tasks.c.due_on),
                   func.sum(case((tasks.c.due_on < today, 1), else_=0)))
            .where(open_tasks).group_by(tasks.c.case_id)
        ):
            due[case_id] = (next_due, int(overdue or 0))
    out = []
    for row in rows:
        next_due, overdue = due.get(row["id"], (None, 0))
        out.append({
            "id": row["id"],
            "person_id": row["person_id"],
            "given_name": row["given_name"],
            "family_name": row["family_name"],
            "dob": row["dob"],
            "status": row["status"],
            "category": row["category"],
            "allocated_worker": row["allocated_worker"],
            "team": row["team"],
            "flags": flags[row["id"]],
            "placement_type": row["placement_type"],
            "missing_since": row["missing_since"],
            "next_task_due": next_due,
            "overdue_tasks": overdue,
            "last_visit_at": row["last_visit_at"],
            "restricted": bool(row["restricted"]),
            "version": row["version"],
            "updated_at": row["updated_at"],
        })
    return out


def summary_select():  # type: ignore[no-untyped-def]
    return select(cases, people.c.given_name, people.c.family_name, people.c.dob).join(
        people, people.c.id == cases.c.person_id
    )


def task(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in TASK_FIELDS}


def note(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in NOTE_FIELDS}


def event(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["key_event"] = bool(out["key_event"])
    return out
