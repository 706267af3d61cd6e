"""The fixed request lists, drawn from the seed: tiles at z12/z14/z16 inside the city, item pages with a bbox,
feature ids; each peer's URL for the same request; the bench's own minimal statements for it (the independent limit:
``limit_tile_sql``, ``limit_items_sql``), and the SQL Mahalle runs for it (for the profiles of a missed target)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import morecantile
import psycopg
from psycopg import sql
from starlette.datastructures import QueryParams

from api.ogc.params import item_query
from bench.city import PARCELS, PER_BLOCK, PITCH_X, PITCH_Y, SCHEMA
from core.crs import offered_crs
from core.settings import Settings
from gis.features import query_items, utm_zones
from gis.tiles import BUFFER, DETAIL_ZOOM, EXTENT, WEB_MERCATOR_HALF, tile
from layers.catalogue import core_catalogue

TMS = morecantile.tms.get("WebMercatorQuad")
ZOOMS = (12, 14, 16)
TILES_PER_ZOOM = {12: 8, 14: 24, 16: 48}
ITEM_BOXES = 16
PAGE = 1000
MATCHED_PER_BOX = 1500  # parcels a bbox should hold: more than a page, so every page has a next link

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int


def extent(conn: psycopg.Connection, first: int | None = None) -> BBox:
    """The lon/lat extent of the staged parcels (of the first ``first`` of them)."""
    query = sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) e FROM {}.parcels WHERE fid <= %s) s"
    ).format(sql.Identifier(SCHEMA))
    return tuple(conn.execute(query, (first or 2**62,)).fetchone())  # type: ignore[return-value]


def tiles(box: BBox, zoom: int, count: int, rng: random.Random, inside: bool = False) -> list[Tile]:
    """Up to ``count`` tiles of zoom ``zoom`` whose centre (or, with ``inside``, whole area) is in ``box``."""
    w, s, e, n = box
    chosen = []
    for t in TMS.tiles(w, s, e, n, [zoom]):
        b = TMS.bounds(t)
        if inside:
            ok = b.left >= w and b.right <= e and b.bottom >= s and b.top <= n
        else:
            ok = w <= (b.left + b.right) / 2 <= e and s <= (b.bottom + b.top) / 2 <= n
        if ok:
            chosen.append(Tile(t.z, t.x, t.y))
    if not chosen and inside:
        return []  # none fits: the caller leaves this zoom out
    if not chosen:
        chosen = [Tile(t.z, t.x, t.y) for t in TMS.tiles(w, s, e, n, [zoom])]
    return sorted(rng.sample(chosen, min(count, len(chosen))), key=lambda t: (t.x, t.y))


def item_boxes(box: BBox, count: int, rng: random.Random) -> list[BBox]:
    """bboxes of about ``MATCHED_PER_BOX`` parcels at random places inside ``box``."""
    side_m = math.sqrt(MATCHED_PER_BOX * PITCH_X * PITCH_Y / PER_BLOCK)
    w, s, e, n = box
    lat = (s + n) / 2
    dx = min(side_m / (111_320 * math.cos(math.radians(lat))), (e - w) * 0.9)
    dy = min(side_m / 110_574, (n - s) * 0.9)
    out = []
    for _ in range(count):
        x, y = rng.uniform(w, e - dx), rng.uniform(s, n - dy)
        out.append((round(x, 6), round(y, 6), round(x + dx, 6), round(y + dy, 6)))
    return out


def bbox_text(b: BBox) -> str:
    return ",".join(f"{v:.6f}" for v in b)


# --- each peer's URL for the same request ---------------------------------------------------------------


def mahalle_tile(t: Tile) -> str:
    return f"/ogc/collections/parcels/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"


def pixel_degrees(z: int) -> float:
    """One pixel of a zoom-``z`` tile in degrees of longitude (Web Mercator's x is linear in longitude): the
    tolerance Mahalle simplifies by below the detail zoom (one pixel in metres), in the units tipg's ``simplify``
    works in (the column's, lon/lat)."""
    return 360.0 / 2**z / EXTENT


def tipg_tile(t: Tile) -> str:
    """Asked like Mahalle: the same attributes (key and label below the detail zoom, every attribute from it) and,
    below the detail zoom, simplified by one pixel (tipg: ST_SimplifyPreserveTopology + ST_SnapToGrid in lon/lat;
    Mahalle: ST_Simplify in Web Mercator, collapsed parts kept). The 64-px buffer is tipg's setting
    (``TIPG_TILE_BUFFER``, bench/servers.py)."""
    layer = PARCELS
    names = layer.attribute_names if t.z >= DETAIL_ZOOM else (layer.key_attribute, layer.label_attribute)
    path = f"/collections/public.parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}?properties={','.join(names)}"
    return path if t.z >= DETAIL_ZOOM else f"{path}&simplify={pixel_degrees(t.z)!r}"


def mahalle_items(b: BBox) -> str:
    return f"/ogc/collections/parcels/items?limit={PAGE}&bbox={bbox_text(b)}"


def tipg_items(b: BBox) -> str:
    return f"/collections/public.parcels/items?limit={PAGE}&bbox={bbox_text(b)}"


def pygeoapi_items(b: BBox) -> str:
    return f"/collections/parcels/items?limit={PAGE}&bbox={bbox_text(b)}&f=json"


def feature_path(fid: int) -> str:
    return f"/ogc/collections/parcels/items/{fid}"


# --- the independent limit: the bench's own minimal statements -----------------------------------------


def limit_tile_sql(t: Tile) -> list[tuple[str, Any]]:
    """The bench's own statement for a tile, not Mahalle's: rows by the tile's box grown by the 64-px buffer,
    clipped and encoded, with the same attributes as Mahalle's tile (key and label below the detail zoom, every
    attribute from it) and, below the detail zoom, simplified by one pixel; every feature is kept, however small
    (whatever Mahalle's own low-zoom rules drop or merge, gis/tiles.py). No feature cap: the bench's tiles stay under
    Mahalle's 200,000 (a z12 tile of the 1,000,000-parcel city holds about 58,000)."""
    layer = PARCELS
    names = layer.attribute_names if t.z >= DETAIL_ZOOM else (layer.key_attribute, layer.label_attribute)
    columns = sql.SQL("").join(sql.SQL("p.{}, ").format(sql.Identifier(n)) for n in dict.fromkeys(names) if n)
    geom = sql.SQL("ST_Transform(p.geom, 3857)")
    if t.z < DETAIL_ZOOM:
        geom = sql.SQL("ST_Simplify({}, %(pixel)s, true)").format(geom)
    query = sql.SQL(
        "SELECT ST_AsMVT(q, 'parcels', {extent}, 'geom', 'id') FROM ("
        "SELECT p.id, {columns}ST_AsMVTGeom({geom}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), "
        "{extent}, {buffer}, true) AS geom FROM public.parcels p "
        "WHERE p.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326)) q"
    ).format(columns=columns, geom=geom, extent=sql.Literal(EXTENT), buffer=sql.Literal(BUFFER))
    pixel = 2 * WEB_MERCATOR_HALF / 2**t.z / EXTENT
    return [(query.as_string(), {"z": t.z, "x": t.x, "y": t.y, "margin": BUFFER / EXTENT, "pixel": pixel})]


def limit_items_sql(b: BBox) -> list[tuple[str, Any]]:
    """The bench's own statement for an item page, not Mahalle's: the first ``PAGE`` parcels intersecting the box
    (the meaning of ``bbox``) in id order as one GeoJSON FeatureCollection built by ``json_agg`` (the same properties,
    geometry to 9 digits) and the number matched, as Mahalle's page carries it."""
    layer = PARCELS
    props = sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(n)) for n in layer.property_types())
    query = sql.SQL(
        "WITH box AS (SELECT ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AS env) "
        "SELECT json_build_object('type', 'FeatureCollection', "
        "'numberMatched', (SELECT count(*) FROM public.parcels c, box WHERE ST_Intersects(c.geom, box.env)), "
        "'features', coalesce(json_agg(json_build_object('type', 'Feature', 'id', p.id, "
        "'geometry', ST_AsGeoJSON(p.geom, 9)::json, 'properties', (SELECT to_json(r) FROM (SELECT {props}) r)) "
        "ORDER BY p.id), '[]'::json))::text "
        "FROM (SELECT t.* FROM public.parcels t, box WHERE ST_Intersects(t.geom, box.env) ORDER BY t.id "
        "LIMIT %(limit)s) p"
    ).format(props=props)
    w, s, e, n = b
    return [(query.as_string(), {"w": w, "s": s, "e": e, "n": n, "limit": PAGE})]


