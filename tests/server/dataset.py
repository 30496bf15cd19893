"""A small, exact dataset for API tests: every role, a restricted case, tasks and a chronology.

The seeder makes realistic volume; these tests need to know exactly who may see what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from server import clock, db, search
from server.auth import hash_password
from server.tables import case_access, case_flags, cases, chronology, key_contacts, notes, people, person_search, tasks, users

PASSWORD = "correct horse"


@dataclass(frozen=True)
class Ids:
    open_case: int = 1          # allocated to pat (team North), not restricted
    restricted_case: int = 2    # allocated to pat; access list: pat and max
    other_case: int = 3         # allocated to pam (team South)
    closed_case: int = 4        # closed, was pat's
    pat_task: int = 1           # on open_case, assigned to pat
    pam_task: int = 2           # on other_case, assigned to pam
    restricted_task: int = 3    # on restricted_case, assigned to pat
    overdue_task: int = 4       # on open_case, assigned to pat, overdue
    note: int = 1               # on open_case


IDS = Ids()

# username -> (role, team)
STAFF = {
    "pat": ("practitioner", "North"),
    "pam": ("practitioner", "South"),
    "dot": ("duty", "Duty"),
    "max": ("manager", "North"),
    "ada": ("admin", "Systems"),
    "gone": ("practitioner", "North"),  # disabled
}


def load(engine: Engine) -> None:
    now = clock.now_iso()
    today = clock.today()
    password_hash = hash_password(PASSWORD)
    with engine.begin() as conn:
        conn.execute(users.insert(), [
            {"id": i, "username": name, "display_name": name.title() + " Example", "role": role, "team": team,
             "active": name != "gone", "password_hash": password_hash, "version": 1, "created_at": now}
            for i, (name, (role, team)) in enumerate(STAFF.items(), start=1)
        ])
        person_rows = [
            dict(id=1, la_child_id="LA0000001", upn="A123456789012", nhs_number="9990000018", given_name="Mohammed",
                 family_name="Smith", aliases=json.dumps(["Mo Smith"]), dob="2014-03-12", expected_dob=None,
                 gender="male", ethnicity="ABAN", disability=None, first_language="English",
                 address="14 Mill Lane, Brackley", postcode="NN13 6AB", school="Brackley Primary", family_id=1),
            dict(id=2, la_child_id="LA0000002", upn="A123456789013", nhs_number="9990000026", given_name="Secret",
                 family_name="Sealed", aliases="[]", dob="2012-01-01", expected_dob=None, gender="female",
                 ethnicity="WBRI", disability=None, first_language="English", address="1 Hidden Row, Towcester",
                 postcode="NN12 7AA", school=None, family_id=2),
            dict(id=3, la_child_id="LA0000003", upn=None, nhs_number="9990000034", given_name="Amira",
                 family_name="Okafor", aliases="[]", dob="2018-07-30", expected_dob=None, gender="female",
                 ethnicity="BAFR", disability=None, first_language="Igbo", address="3 Station Road, Daventry",
                 postcode="NN11 4AB", school="Daventry Infants", family_id=3),
            dict(id=4, la_child_id="LA0000004", upn=None, nhs_number=None, given_name="Kacper", family_name="Nowak",
                 aliases="[]", dob="2009-11-02", expected_dob=None, gender="male", ethnicity="WOTH",
                 disability=None, first_language="Polish", address="22 High Street, Brackley", postcode="NN13 7BD",
                 school=None, family_id=4),
        ]
        conn.execute(people.insert(), person_rows)
        conn.execute(person_search.insert(), [search.index_row(p) for p in person_rows])
        search.rebuild(conn)
        base = dict(legal_status=None, closed_at=None, placement_type="Living at home", whereabouts_address=None,
                    carer=None, whereabouts_since=None, missing_since=None, restricted=False, restricted_contact=None,
                    last_visit_at=None, version=1, updated_at=now, opened_at="2024-01-10T09:00:00Z", status="open")
        conn.execute(cases.insert(), [
            {**base, "id": 1, "person_id": 1, "category": "cp", "allocated_worker": "pat", "team": "North",
             "legal_status": "Child protection plan", "last_visit_at": "2026-10-01T10:00:00Z"},
            {**base, "id": 2, "person_id": 2, "category": "cla", "allocated_worker": "pat", "team": "North",
             "restricted": True, "restricted_contact": "the North team manager"},
            {**base, "id": 3, "person_id": 3, "category": "cin", "allocated_worker": "pam", "team": "South",
             "missing_since": "2026-11-20T22:00:00Z"},
            {**base, "id": 4, "person_id": 4, "category": "early_help", "allocated_worker": "pat", "team": "North",
             "status": "closed", "closed_at": "2025-05-05T12:00:00Z"},
        ])
        conn.execute(case_access.insert(), [{"case_id": 2, "user_id": 1}, {"case_id": 2, "user_id": 4}])
        conn.execute(case_flags.insert(), [
            {"case_id": 1, "code": "CPP", "label": "Child protection plan", "severity": "high", "since": "2024-02-01"},
            {"case_id": 3, "code": "MISSING", "label": "Missing from home", "severity": "high", "since": "2026-11-20"},
        ])
        conn.execute(key_contacts.insert(), [
            {"case_id": 1, "position": 0, "role": "Mother", "name": "Sara Smith", "relationship": "mother",
             "phone": "07700 900123"},
            {"case_id": 1, "position": 1, "role": "School DSL", "name": "Mr Patel", "relationship": None,
             "phone": "01632 960001"},
        ])
        conn.execute(notes.insert(), [{"id": 1, "case_id": 1, "kind": "home_visit", "occurred_at": "2026-10-01T10:00:00Z",
                                       "body": "Seen alone in his bedroom.", "author": "pat",
                                       "created_at": "2026-10-01T12:00:00Z", "amends": None}])
        events = []
        for i in range(250):
            day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
            kind = ("visit", "police_notification", "school", "referral")[i % 4]
            events.append({"case_id": 1, "occurred_at": day, "kind": kind, "source_agency": "Police" if i % 4 == 1 else None,
                           "summary": f"Event {i}: {kind.replace('_', ' ')} recorded", "detail": "Details here.",
                           "key_event": kind == "referral", "author": "pat", "note_id": None})
        events.append({"case_id": 1, "occurred_at": "2026-10-01T10:00:00Z", "kind": "visit", "source_agency": None,
                       "summary": "Home visit: seen alone", "detail": "Seen alone in his bedroom.", "key_event": False,
                       "author": "pat", "note_id": 1})
        events.append({"case_id": 2, "occurred_at": "2026-01-01T10:00:00Z", "kind": "placement_move",
                       "source_agency": None, "summary": "Moved to a confidential placement", "detail": None,
                       "key_event": True, "author": "pat", "note_id": None})
        conn.execute(chronology.insert(), events)
        due = today.isoformat()
        conn.execute(tasks.insert(), [
            {"id": 1, "case_id": 1, "title": "Statutory visit to Mohammed", "kind": "statutory_visit", "due_on": due,
             "assignee": "pat", "status": "open", "snoozed_until": None, "priority": "high", "completed_at": None,
             "version": 1, "updated_at": now},
            {"id": 2, "case_id": 3, "title": "Return interview for Amira", "kind": "return_interview", "due_on": due,
             "assignee": "pam", "status": "open", "snoozed_until": None, "priority": "high", "completed_at": None,
             "version": 1, "updated_at": now},
            {"id": 3, "case_id": 2, "title": "Placement review", "kind": "review", "due_on": due,
             "assignee": "pat", "status": "open", "snoozed_until": None, "priority": "normal", "completed_at": None,
             "version": 1, "updated_at": now},
            {"id": 4, "case_id": 1, "title": "Core group meeting", "kind": "core_group", "due_on": "2026-01-05",
             "assignee": "pat", "status": "open", "snoozed_until": None, "priority": "normal", "completed_at": None,
             "version": 1, "updated_at": now},
        ])
        db.sync_sequences(conn)
