"""Planning API: interventions and their lifecycle, targets, the action plan, indicators, reports.

Handlers only parse the request and call ``layers.planning``, ``gis.indicators`` and ``gis.report``;
every rule is enforced by the database, every write runs in ``core.db.attributed`` for the history.
Every body has a model (``api/schemas/planning.py``), read and checked before the handler runs and
described in ``/openapi.json``; errors are problem details, documented as such.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import permit
from api.deps import IfMatch, etag, get_actor, get_conn
from api.heavy import HeavyConn
from api.schemas import planning as bodies
from api.schemas import problems, reader, request_body
from api.schemas.planning import (
    AnyNeighbourhood,
    AsOfDay,
    IdPath,
    LayerPath,
    OutputKindPath,
)
from core.db import attributed
from core.i18n import LANGUAGES
from gis import indicators, report
from layers import edit, planning
from web import report_page

router = APIRouter(tags=["planning"], responses=problems(400, 404, 422))
WRITES = problems(409, 412, 413, 415)  # besides 400, 404 and 422
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Actor = Annotated[str, Depends(get_actor)]
# Who may do what (api/auth.py): reading needs a login unless the layer is public; the plan is the planners'.
PLAN = [Depends(permit("plan"))]
READ_INTERVENTIONS = [Depends(permit("read", "interventions"))]
READ_TASKS = [Depends(permit("read", "tasks"))]
READ_HEAVY = [Depends(permit("read", heavy=True))]
Cascade = Annotated[bool, Query(description="Also delete what depends on it (kept in the history)")]
Neighbourhood = AnyNeighbourhood
JSON_TYPES = bodies.JSON_TYPES


def _body(model: type) -> Any:
    """A body parameter of type ``model``: read in the event loop (handlers run in threads) and validated."""
    return Annotated[model, Depends(reader(model, *JSON_TYPES))]


def _doc(model: type) -> dict[str, Any]:
    return request_body(model, *JSON_TYPES)


NewIntervention = _body(bodies.InterventionIn)
InterventionPatch = _body(bodies.InterventionPatch)
Transition = _body(bodies.TransitionIn)
NewTargets = _body(bodies.TargetsIn)
NewTask = _body(bodies.TaskIn)
TaskChanges = _body(bodies.TaskChanges)
NewLink = _body(bodies.LinkIn)
TaskUpdate = _body(bodies.TaskUpdateIn)
TargetSet = _body(bodies.TargetSet)
Area = _body(bodies.IndicatorsIn)


def _nid(conn: psycopg.Connection, code: str | None) -> int | None:
    return planning.neighbourhood_id(conn, code) if code else None


def _with_etag(body: dict[str, Any], version: int, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status, headers={"ETag": etag(version), **headers})


# Interventions -------------------------------------------------------------------------------------


@router.get(
    "/interventions",
    dependencies=READ_INTERVENTIONS,
    summary="Interventions, filtered by neighbourhood, status and kind",
)
def list_interventions(
    conn: Conn,
    neighbourhood: Neighbourhood = None,
    status: bodies.InterventionStatus | None = None,
    kind: bodies.InterventionKind | None = None,
) -> dict[str, Any]:
    features = planning.list_interventions(conn, neighbourhood=_nid(conn, neighbourhood), status=status, kind=kind)
    return {"type": "FeatureCollection", "features": features}


@router.post("/interventions", status_code=201, summary="Propose an intervention (GeoJSON Feature + targets)",
             dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.InterventionIn))  # fmt: skip
def create_intervention(body: NewIntervention, conn: Conn, actor: Actor) -> JSONResponse:
    data = edit.parse_feature(planning.INTERVENTIONS, body.feature())
    with attributed(conn, actor):
        iid = planning.create_intervention(conn, data, body.target_list())
    feature = planning.get_intervention(conn, iid)
    return _with_etag(feature, feature["properties"]["version"], 201, Location=f"/interventions/{iid}")


@router.get(
    "/interventions/{iid}",
    dependencies=READ_INTERVENTIONS,
    summary="One intervention with its targets, assets and next states",
)
def get_intervention(iid: IdPath, conn: Conn) -> JSONResponse:
    feature = planning.get_intervention(conn, iid)
    return _with_etag(feature, feature["properties"]["version"])


@router.patch("/interventions/{iid}", summary="Change an intervention (merge patch; status via /transition)",
              dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.InterventionPatch))  # fmt: skip
def patch_intervention(
    body: InterventionPatch, iid: IdPath, conn: Conn, actor: Actor, expected: IfMatch
) -> JSONResponse:
    data = edit.parse_feature(planning.INTERVENTIONS, body.data(), patch=True)
    with attributed(conn, actor):
        version = planning.update_intervention(conn, iid, data, expected)
    return _with_etag(planning.get_intervention(conn, iid), version)


@router.delete(
    "/interventions/{iid}",
    dependencies=PLAN,
    status_code=204,
    summary="Delete an intervention (cascade=true to remove the assets it installed too)",
    responses=WRITES,
)
def delete_intervention(iid: IdPath, conn: Conn, actor: Actor, expected: IfMatch, cascade: Cascade = False) -> Response:
    with attributed(conn, actor):
        planning.delete_intervention(conn, iid, cascade=cascade, expected=expected)
    return Response(status_code=204)


@router.post("/interventions/{iid}/transition", dependencies=PLAN, summary="Move an intervention along its lifecycle",
             responses=WRITES, openapi_extra=_doc(bodies.TransitionIn))  # fmt: skip
def transition(body: Transition, iid: IdPath, conn: Conn, actor: Actor) -> JSONResponse:
    """Body: ``{"to": "completed", "actual_end": "2026-10-01", …}``. 409 lists the allowed next states."""
    changes = body.data()
    to = changes.pop("to")
    with attributed(conn, actor):  # a step the lifecycle does not allow: 409 with the allowed next states
        version = planning.transition(conn, iid, to, changes)
    return _with_etag(planning.get_intervention(conn, iid), version)


@router.get(
    "/interventions/{iid}/targets",
    dependencies=READ_INTERVENTIONS,
    summary="Features the intervention acts on",
)
def list_targets(iid: IdPath, conn: Conn) -> list[dict[str, Any]]:
    planning.get_intervention(conn, iid)  # 404 for an unknown intervention
    return planning.targets_of(conn, iid)


@router.post("/interventions/{iid}/targets", status_code=201, summary="Add targets: {layer, feature_id} or a list",
             dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.TargetsIn))  # fmt: skip
def add_targets(body: NewTargets, iid: IdPath, conn: Conn, actor: Actor) -> list[dict]:
    with attributed(conn, actor):
        planning.add_targets(conn, iid, body.target_list())
    return planning.targets_of(conn, iid)


@router.delete("/interventions/{iid}/targets/{layer}/{fid}", status_code=204, summary="Remove a target",
               dependencies=PLAN, responses=WRITES)  # fmt: skip
def remove_target(iid: IdPath, layer: LayerPath, fid: IdPath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        planning.remove_target(conn, iid, planning.Target(layer, fid))
    return Response(status_code=204)


# Tasks ---------------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    dependencies=READ_TASKS,
    summary="Action-plan tasks, filtered by neighbourhood, status and domain",
)
def list_tasks(
    conn: Conn,
    neighbourhood: Neighbourhood = None,
    status: bodies.TaskStatus | None = None,
    domain: bodies.TaskDomain | None = None,
) -> list[dict[str, Any]]:
    return planning.list_tasks(conn, neighbourhood=_nid(conn, neighbourhood), status=status, domain=domain)


@router.get(
    "/tasks/board",
    dependencies=READ_TASKS,
    summary="The task board: tasks in columns by status",
)
def task_board(conn: Conn, neighbourhood: Neighbourhood = None) -> dict[str, list[dict[str, Any]]]:
    return planning.board(conn, _nid(conn, neighbourhood))


@router.get("/tasks/overdue", dependencies=READ_TASKS, summary="Open tasks past their due date")
def overdue_tasks(
    conn: Conn, neighbourhood: Neighbourhood = None, today: Annotated[date | None, Query()] = None
) -> list[dict[str, Any]]:
    return planning.overdue(conn, today or date.today(), _nid(conn, neighbourhood))


@router.get("/tasks/blocked", dependencies=READ_TASKS, summary="Blocked tasks with their latest note")
def blocked_tasks(conn: Conn, neighbourhood: Neighbourhood = None) -> list[dict[str, Any]]:
    return planning.blocked(conn, _nid(conn, neighbourhood))


@router.post("/tasks", dependencies=PLAN, status_code=201, summary="Add a goal, task or subtask", responses=WRITES,
             openapi_extra=_doc(bodies.TaskIn))  # fmt: skip
def create_task(body: NewTask, conn: Conn, actor: Actor) -> JSONResponse:
    data = planning.task_input(body.data())
    with attributed(conn, actor):
        tid = planning.create_task(conn, data)
    task = planning.get_task(conn, tid)
    return _with_etag(task, task["version"], 201, Location=f"/tasks/{tid}")


@router.get(
    "/tasks/{tid}",
    dependencies=READ_TASKS,
    summary="One task with its links, subtasks, update log and targets (planned vs achieved)",
)
def get_task(tid: IdPath, conn: Conn) -> JSONResponse:
    task = planning.get_task(conn, tid)
    return _with_etag(task, task["version"])


@router.patch("/tasks/{tid}", summary="Change a task (merge patch), e.g. move it on the board", responses=WRITES,
              dependencies=PLAN, openapi_extra=_doc(bodies.TaskChanges))  # fmt: skip
def patch_task(body: TaskChanges, tid: IdPath, conn: Conn, actor: Actor, expected: IfMatch) -> JSONResponse:
    data = planning.task_input(body.data(), patch=True)
    with attributed(conn, actor):
        version = planning.update_task(conn, tid, data, expected)
    return _with_etag(planning.get_task(conn, tid), version)


@router.delete("/tasks/{tid}", status_code=204, summary="Delete a task (cascade=true to delete its subtasks too)",
               dependencies=PLAN, responses=WRITES)  # fmt: skip
def delete_task(tid: IdPath, conn: Conn, actor: Actor, expected: IfMatch, cascade: Cascade = False) -> Response:
    with attributed(conn, actor):
        planning.delete_task(conn, tid, cascade=cascade, expected=expected)
    return Response(status_code=204)


@router.post("/tasks/{tid}/links", status_code=201, summary="Link a task to an intervention or a feature",
             dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.LinkIn))  # fmt: skip
def link_task(body: NewLink, tid: IdPath, conn: Conn, actor: Actor) -> dict[str, Any]:
    planning.get_task(conn, tid)  # 404 for an unknown task
    with attributed(conn, actor):
        planning.link(conn, tid, body.target(), body.weight)
    return planning.get_task(conn, tid)


@router.delete(
    "/tasks/{tid}/links/{layer}/{fid}",
    dependencies=PLAN,
    status_code=204,
    summary="Unlink a task",
    responses=WRITES,
)
def unlink_task(tid: IdPath, layer: LayerPath, fid: IdPath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        planning.unlink(conn, tid, planning.Target(layer, fid))
    return Response(status_code=204)


@router.get("/tasks/{tid}/updates", dependencies=READ_TASKS, summary="The update log of a task")
def task_updates(tid: IdPath, conn: Conn) -> list[dict[str, Any]]:
    planning.get_task(conn, tid)
    return planning.task_updates(conn, tid)


@router.post("/tasks/{tid}/updates", status_code=201, summary="Log an update; status/progress apply to the task",
             dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.TaskUpdateIn))  # fmt: skip
def add_task_update(body: TaskUpdate, tid: IdPath, conn: Conn, actor: Actor) -> dict:
    with attributed(conn, actor):
        return planning.add_update(conn, tid, body.note, status=body.status, progress=body.progress)


@router.put("/tasks/{tid}/targets/{kind}", summary="Plan how many outputs of a kind the task should achieve",
            dependencies=PLAN, responses=WRITES, openapi_extra=_doc(bodies.TargetSet))  # fmt: skip
def set_task_target(body: TargetSet, tid: IdPath, kind: OutputKindPath, conn: Conn, actor: Actor) -> JSONResponse:
    """Body: ``{"target": 100, "unit": "children"}``. The task's progress then follows its outputs."""
    with attributed(conn, actor):
        planning.set_target(conn, tid, kind, body.target, body.unit)
    task = planning.get_task(conn, tid)
    return _with_etag(task, task["version"])


