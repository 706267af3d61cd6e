"""Coverage per service category along the street network (pgRouting), straight-line where there is none."""

from __future__ import annotations

import time
from datetime import date

import psycopg
import pytest

from gis import coverage, indicators

HOOD = "SRID=4326;MULTIPOLYGON(((24.895 60.098, 24.910 60.098, 24.910 60.105, 24.895 60.105, 24.895 60.098)))"
# At 60.1° N, 0.001° of latitude is about 111 m, 0.001° of longitude about 56 m.
# A river runs east-west between y = 60.1000 and y = 60.1027; the only bridge is at x = 24.9036 (about 200 m east).
# Streets cross without a shared vertex (the bridge is one line over both banks' streets): noding is our job.
SOUTH_BANK = "SRID=4326;LINESTRING(24.8990 60.1000, 24.9060 60.1000)"
NORTH_BANK = "SRID=4326;LINESTRING(24.8990 60.1027, 24.9060 60.1027)"
BRIDGE = "SRID=4326;LINESTRING(24.9036 60.0995, 24.9036 60.1032)"


def square(x: float, y: float, d: float = 0.0001) -> str:
    return f"SRID=4326;POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y}))"


@pytest.fixture
def conn(owner_conn: psycopg.Connection) -> psycopg.Connection:
    """As the owner: the history is moved back in time, which the application role may not."""
    return owner_conn


def insert(conn: psycopg.Connection, table: str, geom: str, **attrs: object) -> int:
    cols = ", ".join([*attrs, "geom"])
    marks = ", ".join(["%s"] * (len(attrs) + 1))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING id"
    return conn.execute(sql, (*attrs.values(), geom)).fetchone()[0]


@pytest.fixture
def river(conn: psycopg.Connection) -> dict[str, int]:
    """Two homes and a school across the river from the first one; mapped on 2026-01-01."""
    conn.execute("INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('R', 'River', 100, %s)", (HOOD,))
    ids = {
        "south": insert(conn, "streets", SOUTH_BANK, surface="asphalt"),
        "north": insert(conn, "streets", NORTH_BANK, surface="asphalt"),
        "bridge": insert(conn, "streets", BRIDGE, surface="concrete"),
        # ~11 m south of the south bank street; ~320 m from the school straight, ~725 m by the bridge
        "home_south": insert(conn, "parcels", square(24.8999, 60.0998), land_use="residential", tenure="informal"),
        # on the north bank, ~60 m from the school along its street
        "home_north": insert(conn, "parcels", square(24.9010, 60.1028), land_use="residential", tenure="informal"),
        "school": insert(conn, "service_points", "SRID=4326;POINT(24.9000 60.1028)", category="school", name="S"),
    }
    conn.execute("UPDATE mahalle.history SET at = '2026-01-01'")
    return ids


def by_category(result: dict) -> dict[str, dict]:
    return {c["category"]: c for c in result["coverage"]["by_category"]}


def compute(conn: psycopg.Connection, as_of: date | None = None) -> dict:
    return indicators.compute(conn, indicators.neighbourhood_scope(conn, "R"), as_of)


def set_rule(conn: psycopg.Connection, category: str, distance: float) -> None:
    conn.execute(
        "INSERT INTO coverage_rules (category, distance_m) VALUES (%s, %s) "
        "ON CONFLICT (category) DO UPDATE SET distance_m = excluded.distance_m",
        (category, distance),
    )


def test_pgrouting_is_there(conn):
    assert coverage.pgrouting_schema(conn) is not None


def test_along_the_streets_the_river_is_in_the_way(conn, river):
    result = compute(conn)
    school = by_category(result)["school"]
    # straight-line the south home is 320 m from the school; by the bridge it is about 725 m: not within 500 m
    assert school == {"category": "school", "distance_m": 500, "method": "network", "homes": 2, "covered": 1,
                      "pct": 50.0}  # fmt: skip
    assert result["coverage"]["homes"] == 2 and result["coverage"]["pct"]["school"] == 50.0
    assert indicators.summary(result)["coverage_school"] == 50.0
    # a category with no service (no park, no clinic): 0 %, not an error
    cats = by_category(result)
    assert [c["category"] for c in result["coverage"]["by_category"]] == ["park", "school", "clinic", "hospital"]
    assert cats["park"]["pct"] == 0 and cats["park"]["distance_m"] == 300 and cats["clinic"]["covered"] == 0
    # the rule's distance decides: 800 m reaches across the bridge
    set_rule(conn, "school", 800)
    assert by_category(compute(conn))["school"]["pct"] == 100.0
    set_rule(conn, "school", 40)  # the north home is ~60 m along its street
    assert by_category(compute(conn))["school"]["covered"] == 0
    conn.execute("DELETE FROM coverage_rules WHERE category = 'hospital'")
    assert "hospital" not in by_category(compute(conn)) and "coverage_hospital" not in indicators.summary(compute(conn))


def test_without_streets_distances_are_straight_lines(conn, river):
    conn.execute("DELETE FROM streets")
    school = by_category(compute(conn))["school"]
    assert school["method"] == "straight_line" and school["pct"] == 100.0
    # as of a date the streets were there: along them again
    then = by_category(compute(conn, date(2026, 3, 1)))["school"]
    assert then["method"] == "network" and then["pct"] == 50.0


def test_without_pgrouting_distances_are_straight_lines(conn, river, monkeypatch):
    monkeypatch.setattr(coverage, "pgrouting_schema", lambda conn: None)
    school = by_category(compute(conn))["school"]
    assert school["method"] == "straight_line" and school["pct"] == 100.0


