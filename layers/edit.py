"""Writing features: create, replace, merge-patch and delete, each conditional on the version.

Input is checked against the catalogue first (so a wrong type is named in a planner's words); the
database then applies the layer's rules, stamps the version and writes the history in the same
transaction. A write that names the version it expects (``expected``: a version, ``"*"`` for "any, but it must
exist", or None) is a compare-and-set: ``UPDATE … WHERE id = $1 AND version = $2`` — PostgreSQL re-checks that
condition on the newest row, so of two clients with the same version exactly one wins and the other gets
PreconditionFailed with the current version.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import pq, sql
from psycopg.types.json import Jsonb

from core import limits
from core.crs import STORAGE, ApiCRS
from core.db import HAS_DEPENDENTS, attributed
from core.errors import Conflict, HasDependents, InvalidInput, NotFound, PreconditionFailed, ReadOnlyProperties
from layers.spec import SYSTEM_PROPERTIES, WRITABLE_SYSTEM, Layer

R = TypeVar("R")

GEOJSON_TYPES = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


@dataclass
class FeatureInput:
    """A feature's writable content: attribute values and the geometry as GeoJSON text."""

    values: dict[str, Any]
    geometry: str | None
    has_geometry: bool  # the body said something about the geometry (a PATCH may not)
    # Properties the database owns (version, created_by, area_m2, id …) as the body gave them: ignored by a
    # create, and by an update only when they equal the stored values (so a GET body can be PUT back).
    read_only: dict[str, Any] = field(default_factory=dict)


def _check_number(name: str, value: Any, integer: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a number, not {json_type(value)}", name)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number", name)
    if integer and not float(value).is_integer():
        raise InvalidInput(f"{name} must be a whole number, not {value}", name)
    return int(value) if integer else value


def json_type(value: Any) -> str:
    return {bool: "true/false", str: "text", list: "a list", dict: "an object", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def check_value(name: str, kind: str, value: Any) -> Any:
    """A JSON value as the column's type, or InvalidInput naming the property."""
    if value is None:
        return None
    if kind in ("integer", "reference"):
        return _check_number(name, value, integer=True)
    if kind == "number":
        return _check_number(name, value, integer=False)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false, not {json_type(value)}", name)
        return value
    if kind == "choices":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{name} must be a list of texts", name)
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, not {json_type(value)}", name)
    try:
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "datetime":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a valid {kind} (use ISO 8601, e.g. 2026-05-31)", name) from None
    if name == "uid":
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise InvalidInput(f"uid: {value!r} is not a UUID", name) from None
    return value


def _check_positions(value: Any, depth: int) -> None:
    if depth == 1:
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise InvalidInput("geometry: a position must be [longitude, latitude]", "geometry")
        for c in value:
            if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c):
                raise InvalidInput("geometry: coordinates must be finite numbers", "geometry")
        return
    if not isinstance(value, list):
        raise InvalidInput("geometry: coordinates are not nested as the geometry type requires", "geometry")
    for item in value:
        _check_positions(item, depth - 1)


def check_geometry(value: Any) -> str | None:
    """GeoJSON geometry structure, checked before PostGIS parses it; returns it as JSON text."""
    import json

    if value is None:
        return None
    if not isinstance(value, dict) or "type" not in value:
        raise InvalidInput("geometry must be a GeoJSON geometry object with a type", "geometry")
    kind = value["type"]
    if kind == "GeometryCollection":
        raise InvalidInput("geometry: a GeometryCollection is not accepted; send one geometry type", "geometry")
    if not isinstance(kind, str) or kind not in GEOJSON_TYPES:  # a list or object as type is unhashable
        raise InvalidInput(f"geometry: {kind!r} is not a GeoJSON geometry type", "geometry")
    limits.check_geojson(value.get("coordinates"), GEOJSON_TYPES[kind])  # a huge geometry: refused before the walk
    _check_positions(value.get("coordinates"), GEOJSON_TYPES[kind])
    return json.dumps(value)


