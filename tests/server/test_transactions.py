"""A write is acknowledged only after it has committed."""

from __future__ import annotations

from sqlalchemy import event, func, select

from server.tables import notes
from tests.server.dataset import IDS


def test_a_write_whose_commit_fails_is_not_acknowledged(app, client, login):
    def refuse(_conn) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    headers = {**login("pat"), "Idempotency-Key": "commit-fails"}
    with app.state.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(notes)).scalar_one()
    event.listen(app.state.engine, "commit", refuse)
    try:
        response = client.post(f"/v1/cases/{IDS.open_case}/notes", json={"kind": "case_note", "body": "x"},
                               headers=headers)
    finally:
        event.remove(app.state.engine, "commit", refuse)
    # had the commit run after the response was sent, the client would have been told 201
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    with app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notes)).scalar_one() == before
