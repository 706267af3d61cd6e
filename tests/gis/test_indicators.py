"""Indicators computed in PostGIS on a small made-up neighbourhood, now, as of past dates, and for a polygon."""

from __future__ import annotations

from datetime import date, datetime

import psycopg
import pytest

from core.errors import InvalidInput, NotFound
from gis import indicators

HOOD = "SRID=4326;MULTIPOLYGON(((24.90 60.10, 24.92 60.10, 24.92 60.11, 24.90 60.11, 24.90 60.10)))"


def square(x: float, y: float, d: float = 0.0004) -> str:
    return f"SRID=4326;POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y}))"


@pytest.fixture
def conn(owner_conn: psycopg.Connection) -> psycopg.Connection:
    """As the owner: these tests move the history back in time, which the application role may not."""
    return owner_conn


def insert(conn: psycopg.Connection, table: str, geom: str, **attrs: object) -> int:
    cols = ", ".join([*attrs, "geom"])
    marks = ", ".join(["%s"] * (len(attrs) + 1))
    return conn.execute(
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING id", (*attrs.values(), geom)
    ).fetchone()[0]


def line(x: float, y: float, dx: float) -> str:
    return f"SRID=4326;LINESTRING({x} {y}, {x + dx} {y})"


@pytest.fixture
def hood(conn: psycopg.Connection) -> dict[str, int]:
    """Streets, parcels, plots, workshops and services; mapped on 2026-01-01."""
    conn.execute("INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('A', 'Alpha', 2000, %s)", (HOOD,))
    ids = {
        "paved_lit": insert(conn, "streets", line(24.901, 60.101, 0.004), surface="asphalt", lighting="lit"),
        "earth_unlit": insert(conn, "streets", line(24.901, 60.103, 0.004), surface="earth", lighting="unlit"),
        "gravel_partial": insert(conn, "streets", line(24.911, 60.108, 0.004), surface="gravel", lighting="partial"),
        "home_near": insert(conn, "parcels", square(24.9015, 60.1015), land_use="residential", tenure="informal"),
        "home_far": insert(conn, "parcels", square(24.9185, 60.1085), land_use="residential", tenure="registered_deed"),
        "park": insert(conn, "parcels", square(24.9025, 60.1015, 0.001), land_use="park", tenure="public"),
        "plot": insert(conn, "blighted_plots", square(24.9035, 60.1035), kind="vacant_lot"),
        "plot_far": insert(conn, "blighted_plots", square(24.917, 60.102), kind="dumping_site", status="secured"),
        "yard": insert(conn, "workshops", "SRID=4326;POINT(24.9016 60.1021)", kind="scrap", polluting=True),
        "clean": insert(conn, "workshops", "SRID=4326;POINT(24.915 60.105)", kind="carpentry", polluting=False),
        "school": insert(conn, "service_points", "SRID=4326;POINT(24.9030 60.1032)", category="school", name="S1"),
        "clinic": insert(conn, "service_points", "SRID=4326;POINT(24.9180 60.1090)", category="clinic"),
        "mosque": insert(conn, "service_points", "SRID=4326;POINT(24.9100 60.1050)", category="mosque"),
    }
    conn.execute("UPDATE mahalle.history SET at = '2026-01-01'")
    return ids


def measure(conn: psycopg.Connection, table: str, fid: int, what: str = "ST_Length") -> float:
    return conn.execute(f"SELECT {what}(geom::geography) FROM {table} WHERE id = %s", (fid,)).fetchone()[0]


def test_indicators_of_a_neighbourhood(conn, hood):
    result = indicators.compute(conn, indicators.neighbourhood_scope(conn, "A"))
    lengths = {k: measure(conn, "streets", hood[k]) for k in ("paved_lit", "earth_unlit", "gravel_partial")}
    total = sum(lengths.values())
    assert result["streets"]["count"] == 3
    assert result["streets"]["length_m"] == pytest.approx(total, abs=0.1)
    assert result["streets"]["paved_pct"] == round(100 * lengths["paved_lit"] / total, 1)
    assert result["streets"]["lit_pct"] == round(100 * lengths["paved_lit"] / total, 1)
    assert result["parcels"]["by_tenure"] == {"informal": 1, "registered_deed": 1, "public": 1}
    assert result["parcels"]["formalised_pct"] == round(200 / 3, 1)  # registered deed and public land
    assert result["blighted_plots"]["count"] == 2 and result["blighted_plots"]["cleared_pct"] == 0
    assert result["workshops"] == {"polluting": 1, "active": 1, "sealed": 0, "by_status": {"active": 1}}
    assert result["service_points"]["by_category"] == {"clinic": 1, "mosque": 1, "school": 1}
    park = measure(conn, "parcels", hood["park"], "ST_Area")
    assert result["green_space"]["m2_per_resident"] == round(park / 2000, 2)
    # the near home is next to the park and the school, the far one next to the clinic; distances run along the
    # streets, and the near home's street does not reach the school's (they are not joined): not covered
    assert result["coverage"]["homes"] == 2
    assert result["coverage"]["pct"] == {"park": 50.0, "school": 0.0, "clinic": 50.0, "hospital": 0.0}
    assert {c["method"] for c in result["coverage"]["by_category"]} == {"network"}
    assert indicators.summary(result)["coverage_school"] == 0.0
    priorities = result["priorities"]
    assert [s["id"] for s in priorities["unlit_streets_near_schools"]] == [hood["earth_unlit"]]
    assert priorities["unlit_streets_near_schools"][0]["school"] == "S1"
    assert [p["id"] for p in priorities["blighted_plots_near_schools"]] == [hood["plot"]]
    assert [w["id"] for w in priorities["polluting_workshops_near_homes"]] == [hood["yard"]]
    assert priorities["polluting_workshops_near_homes"][0]["distance_m"] < 50