def parse_feature(layer: Layer, body: Any, *, patch: bool = False) -> FeatureInput:
    """Turn a GeoJSON Feature (or a merge patch of one) into checked values for the layer."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a GeoJSON Feature object")
    if not patch and body.get("type") != "Feature":
        raise InvalidInput('the body must be a GeoJSON Feature ("type": "Feature")')
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput("properties must be an object")
    types = {a.name: a.type for a in layer.attributes} | {n: SYSTEM_PROPERTIES[n] for n in WRITABLE_SYSTEM}
    values: dict[str, Any] = {}
    read_only: dict[str, Any] = {}
    for name, value in properties.items():
        if name in types and (name != "neighbourhood_id" or layer.neighbourhood_scoped):
            values[name] = check_value(name, types[name], value)
        elif name in SYSTEM_PROPERTIES or name == "id":  # the database's: checked by an update, see _check_read_only
            read_only[name] = value
        else:
            raise InvalidInput(f"{layer.name} has no property {name!r}", name)
    has_geometry = "geometry" in body
    geometry = check_geometry(body.get("geometry")) if has_geometry else None
    if layer.has_geometry and not patch and geometry is None and layer.geometry_required:
        raise InvalidInput(f"{layer.name} features need a geometry", "geometry")
    if not layer.has_geometry and geometry is not None:
        raise InvalidInput(f'{layer.name} has no geometry; send "geometry": null', "geometry")
    return FeatureInput(values, geometry, has_geometry, read_only)


def geometry_input(crs: ApiCRS) -> sql.Composable:
    """SQL turning a GeoJSON parameter in ``crs`` into a stored (lon/lat EPSG:4326) geometry."""
    expr: sql.Composable = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON(%s), {})").format(sql.Literal(crs.srid))
    if crs.lat_first:
        expr = sql.SQL("ST_FlipCoordinates({})").format(expr)
    if crs.srid != 4326:
        expr = sql.SQL("ST_Transform({}, 4326)").format(expr)
    return expr


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


def _assignments(layer: Layer, data: FeatureInput, crs: ApiCRS) -> tuple[list[sql.Composable], list[Any]]:
    names = [sql.Identifier(n) for n in data.values]
    params = [_adapt(v) for v in data.values.values()]
    exprs: list[sql.Composable] = [sql.Placeholder()] * len(names)
    if data.has_geometry and layer.has_geometry:
        names.append(sql.Identifier("geom"))
        exprs.append(geometry_input(crs) if data.geometry is not None else sql.SQL("NULL"))
        if data.geometry is not None:
            params.append(data.geometry)
    return [sql.SQL("{} = {}").format(n, e) for n, e in zip(names, exprs, strict=True)], params


def create(conn: psycopg.Connection, layer: Layer, data: FeatureInput, crs: ApiCRS = STORAGE) -> tuple[int, int, bool]:
    """Insert a feature; (id, version, created).

    A client UUID seen before returns the existing feature when the body says the same (a re-sent create), and
    is a Conflict when it says something else. ``INSERT … ON CONFLICT (uid) DO NOTHING`` then a read, never
    check-then-insert: of two concurrent creates with one uid, the second waits for the first to commit, inserts
    nothing and reads the first one's row.
    """
    uid = data.values.get("uid")
    names = [sql.Identifier(n) for n in data.values]
    exprs: list[sql.Composable] = [sql.Placeholder()] * len(names)
    params = [_adapt(v) for v in data.values.values()]
    if layer.has_geometry and data.geometry is not None:
        names.append(sql.Identifier("geom"))
        exprs.append(geometry_input(crs))
        params.append(data.geometry)
    if names:
        query = sql.SQL("INSERT INTO public.{} ({}) VALUES ({}){} RETURNING id, version").format(
            sql.Identifier(layer.name),
            sql.SQL(", ").join(names),
            sql.SQL(", ").join(exprs),
            sql.SQL(" ON CONFLICT (uid) DO NOTHING" if uid is not None else ""),
        )
    else:
        query = sql.SQL("INSERT INTO public.{} DEFAULT VALUES RETURNING id, version").format(sql.Identifier(layer.name))
    row = conn.execute(query, params).fetchone()
    if row is not None:
        return row[0], row[1], True
    fid, version = _same_as_existing(conn, layer, data, crs)
    return fid, version, False


def _same_as_existing(conn: psycopg.Connection, layer: Layer, data: FeatureInput, crs: ApiCRS) -> tuple[int, int]:
    """The feature that already has the body's uid, if the body says the same as it; else a Conflict.

    "The same": every property the body gives a value equals the stored one, and so does the geometry
    (``ST_Equals``, so a point sent for a multipoint layer matches). Properties the body leaves out or sends as
    null are not compared: the database may have filled them in (the neighbourhood, the unit).
    """
    given = {n: v for n, v in data.values.items() if v is not None and n != "uid"}
    tests: list[sql.Composable] = [sql.SQL("t.{} IS NOT DISTINCT FROM %s").format(sql.Identifier(n)) for n in given]
    params = [_adapt(v) for v in given.values()]
    if layer.has_geometry and data.geometry is not None:
        tests.append(sql.SQL("ST_Equals(t.geom, {})").format(geometry_input(crs)))
        params.append(data.geometry)
    query = sql.SQL("SELECT t.id, t.version, ARRAY[{}]::boolean[] FROM public.{} t WHERE t.uid = %s").format(
        sql.SQL(", ").join(tests) if tests else sql.SQL(""), sql.Identifier(layer.name)
    )
    row = conn.execute(query, [*params, data.values["uid"]]).fetchone()
    if row is None:  # deleted by someone else between the insert and this read
        raise Conflict(f"{layer.name}: the feature with uid {data.values['uid']} was deleted meanwhile; send it again")
    fid, version, same = row
    differ = [n for n, ok in zip([*given, "geometry"], same, strict=False) if not ok]
    if differ:
        raise Conflict(
            f"{layer.name} feature {fid} was already created with uid {data.values['uid']}, with other values for "
            f"{', '.join(differ)}. A re-sent feature must say the same; to change it, update feature {fid}."
        )
    return fid, version


def replace(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    """PUT: every attribute takes the body's value, or its default (or nothing) when the body omits it."""
    _whole(layer, data)
    return _update(conn, layer, fid, data, expected, crs)


