"""The fixed request lists, drawn from the seed: tiles at z12/z14/z16 inside the city, item pages with a bbox,
feature ids; plus each peer's URL for the same request and the SQL Mahalle runs for it (the raw peer)."""

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
from gis.tiles import DETAIL_ZOOM, tile
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


def tipg_tile(t: Tile) -> str:
    # The same attributes as Mahalle's tiles: key and label below the detail zoom, every attribute from it.
    layer = PARCELS
    names = layer.attribute_names if t.z >= DETAIL_ZOOM else (layer.key_attribute, layer.label_attribute)
    return f"/collections/public.parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}?properties={','.join(names)}"


def mahalle_items(b: BBox) -> str:
    return f"/ogc/collections/parcels/items?limit={PAGE}&bbox={bbox_text(b)}"


def tipg_items(b: BBox) -> str:
    return f"/collections/public.parcels/items?limit={PAGE}&bbox={bbox_text(b)}"


def pygeoapi_items(b: BBox) -> str:
    return f"/collections/parcels/items?limit={PAGE}&bbox={bbox_text(b)}&f=json"


def feature_path(fid: int) -> str:
    return f"/ogc/collections/parcels/items/{fid}"


# --- the SQL Mahalle runs for a request --------------------------------------------------------------


class Recorder:
    """Stands in for a connection: runs each statement and keeps its text and parameters."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.statements: list[tuple[str, Any]] = []

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor:
        text = query.as_string(self.conn) if isinstance(query, sql.Composable) else query
        self.statements.append((text, params))
        return self.conn.execute(query, params)


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
