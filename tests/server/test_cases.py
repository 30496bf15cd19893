"""Cases, chronology, notes, tasks: the happy paths and their error paths."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from server.tables import audit_events
from tests.server.dataset import IDS

PROBLEM = "application/problem+json"


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [item["id"] for item in response.json()["items"]]


# --- cases -----------------------------------------------------------------------

def test_my_caseload_is_my_open_cases_with_summaries(client, login):
    response = client.get("/v1/cases", headers=login("pat"))
    assert response.status_code == 200
    assert ids(response) == [IDS.open_case, IDS.restricted_case]
    first = response.json()["items"][0]
    assert first["given_name"] == "Mohammed" and first["category"] == "cp"
    assert first["flags"][0]["code"] == "CPP"
    assert first["overdue_tasks"] == 1 and first["next_task_due"] == "2026-01-05"


def test_case_lists_filter_by_status_scope_and_category(client, login):
    assert ids(client.get("/v1/cases?status=closed", headers=login("pat"))) == [IDS.closed_case]
    assert ids(client.get("/v1/cases?scope=all", headers=login("dot"))) == [IDS.open_case, IDS.other_case]
    assert ids(client.get("/v1/cases?scope=team", headers=login("max"))) == [IDS.open_case, IDS.restricted_case]
    assert ids(client.get("/v1/cases?scope=all&category=cin", headers=login("dot"))) == [IDS.other_case]
    bad = client.get("/v1/cases?scope=everything", headers=login("dot"))
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_case_list_pages(client, login):
    first = client.get("/v1/cases?scope=all&limit=1", headers=login("dot")).json()
    second = client.get(f"/v1/cases?scope=all&limit=1&cursor={first['next_cursor']}", headers=login("dot")).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [IDS.open_case, IDS.other_case]
    assert second["next_cursor"] is None


def test_a_bad_cursor_is_a_clear_400(client, login):
    for cursor in ("garbage", "W10", "WyJ4Il0", "%00"):
        response = client.get(f"/v1/cases?cursor={cursor}", headers=login("pat"))
        assert response.status_code == 400, cursor
        assert "cursor" in response.json()["detail"]


def test_whole_case_has_person_flags_whereabouts_contacts_and_a_version_etag(client, login):
    response = client.get(f"/v1/cases/{IDS.open_case}", headers=login("dot"))
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    case = response.json()
    assert case["person"]["family_name"] == "Smith" and case["person"]["aliases"] == ["Mo Smith"]
    assert case["allocated_worker_name"] == "Pat Example"
    assert case["key_contacts"][0] == {"role": "Mother", "name": "Sara Smith", "relationship": "mother",
                                       "phone": "07700 900123"}
    assert case["whereabouts"]["placement_type"] == "Living at home"
    cached = client.get(f"/v1/cases/{IDS.open_case}", headers={**login("dot"), "If-None-Match": '"1"'})
    assert cached.status_code == 304
    changed = client.get(f"/v1/cases/{IDS.open_case}", headers={**login("dot"), "If-None-Match": '"0"'})
    assert changed.status_code == 200


def test_every_case_read_is_audited_and_so_is_a_refusal(client, login, app):
    client.get(f"/v1/cases/{IDS.open_case}", headers=login("dot"))
    client.get(f"/v1/cases/{IDS.restricted_case}", headers=login("dot"))
    with app.state.engine.connect() as conn:
        rows = conn.execute(select(audit_events.c.action, audit_events.c.case_id)
                            .where(audit_events.c.username == "dot")).all()
    assert ("case.read", IDS.open_case) in rows
    assert ("denied:case.read", IDS.restricted_case) in rows


def test_restricted_case_is_403_with_whom_to_contact(client, login):
    response = client.get(f"/v1/cases/{IDS.restricted_case}", headers=login("dot"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "the North team manager" in response.json()["detail"]
    assert "Sealed" not in response.text
    assert client.get(f"/v1/cases/{IDS.restricted_case}", headers=login("max")).status_code == 200


def test_unknown_case_is_404_problem(client, login):
    response = client.get("/v1/cases/999999", headers=login("dot"))
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert client.get("/v1/cases/abc", headers=login("dot")).status_code == 422


# --- chronology ----------------------------------------------------------------------

def test_chronology_pages_newest_first_without_gaps_or_repeats(client, login):
    seen: list[dict] = []
    cursor = None
    while True:
        query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/cases/{IDS.open_case}/chronology?{query}", headers=login("pat")).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 251
    assert len({e["id"] for e in seen}) == 251
    keys = [(e["occurred_at"], e["id"]) for e in seen]
    assert keys == sorted(keys, reverse=True)


def test_chronology_filters(client, login):
    base = f"/v1/cases/{IDS.open_case}/chronology?limit=1000"
    police = client.get(base + "&kind=police_notification", headers=login("pat")).json()["items"]
    assert police and all(e["kind"] == "police_notification" for e in police)
    two = client.get(base + "&kind=police_notification&kind=school", headers=login("pat")).json()["items"]
    assert {e["kind"] for e in two} == {"police_notification", "school"}
    key = client.get(base + "&key_only=true", headers=login("pat")).json()["items"]
    assert key and all(e["key_event"] for e in key)
    found = client.get(base + "&q=seen%20alone", headers=login("pat")).json()["items"]
    assert [e["note_id"] for e in found] == [IDS.note]
    literal = client.get(base + "&q=100%25", headers=login("pat")).json()["items"]
    assert literal == []


def test_chronology_rejects_unknown_kinds(client, login):
    response = client.get(f"/v1/cases/{IDS.open_case}/chronology?kind=gossip", headers=login("pat"))
    assert response.status_code == 422 and "gossip" in response.json()["detail"]


def test_chronology_of_a_restricted_case_is_403(client, login):
    assert client.get(f"/v1/cases/{IDS.restricted_case}/chronology", headers=login("pam")).status_code == 403
    assert client.get(f"/v1/cases/{IDS.restricted_case}/chronology", headers=login("pat")).status_code == 200


# --- notes ---------------------------------------------------------------------------

def note_headers(login, who: str, key: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**login(who), "Idempotency-Key": key}


def test_a_note_needs_an_idempotency_key(client, login):
    response = client.post(f"/v1/cases/{IDS.open_case}/notes", json={"kind": "phone_call", "body": "x"},
                           headers=login("pat"))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]


def test_a_note_is_created_once_and_appears_in_the_chronology(client, login):
    body = {"kind": "home_visit", "body": "Visited at home.\nSeen alone; room clean.",
            "occurred_at": "2026-11-20T15:00:00Z"}
    headers = note_headers(login, "pat", "note-1")
    created = client.post(f"/v1/cases/{IDS.open_case}/notes", json=body, headers=headers)
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["author"] == "pat" and note["occurred_at"] == "2026-11-20T15:00:00Z"
    assert created.headers["location"] == f"/v1/cases/{IDS.open_case}/notes/{note['id']}"
    replay = client.post(f"/v1/cases/{IDS.open_case}/notes", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json() == note
    listed = client.get(f"/v1/cases/{IDS.open_case}/notes", headers=login("pat")).json()["items"]
    assert [n["id"] for n in listed].count(note["id"]) == 1
    events = client.get(f"/v1/cases/{IDS.open_case}/chronology?limit=5", headers=login("pat")).json()["items"]
    mine = [e for e in events if e["note_id"] == note["id"]]
    assert len(mine) == 1 and mine[0]["kind"] == "visit" and mine[0]["summary"] == "Visited at home."
    case = client.get(f"/v1/cases/{IDS.open_case}", headers=login("pat")).json()
    assert case["last_visit_at"] == "2026-11-20T15:00:00Z"
    fetched = client.get(created.headers["location"], headers=login("pat"))
    assert fetched.status_code == 200 and fetched.json() == note


def test_the_same_key_with_a_different_body_is_422(client, login):
    headers = note_headers(login, "pat", "note-2")
    assert client.post(f"/v1/cases/{IDS.open_case}/notes", json={"kind": "phone_call", "body": "a"},
                       headers=headers).status_code == 201
    clash = client.post(f"/v1/cases/{IDS.open_case}/notes", json={"kind": "phone_call", "body": "b"}, headers=headers)
    assert clash.status_code == 422 and "Idempotency-Key" in clash.json()["detail"]


def test_keys_belong_to_their_user(client, login):
    body = {"kind": "phone_call", "body": "a"}
    first = client.post(f"/v1/cases/{IDS.open_case}/notes", json=body, headers=note_headers(login, "pat", "k"))
    second = client.post(f"/v1/cases/{IDS.open_case}/notes", json=body, headers=note_headers(login, "dot", "k"))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_an_amendment_links_to_the_note_it_corrects(client, login):
    response = client.post(f"/v1/cases/{IDS.open_case}/notes",
                           json={"kind": "home_visit", "body": "Correction: seen with his sister.", "amends": IDS.note},
                           headers=note_headers(login, "pat", "amend-1"))
    assert response.status_code == 201 and response.json()["amends"] == IDS.note
    events = client.get(f"/v1/cases/{IDS.open_case}/chronology?q=Amendment", headers=login("pat")).json()["items"]
    assert events[0]["summary"].startswith("Amendment to the note of 2026-10-01")


def test_note_error_paths(client, login):
    url = f"/v1/cases/{IDS.open_case}/notes"
    wrong_case = client.post(f"/v1/cases/{IDS.other_case}/notes", json={"kind": "case_note", "body": "x",
                             "amends": IDS.note}, headers=note_headers(login, "dot", "e1"))
    assert wrong_case.status_code == 422
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.post(url, json={"kind": "case_note", "body": "x", "occurred_at": future},
                       headers=note_headers(login, "pat", "e2")).status_code == 422
    unknown_field = client.post(url, json={"kind": "case_note", "body": "x", "colour": "red"},
                                headers=note_headers(login, "pat", "e3"))
    assert unknown_field.status_code == 422
    assert unknown_field.json()["errors"][0] == {"field": "colour", "message": "is not a field this request accepts"}
    assert client.post(url, json={"kind": "gossip", "body": "x"}, headers=note_headers(login, "pat", "e4")).status_code == 422
    assert client.post(url, json={"kind": "case_note", "body": ""}, headers=note_headers(login, "pat", "e5")).status_code == 422
    assert client.post(url, json={"kind": "case_note", "body": 5}, headers=note_headers(login, "pat", "e6")).status_code == 422
    not_json = client.post(url, content=b"{not json", headers={**note_headers(login, "pat", "e7"),
                                                               "content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.headers["content-type"] == PROBLEM
    huge = client.post(url, json={"kind": "case_note", "body": "x" * 300_000}, headers=note_headers(login, "pat", "e8"))
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM
    too_long = client.post(url, json={"kind": "case_note", "body": "x" * 20_001}, headers=note_headers(login, "pat", "e9"))
    assert too_long.status_code == 422
    restricted = client.post(f"/v1/cases/{IDS.restricted_case}/notes", json={"kind": "case_note", "body": "x"},
                             headers=note_headers(login, "dot", "e10"))
    assert restricted.status_code == 403


# --- tasks ------------------------------------------------------------------------

def test_work_tray_is_my_open_tasks_soonest_first(client, login):
    tray = client.get("/v1/tasks?assignee=me&status=open", headers=login("pat")).json()["items"]
    assert [t["id"] for t in tray] == [IDS.overdue_task, IDS.pat_task, IDS.restricted_task]
    overdue = client.get(f"/v1/tasks?due_before={dt.date.today().isoformat()}", headers=login("pat")).json()["items"]
    assert [t["id"] for t in overdue] == [IDS.overdue_task]
    # a colleague's tray leaves out what the viewer may not read
    seen_by_duty = client.get("/v1/tasks?assignee=pat", headers=login("dot")).json()["items"]
    assert IDS.restricted_task not in [t["id"] for t in seen_by_duty]


def test_case_tasks(client, login):
    response = client.get(f"/v1/cases/{IDS.open_case}/tasks?status=open", headers=login("dot"))
    assert [t["id"] for t in response.json()["items"]] == [IDS.overdue_task, IDS.pat_task]


def patch(client, login, who, task_id, body, etag):  # type: ignore[no-untyped-def]
    headers = {**login(who)}
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(f"/v1/tasks/{task_id}", json=body, headers=headers)


def test_completing_a_task_needs_if_match(client, login):
    assert patch(client, login, "pat", IDS.pat_task, {"status": "done"}, None).status_code == 428
    stale = patch(client, login, "pat", IDS.pat_task, {"status": "done"}, '"9"')
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    done = patch(client, login, "pat", IDS.pat_task, {"status": "done"}, '"1"')
    assert done.status_code == 200 and done.headers["etag"] == '"2"'
    assert done.json()["status"] == "done" and done.json()["completed_at"]
    again = client.get(f"/v1/tasks/{IDS.pat_task}", headers=login("pat"))
    assert again.headers["etag"] == '"2"'
    undone = patch(client, login, "pat", IDS.pat_task, {"status": "open"}, '"2"')
    assert undone.json()["status"] == "open" and undone.json()["completed_at"] is None


def test_snoozing_needs_a_future_date(client, login):
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert patch(client, login, "pat", IDS.pat_task, {"status": "snoozed"}, '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"status": "snoozed", "snoozed_until": "2020-01-01"},
                 '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"status": "snoozed", "snoozed_until": "31/12/2026"},
                 '"1"').status_code == 422
    ok = patch(client, login, "pat", IDS.pat_task, {"status": "snoozed", "snoozed_until": tomorrow}, '"1"')
    assert ok.status_code == 200 and ok.json()["snoozed_until"] == tomorrow


def test_reassigning_checks_the_colleague(client, login):
    assert patch(client, login, "pat", IDS.pat_task, {"assignee": "nobody"}, '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"assignee": "ada"}, '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"assignee": "gone"}, '"1"').status_code == 422
    moved = patch(client, login, "pat", IDS.pat_task, {"assignee": "pam"}, '"1"')
    assert moved.status_code == 200 and moved.json()["assignee"] == "pam"


def test_practitioners_change_only_their_own_tasks(client, login):
    assert patch(client, login, "pam", IDS.pat_task, {"status": "done"}, '"1"').status_code == 403
    assert patch(client, login, "dot", IDS.pat_task, {"status": "done"}, '"1"').status_code == 200
    assert patch(client, login, "dot", IDS.restricted_task, {"status": "done"}, '"1"').status_code == 403
    assert patch(client, login, "pat", 9999, {"status": "done"}, '"1"').status_code == 404


def test_task_patch_rejects_unknown_fields_and_nulls(client, login):
    assert patch(client, login, "pat", IDS.pat_task, {"title": "x"}, '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"status": None}, '"1"').status_code == 422
    assert patch(client, login, "pat", IDS.pat_task, {"status": "finished"}, '"1"').status_code == 422
