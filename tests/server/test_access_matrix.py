"""Each role × each endpoint × restricted or not, against the rules in server/access.py.

pat: practitioner, allocated both cases and on the restricted case's access list
pam: practitioner in another team, on no access list
dot: duty worker, on no access list
max: manager, on the restricted case's access list
ada: admin: runs the system, reads no case records
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from server.tables import tasks
from tests.server.dataset import IDS

ROLES = ("pat", "pam", "dot", "max", "ada")
_keys = itertools.count()


def expect(**by_user: int) -> dict[str, int]:
    return {user: by_user[user] for user in ROLES}


READ_OPEN = expect(pat=200, pam=200, dot=200, max=200, ada=403)
READ_RESTRICTED = expect(pat=200, pam=403, dot=403, max=200, ada=403)

CASE_READS = [
    ("GET", "/v1/cases/{case}"),
    ("GET", "/v1/cases/{case}/chronology"),
    ("GET", "/v1/cases/{case}/notes"),
    ("GET", "/v1/cases/{case}/tasks"),
    ("GET", "/v1/tasks/{task}"),
]


@pytest.mark.parametrize("method,path", CASE_READS)
@pytest.mark.parametrize("restricted", [False, True], ids=["open", "restricted"])
def test_reading_a_case(client, login, method, path, restricted):
    case, task = (IDS.restricted_case, IDS.restricted_task) if restricted else (IDS.open_case, IDS.pat_task)
    url = path.format(case=case, task=task)
    expected = READ_RESTRICTED if restricted else READ_OPEN
    got = {user: client.request(method, url, headers=login(user)).status_code for user in ROLES}
    assert got == expected


@pytest.mark.parametrize("restricted", [False, True], ids=["open", "restricted"])
def test_writing_a_note(client, login, restricted):
    case = IDS.restricted_case if restricted else IDS.open_case
    expected = {user: 201 if code == 200 else code for user, code in
                (READ_RESTRICTED if restricted else READ_OPEN).items()}
    got = {}
    for user in ROLES:
        headers = {**login(user), "Idempotency-Key": f"matrix-{next(_keys)}"}
        got[user] = client.post(f"/v1/cases/{case}/notes", json={"kind": "case_note", "body": "x"},
                                headers=headers).status_code
    assert got == expected


@pytest.mark.parametrize("restricted", [False, True], ids=["open", "restricted"])
def test_changing_a_task(client, login, app, restricted):
    task = IDS.restricted_task if restricted else IDS.pat_task
    expected = (expect(pat=200, pam=403, dot=403, max=200, ada=403) if restricted
                else expect(pat=200, pam=403, dot=200, max=200, ada=403))
    got = {}
    for n, user in enumerate(ROLES):
        with app.state.engine.connect() as conn:
            version = conn.execute(select(tasks.c.version).where(tasks.c.id == task)).scalar_one()
        body = {"status": "done" if n % 2 == 0 else "open"}
        got[user] = client.patch(f"/v1/tasks/{task}", json=body,
                                 headers={**login(user), "If-Match": f'"{version}"'}).status_code
    assert got == expected


LISTS = {
    ("GET", "/v1/cases"): expect(pat=200, pam=200, dot=200, max=200, ada=403),
    ("GET", "/v1/tasks"): expect(pat=200, pam=200, dot=200, max=200, ada=403),
    ("GET", "/v1/search?q=smith"): expect(pat=200, pam=200, dot=200, max=200, ada=403),
    ("GET", "/v1/directory"): expect(pat=200, pam=200, dot=200, max=200, ada=403),
    ("GET", "/v1/changes"): expect(pat=200, pam=200, dot=200, max=200, ada=200),
    ("GET", "/v1/me"): expect(pat=200, pam=200, dot=200, max=200, ada=200),
    ("GET", "/v1/users"): expect(pat=200, pam=200, dot=200, max=200, ada=200),
    ("GET", "/v1/users/1"): expect(pat=200, pam=200, dot=200, max=200, ada=200),
    ("GET", "/v1/audit"): expect(pat=403, pam=403, dot=403, max=200, ada=200),
}


@pytest.mark.parametrize("method,path", list(LISTS), ids=[p for _, p in LISTS])
def test_lists_and_directories(client, login, method, path):
    got = {user: client.request(method, path, headers=login(user)).status_code for user in ROLES}
    assert got == LISTS[(method, path)]


def test_managing_users_is_for_admins(client, login):
    got_add, got_change = {}, {}
    for user in ROLES:
        body = {"username": f"new{user}", "display_name": "New", "role": "duty", "team": "Duty",
                "password": "long enough"}
        got_add[user] = client.post("/v1/users", json=body,
                                    headers={**login(user), "Idempotency-Key": f"u-{user}"}).status_code
    for user in ROLES:
        current = client.get("/v1/users/2", headers=login(user)).headers["etag"]
        got_change[user] = client.patch("/v1/users/2", json={"team": "East"},
                                        headers={**login(user), "If-Match": current}).status_code
    assert got_add == expect(pat=403, pam=403, dot=403, max=403, ada=201)
    assert got_change == expect(pat=403, pam=403, dot=403, max=403, ada=200)


def test_nobody_is_anybody_without_a_token(client):
    for method, path in [*CASE_READS, *LISTS]:
        url = path.format(case=IDS.open_case, task=IDS.pat_task)
        assert client.request(method, url).status_code == 401, url
