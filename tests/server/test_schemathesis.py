"""schemathesis over the whole Case API, in process (ASGI), with every default check.

Requests go out signed in as a duty worker, so each operation is exercised past
its sign-in; the checks include that responses conform to server/openapi.json,
that no request gets a 500, and that invalid input is refused.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from server.app import create_app
from tests.server.dataset import PASSWORD


@pytest.fixture(scope="module")
def api_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    target = tmp_path_factory.mktemp("schemathesis") / "casework.db"
    shutil.copyfile(sqlite_template, target)
    app = create_app(f"sqlite:///{target}")
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def duty_headers(api_app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with TestClient(api_app) as client:
        token = client.post("/v1/auth/token", json={"username": "dot", "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(api_app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/v1/openapi.json", api_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.xdist_group("schemathesis")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_schema(case, duty_headers):  # type: ignore[no-untyped-def]
    # the sign-in endpoints get their own body; every other request carries a duty worker's token
    headers = {} if case.path in ("/v1/auth/token", "/v1/auth/refresh", "/v1/health") else duty_headers
    case.call_and_validate(headers=headers)
