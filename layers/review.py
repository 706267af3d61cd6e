"""The planners' review of what the field sends: observations become features, interventions or tasks (or are
rejected with a reason the field worker reads), and conflicting field edits are settled one way or the other.

Everything here runs as the planner (row-level security and the permit triggers decide what they may do) inside
one transaction the caller opens; the observation records what it became, and its photos follow it.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.crs import STORAGE
from core.errors import InvalidInput, NotFound
from layers import attachments, edit, field_changes, planning
from layers.catalogue import Catalogue
from layers.observations import LAYER as OBSERVATIONS

ACTIONS = ("feature", "intervention", "task", "accept", "reject")
_WAITING = (
    "SELECT id, uid, category, note, accuracy_m, captured_at, observer, review_status, neighbourhood_id, created_by, "
    "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM public.observations WHERE review_status = 'new' "
)
_MINE = (
    "SELECT id, uid, category, note, review_status, review_note, became_kind, became_layer, became_id, captured_at "
    "FROM public.observations WHERE created_by = mahalle.user_name() ORDER BY captured_at DESC LIMIT 500"
)
NOT_A_TARGET = ("observations", "neighbourhoods", "interventions")


def waiting(conn: psycopg.Connection, neighbourhood_id: int | None = None) -> list[dict[str, Any]]:
    """New observations waiting for a planner (those the user may read), oldest first, with their photos."""
    where = "AND neighbourhood_id = %s " if neighbourhood_id else ""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_WAITING + where + "ORDER BY captured_at, id LIMIT 500",
                           [neighbourhood_id] if neighbourhood_id else []).fetchall()  # fmt: skip
    photos: dict[int, list[dict[str, Any]]] = {}
    for photo in attachments.listing(conn, OBSERVATIONS.name, [o["id"] for o in rows]):
        photos.setdefault(photo["feature_id"], []).append(photo)
    return [{**o, "photos": photos.get(o["id"], [])} for o in rows]


def reported_by_me(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The user's own observations and what became of them, newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_MINE).fetchall()


def _observation(conn: psycopg.Connection, oid: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, version, review_status, note, category, neighbourhood_id, ST_AsGeoJSON(geom, 7) "
        "FROM public.observations WHERE id = %s FOR UPDATE",
        [oid],
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no observation {oid}.")
    keys = ("id", "version", "review_status", "note", "category", "neighbourhood_id", "geometry")
    return dict(zip(keys, row, strict=True))


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidInput("properties must be a JSON object", "properties")
    return props


def decide(conn: psycopg.Connection, catalogue: Catalogue, oid: int, body: Any) -> dict[str, Any]:
    """Carry out a planner's decision on an observation; what it became."""
    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", "action")
    obs = _observation(conn, oid)
    if obs["review_status"] in ("converted", "rejected"):
        raise InvalidInput(f"observation {oid} was already reviewed ({obs['review_status']})", "action")
    action = body["action"]
    note = body.get("reason") if action == "reject" else body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("the reason must be a text of at most 2,000 characters", "reason")
    if action == "reject" and not (note or "").strip():
        raise InvalidInput("say why the observation is rejected: the field worker reads the reason", "reason")
    outcome: dict[str, Any] = {"review_status": "rejected" if action == "reject" else "accepted", "review_note": note}
    if action in ("feature", "intervention", "task"):
        layer, fid = _convert(conn, catalogue, obs, action, body)
        attachments.copy_to(conn, OBSERVATIONS.name, oid, layer, fid)
        outcome |= {"review_status": "converted", "became_kind": action, "became_layer": layer, "became_id": fid}
    data = edit.parse_feature(OBSERVATIONS, {"type": "Feature", "properties": outcome}, patch=True)
    edit.patch(conn, OBSERVATIONS, oid, data, obs["version"], STORAGE)
    return {"id": oid, **outcome}


def _convert(
    conn: psycopg.Connection, catalogue: Catalogue, obs: dict[str, Any], action: str, body: dict[str, Any]
) -> tuple[str, int]:
    props = _properties(body)
    if action == "task":
        props = {"title": (obs["note"] or obs["category"])[:300], "domain": "urban_physical"} | props
        props.setdefault("neighbourhood_id", obs["neighbourhood_id"])
        tid = planning.create_task(conn, planning.task_input(props))
        planning.link(conn, tid, planning.Target(OBSERVATIONS.name, obs["id"]))
        return "tasks", tid
    geometry = body.get("geometry") or json.loads(obs["geometry"])
    if action == "intervention":
        props = {"title": (obs["note"] or obs["category"])[:300]} | props
        feature = {"type": "Feature", "properties": props, "geometry": geometry}
        iid = planning.create_intervention(conn, edit.parse_feature(planning.INTERVENTIONS, feature), [])
        return "interventions", iid
    name = body.get("layer")
    if not isinstance(name, str) or name not in catalogue or name in NOT_A_TARGET:
        raise InvalidInput("name the layer the new feature belongs to", "layer")
    layer = catalogue[name]
    data = edit.parse_feature(layer, {"type": "Feature", "properties": props, "geometry": geometry})
    fid, _, _ = edit.create(conn, layer, data, STORAGE)
    return layer.name, fid


def resolve(conn: psycopg.Connection, catalogue: Catalogue, cid: int, keep: Any) -> dict[str, Any]:
    """Settle a conflict: the field's values over the server's current version, or the server's as they are."""
    if keep not in ("field", "server"):
        raise InvalidInput("keep must be 'field' or 'server'", "keep")
    change = field_changes.get(conn, cid)
    if change["state"] != field_changes.OPEN:
        raise InvalidInput(f"field change {cid} is not waiting for a decision (it is {change['state']})", "keep")
    version = None
    if keep == "field":
        version = _apply_field(conn, catalogue, change)
    field_changes.close(conn, cid, f"kept_{keep}")
    return {"id": cid, "state": f"kept_{keep}", "feature_id": change["feature_id"], "version": version}


def _apply_field(conn: psycopg.Connection, catalogue: Catalogue, change: dict[str, Any]) -> int | None:
    layer = catalogue[change["layer"]]
    payload = change["payload"]
    if change["op"] == "delete":
        edit.delete(conn, layer, change["feature_id"], "*")
        return None
    body = {"type": "Feature", "properties": payload.get("properties") or {}}
    if payload.get("geometry") is not None:
        body["geometry"] = payload["geometry"]
    data = edit.parse_feature(layer, body, patch=True)
    if change["server"] is None:  # deleted on the server, edited in the field: the field's copy comes back
        raise InvalidInput(
            f"{layer.name} feature {change['feature_id']} was deleted on the server; restore it from its history "
            "first, then keep the field's values",
            "keep",
        )
    return edit.patch(conn, layer, change["feature_id"], data, "*", STORAGE)