def test_streets_far_away_are_no_network(conn, river):
    far = "SRID=4326;LINESTRING(25.5 60.5, 25.6 60.5)"
    conn.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'streets'")  # 45 km away, on purpose
    conn.execute("UPDATE streets SET geom = %s", (far,))
    school = by_category(compute(conn))["school"]
    assert school["method"] == "straight_line" and school["pct"] == 100.0


def test_as_of_a_date_reads_the_services_of_then(conn, river):
    insert(conn, "service_points", "SRID=4326;POINT(24.9001 60.0997)", category="school", name="South school")
    conn.execute("UPDATE mahalle.history SET at = '2026-06-01' WHERE at > '2026-01-02'")
    assert by_category(compute(conn, date(2026, 3, 1)))["school"]["pct"] == 50.0
    assert by_category(compute(conn))["school"]["pct"] == 100.0
    # and a park: a parcel whose land use is park, reached along the street
    insert(conn, "parcels", square(24.9005, 60.0998, 0.0004), land_use="park", tenure="public")
    assert by_category(compute(conn))["park"]["covered"] == 1


def test_a_drawn_polygon_and_no_homes(conn, river):
    north = "POLYGON((24.895 60.102, 24.910 60.102, 24.910 60.105, 24.895 60.105, 24.895 60.102))"
    school = by_category(indicators.compute(conn, indicators.polygon_scope(conn, north)))["school"]
    assert (school["homes"], school["covered"], school["method"]) == (1, 1, "network")
    empty = "POLYGON((24.80 60.00, 24.81 60.00, 24.81 60.01, 24.80 60.01, 24.80 60.00))"
    school = by_category(indicators.compute(conn, indicators.polygon_scope(conn, empty)))["school"]
    assert school["homes"] == 0 and school["pct"] is None


def test_a_neighbourhood_of_thousands_stays_fast(conn):
    """A 40 × 40 grid of streets drawn as long lines (none noded), 3,000 homes, 20 schools: about a second."""
    x0, y0, step = 24.90, 60.10, 0.0009
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('G', 'Grid', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, "
        "4326)))",
        (x0 - 0.001, y0 - 0.001, x0 + 40 * step, y0 + 40 * step / 2),
    )
    conn.execute(
        "INSERT INTO streets (geom) SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(%(x0)s, %(y0)s + i * %(s)s / 2), "
        "ST_MakePoint(%(x0)s + 39 * %(s)s, %(y0)s + i * %(s)s / 2)), 4326) FROM generate_series(0, 39) i "
        "UNION ALL SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(%(x0)s + i * %(s)s, %(y0)s), "
        "ST_MakePoint(%(x0)s + i * %(s)s, %(y0)s + 39 * %(s)s / 2)), 4326) FROM generate_series(0, 39) i",
        {"x0": x0, "y0": y0, "s": step},
    )
    conn.execute(
        "INSERT INTO parcels (land_use, tenure, geom) SELECT 'residential', 'informal', "
        "ST_SetSRID(ST_Expand(ST_MakePoint(%(x0)s + (i %% 60) * %(s)s * 0.65 + 0.0001, "
        "%(y0)s + (i / 60) * %(s)s * 0.38 + 0.00005), 0.00003), 4326) FROM generate_series(0, 2999) i",
        {"x0": x0, "y0": y0, "s": step},
    )
    conn.execute(
        "INSERT INTO service_points (category, name, geom) SELECT 'school', 'S' || i, "
        "ST_SetSRID(ST_MakePoint(%(x0)s + (i %% 5) * 8 * %(s)s + 0.0002, %(y0)s + (i / 5) * 4 * %(s)s + 0.0001), 4326) "
        "FROM generate_series(0, 19) i",
        {"x0": x0, "y0": y0, "s": step},
    )
    scope = indicators.neighbourhood_scope(conn, "G")
    q = indicators._Query(conn, scope, None)
    conn.execute("SET jit = off")  # as the app's connections (core.db.SESSION_SETTINGS)
    started = time.perf_counter()
    result = indicators._coverage(q)
    elapsed = time.perf_counter() - started
    school = {c["category"]: c for c in result["by_category"]}["school"]
    assert school["method"] == "network" and school["homes"] == 3000
    assert 0 < school["covered"] <= 3000
    assert elapsed < 3.0, elapsed  # about 1 s on a busy 2-core machine: room to spare


def test_homes_between_services_on_one_street(conn):
    """Homes are measured from the vertices around them on their street: a service on the same street, on either
    side, or the street's end beyond which a home lies. One street (~556 m, 0.01° at 60.1° N); schools ~11 m north
    of it at x = 24.9010 and 24.9080, homes ~11 m south of it."""
    conn.execute("INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('R', 'Row', 10, %s)", (HOOD,))
    insert(conn, "streets", "SRID=4326;LINESTRING(24.9000 60.1000, 24.9100 60.1000)", surface="asphalt")
    for x in (24.9010, 24.9080):
        insert(conn, "service_points", f"SRID=4326;POINT({x} 60.1001)", category="school", name=f"S{x}")
    # along the street and both snaps: ~133 m (by the east school), ~105 m (west), ~216 m (either), and beyond the
    # street's west end ~118 m (~51 m to the end, ~56 m along, ~11 m to the school)
    for x in (24.9060, 24.9025, 24.9045, 24.8990):
        insert(conn, "parcels", square(x, 60.0998), land_use="residential", tenure="informal")
    expected = {100: 0, 150: 3, 230: 4}
    for distance, covered in expected.items():
        set_rule(conn, "school", distance)
        school = by_category(compute(conn))["school"]
        assert (school["method"], school["homes"], school["covered"]) == ("network", 4, covered), distance
