"""A field device's queued changes, applied one by one: idempotent, conflict-aware, never all-or-nothing.

Each change carries the client's id for it. Its first arrival is kept (``layers.field_changes``), so a resend —
the answer was lost, the phone retried — gets the first result back instead of a second feature. An update or
delete names the version the device saw; when the server has moved on since, nothing is applied blindly: the change
is kept as a conflict, the device is told the server's version, and a planner decides in the review queue. Every
change runs in its own transaction, so one refused change (a rule, a permission, a bad value) never stops the rest.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from core.crs import STORAGE
from core.db import attributed
from core.errors import Forbidden, InvalidInput, MahalleError, NotFound, PreconditionFailed, ReadOnlyProperties
from gis.features import current_version, get_item
from layers import edit, field_changes
from layers.catalogue import Catalogue
from layers.spec import Layer

SOURCE = "device"
MEMBERS = frozenset({"uid", "op", "layer", "id", "base_version", "properties", "geometry"})
MAX_CHANGE_BYTES = 256 * 1024  # a device edits attributes and places points; the database keeps the same bound
MAX_SERVER_BYTES = 1024 * 1024  # the server's version kept with a conflict: its geometry is left out above this


@dataclass(frozen=True)
class Change:
    uid: uuid.UUID
    op: str
    layer: str
    id: int | None
    base_version: int | None
    properties: dict[str, Any]
    geometry: Any
    payload: dict[str, Any]  # what was sent, minus the change id (what a resend must repeat)


def parse(raw: Any) -> Change:
    """A change of the batch, checked for shape; InvalidInput names what is wrong."""
    if not isinstance(raw, dict):
        raise InvalidInput("each change must be a JSON object")
    try:
        uid = uuid.UUID(str(raw.get("uid")))
    except ValueError:
        raise InvalidInput("each change needs its client id, a UUID, in 'uid'", "uid") from None
    unknown = sorted(set(raw) - MEMBERS)
    if unknown:
        raise InvalidInput(f"a change has no member {unknown[0]!r} (it has {', '.join(sorted(MEMBERS))})", unknown[0])
    op = raw.get("op")
    if op not in field_changes.OPS:
        raise InvalidInput(f"op must be create, update or delete, not {op!r}", "op")
    if not isinstance(raw.get("layer"), str):
        raise InvalidInput("each change names its layer", "layer")
    properties = raw.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput("properties must be a JSON object", "properties")
    fid, base = (None, None) if op == "create" else (raw.get("id"), raw.get("base_version"))
    for name, value, top in (("id", fid, 2**63), ("base_version", base, 2**31)) if op != "create" else ():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < top:
            raise InvalidInput(f"an {op} names the feature's {name} as a positive whole number", name)
    payload = {k: v for k, v in raw.items() if k != "uid"}
    if len(json.dumps(payload, default=str)) > MAX_CHANGE_BYTES:
        raise InvalidInput(f"a change may hold at most {MAX_CHANGE_BYTES // 1024} kB", "properties")
    return Change(uid, op, raw["layer"], fid, base, properties, raw.get("geometry"), payload)


def apply_batch(conn: psycopg.Connection, catalogue: Catalogue, actor: str, changes: list[Any]) -> list[dict]:
    return [apply(conn, catalogue, actor, raw) for raw in changes]


def apply(conn: psycopg.Connection, catalogue: Catalogue, actor: str, raw: Any) -> dict[str, Any]:
    """One change's result (see docs/field.md); never raises for anything the client sent."""
    try:
        change = parse(raw)
    except InvalidInput as exc:
        uid = raw.get("uid") if isinstance(raw, dict) else None
        return _rejected(uid if isinstance(uid, str) else None, exc)
    try:
        before = field_changes.seen(conn, change.uid, change.payload)
        if before is not None:
            return _again(conn, change, before)
        if change.layer not in catalogue:
            raise InvalidInput(f"there is no layer named {change.layer!r}", "layer")
        layer = catalogue[change.layer]
        with attributed(conn, actor, cause="field sync"):
            return _apply(conn, layer, change)
    except MahalleError as exc:
        return _rejected(str(change.uid), exc)
    except psycopg.Error as exc:  # a value the checks above let through and the database refused in its own words
        return _rejected(str(change.uid), InvalidInput(f"the database refused this change: {_first_line(exc)}"))


def _first_line(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).splitlines()[0][:300]


def _apply(conn: psycopg.Connection, layer: Layer, change: Change) -> dict[str, Any]:
    if change.op == "create":
        return _create(conn, layer, change)
    current = current_version(conn, layer, change.id)
    if current is None and not _existed(conn, layer, change.id):
        raise NotFound(f"{layer.name} has no feature {change.id}")
    if current is None and change.op == "delete":
        return _keep(conn, layer, change, "already", version=None)  # deleted already: what the device wanted
    if current != change.base_version:
        return _conflict(conn, layer, change, current)
    try:
        if change.op == "delete":
            edit.delete(conn, layer, change.id, change.base_version)
            return _keep(conn, layer, change, "applied", version=None)
        data = edit.parse_feature(layer, _feature(change), patch=True)
        version = edit.patch(conn, layer, change.id, data, change.base_version, STORAGE)
    except PreconditionFailed:  # changed on the server between the look above and the write
        return _conflict(conn, layer, change, current_version(conn, layer, change.id))
    return _keep(conn, layer, change, "applied", version=version)


