"""Liveness and what the server is running on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from server import clock
from server.auth import OneHopRoute
from server.routes.common import public_responses
from server.schemas import Health

router = APIRouter(tags=["health"], route_class=OneHopRoute)


@router.get("/health", response_model=Health, responses=public_responses())
def health(request: Request) -> dict[str, str]:
    engine = request.app.state.engine
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "version": request.app.version,
        "database": engine.dialect.name,
        "schema_revision": request.app.state.schema_revision,
        "time": clock.now_iso(),
    }