def patch(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    """PATCH (RFC 7396): only what the body names changes; null clears a property."""
    return _update(conn, layer, fid, data, expected, crs)


# What core.db.attributed says before a write: who the history attributes it to.
_ATTRIBUTE = "SELECT set_config('mahalle.actor', %s, true), set_config('mahalle.cause', %s, true)"


def write_and_read(
    conn: psycopg.Connection,
    actor: str,
    layer: Layer,
    fid: int,
    data: FeatureInput,
    expected: int | str | None,
    crs: ApiCRS,
    read: Callable[[], R],
    *,
    whole: bool = False,
) -> tuple[int, R | None]:
    """A PATCH (``whole``: a PUT) and then ``read`` of the feature, in one transaction attributed to ``actor`` as
    ``core.db.attributed`` makes it, in two round trips instead of five: BEGIN, the actor, the UPDATE and the read's
    statement are pipelined (the read waits for all four), then the COMMIT. The read sees the row as written, so it
    is the version returned. (version, what ``read`` gave, or None when it raised NotFound). For a pooled
    (autocommit) connection outside a transaction. A refusal of the database raises as ``attributed`` raises it."""
    if whole:
        _whole(layer, data)
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute(_ATTRIBUTE, (actor, ""))
            sent = _send_update(conn, layer, fid, data, expected, crs)
            try:
                got: R | None = read()
            except NotFound:  # nothing updated (said below), or a feature the user may not read
                got = None
            conn.execute("COMMIT")
    except BaseException as exc:
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:  # not committed: nothing is kept
            conn.execute("ROLLBACK")
        if isinstance(exc, psycopg.Error):
            _raise_as_attributed(conn, actor, exc)
        raise
    return _version_of(conn, layer, fid, expected, sent), got


def _raise_as_attributed(conn: psycopg.Connection, actor: str, exc: psycopg.Error) -> None:
    """The database's refusal as the problem ``core.db.attributed`` makes of it (the one place that says which
    refusal is which); its empty transaction is rolled back."""
    with attributed(conn, actor):
        raise exc


def _whole(layer: Layer, data: FeatureInput) -> None:
    for a in layer.attributes:
        data.values.setdefault(a.name, a.default)
    data.has_geometry = True


def _update(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    return _version_of(conn, layer, fid, expected, _send_update(conn, layer, fid, data, expected, crs))


def _send_update(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> psycopg.Cursor:
    """Execute the compare-and-set UPDATE … RETURNING version (in pipeline mode: queue it)."""
    if "uid" in data.values:  # a feature's UID never changes: checked like the database's properties
        data.read_only["uid"] = data.values.pop("uid")
    if data.read_only:
        _check_read_only(conn, layer, fid, data.read_only, expected)
    sets, params = _assignments(layer, data, crs)
    if not sets:  # nothing to change: the database keeps the version (stamp_row), so the ETag stays
        sets = [sql.SQL("version = version")]
    query = sql.SQL("UPDATE public.{} SET {} WHERE id = %s {} RETURNING version").format(
        sql.Identifier(layer.name), sql.SQL(", ").join(sets), _version_guard(expected)
    )
    return conn.execute(query, [*params, fid, *_version_params(expected)])


def _version_of(
    conn: psycopg.Connection, layer: Layer, fid: int, expected: int | str | None, sent: psycopg.Cursor
) -> int:
    """The version the UPDATE left, or why it changed nothing (NotFound, PreconditionFailed)."""
    row = sent.fetchone()
    if row is None:
        _explain_miss(conn, layer, fid, expected)
    return row[0]


def delete(conn: psycopg.Connection, layer: Layer, fid: int, expected: int | str | None) -> None:
    query = sql.SQL("DELETE FROM public.{} WHERE id = %s {} RETURNING id").format(
        sql.Identifier(layer.name), _version_guard(expected)
    )
    try:
        deleted = conn.execute(query, [fid, *_version_params(expected)]).fetchone()
    except psycopg.errors.IntegrityError as exc:
        # Other rows depend on it: installed assets, subtasks (foreign keys), intervention targets or task links
        # (the delete guard's SQLSTATE).
        if isinstance(exc, psycopg.errors.ForeignKeyViolation) or exc.diag.sqlstate == HAS_DEPENDENTS:
            raise HasDependents(exc.diag.message_primary or str(exc)) from exc
        raise
    if deleted is None:
        _explain_miss(conn, layer, fid, expected)


class _Undo(Exception):
    """Carries a probe's result out of the savepoint it rolls back."""


def probe(conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput | None, expected: int) -> int:
    """The version a patch (``data``) or a delete (None: ``expected + 1``) of the feature at version ``expected`` would
    leave, tried in
    a savepoint that is always rolled back: every rule and right of the database is asked, nothing is kept. The
    version is unchanged when the patch would change nothing; the database's refusal raises as for a real write."""
    try:
        with conn.transaction():
            if data is None:
                delete(conn, layer, fid, expected)
                raise _Undo(expected + 1)
            raise _Undo(patch(conn, layer, fid, data, expected, STORAGE))
    except _Undo as undo:
        return undo.args[0]


# Properties the database keeps, in the order a refusal names them.
READ_ONLY = ("id", "uid", *(n for n in SYSTEM_PROPERTIES if n not in WRITABLE_SYSTEM))


def _check_read_only(
    conn: psycopg.Connection, layer: Layer, fid: int, given: dict[str, Any], expected: int | str | None
) -> None:
    """Refuse (naming them) read-only properties whose values differ from the stored ones.

    Equal values pass, so a feature read with GET can be sent back with PUT. The row is locked, so what was
    compared is what the update changes. A missing feature or a stale version is left to the update to report.
    """
    columns = set(layer.property_types()) | {"id"}
    checked: list[tuple[str, Any]] = []
    differ = []
    for name, value in given.items():
        if name not in columns:
            if value is not None:
                differ.append(name)
            continue
        try:
            checked.append((name, check_value(name, SYSTEM_PROPERTIES.get(name, "integer"), value)))
        except InvalidInput:
            differ.append(name)
    tests = [sql.SQL("t.{} IS NOT DISTINCT FROM %s").format(sql.Identifier(n)) for n, _ in checked]
    row = conn.execute(
        sql.SQL("SELECT t.version, ARRAY[{}]::boolean[] FROM public.{} t WHERE t.id = %s FOR UPDATE").format(
            sql.SQL(", ").join(tests), sql.Identifier(layer.name)
        ),
        [*(v for _, v in checked), fid],
    ).fetchone()
    if row is None or (isinstance(expected, int) and row[0] != expected):
        return
    differ += [n for (n, _), same in zip(checked, row[1], strict=True) if not same]
    if differ:
        names = sorted(differ, key=lambda n: READ_ONLY.index(n) if n in READ_ONLY else len(READ_ONLY))
        verb = "is" if len(names) == 1 else "are"
        raise ReadOnlyProperties(
            f"{', '.join(names)} {verb} kept by the database and cannot be changed; leave "
            f"{'it' if len(names) == 1 else 'them'} out of the body (or send the value the feature has)",
            names,
        )


def _version_guard(expected: int | str | None) -> sql.Composable:
    return sql.SQL("AND version = %s") if isinstance(expected, int) else sql.SQL("")


def _version_params(expected: int | str | None) -> list[int]:
    return [expected] if isinstance(expected, int) else []


def _explain_miss(conn: psycopg.Connection, layer: Layer, fid: int, expected: int | str | None) -> None:
    row = conn.execute(
        sql.SQL("SELECT version FROM public.{} WHERE id = %s").format(sql.Identifier(layer.name)), (fid,)
    ).fetchone()
    if row is None:
        if expected is not None:  # a conditional write never creates
            raise PreconditionFailed(f"{layer.name} feature {fid} does not exist (any more)")
        raise NotFound(f"{layer.name} has no feature {fid}.")
    raise PreconditionFailed(
        f"{layer.name} feature {fid} is at version {row[0]}, not {expected}: someone else changed it. "
        "Reload it, reapply your change and save again.",
        row[0],
    )