def _create(conn: psycopg.Connection, layer: Layer, change: Change) -> dict[str, Any]:
    body = _feature(change)
    body["properties"] = {**body["properties"], "uid": str(change.uid)}  # the feature's uid is the change's
    data = edit.parse_feature(layer, body)
    fid, version, created = edit.create(conn, layer, data, STORAGE)
    return _keep(conn, layer, change, "applied" if created else "already", fid=fid, version=version)


def _feature(change: Change) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Feature", "properties": dict(change.properties)}
    if change.geometry is not None or change.op == "create":
        body["geometry"] = change.geometry
    return body


def _keep(
    conn: psycopg.Connection, layer: Layer, change: Change, status: str, *, fid: int | None = None,
    version: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Record an applied change (so a resend is recognised) and answer."""
    fid = fid or change.id
    result = {"uid": str(change.uid), "status": status, "id": fid, "version": version}
    field_changes.record(
        conn, uid=change.uid, source=SOURCE, op=change.op, layer=layer.name, payload=change.payload, state="applied",
        feature_id=fid, feature_uid=change.uid if change.op == "create" else None, base_version=change.base_version,
        result=result,
    )  # fmt: skip
    return result


def _conflict(conn: psycopg.Connection, layer: Layer, change: Change, current: int | None) -> dict[str, Any]:
    """The server moved on since the device's copy: keep the change for a planner, show the device both — if the
    database would take the change over the server's version at all (tried, then rolled back: the same rules and
    rights as a real write, so nothing a user could not have done reaches the queue)."""
    if current is None:
        _check_gone(conn, layer, change)
    else:
        data = None if change.op == "delete" else edit.parse_feature(layer, _feature(change), patch=True)
        if edit.probe(conn, layer, change.id, data, current) == current:  # the server already holds these values
            return _keep(conn, layer, change, "already", version=current)
    server = None if current is None else _server_version(conn, layer, change.id)
    gone = "was deleted on the server" if server is None else f"is at version {current} on the server"
    message = (
        f"{layer.name} feature {change.id} {gone} since this device saw version {change.base_version}: "
        "nothing was changed; a planner will decide between the two versions"
    )
    cid = field_changes.record_conflict(
        conn, uid=change.uid, source=SOURCE, op=change.op, layer=layer.name, feature_id=change.id,
        base_version=change.base_version, payload=change.payload, server=server, message=message,
    )  # fmt: skip
    return {"uid": str(change.uid), "status": "conflict", "id": change.id, "version": current, "message": message,
            "server": server, "conflict_id": cid}  # fmt: skip


def _server_version(conn: psycopg.Connection, layer: Layer, fid: int) -> dict[str, Any]:
    text = get_item(conn, layer, fid)[0]
    server = json.loads(text)
    if len(text) > MAX_SERVER_BYTES:  # a huge polygon: its attributes are what the planner compares
        server["geometry"] = None
    return server


def _check_gone(conn: psycopg.Connection, layer: Layer, change: Change) -> None:
    """An edit of a feature deleted on the server cannot be tried: its values are checked, and the user must hold a
    role that changes this layer where it lay (``mahalle.scope``), or the edit is refused rather than queued."""
    edit.parse_feature(layer, _feature(change), patch=True)
    where = field_changes.last_neighbourhood(conn, layer.name, change.id)
    query = "SELECT mahalle.in_scope(%s, mahalle.scope('edit', %s)) OR mahalle.in_scope(%s, mahalle.scope('field', %s))"
    if not conn.execute(query, [where, layer.name, where, layer.name]).fetchone()[0]:
        raise Forbidden(f"you may not change {layer.name} feature {change.id}")


def _existed(conn: psycopg.Connection, layer: Layer, fid: int) -> bool:
    """Whether the history the user may read knows the feature (deleted since), or it never was theirs to see."""
    query = "SELECT EXISTS (SELECT 1 FROM mahalle.history WHERE layer = %s AND feature_id = %s)"
    return conn.execute(query, [layer.name, fid]).fetchone()[0]


def _again(conn: psycopg.Connection, change: Change, before: field_changes.Received) -> dict[str, Any]:
    """A change id seen before: the same content gets the first answer; other content is refused."""
    if not before.same:
        raise InvalidInput(
            f"change {change.uid} was received before with other content; a new change needs a new id", "uid"
        )
    if before.state == "conflict":
        row = field_changes.get(conn, before.id)
        return {"uid": str(change.uid), "status": "conflict", "id": row["feature_id"], "message": row["message"],
                "server": row["server"], "conflict_id": before.id, "version": None}  # fmt: skip
    return {**(before.result or {}), "uid": str(change.uid), "status": "already"}


def _rejected(uid: str | None, exc: MahalleError) -> dict[str, Any]:
    message = f"{exc}: these are kept by the server" if isinstance(exc, ReadOnlyProperties) else str(exc)
    result = {"uid": uid, "status": "rejected", "message": message, "property": getattr(exc, "column", None)}
    if getattr(exc, "rule", None):  # a rule of the layer the database named: the app words it in its language
        result |= {"rule": exc.rule, "params": exc.params}  # type: ignore[attr-defined]
    return result