def test_a_surveyed_boundary_of_many_vertices_gives_the_same_indicators(conn, hood):
    plain = indicators.compute(conn, indicators.neighbourhood_scope(conn, "A"))
    # The same square with a vertex every ~20 cm (some 20,000): what a surveyed boundary brings.
    conn.execute("UPDATE neighbourhoods SET geom = ST_Multi(ST_Segmentize(geom::geography, 0.2)::geometry) "
                 "WHERE code = 'A'")  # fmt: skip
    assert conn.execute("SELECT ST_NPoints(geom) FROM neighbourhoods WHERE code = 'A'").fetchone()[0] > 19_000
    dense = indicators.compute(conn, indicators.neighbourhood_scope(conn, "A"))
    assert dense["scope"]["area_m2"] == pytest.approx(plain["scope"]["area_m2"], rel=1e-6)
    assert {k: v for k, v in dense.items() if k != "scope"} == {k: v for k, v in plain.items() if k != "scope"}


def test_indicators_as_of_a_date_read_the_history(conn, hood):
    conn.execute("UPDATE streets SET surface = 'asphalt', lighting = 'lit' WHERE id = %s", (hood["earth_unlit"],))
    conn.execute("UPDATE blighted_plots SET status = 'cleared' WHERE id = %s", (hood["plot"],))
    conn.execute("UPDATE workshops SET status = 'sealed' WHERE id = %s", (hood["yard"],))
    conn.execute("DELETE FROM service_points WHERE id = %s", (hood["mosque"],))
    conn.execute("UPDATE mahalle.history SET at = '2026-06-15' WHERE at > '2026-01-01'")
    scope = indicators.neighbourhood_scope(conn, "A")
    before = indicators.compute(conn, scope, date(2026, 3, 1))
    after = indicators.compute(conn, scope, date(2026, 6, 15))  # the end of that day includes its changes
    now = indicators.compute(conn, scope)
    assert before["as_of"] == "2026-03-01"
    assert indicators.summary(after) == indicators.summary(now)
    assert before["blighted_plots"]["cleared_pct"] == 0 and after["blighted_plots"]["cleared_pct"] == 50
    assert (before["workshops"]["active"], after["workshops"]["active"]) == (1, 0)
    assert (before["workshops"]["sealed"], after["workshops"]["sealed"]) == (0, 1)
    assert (before["service_points"]["total"], after["service_points"]["total"]) == (3, 2)
    assert before["streets"]["paved_pct"] < after["streets"]["paved_pct"]
    assert after["priorities"]["unlit_streets_near_schools"] == []
    assert len(before["priorities"]["unlit_streets_near_schools"]) == 1
    # before anything was mapped there is nothing
    empty = indicators.compute(conn, scope, datetime(2025, 12, 31))
    assert empty["streets"]["length_m"] == 0 and empty["streets"]["paved_pct"] is None


