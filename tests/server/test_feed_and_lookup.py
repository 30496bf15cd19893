"""The changes feed, audit, search and directory routes."""

from __future__ import annotations

from tests.server.dataset import IDS


def feed(client, headers, since=None):  # type: ignore[no-untyped-def]
    url = "/v1/changes" + (f"?since={since}" if since else "")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_changes_start_from_now_and_follow_writes_in_order(client, login):
    start = feed(client, login("pat"))
    assert start["items"] == [] and start["next_cursor"]
    client.post(f"/v1/cases/{IDS.open_case}/notes", json={"kind": "case_note", "body": "x"},
                headers={**login("pat"), "Idempotency-Key": "c1"})
    client.patch(f"/v1/tasks/{IDS.pat_task}", json={"status": "done"}, headers={**login("pat"), "If-Match": '"1"'})
    page = feed(client, login("pat"), start["next_cursor"])
    assert [(c["type"], c["version"]) for c in page["items"]] == [("note", 1), ("task", 2)]
    assert page["items"][1] == {"type": "task", "id": IDS.pat_task, "version": 2, "case_id": IDS.open_case}
    assert feed(client, login("pat"), page["next_cursor"])["items"] == []


def test_changes_on_a_restricted_case_reach_only_its_members(client, login):
    start_duty = feed(client, login("dot"))["next_cursor"]
    start_pat = feed(client, login("pat"))["next_cursor"]
    client.patch(f"/v1/tasks/{IDS.restricted_task}", json={"status": "done"},
                 headers={**login("pat"), "If-Match": '"1"'})
    assert feed(client, login("dot"), start_duty)["items"] == []
    assert [c["id"] for c in feed(client, login("pat"), start_pat)["items"]] == [IDS.restricted_task]


def test_changes_reject_a_foreign_cursor(client, login):
    assert client.get("/v1/changes?since=bogus", headers=login("pat")).status_code == 400


def test_cached_views_are_uploaded_once_and_show_in_the_audit(client, login):
    body = {"views": [{"case_id": IDS.open_case, "viewed_at": "2026-11-21T02:00:00Z", "what": "case"},
                      {"case_id": IDS.open_case, "viewed_at": "2026-11-21T02:01:00Z", "what": "chronology"}]}
    headers = {**login("dot"), "Idempotency-Key": "views-1"}
    assert client.post("/v1/audit/views", json=body, headers=login("dot")).status_code == 400
    first = client.post("/v1/audit/views", json=body, headers=headers)
    assert first.status_code == 202 and first.json() == {"accepted": 2}
    assert client.post("/v1/audit/views", json=body, headers=headers).status_code == 202
    trail = client.get(f"/v1/audit?case_id={IDS.open_case}&user=dot", headers=login("max")).json()["items"]
    cached = [e for e in trail if e["source"] == "cache"]
    assert sorted((e["action"], e["at"]) for e in cached) == [("case.read", "2026-11-21T02:00:00Z"),
                                                             ("chronology.read", "2026-11-21T02:01:00Z")]


def test_cached_views_validate(client, login):
    headers = {**login("dot"), "Idempotency-Key": "views-2"}
    assert client.post("/v1/audit/views", json={"views": []}, headers=headers).status_code == 422
    missing = client.post("/v1/audit/views", json={"views": [{"case_id": 424242, "viewed_at": "2026-11-21T02:00:00Z"}]},
                          headers=headers)
    assert missing.status_code == 404
    bad_date = client.post("/v1/audit/views", json={"views": [{"case_id": 1, "viewed_at": "yesterday"}]},
                           headers=headers)
    assert bad_date.status_code == 422


def test_the_audit_trail_is_for_managers_and_admins(client, login):
    client.get(f"/v1/cases/{IDS.open_case}", headers=login("dot"))
    assert client.get("/v1/audit", headers=login("pat")).status_code == 403
    assert client.get("/v1/audit", headers=login("dot")).status_code == 403
    for who in ("max", "ada"):
        items = client.get(f"/v1/audit?case_id={IDS.open_case}", headers=login(who)).json()["items"]
        assert any(e["username"] == "dot" and e["action"] == "case.read" for e in items)
    assert client.get("/v1/audit?from=2026-12-01&to=2026-11-01", headers=login("max")).status_code == 422
    assert client.get("/v1/audit?from=31-12-2026", headers=login("max")).status_code == 422
    empty = client.get("/v1/audit?from=2001-01-01&to=2001-01-02", headers=login("max")).json()
    assert empty["items"] == []


def test_search_finds_a_misspelt_name_and_stubs_restricted_records(client, login):
    hits = client.get("/v1/search?q=mohamed%20smyth", headers=login("dot")).json()["items"]
    assert hits[0]["case_id"] == IDS.open_case and hits[0]["given_name"] == "Mohammed"
    stub = client.get("/v1/search?q=sealed", headers=login("dot"))
    items = stub.json()["items"]
    assert items and items[0]["restricted"] is True and items[0]["person_id"] is None
    assert "Secret" not in stub.text and "2012-01-01" not in stub.text and "Hidden" not in stub.text
    member = client.get("/v1/search?q=sealed", headers=login("pat")).json()["items"]
    assert member[0]["given_name"] == "Secret"
    assert client.get("/v1/search?q=x", headers=login("ada")).status_code == 403
    assert client.get("/v1/search?q=" + "a" * 201, headers=login("dot")).status_code == 422


def test_directory_pages_and_stubs_restricted_records(client, login):
    first = client.get("/v1/directory?limit=2", headers=login("dot")).json()
    rest = client.get(f"/v1/directory?limit=2&cursor={first['next_cursor']}", headers=login("dot")).json()
    entries = first["items"] + rest["items"]
    assert len(entries) == 4 and rest["next_cursor"] is None
    stub = next(e for e in entries if e["case_id"] == IDS.restricted_case)
    assert stub["restricted"] and stub["given_name"] is None and stub["person_id"] is None
    assert "contact" in stub["message"].lower() or "Contact" in stub["message"]
    mine = client.get("/v1/directory", headers=login("pat")).json()["items"]
    assert next(e for e in mine if e["case_id"] == IDS.restricted_case)["given_name"] == "Secret"
    assert client.get("/v1/directory", headers=login("ada")).status_code == 403


def test_errors_are_problem_json_everywhere(client, login):
    unknown = client.get("/v1/nowhere", headers=login("pat"))
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    wrong_method = client.delete("/v1/cases", headers=login("pat"))
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == "application/problem+json"
