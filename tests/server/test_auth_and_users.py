"""Sign-in, refresh, expiry, sign-out, and staff accounts."""

from __future__ import annotations

from sqlalchemy import update

from server.tables import tokens
from tests.server.dataset import PASSWORD

PROBLEM = "application/problem+json"


def test_sign_in_returns_a_token_pair(client):
    response = client.post("/v1/auth/token", json={"username": "pat", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["access_token"] != body["refresh_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "pat" and me.json()["role"] == "practitioner"


def test_wrong_password_and_unknown_user_get_the_same_401(client):
    wrong = client.post("/v1/auth/token", json={"username": "pat", "password": "nope"})
    unknown = client.post("/v1/auth/token", json={"username": "nobody", "password": "nope"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_disabled_account_cannot_sign_in(client):
    response = client.post("/v1/auth/token", json={"username": "gone", "password": PASSWORD})
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


def test_refresh_rotates_and_a_used_refresh_token_is_refused(client):
    first = client.post("/v1/auth/token", json={"username": "pat", "password": PASSWORD}).json()
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["access_token"] != first["access_token"]
    again = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    assert again.headers["content-type"] == PROBLEM


def test_expired_access_token_says_the_session_expired(client, app):
    pair = client.post("/v1/auth/token", json={"username": "pat", "password": PASSWORD}).json()
    with app.state.engine.begin() as conn:
        conn.execute(update(tokens).where(tokens.c.kind == "access").values(expires_at="2000-01-01T00:00:00Z"))
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert "invalid_token" in response.headers["www-authenticate"]
    # the refresh token still works: an expired access token is not a sign-out
    assert client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200


def test_missing_and_bogus_tokens_are_401(client):
    assert client.get("/v1/me").status_code == 401
    assert client.get("/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_logout_ends_every_session(client, login):
    headers = login("pat")
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_me_has_an_etag_and_answers_304(client, login):
    first = client.get("/v1/me", headers=login("pat"))
    etag = first.headers["etag"]
    second = client.get("/v1/me", headers={**login("pat"), "If-None-Match": etag})
    assert second.status_code == 304 and second.content == b""


def test_everyone_signed_in_may_list_colleagues(client, login):
    for who in ("pat", "dot", "max", "ada"):
        response = client.get("/v1/users", headers=login(who))
        assert response.status_code == 200
        assert {u["username"] for u in response.json()["items"]} >= {"pat", "pam", "dot", "max", "ada"}
        assert "password_hash" not in response.json()["items"][0]


def test_users_page_with_cursors(client, login):
    first = client.get("/v1/users?limit=4", headers=login("ada")).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = client.get(f"/v1/users?limit=4&cursor={first['next_cursor']}", headers=login("ada")).json()
    assert [u["id"] for u in rest["items"]] == [5, 6] and rest["next_cursor"] is None


def test_admin_adds_a_user_once_per_idempotency_key(client, login):
    body = {"username": "newbie", "display_name": "New Bie", "role": "practitioner", "team": "North",
            "password": "long enough"}
    headers = {**login("ada"), "Idempotency-Key": "add-newbie-1"}
    created = client.post("/v1/users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/users/{created.json()['id']}"
    replay = client.post("/v1/users", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json() == created.json()
    assert replay.headers["idempotent-replayed"] == "true"
    taken = client.post("/v1/users", json=body, headers={**login("ada"), "Idempotency-Key": "add-newbie-2"})
    assert taken.status_code == 409
    signed_in = client.post("/v1/auth/token", json={"username": "newbie", "password": "long enough"})
    assert signed_in.status_code == 200


def test_only_admins_add_users(client, login):
    body = {"username": "sneaky", "display_name": "S", "role": "admin", "team": "X", "password": "long enough"}
    for who in ("pat", "dot", "max"):
        response = client.post("/v1/users", json=body, headers={**login(who), "Idempotency-Key": f"k-{who}"})
        assert response.status_code == 403


def test_add_user_validates_fields(client, login):
    headers = {**login("ada"), "Idempotency-Key": "bad-user"}
    response = client.post("/v1/users", json={"username": "Bad Name", "display_name": "", "role": "boss",
                                              "team": "X", "password": "short"}, headers=headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"username", "display_name", "role", "password"} <= fields


def test_disabling_a_user_ends_their_sessions(client, login):
    pat = login("pat")
    current = client.get("/v1/users/1", headers=login("ada"))
    assert current.headers["etag"] == '"1"'
    no_match = client.patch("/v1/users/1", json={"active": False}, headers=login("ada"))
    assert no_match.status_code == 428
    stale = client.patch("/v1/users/1", json={"active": False}, headers={**login("ada"), "If-Match": '"7"'})
    assert stale.status_code == 412
    done = client.patch("/v1/users/1", json={"active": False}, headers={**login("ada"), "If-Match": '"1"'})
    assert done.status_code == 200 and done.json()["active"] is False and done.json()["version"] == 2
    assert client.get("/v1/me", headers=pat).status_code == 401


def test_the_last_admin_cannot_be_demoted(client, login):
    response = client.patch("/v1/users/5", json={"role": "manager"}, headers={**login("ada"), "If-Match": '"1"'})
    assert response.status_code == 409
    assert "last active administrator" in response.json()["detail"]


def test_only_admins_change_users(client, login):
    response = client.patch("/v1/users/2", json={"team": "North"}, headers={**login("max"), "If-Match": '"1"'})
    assert response.status_code == 403


def test_health_needs_no_sign_in(client):
    response = client.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")
    assert body["schema_revision"]