# --- the SQL Mahalle runs for a request (profiles of a missed target) ----------------------------------


class Recorder:
    """Stands in for a connection: runs each statement and keeps its text and parameters."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.statements: list[tuple[str, Any]] = []

    def execute(self, query: Any, params: Any = None, **options: Any) -> psycopg.Cursor:
        text = query.as_string(self.conn) if isinstance(query, sql.Composable) else query
        self.statements.append((text, params))
        return self.conn.execute(query, params, **options)


def tile_sql(conn: psycopg.Connection, t: Tile) -> list[tuple[str, Any]]:
    rec = Recorder(conn)
    tile(rec, core_catalogue()["parcels"], t.z, t.x, t.y, Settings().max_tile_features)  # type: ignore[arg-type]
    return rec.statements


def items_sql(conn: psycopg.Connection, b: BBox) -> list[tuple[str, Any]]:
    settings = Settings()
    q = item_query(
        core_catalogue()["parcels"],
        QueryParams(f"limit={PAGE}&bbox={bbox_text(b)}"),
        offered_crs(utm_zones(conn)),
        settings.default_items,
        settings.max_items,
    )
    rec = Recorder(conn)
    query_items(rec, q)  # type: ignore[arg-type]
    return rec.statements


def feature_ids(conn: psycopg.Connection, count: int, rng: random.Random) -> list[int]:
    top = conn.execute("SELECT max(id) FROM public.parcels").fetchone()[0] or 0
    return rng.sample(range(1, top + 1), min(count, top))
