"""The reference Case API: ``create_app(database_url=...)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import db, problems
from server.auth import ACCESS_TTL_SECONDS, REFRESH_TTL_SECONDS, OneHopRoute
from server.routes import auth, cases, feed, health, lookup, tasks, users

API_VERSION = "1.0.0"
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Settings:
    access_ttl: int = ACCESS_TTL_SECONDS
    refresh_ttl: int = REFRESH_TTL_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        import json

        body = json.dumps({
            "type": "about:blank", "title": "Content Too Large", "status": 413,
            "detail": f"The request body is larger than {self.limit // 1024} KiB.", "instance": scope.get("path"),
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", problems.PROBLEM_MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _problem_only_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are problem+json only; FastAPI's default 422 shape is replaced by ours."""
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = {problems.PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
                    if code == "422":
                        response["description"] = "The request is well-formed but its values are not valid"
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


def _check_one_hop(router: APIRouter) -> None:
    # a route left to FastAPI's own handling would be handed Db and User before they are opened and checked
    for route in router.routes:
        if isinstance(route, APIRoute) and not isinstance(route, OneHopRoute):
            raise TypeError(f"{route.path}: make its router with route_class=OneHopRoute (server.auth)")


def create_app(database_url: str | None = None, *, settings: Settings | None = None,
               run_migrations: bool = True) -> FastAPI:
    url = database_url or db.default_database_url()
    engine = db.make_engine(url)
    revision = db.migrate(engine) if run_migrations else db.current_revision(engine)
    app = FastAPI(
        title="casework Case API",
        version=API_VERSION,
        description="The reference Case API for casework: children's social care records, local-first clients.",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings or Settings()
    app.state.schema_revision = revision
    problems.install(app)
    for module in (auth, cases, tasks, lookup, feed, users, health):
        _check_one_hop(module.router)
        app.include_router(module.router, prefix="/v1")
    app.add_middleware(BodyLimit, limit=app.state.settings.max_body_bytes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            app.openapi_schema = _problem_only_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
