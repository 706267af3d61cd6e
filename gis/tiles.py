"""Mapbox Vector Tiles generated in PostGIS (``ST_AsMVT``) on the WebMercatorQuad grid.

Low zooms carry only what the map styles and labels by (id, key and label attributes) and simplified
geometry, with features under a screen pixel reduced to what the map can show (LOW_SQL), so a dense city's tile
stays small and is not cut; from ``DETAIL_ZOOM`` on, every feature with every attribute (a tile heavier than
TILE_BUDGET says so). Tiles are made from the table, or kept in the tile cache
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
PIXELS = 256  # a tile's width on screen, in CSS pixels (the web map's tile size)
TILE_BUDGET = 500 * 1024  # bytes; a heavier tile says so (Mahalle-Tile-Over-Budget)


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

# Below DETAIL_ZOOM a feature whose bounding box is under a screen pixel (a 256-px tile's, as the map draws it;
# the 4096 tile units are 16 to the pixel) in both directions cannot be seen as itself, and thousands of them
# made a city's z12 tile megabytes. Such tiny features are reduced by what a renderer would paint: polygons by
# the share of a pixel they cover (the cells they cover at least half of become pixel squares, a row's
# neighbouring cells of the same key value one rectangle, coloured by the key value covering most of the cell,
# "_merged" their count); points and lines by one per pixel (the largest, then the lowest id, kept with its id
# and attributes). Features of a pixel or more are kept, simplified to the tile's unit. Sizes are measured in
# Web Mercator metres from the bounding box in lon/lat in closed form (no reprojection of the tiny ones).
# The statement is written for speed (one sort of the tiny polygons for the cells and runs, no sort of the features
# unless the tile is cut, the runs' rectangles put in tile units directly); tests/gis/test_tiles_low.py holds it to
# the bytes of the rules' plain formulation.
MERC_Y = "({half} / pi() * ln(tan(pi() / 4 + radians(greatest(-85.0511, least(85.0511, {lat}))) / 2)))"
LOW_SQL = sql.SQL(
    """
    WITH s AS (  -- one row per feature: only the key and numbers for the tiny polygons (the rows to merge stay narrow)
      SELECT CASE WHEN big OR dim < 2 THEN id END AS id, {kept} dim, cx, cy,
             CASE WHEN big OR dim < 2 THEN dx * dy END AS weight, big,
             CASE WHEN big OR dim < 2 THEN geom END AS geom,
             CASE WHEN NOT big AND dim = 2 THEN ST_Area(geom) * {deg} * {deg} / cosine END AS area
        FROM (SELECT m.*, dx >= %(px)s OR dy >= %(px)s AS big
                FROM (SELECT c.*, cos(radians((y0 + y1) / 2)) AS cosine, (x1 - x0) * {deg} AS dx,
                             (y1 - y0) * {deg} / cos(radians((y0 + y1) / 2)) AS dy,
                             floor(((x0 + x1) / 2 * {deg} + {half}) / %(px)s) AS cx,
                             floor(({half} - {merc_ymid}) / %(px)s) AS cy
                        FROM (SELECT id, {names} geom, dim, ST_XMin(bb) AS x0, ST_XMax(bb) AS x1, ST_YMin(bb) AS y0,
                                     ST_YMax(bb) AS y1
                                FROM (SELECT t.id, {columns} t.geom, {dim} AS dim, box3d(t.geom) AS bb
                                        FROM public.{table} t
                                       WHERE t.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
                                      OFFSET 0) b  -- OFFSET 0: each box and number computed once, not per use
                              OFFSET 0) c
                      OFFSET 0) m) q
    ),
    cells AS (  -- the cells the tiny polygons cover at least half of, with the key value covering the most (the
                -- first such key): one sort of the tiny polygons, by cell and key value, for all
      SELECT DISTINCT ON (cy, cx) cy, cx, key, cn AS n, ca AS area
        FROM (SELECT p.*, sum(n) OVER cell AS cn, sum(area) OVER cell AS ca, max(area) OVER cell AS top
                FROM (SELECT cy, cx, {key} AS key, count(*) AS n, sum(area) AS area
                        FROM s WHERE NOT big AND dim = 2
                       GROUP BY cy, cx, {key}) p
              WINDOW cell AS (PARTITION BY cy, cx ORDER BY key
                              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) d
       WHERE area = top AND ca >= %(px)s * %(px)s / 2
       ORDER BY cy, cx, key
    ),
    runs AS (  -- a row's neighbouring cells of the same key value, in the cells' order (by row, then column)
      SELECT cy, key, min(cx) AS x0, max(cx) AS x1, sum(n)::integer AS n, sum(area) AS area
        FROM (SELECT a.*, count(*) FILTER (WHERE a.start) OVER (ORDER BY cy, cx ROWS UNBOUNDED PRECEDING) AS run
                FROM (SELECT cells.*, (cx - 1, key) IS DISTINCT FROM (lag(cx) OVER w, lag(key) OVER w) AS start
                        FROM cells WINDOW w AS (PARTITION BY cy ORDER BY cx)) a) r
       GROUP BY run, cy, key
    ),
    feats AS (
      SELECT id, {names} NULL::integer AS _merged, ST_AsMVTGeom({geom}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                                                               {extent}, {buffer}, true) AS geom, weight
        FROM s WHERE big
      UNION ALL
      SELECT id, {names} NULL, ST_AsMVTGeom(geom, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {extent}, {buffer}, true),
             weight
        FROM (SELECT DISTINCT ON (cx, cy) id, {names} ST_Transform(geom, 3857) AS geom, weight
                FROM s WHERE NOT big AND dim < 2 ORDER BY cx, cy, weight DESC, id) p
      UNION ALL
      -- a run is a rectangle on the tile's pixel grid: its tile units computed directly, as ST_AsMVTGeom gives
      -- them (clipped to the buffer, none when nothing is left, the same corner first)
      SELECT NULL, {merged} n, CASE WHEN x0 < x1 AND y0 < y1 THEN ST_MakeEnvelope(x1, y0, x0, y1) END, area
        FROM (SELECT key, n, area, greatest((x0 - %(x)s * {pixels}) * {unit}, {low}) AS x0,
                     least((x1 + 1 - %(x)s * {pixels}) * {unit}, {high}) AS x1,
                     greatest((cy - %(y)s * {pixels}) * {unit}, {low}) AS y0,
                     least((cy + 1 - %(y)s * {pixels}) * {unit}, {high}) AS y1
                FROM runs) r
    ),
    hits AS (SELECT id, {names} _merged, geom FROM feats {order} LIMIT %(limit)s)
    SELECT ST_AsMVT(h.*, {name}, {extent}, 'geom', 'id' ORDER BY h.id, ST_AsBinary(h.geom))
             FILTER (WHERE h.geom IS NOT NULL),
           count(*) > %(max)s
      FROM hits h
    """
)


def tile(conn: psycopg.Connection, layer: Layer, z: int, x: int, y: int, max_features: int) -> tuple[bytes, bool]:
    """(tile bytes, truncated). Empty bytes mean no feature touches the tile.

    Features are encoded in id order, so the same rows give the same bytes (and ETag). Below DETAIL_ZOOM tiny
    features are reduced (LOW_SQL), so the feature limit rarely bites. A cut tile keeps the largest features
    (by bounding box, then id: the same ones every time); only a cut tile needs the rows themselves ordered, so
    only then does the query say ORDER BY before the LIMIT: with it, the planner reads every row in the box
    instead of stopping at the limit (at detail zoom), or sorts every feature left (below it)."""
    size = 2 * WEB_MERCATOR_HALF / 2**z
    params = {"z": z, "x": x, "y": y, "pixel": size / EXTENT, "px": size / PIXELS, "limit": max_features + 1,
              "max": max_features, **search_box(z, x, y)}  # fmt: skip
    # binary: the tile's bytes as they are (as text, a bytea travels hex-encoded: twice the size, decoded here)
    data, truncated = conn.execute(_statement(layer, z, ordered=False), params, binary=True).fetchone()
    if truncated:  # again, largest first, without the extra feature that told us there were more
        params["limit"] = max_features
        data, _ = conn.execute(_statement(layer, z, ordered=True), params, binary=True).fetchone()
    return bytes(data or b""), bool(truncated)


def over_budget(data: bytes) -> bool:
    """Whether a tile is heavier than TILE_BUDGET (at detail zoom every feature is kept, however many)."""
    return len(data) > TILE_BUDGET


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
        render = _render_low if z < DETAIL_ZOOM else _render
        layer.memo[key] = render(layer, ordered=ordered)
    return layer.memo[key]


def _render(layer: Layer, *, ordered: bool) -> str:
    columns = [_column(layer, n) for n in tile_attributes(layer, DETAIL_ZOOM)]
    largest = "ORDER BY (ST_XMax(t.geom) - ST_XMin(t.geom)) * (ST_YMax(t.geom) - ST_YMin(t.geom)) DESC, t.id"
    return TILE_SQL.format(
        columns=sql.SQL("").join(sql.SQL("{}, ").format(c) for c in columns),
        geom=sql.SQL("ST_Transform(t.geom, 3857)"),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        table=sql.Identifier(layer.name),
        name=sql.Literal(layer.name),
        order=sql.SQL(largest if ordered else ""),
    ).as_string()


OWN = "CASE WHEN big OR dim < 2 THEN {0} END AS {0}"  # a label only where a feature is kept as itself


def _render_low(layer: Layer, *, ordered: bool) -> str:
    names = tile_attributes(layer, 0)
    half = sql.Literal(WEB_MERCATOR_HALF)
    deg = sql.Literal(WEB_MERCATOR_HALF / 180)

    def merc_y(lat: str) -> sql.Composable:
        return sql.SQL(MERC_Y).format(half=half, lat=sql.SQL(lat))

    def listed(items: list[sql.Composable]) -> sql.Composable:
        return sql.SQL("").join(sql.SQL("{}, ").format(i) for i in items)

    key = layer.key_attribute
    return LOW_SQL.format(
        columns=listed([_column(layer, n) for n in names]),
        names=listed([sql.Identifier(n) for n in names]),
        kept=listed([sql.SQL("{0}" if n == key else OWN).format(sql.Identifier(n)) for n in names]),
        merged=listed([sql.SQL("key") if n == key else sql.SQL("NULL") for n in names]),
        key=sql.Identifier(key) if key in names else sql.SQL("NULL::text"),
        dim=sql.SQL("ST_Dimension(t.geom)"),
        geom=sql.SQL("ST_Simplify(ST_Transform(geom, 3857), %(pixel)s, true)"),
        merc_ymid=merc_y("(y0 + y1) / 2"),
        half=half,
        deg=deg,
        pixels=sql.Literal(PIXELS),
        unit=sql.Literal(EXTENT // PIXELS),
        low=sql.Literal(-BUFFER),
        high=sql.Literal(EXTENT + BUFFER),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        table=sql.Identifier(layer.name),
        name=sql.Literal(layer.name),
        order=sql.SQL("ORDER BY weight DESC, id" if ordered else ""),
    ).as_string()
