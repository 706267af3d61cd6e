"""Generated metric quantities and the derived neighbourhood."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import shapely
from pyproj import Transformer
from shapely import LineString, Polygon

# A 100 m × 100 m square and a 1 km line drawn in UTM 35N (Helsinki), stored as lon/lat.
_UTM_TO_LONLAT = Transformer.from_crs("EPSG:32635", "EPSG:4326", always_xy=True)


def lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_UTM_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))


X, Y = 385_000, 6_672_000
SQUARE = lonlat(Polygon([(X, Y), (X + 100, Y), (X + 100, Y + 100), (X, Y + 100)]))
LINE = lonlat(LineString([(X, Y), (X + 600, Y), (X + 600, Y + 400)]))
BOUNDARY = lonlat(Polygon([(X - 500, Y - 500), (X + 500, Y - 500), (X + 500, Y + 500), (X - 500, Y + 500)]))
ELSEWHERE = lonlat(Polygon([(X + 2000, Y), (X + 3000, Y), (X + 3000, Y + 1000), (X + 2000, Y + 1000)]))


def test_area_of_a_known_polygon_within_half_a_percent(conn):
    area = conn.execute(
        "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 4326)) RETURNING area_m2", (SQUARE.wkt,)
    ).fetchone()[0]
    assert area == pytest.approx(10_000, rel=0.005)


def test_length_of_a_known_line_within_half_a_percent(conn):
    length = conn.execute(
        "INSERT INTO streets (geom) VALUES (ST_GeomFromText(%s, 4326)) RETURNING length_m", (LINE.wkt,)
    ).fetchone()[0]
    assert length == pytest.approx(1_000, rel=0.005)


def test_quantities_follow_the_geometry_and_cannot_be_written(conn):
    pid = conn.execute(
        "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 4326)) RETURNING id", (SQUARE.wkt,)
    ).fetchone()[0]
    wider = lonlat(Polygon([(X, Y), (X + 200, Y), (X + 200, Y + 100), (X, Y + 100)]))
    conn.execute("UPDATE parcels SET geom = ST_GeomFromText(%s, 4326) WHERE id = %s", (wider.wkt, pid))
    area = conn.execute("SELECT area_m2 FROM parcels WHERE id = %s", (pid,)).fetchone()[0]
    assert area == pytest.approx(20_000, rel=0.005)
    with pytest.raises(psycopg.errors.GeneratedAlways):
        conn.execute("UPDATE parcels SET area_m2 = 1 WHERE id = %s", (pid,))


def add_neighbourhood(conn: psycopg.Connection, code: str, polygon: Polygon) -> int:
    return conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, %s, ST_GeomFromText(%s, 4326)) RETURNING id",
        (code, code.title(), polygon.wkt),
    ).fetchone()[0]


def test_neighbourhood_is_derived_from_the_location(conn):
    inside = add_neighbourhood(conn, "INSIDE", BOUNDARY)
    add_neighbourhood(conn, "OTHER", ELSEWHERE)
    pid = conn.execute(
        "INSERT INTO parcels (geom) VALUES (ST_GeomFromText(%s, 4326)) RETURNING neighbourhood_id", (SQUARE.wkt,)
    ).fetchone()[0]
    assert pid == inside
    lamp = conn.execute(
        "INSERT INTO assets (kind, geom) VALUES ('street_light', ST_Centroid(ST_GeomFromText(%s, 4326))) "
        "RETURNING neighbourhood_id",
        (ELSEWHERE.wkt,),
    ).fetchone()[0]
    assert lamp != inside and lamp is not None


def test_a_moved_feature_changes_neighbourhood_and_a_given_one_is_kept(conn):
    inside = add_neighbourhood(conn, "INSIDE", BOUNDARY)
    other = add_neighbourhood(conn, "OTHER", ELSEWHERE)
    aid = conn.execute(
        "INSERT INTO assets (kind, geom) VALUES ('tree', ST_Centroid(ST_GeomFromText(%s, 4326))) RETURNING id",
        (SQUARE.wkt,),
    ).fetchone()[0]
    conn.execute("UPDATE assets SET geom = ST_Centroid(ST_GeomFromText(%s, 4326)) WHERE id = %s", (ELSEWHERE.wkt, aid))
    assert conn.execute("SELECT neighbourhood_id FROM assets WHERE id = %s", (aid,)).fetchone()[0] == other
    given = conn.execute(
        "INSERT INTO assets (kind, neighbourhood_id, geom) VALUES ('tree', %s, "
        "ST_Centroid(ST_GeomFromText(%s, 4326))) RETURNING neighbourhood_id",
        (inside, ELSEWHERE.wkt),
    ).fetchone()[0]
    assert given == inside


def test_outside_every_neighbourhood_stays_unassigned(conn):
    add_neighbourhood(conn, "INSIDE", BOUNDARY)
    outside = lonlat(shapely.Point(X + 2000, Y))  # near enough to be plausible (docs/plausibility.md)
    nid = conn.execute(
        "INSERT INTO assets (kind, geom) VALUES ('bench', ST_GeomFromText(%s, 4326)) RETURNING neighbourhood_id",
        (outside.wkt,),
    ).fetchone()[0]
    assert nid is None
