"""Plausibility rules per layer (``/plausibility-rules``): a line's maximum length, a polygon's maximum area, how far
a feature may lie from the neighbourhoods, and no feature silently leaving its neighbourhood. Everyone who may
read reads them; only administrators of every neighbourhood change them (``permit("admin")`` here, a trigger in
the database for logins too). A rule that does not fit its layer, or a value out of range, is refused by the
database (422, saying what fits)."""

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
from layers import plausibility

router = APIRouter(tags=["plausibility"], responses=problems(400, 404, 422))
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Actor = Annotated[str, Depends(get_actor)]
READ = [Depends(permit("read"))]
ADMIN = [Depends(permit("admin"))]
JSON_TYPES = ("application/json",)
LayerPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00]*$", description="A spatial layer")]
RulePath = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=r"^[^\x00]*$",
         description="max_length, max_area, near_neighbourhoods or keep_neighbourhood"),
]  # fmt: skip


class PlausibilityRuleIn(Model):
    """The limit of a rule and whether it is applied."""

    value: Annotated[
        float | None,
        Field(strict=True, description="Metres (max_length, near_neighbourhoods) or square metres (max_area); "
              "null for keep_neighbourhood"),
    ] = None  # fmt: skip
    enabled: Annotated[bool, Field(strict=True, description="Applied (true) or kept but not applied")] = True


Body = Annotated[PlausibilityRuleIn, Depends(reader(PlausibilityRuleIn, *JSON_TYPES))]


@router.get("/plausibility-rules", dependencies=READ, summary="Plausibility rules per layer")
def list_rules(conn: Conn) -> list[dict[str, Any]]:
    return plausibility.list_rules(conn)


@router.put("/plausibility-rules/{layer}/{rule}", dependencies=ADMIN, responses=problems(413, 415),
            summary="Set a plausibility rule of a layer (administrators)",
            openapi_extra=request_body(PlausibilityRuleIn, *JSON_TYPES))  # fmt: skip
def put_rule(layer: LayerPath, rule: RulePath, body: Body, conn: Conn, actor: Actor) -> JSONResponse:
    """Body: ``{"value": 2000, "enabled": true}``."""
    with attributed(conn, actor):
        created = plausibility.set_rule(conn, layer, rule, body.value, body.enabled)
    status, headers = (201, {"Location": f"/plausibility-rules/{layer}/{rule}"}) if created else (200, {})
    found = plausibility.get_rule(conn, layer, rule)
    return JSONResponse(jsonable_encoder(found), status_code=status, headers=headers)


@router.delete("/plausibility-rules/{layer}/{rule}", dependencies=ADMIN, status_code=204,
               summary="Stop applying a plausibility rule to a layer (administrators)")  # fmt: skip
def delete_rule(layer: LayerPath, rule: RulePath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        plausibility.remove_rule(conn, layer, rule)
    return Response(status_code=204)
