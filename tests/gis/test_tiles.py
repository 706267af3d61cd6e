"""Vector tiles: the search box (the tile and its buffer on the Web Mercator grid, in lon/lat); below the detail zoom
tiny features reduced to what the map can show (a dense city's tile stays small, is never cut and still looks
right), at the detail zoom every feature."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from pyproj import Transformer

from gis.tiles import BUFFER, DETAIL_ZOOM, EXTENT, PIXELS, TILE_BUDGET, search_box, tile
from layers.catalogue import load_catalogue

TMS = morecantile.tms.get("WebMercatorQuad")
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


@pytest.mark.parametrize(("z", "x", "y"), [(5, 18, 9), (12, 2331, 1185), (16, 37320, 18978), (20, 597130, 303651)])
def test_the_search_box_is_the_tile_with_its_buffer(z, x, y):
    box = search_box(z, x, y)
    tile = TMS.xy_bounds(morecantile.Tile(x, y, z))
    pad = (tile.right - tile.left) * BUFFER / EXTENT
    west, south = TO_MERCATOR.transform(box["w"], box["s"])
    east, north = TO_MERCATOR.transform(box["e"], box["n"])
    for got, want in ((west, tile.left - pad), (east, tile.right + pad), (south, tile.bottom - pad),
                      (north, tile.top + pad)):  # fmt: skip
        assert got == pytest.approx(want, abs=1e-3)


def test_the_search_box_stops_at_the_edges_of_the_world():
    assert search_box(0, 0, 0) == pytest.approx({"w": -180, "s": -85.0511287798066, "e": 180, "n": 85.0511287798066})
    assert search_box(3, 7, 0)["e"] == 180 and search_box(3, 0, 7)["w"] == -180


# A dense block of tiny parcels (about 5.5 m, 6.7 m apart, at 60° N) and three large ones, all inside one z14 tile of
# the demo neighbourhood.
SPOT = (24.94, 60.167)
STEP_LON, STEP_LAT = 0.00012, 0.00006


def dense_parcels(conn: psycopg.Connection, columns: int = 160, rows: int = 100) -> tuple[list[int], list[int]]:
    """Insert the block; (ids of the tiny parcels, ids of the large ones)."""
    west, south = _origin()
    tiny = conn.execute(
        """INSERT INTO parcels (parcel_code, tenure, land_use, geom)
           SELECT 'tiny-' || i || '-' || j, (ARRAY['registered_deed', 'informal', 'public'])[1 + (i / 40) %% 3],
                  'residential', ST_Multi(ST_MakeEnvelope(%(w)s + i * %(dx)s, %(s)s + j * %(dy)s,
                  %(w)s + i * %(dx)s + 0.0001, %(s)s + j * %(dy)s + 0.00005, 4326))
             FROM generate_series(0, %(c)s - 1) i, generate_series(0, %(r)s - 1) j
           RETURNING id""",
        {"w": west, "s": south, "dx": STEP_LON, "dy": STEP_LAT, "c": columns, "r": rows},
    ).fetchall()
    top = south + rows * STEP_LAT + 0.0003
    large = conn.execute(
        """INSERT INTO parcels (parcel_code, tenure, land_use, geom)
           SELECT 'large-' || k, 'public', 'park', ST_Multi(ST_MakeEnvelope(%(w)s + k * 0.004, %(t)s,
                  %(w)s + k * 0.004 + 0.002, %(t)s + 0.001, 4326))
             FROM generate_series(0, 2) k
           RETURNING id""",
        {"w": west, "t": top},
    ).fetchall()
    conn.execute("ANALYZE parcels")
    return [r[0] for r in tiny], [r[0] for r in large]


def _origin() -> tuple[float, float]:
    west, south, _, _ = TMS.bounds(TMS.tile(*SPOT, DETAIL_ZOOM))
    return west + 0.0005, south + 0.0005


def _polygons(geometry: dict) -> list:
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]


def _area(ring: list) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def test_a_dense_city_tile_below_the_detail_zoom_is_small_complete_and_uncut(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        tiny, large = dense_parcels(conn)
        layer = load_catalogue(conn)["parcels"]
        t = TMS.tile(*SPOT, 12)
        data, cut = tile(conn, layer, 12, t.x, t.y, max_features=2000)  # fewer than the tiny parcels
        assert not cut and 0 < len(data) < TILE_BUDGET / 10
        features = mapbox_vector_tile.decode(data)["parcels"]["features"]
        ids = {f.get("id") for f in features}
        assert set(large) <= ids  # a parcel of a pixel or more is itself, with its id
        assert not ids & set(tiny)  # the tiny ones are merged ...
        merged = [f for f in features if "_merged" in f["properties"]]
        assert len(merged) < len(tiny) / 20
        assert sum(f["properties"]["_merged"] for f in merged) <= len(tiny)
        # ... coloured by their own tenure ...
        assert {"registered_deed", "informal", "public"} <= {f["properties"]["tenure"] for f in merged}
        # ... and painting the block's area, no more and no less (decoded tile units: y up, a pixel is 16).
        bounds = TMS.xy_bounds(t)
        unit = (bounds.right - bounds.left) / EXTENT
        lon, lat = _origin()
        corners = [TO_MERCATOR.transform(lon + i * 160 * STEP_LON, lat + i * 100 * STEP_LAT) for i in (0, 1)]
        (west, south), (east, north) = [((x - bounds.left) / unit, (y - bounds.bottom) / unit) for x, y in corners]
        pixel = EXTENT / PIXELS
        rings = [ring for f in merged for polygon in _polygons(f["geometry"]) for ring in polygon]
        inside = [r for r in rings if all(west - pixel <= x <= east + pixel and south - pixel <= y <= north + pixel
                                          for x, y in r)]  # fmt: skip
        painted = sum(_area(r) for r in inside)
        assert 0.8 < painted / ((east - west) * (north - south)) < 1.2
        assert EXTENT // PIXELS == 16


def test_at_the_detail_zoom_every_feature_is_in_its_tile(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        tiny, large = dense_parcels(conn, columns=40, rows=40)
        layer = load_catalogue(conn)["parcels"]
        t = TMS.tile(*SPOT, DETAIL_ZOOM)
        data, cut = tile(conn, layer, DETAIL_ZOOM, t.x, t.y, max_features=200_000)
        ids = {f["id"] for f in mapbox_vector_tile.decode(data)["parcels"]["features"]}
        inside = {r[0] for r in conn.execute(
            "SELECT id FROM parcels WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))",
            (DETAIL_ZOOM, t.x, t.y)).fetchall()}  # fmt: skip
        assert not cut and set(tiny) | set(large) <= inside <= ids


def test_points_below_the_detail_zoom_are_one_per_pixel(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        lon, lat = _origin()
        conn.execute(
            """INSERT INTO workshops (kind, name, geom)
               SELECT 'scrap', 'yard ' || i, ST_SetSRID(ST_MakePoint(%s + (i %% 10) * 0.00002, %s + (i / 10) * 0.00001),
                      4326)
                 FROM generate_series(0, 99) i""",
            (lon, lat),
        )  # 100 yards within 20 m: one pixel from z12 down
        layer = load_catalogue(conn)["workshops"]
        for z, inside in ((11, 1), (DETAIL_ZOOM + 2, 100)):
            t = TMS.tile(lon + 0.0001, lat + 0.00005, z)
            data, _ = tile(conn, layer, z, t.x, t.y, max_features=200_000)
            names = [f["properties"].get("name", "") for f in mapbox_vector_tile.decode(data)["workshops"]["features"]]
            assert len([n for n in names if n.startswith("yard ")]) == inside
