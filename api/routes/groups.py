"""Named groups of neighbourhoods (a municipality, a programme's cities): reports and indicators roll up over them
(``group=`` on ``/reports/achievement`` and ``/indicators``). Everyone who may read reads them; only administrators
of every neighbourhood change them (``permit("admin")`` here, a trigger in the database for logins too)."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.auth import permit
from api.deps import get_actor, get_conn
from api.schemas import problems, reader, request_body
from api.schemas.groups import GroupCodePath, GroupIn
from core.db import attributed
from layers import groups

router = APIRouter(tags=["groups"], responses=problems(400, 404, 422))
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Actor = Annotated[str, Depends(get_actor)]
READ = [Depends(permit("read"))]
ADMIN = [Depends(permit("admin"))]
JSON_TYPES = ("application/json",)
Body = Annotated[GroupIn, Depends(reader(GroupIn, *JSON_TYPES))]


@router.get("/neighbourhood-groups", dependencies=READ, summary="Named groups of neighbourhoods")
def list_groups(conn: Conn) -> list[dict[str, Any]]:
    return groups.list_groups(conn)


@router.get("/neighbourhood-groups/{code}", dependencies=READ, summary="One group and its neighbourhoods")
def get_group(code: GroupCodePath, conn: Conn) -> dict[str, Any]:
    return groups.get_group(conn, code)


@router.put("/neighbourhood-groups/{code}", dependencies=ADMIN, responses=problems(413, 415),
            summary="Create or replace a group: its name, kind and neighbourhoods (administrators)",
            openapi_extra=request_body(GroupIn, *JSON_TYPES))  # fmt: skip
def put_group(code: GroupCodePath, body: Body, conn: Conn, actor: Actor) -> JSONResponse:
    with attributed(conn, actor):
        created = groups.put_group(conn, code, body.name, body.kind, body.neighbourhoods)
    status, headers = (201, {"Location": f"/neighbourhood-groups/{code}"}) if created else (200, {})
    return JSONResponse(jsonable_encoder(groups.get_group(conn, code)), status_code=status, headers=headers)


@router.delete("/neighbourhood-groups/{code}", dependencies=ADMIN, status_code=204,
               summary="Remove a group (its neighbourhoods stay)")  # fmt: skip
def delete_group(code: GroupCodePath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        groups.delete_group(conn, code)
    return Response(status_code=204)
