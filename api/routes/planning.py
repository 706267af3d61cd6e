"""Planning API: interventions and their lifecycle, targets, the action plan, indicators, reports.

Handlers only parse the request and call ``layers.planning``, ``gis.indicators`` and ``gis.report``;
every rule is enforced by the database, every write runs in ``gis.db.attributed`` for the history.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import get_actor, get_conn, json_body
from api.problems import problem
from gis import indicators, report
from gis.db import attributed
from gis.errors import InvalidInput, TransitionNotAllowed
from layers import edit, planning

router = APIRouter(tags=["planning"])
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Actor = Annotated[str, Depends(get_actor)]
Cascade = Annotated[bool, Query(description="Also delete what depends on it (kept in the history)")]
Neighbourhood = Annotated[str | None, Query(description="Neighbourhood code, e.g. HKI-CENTRE")]
JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")
Body = Annotated[Any, Depends(json_body(*JSON_TYPES))]  # read in the event loop; handlers run in threads


def _nid(conn: psycopg.Connection, code: str | None) -> int | None:
    return planning.neighbourhood_id(conn, code) if code else None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def _with_etag(body: dict[str, Any], version: int, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status, headers={"ETag": edit.etag(version), **headers})


# Interventions -------------------------------------------------------------------------------------


@router.get("/interventions", summary="Interventions, filtered by neighbourhood, status and kind")
def list_interventions(
    conn: Conn, neighbourhood: Neighbourhood = None, status: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    features = planning.list_interventions(conn, neighbourhood=_nid(conn, neighbourhood), status=status, kind=kind)
    return {"type": "FeatureCollection", "features": features}


@router.post("/interventions", status_code=201, summary="Propose an intervention (GeoJSON Feature + targets)")
def create_intervention(body: Body, conn: Conn, actor: Actor) -> JSONResponse:
    body = _object(body)
    targets = planning.parse_targets(body.pop("targets", None))
    data = edit.parse_feature(planning.INTERVENTIONS, {"type": "Feature", **body})
    with attributed(conn, actor):
        iid = planning.create_intervention(conn, data, targets)
    feature = planning.get_intervention(conn, iid)
    return _with_etag(feature, feature["properties"]["version"], 201, Location=f"/interventions/{iid}")


@router.get("/interventions/{iid}", summary="One intervention with its targets, assets and next states")
def get_intervention(iid: int, conn: Conn) -> JSONResponse:
    feature = planning.get_intervention(conn, iid)
    return _with_etag(feature, feature["properties"]["version"])


@router.patch("/interventions/{iid}", summary="Change an intervention (merge patch; status via /transition)")
def patch_intervention(body: Body, iid: int, request: Request, conn: Conn, actor: Actor) -> JSONResponse:
    body = _object(body)
    data = edit.parse_feature(planning.INTERVENTIONS, body, patch=True)
    expected = edit.parse_if_match(request.headers.get("if-match"))
    with attributed(conn, actor):
        version = planning.update_intervention(conn, iid, data, expected)
    return _with_etag(planning.get_intervention(conn, iid), version)


@router.delete(
    "/interventions/{iid}",
    status_code=204,
    summary="Delete an intervention (cascade=true to remove the assets it installed too)",
)
def delete_intervention(iid: int, request: Request, conn: Conn, actor: Actor, cascade: Cascade = False) -> Response:
    expected = edit.parse_if_match(request.headers.get("if-match"))
    with attributed(conn, actor):
        planning.delete_intervention(conn, iid, cascade=cascade, expected=expected)
    return Response(status_code=204)


@router.post("/interventions/{iid}/transition", summary="Move an intervention along its lifecycle")
def transition(body: Body, iid: int, request: Request, conn: Conn, actor: Actor) -> JSONResponse:
    """Body: ``{"to": "completed", "actual_end": "2026-10-01", …}``. 409 lists the allowed next states."""
    body = _object(body)
    to = body.pop("to", None)
    if not isinstance(to, str):
        raise InvalidInput('say which status to move to: {"to": "approved"}', "to")
    try:
        with attributed(conn, actor):
            version = planning.transition(conn, iid, to, body)
    except TransitionNotAllowed as exc:
        return problem(exc.status, exc.title, str(exc), property="status", current=exc.current, allowed=exc.allowed)
    return _with_etag(planning.get_intervention(conn, iid), version)


@router.get("/interventions/{iid}/targets", summary="Features the intervention acts on")
def list_targets(iid: int, conn: Conn) -> list[dict[str, Any]]:
    planning.get_intervention(conn, iid)  # 404 for an unknown intervention
    return planning.targets_of(conn, iid)


@router.post("/interventions/{iid}/targets", status_code=201, summary="Add targets: {layer, feature_id} or a list")
def add_targets(body: Body, iid: int, conn: Conn, actor: Actor) -> list[dict]:
    targets = planning.parse_targets(body.get("targets") if isinstance(body, dict) and "targets" in body else [body])
    with attributed(conn, actor):
        planning.add_targets(conn, iid, targets)
    return planning.targets_of(conn, iid)


@router.delete("/interventions/{iid}/targets/{layer}/{fid}", status_code=204, summary="Remove a target")
def remove_target(iid: int, layer: str, fid: int, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        planning.remove_target(conn, iid, planning.Target(layer, fid))
    return Response(status_code=204)


# Tasks ---------------------------------------------------------------------------------------------


@router.get("/tasks", summary="Action-plan tasks, filtered by neighbourhood, status and domain")
def list_tasks(
    conn: Conn, neighbourhood: Neighbourhood = None, status: str | None = None, domain: str | None = None
) -> list[dict[str, Any]]:
    return planning.list_tasks(conn, neighbourhood=_nid(conn, neighbourhood), status=status, domain=domain)


@router.get("/tasks/board", summary="The task board: tasks in columns by status")
def task_board(conn: Conn, neighbourhood: Neighbourhood = None) -> dict[str, list[dict[str, Any]]]:
    return planning.board(conn, _nid(conn, neighbourhood))


@router.get("/tasks/overdue", summary="Open tasks past their due date")
def overdue_tasks(
    conn: Conn, neighbourhood: Neighbourhood = None, today: Annotated[date | None, Query()] = None
) -> list[dict[str, Any]]:
    return planning.overdue(conn, today or date.today(), _nid(conn, neighbourhood))


@router.get("/tasks/blocked", summary="Blocked tasks with their latest note")
def blocked_tasks(conn: Conn, neighbourhood: Neighbourhood = None) -> list[dict[str, Any]]:
    return planning.blocked(conn, _nid(conn, neighbourhood))


@router.post("/tasks", status_code=201, summary="Add a goal, task or subtask")
def create_task(body: Body, conn: Conn, actor: Actor) -> JSONResponse:
    data = planning.task_input(body)
    with attributed(conn, actor):
        tid = planning.create_task(conn, data)
    task = planning.get_task(conn, tid)
    return _with_etag(task, task["version"], 201, Location=f"/tasks/{tid}")


@router.get("/tasks/{tid}", summary="One task with its links, subtasks and update log")
def get_task(tid: int, conn: Conn) -> JSONResponse:
    task = planning.get_task(conn, tid)
    return _with_etag(task, task["version"])


@router.patch("/tasks/{tid}", summary="Change a task (merge patch), e.g. move it on the board")
def patch_task(body: Body, tid: int, request: Request, conn: Conn, actor: Actor) -> JSONResponse:
    data = planning.task_input(body, patch=True)
    expected = edit.parse_if_match(request.headers.get("if-match"))
    with attributed(conn, actor):
        version = planning.update_task(conn, tid, data, expected)
    return _with_etag(planning.get_task(conn, tid), version)


@router.delete("/tasks/{tid}", status_code=204, summary="Delete a task (cascade=true to delete its subtasks too)")
def delete_task(tid: int, request: Request, conn: Conn, actor: Actor, cascade: Cascade = False) -> Response:
    expected = edit.parse_if_match(request.headers.get("if-match"))
    with attributed(conn, actor):
        planning.delete_task(conn, tid, cascade=cascade, expected=expected)
    return Response(status_code=204)


@router.post("/tasks/{tid}/links", status_code=201, summary="Link a task to an intervention or a feature")
def link_task(body: Body, tid: int, conn: Conn, actor: Actor) -> dict[str, Any]:
    body = _object(body)
    weight = body.pop("weight", None)
    (target,) = planning.parse_targets([body], "link")
    planning.get_task(conn, tid)  # 404 for an unknown task
    with attributed(conn, actor):
        planning.link(conn, tid, target, weight)
    return planning.get_task(conn, tid)


@router.delete("/tasks/{tid}/links/{layer}/{fid}", status_code=204, summary="Unlink a task")
def unlink_task(tid: int, layer: str, fid: int, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        planning.unlink(conn, tid, planning.Target(layer, fid))
    return Response(status_code=204)


@router.get("/tasks/{tid}/updates", summary="The update log of a task")
def task_updates(tid: int, conn: Conn) -> list[dict[str, Any]]:
    planning.get_task(conn, tid)
    return planning.task_updates(conn, tid)


@router.post("/tasks/{tid}/updates", status_code=201, summary="Log an update; status/progress apply to the task")
def add_task_update(body: Body, tid: int, conn: Conn, actor: Actor) -> dict:
    body = _object(body)
    unknown = set(body) - {"note", "status", "progress"}
    if unknown:
        raise InvalidInput(f"an update has note, status and progress, not {', '.join(sorted(unknown))}", min(unknown))
    with attributed(conn, actor):
        return planning.add_update(
            conn, tid, body.get("note"), status=body.get("status"), progress=body.get("progress")
        )


# Indicators and reports ----------------------------------------------------------------------------


@router.get("/indicators", summary="Indicators of a neighbourhood, now or as of a date")
def get_indicators(
    conn: Conn,
    neighbourhood: Annotated[str, Query(description="Neighbourhood code")],
    as_of: Annotated[date | None, Query(description="Date (YYYY-MM-DD): the state at the end of that day")] = None,
) -> dict[str, Any]:
    return indicators.compute(conn, indicators.neighbourhood_scope(conn, neighbourhood), as_of)


@router.post("/indicators", summary="Indicators of a drawn polygon: {geometry: GeoJSON polygon, as_of?}")
def post_indicators(body: Body, conn: Conn) -> dict[str, Any]:
    body = _object(body)
    if "geometry" not in body:
        raise InvalidInput("send the area as geometry: a GeoJSON Polygon or MultiPolygon", "geometry")
    as_of = edit.check_value("as_of", "date", body.get("as_of"))
    return indicators.compute(conn, indicators.polygon_scope(conn, body["geometry"]), as_of)


@router.get("/reports/achievement", summary="Achievement report of a neighbourhood for a period (HTML or JSON)")
def achievement_report(
    conn: Conn,
    neighbourhood: Annotated[str, Query(description="Neighbourhood code")],
    start: Annotated[date, Query(alias="from", description="First day (YYYY-MM-DD)")],
    end: Annotated[date, Query(alias="to", description="Last day (YYYY-MM-DD)")],
    format: Literal["html", "json"] = "html",
    lang: Literal["en", "fa", "ar"] = "en",
) -> Response:
    built = report.achievement(conn, neighbourhood, start, end)
    if format == "json":
        return JSONResponse(built.data)
    return HTMLResponse(report.render_html(built, lang))
