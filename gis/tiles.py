"""Mapbox Vector Tiles generated in PostGIS (``ST_AsMVT``) on the WebMercatorQuad grid.

Low zooms carry only what the map styles and labels by (id, key and label attributes) and simplified
geometry; from ``DETAIL_ZOOM`` on, every attribute. Tiles are made from the table, or kept in the tile cache
(gis/tile_cache.py) that every edit drops exactly where it touches, so an edit shows in the next request;
clients revalidate with the tile's ETag.
"""

from __future__ import annotations

import hashlib
import math

import psycopg
from psycopg import sql

from layers.spec import Layer

EXTENT = 4096
BUFFER = 64
DETAIL_ZOOM = 14
MAX_ZOOM = 22
WEB_MERCATOR_HALF = 20037508.342789244


def tile_attributes(layer: Layer, z: int) -> list[str]:
    if z >= DETAIL_ZOOM:
        return [a.name for a in layer.attributes]
    return list(dict.fromkeys(n for n in (layer.key_attribute, layer.label_attribute) if n))


def _column(layer: Layer, name: str) -> sql.Composable:
    # MVT values are scalars: lists become comma-separated text, dates their ISO text.
    kind = layer.attribute(name).type
    col = sql.SQL("t.{}").format(sql.Identifier(name))
    if kind == "choices":
        col = sql.SQL("array_to_string({}, ',')").format(col)
    elif kind in ("date", "datetime"):
        col = sql.SQL("{}::text").format(col)
    return sql.SQL("{} AS {}").format(col, sql.Identifier(name))


def search_box(z: int, x: int, y: int) -> dict[str, float]:
    """The tile plus its buffer in lon/lat, clamped to the world: the buffered Web Mercator square, its
    corners converted in closed form (transforming it in PostGIS instead would run past ±180° at low
    zooms and miss everything; morecantile per request cost more than the small tiles' query)."""
    size = 2 * WEB_MERCATOR_HALF / 2**z
    pad = size * BUFFER / EXTENT
    west, east = -WEB_MERCATOR_HALF + x * size - pad, -WEB_MERCATOR_HALF + (x + 1) * size + pad
    north, south = WEB_MERCATOR_HALF - y * size + pad, WEB_MERCATOR_HALF - (y + 1) * size - pad
    return {"w": _lon(west), "s": _lat(south), "e": _lon(east), "n": _lat(north)}


def _lon(metres: float) -> float:
    return max(-180.0, min(180.0, metres / WEB_MERCATOR_HALF * 180.0))


def _lat(metres: float) -> float:
    clamped = max(-WEB_MERCATOR_HALF, min(WEB_MERCATOR_HALF, metres))
    return math.degrees(math.atan(math.sinh(clamped / WEB_MERCATOR_HALF * math.pi)))


TILE_SQL = sql.SQL(
    """
    WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
    hits AS (
      SELECT t.id, {columns}
             ST_AsMVTGeom({geom}, b.env, {extent}, {buffer}, true) AS geom
        FROM public.{table} t, b
       WHERE t.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
       {order}
       LIMIT %(limit)s
    ),
    kept AS (SELECT * FROM hits WHERE geom IS NOT NULL)
    SELECT (SELECT ST_AsMVT(k.*, {name}, {extent}, 'geom', 'id' ORDER BY k.id) FROM kept k),
           (SELECT count(*) FROM hits) > %(max)s
    """
)


def tile(conn: psycopg.Connection, layer: Layer, z: int, x: int, y: int, max_features: int) -> tuple[bytes, bool]:
    """(tile bytes, truncated). Empty bytes mean no feature touches the tile.

    Features are encoded in id order, so the same rows give the same bytes (and ETag). Only a cut tile needs
    the rows themselves taken in id order (the same ones kept every time), so only then does the query say
    ORDER BY before the LIMIT: with it, the planner walks the primary key filtering by the box instead of
    asking the GiST index."""
    params = {"z": z, "x": x, "y": y, "pixel": 2 * WEB_MERCATOR_HALF / (2**z) / EXTENT, "limit": max_features + 1,
              "max": max_features, **search_box(z, x, y)}  # fmt: skip
    data, truncated = conn.execute(_statement(layer, z, ordered=False), params).fetchone()
    if truncated:  # again, in id order, without the extra feature that told us there were more
        params["limit"] = max_features
        data, _ = conn.execute(_statement(layer, z, ordered=True), params).fetchone()
    return bytes(data or b""), bool(truncated)


def tile_variant(layer: Layer, z: int, max_features: int) -> str:
    """What made a tile besides its rows (the statements and the feature limit), as a short key: a kept tile made
    otherwise (another release, another limit, the layer's attributes changed) is not served."""
    key = ("variant", z < DETAIL_ZOOM, max_features)
    if key not in layer.memo:
        text = "\n".join((_statement(layer, z, ordered=False), _statement(layer, z, ordered=True), str(max_features)))
        layer.memo[key] = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return layer.memo[key]


def _statement(layer: Layer, z: int, *, ordered: bool) -> str:
    """The tile statement, rendered once per layer and kind of tile (rendering cost more than a small tile's
    query)."""
    key = ("tile", z < DETAIL_ZOOM, ordered)
    if key not in layer.memo:
        layer.memo[key] = _render(layer, z, ordered=ordered)
    return layer.memo[key]


def _render(layer: Layer, z: int, *, ordered: bool) -> str:
    geom3857 = sql.SQL("ST_Transform(t.geom, 3857)")
    if z < DETAIL_ZOOM and layer.geometry_type != "Point":
        geom3857 = sql.SQL("ST_Simplify({}, %(pixel)s, true)").format(geom3857)
    columns = [_column(layer, n) for n in tile_attributes(layer, z)]
    return TILE_SQL.format(
        columns=sql.SQL("").join(sql.SQL("{}, ").format(c) for c in columns),
        geom=geom3857,
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        table=sql.Identifier(layer.name),
        name=sql.Literal(layer.name),
        order=sql.SQL("ORDER BY t.id" if ordered else ""),
    ).as_string()