@router.delete("/tasks/{tid}/targets/{kind}", status_code=204, summary="Remove a task's target for a kind of output",
               dependencies=PLAN, responses=WRITES)  # fmt: skip
def remove_task_target(tid: IdPath, kind: OutputKindPath, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        planning.remove_target_of_task(conn, tid, kind)
    return Response(status_code=204)


# Indicators and reports ----------------------------------------------------------------------------


# One neighbourhood, several (a roll-up: codes separated by commas) or a named group of neighbourhoods.
Neighbourhoods = Annotated[
    str | None,
    Query(max_length=4000, pattern=r"^[^\x00]*$", description="Neighbourhood code, or codes separated by commas"),
]
GroupCode = Annotated[str | None, Query(max_length=40, pattern=r"^[^\x00]*$", description="Group of neighbourhoods")]
PeriodDay = {"min_length": 10, "max_length": 10, "pattern": r"^\d{4}-\d{2}-\d{2}$"}


@router.get(
    "/indicators",
    dependencies=READ_HEAVY,
    summary="Indicators of a neighbourhood, several (roll-up) or a group, now or as of a date",
)
def get_indicators(
    conn: HeavyConn,
    neighbourhood: Neighbourhoods = None,
    group: GroupCode = None,
    as_of: AsOfDay = None,
) -> dict[str, Any]:
    return indicators.compute(conn, indicators.scope_of(conn, neighbourhood, group), as_of)


@router.post("/indicators", summary="Indicators of a drawn polygon: {geometry: GeoJSON polygon, as_of?}",
             dependencies=READ_HEAVY, responses=problems(413, 415),
             openapi_extra=_doc(bodies.IndicatorsIn))  # fmt: skip
def post_indicators(body: Area, conn: HeavyConn) -> dict[str, Any]:
    return indicators.compute(conn, indicators.polygon_scope(conn, body.data()["geometry"]), body.as_of)


@router.get(
    "/reports/achievement",
    dependencies=READ_HEAVY,
    summary="Achievement report of a neighbourhood, several (roll-up) or a group, for a period (HTML or JSON)",
)
def achievement_report(
    conn: HeavyConn,
    start: Annotated[str, Query(alias="from", description="First day (YYYY-MM-DD, in `calendar`)", **PeriodDay)],
    end: Annotated[str, Query(alias="to", description="Last day (YYYY-MM-DD, in `calendar`)", **PeriodDay)],
    neighbourhood: Neighbourhoods = None,
    group: GroupCode = None,
    calendar: Literal["gregorian", "jalali"] = "gregorian",
    format: Literal["html", "json"] = "html",
    lang: Literal[LANGUAGES] = "en",  # type: ignore[valid-type]  # one per catalogue in core/i18n/
    digits: Annotated[
        Literal["latn", "arab", "arabext"] | None, Query(description="Digits of the HTML page, e.g. latn for Arabic")
    ] = None,
) -> Response:
    first, last = report.parse_day(start, calendar, "from"), report.parse_day(end, calendar, "to")
    built = report.achievement(conn, indicators.scope_of(conn, neighbourhood, group), first, last)
    if format == "json":
        return JSONResponse(built.data)
    return HTMLResponse(report_page.render_report(built, lang, digits))
