"""Coverage distances per service category (``/coverage-rules``): how far a home may be from a service of each
category and still count as served, in the coverage indicators. Everyone who may read reads them; only
administrators of every neighbourhood change them (``permit("admin")`` here, a trigger in the database for logins
too). An unknown category or a distance out of range is refused by the database (422, naming what is allowed)."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Path, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field

from api.auth import permit
from api.deps import get_actor, get_conn
from api.schemas import Model, problems, reader, request_body
from core.db import attributed
from layers import coverage_rules

router = APIRouter(tags=["coverage"], responses=problems(400, 404, 422))
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Actor = Annotated[str, Depends(get_actor)]
READ = [Depends(permit("read"))]
ADMIN = [Depends(permit("admin"))]
JSON_TYPES = ("application/json",)
CategoryPath = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=r"^[^\x00]*$",
         description="park, or a service point category (school, clinic …)"),
]  # fmt: skip


class CoverageRuleIn(Model):
    """The distance a home may be from a service of the category and still count as served."""

    distance_m: Annotated[
        float,
        Field(strict=True, description="Metres, along the streets where there are streets: more than 0, at most 20000"),
    ]


Body = Annotated[CoverageRuleIn, Depends(reader(CoverageRuleIn, *JSON_TYPES))]


@router.get("/coverage-rules", dependencies=READ, summary="Coverage distances per service category")
def list_rules(conn: Conn) -> list[dict[str, Any]]:
    return coverage_rules.list_rules(conn)


@router.put("/coverage-rules/{category}", dependencies=ADMIN, responses=problems(413, 415),
            summary="Set the coverage distance of a service category (administrators)",
            openapi_extra=request_body(CoverageRuleIn, *JSON_TYPES))  # fmt: skip
def put_rule(category: CategoryPath, body: Body, conn: Conn, actor: Actor) -> JSONResponse:
    """Body: ``{"distance_m": 400}``."""
    with attributed(conn, actor):
        created = coverage_rules.set_rule(conn, category, body.distance_m)
    status, headers = (201, {"Location": f"/coverage-rules/{category}"}) if created else (200, {})
    rule = coverage_rules.get_rule(conn, category)
    return JSONResponse(jsonable_encoder(rule), status_code=status, headers=headers)


@router.delete("/coverage-rules/{category}", dependencies=ADMIN, status_code=204,
               summary="Stop measuring coverage for a service category (administrators)")  # fmt: skip
def delete_rule(category: CategoryPath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        coverage_rules.remove_rule(conn, category)
    return Response(status_code=204)
