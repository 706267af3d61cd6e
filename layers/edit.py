"""Writing features: create, replace, merge-patch and delete, each conditional on the version.

Input is checked against the catalogue first (so a wrong type is named in a planner's words); the
database then applies the layer's rules, stamps the version and writes the history in the same
transaction. A write that names a version (If-Match) is a compare-and-set:
``UPDATE … WHERE id = $1 AND version = $2`` — PostgreSQL re-checks that condition on the newest row,
so of two clients with the same version exactly one wins and the other gets 412.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.crs import STORAGE, ApiCRS
from gis.errors import HasDependents, InvalidInput, NotFound, PreconditionFailed
from layers.spec import SYSTEM_PROPERTIES, WRITABLE_SYSTEM, Layer

GEOJSON_TYPES = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | None | str:
    """The version an If-Match names; ``"*"`` for any; None without the header."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return "*"
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f"If-Match {header!r} is not an ETag this server gave out")
    return int(value)


@dataclass
class FeatureInput:
    """A feature's writable content: attribute values and the geometry as GeoJSON text."""

    values: dict[str, Any]
    geometry: str | None
    has_geometry: bool  # the body said something about the geometry (a PATCH may not)


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
    if kind not in GEOJSON_TYPES:
        raise InvalidInput(f"geometry: {kind!r} is not a GeoJSON geometry type", "geometry")
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
    for name, value in properties.items():
        if name in types and (name != "neighbourhood_id" or layer.neighbourhood_scoped):
            values[name] = check_value(name, types[name], value)
        elif name not in SYSTEM_PROPERTIES:  # read-only system properties are ignored, so GET → PUT works
            raise InvalidInput(f"{layer.name} has no property {name!r}", name)
    has_geometry = "geometry" in body
    geometry = check_geometry(body.get("geometry")) if has_geometry else None
    if layer.has_geometry and not patch and geometry is None and layer.geometry_required:
        raise InvalidInput(f"{layer.name} features need a geometry", "geometry")
    if not layer.has_geometry and geometry is not None:
        raise InvalidInput(f'{layer.name} has no geometry; send "geometry": null', "geometry")
    return FeatureInput(values, geometry, has_geometry)


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
    """Insert a feature; (id, version, created). A client UUID seen before returns the existing feature."""
    uid = data.values.get("uid")
    if uid is not None:
        existing = conn.execute(
            sql.SQL("SELECT id, version FROM public.{} WHERE uid = %s").format(sql.Identifier(layer.name)), (uid,)
        ).fetchone()
        if existing:
            return existing[0], existing[1], False
    names = [sql.Identifier(n) for n in data.values]
    exprs: list[sql.Composable] = [sql.Placeholder()] * len(names)
    params = [_adapt(v) for v in data.values.values()]
    if layer.has_geometry and data.geometry is not None:
        names.append(sql.Identifier("geom"))
        exprs.append(geometry_input(crs))
        params.append(data.geometry)
    if names:
        query = sql.SQL("INSERT INTO public.{} ({}) VALUES ({}) RETURNING id, version").format(
            sql.Identifier(layer.name), sql.SQL(", ").join(names), sql.SQL(", ").join(exprs)
        )
    else:
        query = sql.SQL("INSERT INTO public.{} DEFAULT VALUES RETURNING id, version").format(sql.Identifier(layer.name))
    fid, version = conn.execute(query, params).fetchone()
    return fid, version, True


def replace(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    """PUT: every attribute takes the body's value, or its default (or nothing) when the body omits it."""
    for a in layer.attributes:
        data.values.setdefault(a.name, a.default)
    data.has_geometry = True
    return _update(conn, layer, fid, data, expected, crs)


def patch(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    """PATCH (RFC 7396): only what the body names changes; null clears a property."""
    return _update(conn, layer, fid, data, expected, crs)


def _update(
    conn: psycopg.Connection, layer: Layer, fid: int, data: FeatureInput, expected: int | str | None, crs: ApiCRS
) -> int:
    data.values.pop("uid", None)  # a feature's UID never changes
    sets, params = _assignments(layer, data, crs)
    if not sets:  # nothing to change still makes a new version, so the client's ETag moves on
        sets = [sql.SQL("version = version")]
    query = sql.SQL("UPDATE public.{} SET {} WHERE id = %s {} RETURNING version").format(
        sql.Identifier(layer.name), sql.SQL(", ").join(sets), _version_guard(expected)
    )
    row = conn.execute(query, [*params, fid, *_version_params(expected)]).fetchone()
    if row is None:
        _explain_miss(conn, layer, fid, expected)
    return row[0]


def delete(conn: psycopg.Connection, layer: Layer, fid: int, expected: int | str | None) -> None:
    query = sql.SQL("DELETE FROM public.{} WHERE id = %s {} RETURNING id").format(
        sql.Identifier(layer.name), _version_guard(expected)
    )
    try:
        deleted = conn.execute(query, [fid, *_version_params(expected)]).fetchone()
    except psycopg.errors.ForeignKeyViolation as exc:  # other rows depend on it (installed assets, subtasks)
        raise HasDependents(exc.diag.message_primary or str(exc)) from exc
    if deleted is None:
        _explain_miss(conn, layer, fid, expected)


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
        etag(row[0]),
    )
