"""The SQL that reads a layer's rows for an export: its columns, the filters (neighbourhood, bbox, polygon,
status, dates, CQL2), optionally as of a past moment, and only the geometry representations the writer uses.
Geometry is EPSG:4326, longitude first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import shapely
from psycopg import sql

from core.errors import NotFound
from gis import cql2
from gis.export.columns import columns
from gis.export.options import ExportError, ExportOptions
from layers.spec import Layer

Rows = list[tuple]  # a batch: the columns, then the writer's geometry representations
# What a writer can ask for after the columns, in the order it asks.
GEOMETRY_SQL = {
    "wkb": sql.SQL("ST_AsBinary(t.geom)"),
    "geojson": sql.SQL("ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), 15)"),  # RFC 7946: counter-clockwise outer rings
    "wkt": sql.SQL("ST_AsText(t.geom, 15)"),
    "dim": sql.SQL("ST_Dimension(t.geom)"),
}


def layer_query(
    conn: psycopg.Connection, layer: Layer, options: ExportOptions, geometry: Sequence[str] = tuple(GEOMETRY_SQL)
) -> tuple[sql.Composable, list[Any]]:
    """The layer's rows: its columns, then the geometry as each of ``geometry`` (keys of GEOMETRY_SQL)."""
    table = sql.SQL("public.{}").format(sql.Identifier(layer.name))
    params: list[Any] = []
    if options.as_of:
        source = sql.SQL("(SELECT * FROM mahalle.as_of(NULL::{}, %s))").format(table)
        params.append(options.as_of)
    else:
        source = table
    where, where_params = where_clause(conn, layer, options)
    join = (
        sql.SQL("LEFT JOIN public.neighbourhoods n ON n.id = t.neighbourhood_id")
        if layer.neighbourhood_scoped
        else sql.SQL("")
    )
    select = sql.SQL(", ").join([*(c.expr for c in columns(layer)), *(GEOMETRY_SQL[g] for g in geometry)])
    query = sql.SQL("SELECT {select} FROM {source} t {join} WHERE {where} ORDER BY t.id").format(
        select=select, source=source, join=join, where=where
    )
    return query, params + where_params


def skip_reason(layer: Layer, options: ExportOptions) -> str | None:
    """Why the filters leave this layer out, if they do."""
    if options.status and "status" not in layer.attribute_names:
        return "it has no status"
    return None


def where_clause(conn: psycopg.Connection, layer: Layer, options: ExportOptions) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if options.neighbourhood:
        nid = conn.execute("SELECT id FROM public.neighbourhoods WHERE code = %s", (options.neighbourhood,)).fetchone()
        if nid is None:
            raise NotFound(f"There is no neighbourhood with the code {options.neighbourhood!r}.")
        column = "id" if layer.name == "neighbourhoods" else "neighbourhood_id"
        parts.append(sql.SQL("{} = %s").format(sql.Identifier("t", column)))
        params.append(nid[0])
    if options.bbox:
        parts.append(sql.SQL("ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
        params += [float(v) for v in options.bbox]
    if options.polygon:
        parts.append(sql.SQL("ST_Intersects(t.geom, ST_GeomFromText(%s, 4326))"))
        params.append(_polygon(options.polygon))
    if options.status:
        parts.append(sql.SQL("t.status = ANY(%s)"))
        params.append(list(options.status))
    if options.date_from or options.date_to:
        column = sql.Identifier("t", layer.date_attribute or "updated_at")
        if options.date_from:
            parts.append(sql.SQL("{} >= %s").format(column))
            params.append(options.date_from)
        if options.date_to:
            parts.append(sql.SQL("{} < %s::date + 1").format(column))
            params.append(options.date_to)
    if options.filter:
        try:
            condition, filter_params = cql2.filter_sql(options.filter, cql2.layer_properties(layer))
        except cql2.FilterError as exc:
            raise cql2.FilterError(f"{layer.name}: {exc}") from None
        parts.append(condition)
        params += filter_params
    return (sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")), params


def _polygon(wkt: str) -> str:
    try:
        shape = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        raise ExportError(f"The polygon is not valid WKT ({exc}).") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
        raise ExportError("The area to export must be a valid polygon in longitude/latitude.")
    return wkt