def test_indicators_of_a_drawn_polygon_clip_streets(conn, hood):
    west_half = {
        "type": "Polygon",
        "coordinates": [[[24.90, 60.10], [24.9024, 60.10], [24.9024, 60.11], [24.90, 60.11], [24.90, 60.10]]],
    }
    scope = indicators.polygon_scope(conn, west_half)
    result = indicators.compute(conn, scope)
    clipped = conn.execute(
        "SELECT sum(ST_Length(ST_Intersection(geom, ST_GeomFromText('POLYGON((24.90 60.10, 24.9024 60.10, "
        "24.9024 60.11, 24.90 60.11, 24.90 60.10))', 4326))::geography)) FROM streets"
    ).fetchone()[0]
    assert result["streets"]["length_m"] == pytest.approx(clipped, abs=0.1)
    assert result["streets"]["count"] == 2
    assert result["parcels"]["count"] == 1  # the near home; the park's centre lies east of the line
    assert result["scope"]["polygon"]["type"] == "Polygon"
    assert abs(scope.population - 2000 * 0.0024 / 0.02) <= 1  # even density
    wkt = indicators.polygon_scope(
        conn, "POLYGON((24.90 60.10, 24.9024 60.10, 24.9024 60.11, 24.90 60.11, 24.90 60.10))"
    )
    assert indicators.summary(indicators.compute(conn, wkt)) == indicators.summary(result)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"type": "Point", "coordinates": [24.9, 60.1]}, "must be a Polygon or MultiPolygon, not Point"),
        ("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "geometry is invalid"),
        ("POLYGON((500 0, 501 0, 501 1, 500 0))", "longitude, latitude"),
        ("not a shape", "geometry is not readable"),
        (42, "GeoJSON polygon or WKT"),
    ],
)
def test_bad_polygons_are_refused_naming_the_field(conn, value, fragment):
    with pytest.raises(InvalidInput, match=fragment) as err:
        indicators.polygon_scope(conn, value)
    assert err.value.column == "geometry"


def test_an_unknown_neighbourhood_is_not_found(conn):
    with pytest.raises(NotFound, match="no neighbourhood with code 'ZZ'"):
        indicators.neighbourhood_scope(conn, "ZZ")


def test_a_roll_up_of_two_neighbourhoods_adds_them_up(conn, hood):
    """B: one paved street, half lit, and 500 residents; A and B together are A's figures plus B's."""
    b_area = "SRID=4326;MULTIPOLYGON(((24.93 60.10, 24.95 60.10, 24.95 60.11, 24.93 60.11, 24.93 60.10)))"
    conn.execute("INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('B', 'Beta', 500, %s)", (b_area,))
    insert(conn, "streets", line(24.931, 60.101, 0.008), surface="asphalt", lighting="unlit")
    insert(conn, "parcels", square(24.935, 60.105), land_use="residential", tenure="informal")
    a, b = (indicators.compute(conn, indicators.neighbourhood_scope(conn, c)) for c in ("A", "B"))
    both = indicators.compute(conn, indicators.scope_of(conn, "A,B"))
    assert both["scope"]["neighbourhoods"] == ["A", "B"] and both["scope"]["population"] == 2500
    assert both["streets"]["count"] == 4
    assert both["streets"]["length_m"] == pytest.approx(a["streets"]["length_m"] + b["streets"]["length_m"], abs=0.1)
    lit = a["streets"]["lit_m"] / (a["streets"]["length_m"] + b["streets"]["length_m"])
    assert both["streets"]["lit_pct"] == pytest.approx(100 * lit, abs=0.06)  # from the sums, not a mean of %
    assert both["parcels"]["by_tenure"] == {"informal": 2, "registered_deed": 1, "public": 1}
    assert both["parcels"]["formalised_pct"] == 50.0
    assert both["green_space"]["m2_per_resident"] == round(both["green_space"]["park_m2"] / 2500, 2)
    assert both["service_points"] == a["service_points"]  # B has none
    with pytest.raises(NotFound, match="'ZZ'"):
        indicators.scope_of(conn, "A,ZZ")


def test_priorities_find_a_school_just_within_the_distance_far_north(conn):
    """The services near a feature are found through their index by a box grown from the distance; at 69.6° N a
    degree of longitude is ~39 km against ~111 km of latitude, so the box must be grown more east-west: a school
    199 m east or north of an unlit street is near it, one 201 m east is not."""
    north = "SRID=4326;MULTIPOLYGON(((18.90 69.60, 19.10 69.60, 19.10 69.70, 18.90 69.70, 18.90 69.60)))"
    conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES ('N', 'North', %s)", (north,))

    def project(x: float, y: float, metres: float, azimuth: float) -> str:
        return conn.execute(
            "SELECT ST_AsEWKT(ST_Project(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, radians(%s))"
            "::geometry)",
            (x, y, metres, azimuth),
        ).fetchone()[0]

    streets = {}
    for key, (x, y, metres, azimuth) in {
        "east": (18.95, 69.65, 199, 90),
        "north": (19.00, 69.62, 199, 0),
        "far": (19.05, 69.68, 201, 90),
    }.items():
        streets[key] = insert(conn, "streets", line(x - 0.001, y, 0.001), surface="earth", lighting="unlit")
        insert(conn, "service_points", project(x, y, metres, azimuth), category="school", name=key)
    near = indicators.compute(conn, indicators.neighbourhood_scope(conn, "N"))["priorities"]
    found = {s["id"]: s for s in near["unlit_streets_near_schools"]}
    assert set(found) == {streets["east"], streets["north"]}
    assert all(198.5 < s["distance_m"] < 199.5 for s in found.values())
