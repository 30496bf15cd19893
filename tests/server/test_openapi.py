"""The committed OpenAPI document is the contract: it must match the app, and the app must honour it."""

from __future__ import annotations

import json
from pathlib import Path

from server.openapi_dump import document, render

COMMITTED = Path(__file__).resolve().parents[2] / "server" / "openapi.json"


def test_committed_openapi_matches_the_app():
    current = render(document())
    committed = COMMITTED.read_text()
    assert committed == current, "server/openapi.json is out of date: run `make openapi` and commit it"


def test_every_error_is_declared_as_problem_json():
    schema = json.loads(COMMITTED.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "413", "422"} <= codes, (method, path)
            if path not in ("/v1/auth/token", "/v1/auth/refresh", "/v1/health"):
                assert operation.get("security") and "401" in codes, (method, path)
            if method == "get" and path != "/v1/health":
                assert "304" in codes, (method, path)
            if method == "patch":
                assert {"412", "428"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, code)
