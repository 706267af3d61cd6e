"""Reading features: filters to SQL, GeoJSON built inside PostGIS, extents.

A page of features is one query that returns the features already serialised by PostGIS; Python only
wraps them in the collection envelope, so a large page costs no per-feature Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql

from core.crs import STORAGE, ApiCRS
from core.errors import NotFound
from layers.geojson import feature_json
from layers.spec import Layer


@dataclass
class Where:
    """SQL conditions with their bind parameters, kept in step."""

    parts: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, part: sql.Composable, *params: Any) -> None:
        self.parts.append(part)
        self.params.extend(params)

    def sql(self) -> sql.Composable:
        return sql.SQL(" AND ").join(self.parts) if self.parts else sql.SQL("TRUE")


@dataclass
class ItemQuery:
    layer: Layer
    limit: int = 100
    offset: int = 0
    where: Where = field(default_factory=Where)
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, ascending)
    crs: ApiCRS = STORAGE
    as_of: datetime | None = None


def source(layer: Layer, as_of: datetime | None) -> tuple[sql.Composable, list[Any]]:
    """The rows to read: the live table, or the layer as it was at ``as_of`` (from the history)."""
    table = sql.SQL("public.{}").format(sql.Identifier(layer.name))
    if as_of is None:
        return table, []
    return sql.SQL("(SELECT * FROM mahalle.as_of(NULL::{}, %s))").format(table), [as_of]


def _order(q: ItemQuery) -> sql.Composable:
    keys = [
        sql.SQL("t.{} {} NULLS LAST").format(sql.Identifier(name), sql.SQL("ASC" if asc else "DESC"))
        for name, asc in q.sortby
    ]
    return sql.SQL(", ").join([*keys, sql.SQL("t.id")])


def query_items(conn: psycopg.Connection, q: ItemQuery) -> tuple[str, int, int]:
    """(features as a JSON array body without brackets, numberMatched, numberReturned)."""
    src, src_params = source(q.layer, q.as_of)
    matched = conn.execute(
        sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(src, q.where.sql()), [*src_params, *q.where.params]
    ).fetchone()[0]
    rows = conn.execute(
        sql.SQL(
            "SELECT coalesce(string_agg({feature}, ',' ORDER BY {order}), ''), count(*) "
            "FROM (SELECT * FROM {src} t WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) t"
        ).format(feature=feature_json(q.layer, q.crs), src=src, where=q.where.sql(), order=_order(q)),
        [*src_params, *q.where.params, q.limit, q.offset],
    ).fetchone()
    return rows[0], matched, rows[1]


def get_item(conn: psycopg.Connection, layer: Layer, fid: int, crs: ApiCRS = STORAGE) -> tuple[str, int]:
    """(Feature JSON text, version) of one feature, or NotFound."""
    key = ("item", crs)
    if key not in layer.memo:  # rendering the statement cost more than running it
        layer.memo[key] = (
            sql.SQL("SELECT {}, t.version FROM public.{} t WHERE t.id = %s")
            .format(feature_json(layer, crs), sql.Identifier(layer.name))
            .as_string()
        )
    row = conn.execute(layer.memo[key], (fid,)).fetchone()
    if row is None:
        raise NotFound(f"{layer.name} has no feature {fid}.")
    return row[0], row[1]


def current_version(conn: psycopg.Connection, layer: Layer, fid: int) -> int | None:
    row = conn.execute(
        sql.SQL("SELECT version FROM public.{} WHERE id = %s").format(sql.Identifier(layer.name)), (fid,)
    ).fetchone()
    return row[0] if row else None


def spatial_extent(conn: psycopg.Connection, layer: Layer) -> list[float] | None:
    """Bounding box [minx, miny, maxx, maxy]; estimated from statistics for big tables."""
    big = conn.execute(
        "SELECT reltuples > 200000 FROM pg_class WHERE oid = %s::regclass", (f"public.{layer.name}",)
    ).fetchone()[0]
    estimated = sql.SQL("SELECT ST_EstimatedExtent('public', {}, 'geom') AS e").format(sql.Literal(layer.name))
    exact = sql.SQL("SELECT ST_Extent(geom) AS e FROM public.{}").format(sql.Identifier(layer.name))
    query = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({}) s").format(
        estimated if big else exact
    )
    row = conn.execute(query).fetchone()
    if big and (row is None or row[0] is None):  # no statistics yet
        row = conn.execute(
            sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({}) s").format(exact)
        ).fetchone()
    return None if row is None or row[0] is None else [round(v, 7) for v in row]


def temporal_extent(conn: psycopg.Connection, layer: Layer) -> list[str | None]:
    col = sql.Identifier(layer.time_column)
    lo, hi = conn.execute(
        sql.SQL("SELECT min({c}), max({c}) FROM public.{t}").format(c=col, t=sql.Identifier(layer.name))
    ).fetchone()
    return [_iso(lo), _iso(hi)]


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"


def utm_zones(conn: psycopg.Connection) -> list[int]:
    """The UTM zones (EPSG codes) the neighbourhoods lie in, for the CRS lists; the database finds the
    distinct zones so a request carries a few numbers, not every centroid."""
    rows = conn.execute(
        "SELECT DISTINCT CASE WHEN ST_Y(c) >= 0 THEN 32600 ELSE 32700 END"
        " + least(floor((ST_X(c) + 180) / 6)::int + 1, 60)"
        " FROM (SELECT ST_Centroid(geom) AS c FROM public.neighbourhoods) s"
    ).fetchall()
    return sorted(code for (code,) in rows)
