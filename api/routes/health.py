"""``GET /health``: is the database reachable, which PostGIS, are the migrations at head."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.roles import role_report
from layers import migrate

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database, PostGIS and schema status")
def health(request: Request) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok", "database": "unreachable"}
    try:
        with request.app.state.pool.connection(timeout=5) as conn:
            body["database"] = "ok"
            body["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
            body["postgis"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            current = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            role = role_report(conn)
    except Exception as exc:  # any failure here is the answer, not an error of the endpoint
        body.update(status="error", detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return JSONResponse(body, status_code=503)
    head = migrate.head_revision()
    body["migrations"] = {
        "current": current[0] if current else None,
        "head": head,
        "at_head": bool(current) and current[0] == head,
    }
    body["embedded"] = request.app.state.settings.embedded
    body["role"] = role.to_json()  # an operator sees at once whether the app runs with rights it must not have
    if not body["migrations"]["at_head"]:
        body["status"] = "error"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
