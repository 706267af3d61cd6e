"""The planners' review queue: new field observations (with their photos) and conflicting field edits, and the
decisions on them (``layers.review``). Reviewing is the planners' work; the database checks where they may."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi import Path as InPath
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.auth import permit
from api.deps import get_actor, get_catalogue, get_conn
from api.routes.field import described
from api.schemas import field as bodies
from api.schemas import problems, reader, request_body
from api.schemas.planning import AnyNeighbourhood
from core.db import attributed
from layers import field_changes, planning, review
from layers.catalogue import Catalogue

router = APIRouter(tags=["review"], responses=problems(400, 401, 403, 404, 422))
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
Actor = Annotated[str, Depends(get_actor)]
PLAN = [Depends(permit("plan"))]
JSON = ("application/json",)
Decision = Annotated[bodies.DecisionIn, Depends(reader(bodies.DecisionIn, *JSON))]
Resolution = Annotated[bodies.ResolveIn, Depends(reader(bodies.ResolveIn, *JSON))]
Id = Annotated[int, InPath(ge=1, le=2**63 - 1)]


@router.get("/review", dependencies=PLAN, summary="What waits for a planner: new observations and conflicts")
def review_queue(request: Request, conn: Conn, neighbourhood: AnyNeighbourhood = None) -> JSONResponse:
    nid = planning.neighbourhood_id(conn, neighbourhood) if neighbourhood else None
    observations = review.waiting(conn, nid)
    for o in observations:
        o["photos"] = [described(request, photo) for photo in o["photos"]]
    conflicts = field_changes.open_conflicts(conn, nid)
    return JSONResponse(jsonable_encoder({"observations": observations, "conflicts": conflicts}))


@router.post(
    "/review/observations/{oid}",
    dependencies=PLAN,
    summary="Turn an observation into a feature, an intervention or a task, or reject it with a reason",
    openapi_extra=request_body(bodies.DecisionIn, *JSON),
)
def decide(oid: Id, body: Decision, conn: Conn, catalogue: Cat, actor: Actor) -> JSONResponse:
    with attributed(conn, actor, cause="review"):
        outcome = review.decide(conn, catalogue, oid, body.data())
    return JSONResponse(jsonable_encoder(outcome))


@router.post(
    "/review/conflicts/{change_id}",
    dependencies=PLAN,
    summary="Settle a conflicting field edit: keep the field's values or the server's",
    openapi_extra=request_body(bodies.ResolveIn, *JSON),
)
def resolve(change_id: Id, body: Resolution, conn: Conn, catalogue: Cat, actor: Actor) -> JSONResponse:
    with attributed(conn, actor, cause="review"):
        outcome = review.resolve(conn, catalogue, change_id, body.keep)
    return JSONResponse(jsonable_encoder(outcome))
