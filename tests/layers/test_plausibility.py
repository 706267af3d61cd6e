"""Plausibility rules in the database (migration 0014): a street dragged to 157 km, a parcel the size of a town, a
feature far from every neighbourhood, or one moved out of its neighbourhood is refused with a rule code, for the
app's connection and a person's own database login alike; a disabled or removed rule is not applied."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from api.identity import db_login, store
from api.runtime import Database
from importers.demo import CODE
from layers import migrate
from layers.custom import create_custom_layer, layer_from_definition

# A point inside the demo neighbourhood, and the neighbourhood's east edge (x) at that latitude.
INSIDE = "SELECT ST_X(p), ST_Y(p), ST_XMax(n.geom) FROM neighbourhoods n, ST_PointOnSurface(n.geom) p WHERE n.code = %s"


@pytest.fixture
def demo(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        yield conn


def place(conn: psycopg.Connection) -> tuple[float, float, float]:
    return conn.execute(INSIDE, (CODE,)).fetchone()


def line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f"SRID=4326;MULTILINESTRING(({x1} {y1}, {x2} {y2}))"


def refused(conn: psycopg.Connection, statement: str, params: tuple = ()) -> tuple[psycopg.Error, dict]:
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(statement, params)
    return caught.value, json.loads(caught.value.diag.message_detail)


def a_street(conn: psycopg.Connection) -> tuple[int, int]:
    return conn.execute(
        "SELECT s.id, s.neighbourhood_id FROM streets s WHERE s.neighbourhood_id IS NOT NULL ORDER BY s.id LIMIT 1"
    ).fetchone()


def test_the_defaults_are_seeded_and_hold_for_the_demo(demo):
    rules = {(r[0], r[1]): r[2] for r in demo.execute("SELECT layer, rule, value FROM plausibility_rules")}
    assert rules[("streets", "max_length")] == 2000 and rules[("parcels", "max_area")] == 1_000_000
    assert rules[("blighted_plots", "max_area")] == 100_000
    assert rules[("streets", "near_neighbourhoods")] == 5000 and ("assets", "keep_neighbourhood") in rules
    assert ("neighbourhoods", "near_neighbourhoods") not in rules  # not a neighbourhood's feature
    triggers = {
        r[0] for r in demo.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'a15_plausibility'")
    }
    assert {"streets", "parcels", "neighbourhoods", "visits"} <= triggers and "tasks" not in triggers
    # Saving every demo street and parcel again (the geometry as it is, moved by nothing) passes the rules.
    demo.execute("UPDATE streets SET geom = ST_Translate(geom, 0, 0.0000001)")
    demo.execute("UPDATE parcels SET geom = ST_Translate(geom, 0, 0.0000001)")


def test_a_157_km_street_is_refused(demo):
    x, y, _ = place(demo)
    street, _ = a_street(demo)
    error, detail = refused(demo, "UPDATE streets SET geom = %s WHERE id = %s", (line(x, y, x + 2.83, y), street))
    assert detail["rule"] == "line_too_long" and detail["params"]["max_m"] == 2000
    assert 150_000 < detail["params"]["length_m"] < 165_000 and detail["params"]["layer"] == "streets"
    assert f"streets feature {street}: the line is" in error.diag.message_primary
    assert "at most 2000 m" in error.diag.message_primary
    _, detail = refused(demo, "INSERT INTO streets (name, geom) VALUES ('long', %s)", (line(x, y, x + 0.05, y),))
    assert detail["rule"] == "line_too_long"  # ~2.8 km
    demo.execute("INSERT INTO streets (name, geom) VALUES ('short', %s)", (line(x, y, x + 0.01, y),))  # ~550 m


def test_a_parcel_the_size_of_a_town_is_refused(demo):
    x, y, _ = place(demo)
    square = f"SRID=4326;POLYGON(({x} {y}, {x + 0.04} {y}, {x + 0.04} {y + 0.02}, {x} {y + 0.02}, {x} {y}))"  # ~5 km²
    _, detail = refused(demo, "INSERT INTO parcels (geom, tenure) VALUES (%s, 'informal')", (square,))
    assert detail["rule"] == "area_too_large" and detail["params"]["max_m2"] == 1_000_000
    assert detail["params"]["area_m2"] > 4_000_000


def test_a_feature_far_from_every_neighbourhood_is_refused_one_near_is_kept_unassigned(demo):
    x, y, east = place(demo)
    error, detail = refused(
        demo, "INSERT INTO service_points (name, category, geom) VALUES ('far', 'school', %s)",
        (f"SRID=4326;POINT({east + 1} {y})",),
    )  # fmt: skip
    assert detail["rule"] == "outside_extent" and detail["params"]["max_m"] == 5000
    assert detail["params"]["distance_m"] > 40_000 and "from the nearest neighbourhood" in error.diag.message_primary
    near = demo.execute(
        "INSERT INTO service_points (name, category, geom) VALUES ('near', 'school', %s) RETURNING neighbourhood_id",
        (f"SRID=4326;POINT({east + 0.01} {y})",),
    ).fetchone()
    assert near == (None,)  # ~550 m outside: an import may keep it unassigned


def test_moving_a_street_out_of_every_neighbourhood_is_refused(demo):
    x, y, east = place(demo)
    street, neighbourhood = a_street(demo)
    outside = line(east + 0.01, y, east + 0.012, y)
    error, detail = refused(demo, "UPDATE streets SET geom = %s WHERE id = %s", (outside, street))
    assert detail["rule"] == "left_neighbourhood" and detail["params"]["code"] == CODE
    assert "would lie outside every neighbourhood (it was in neighbourhood" in error.diag.message_primary
    assert demo.execute("SELECT neighbourhood_id FROM streets WHERE id = %s", (street,)).fetchone() == (neighbourhood,)
    # Within the neighbourhood it moves freely; saying the neighbourhood goes, on purpose, is allowed too.
    demo.execute("UPDATE streets SET geom = %s WHERE id = %s", (line(x, y, x + 0.001, y), street))
    demo.execute("UPDATE streets SET geom = %s, neighbourhood_id = NULL WHERE id = %s", (outside, street))
    assert demo.execute("SELECT neighbourhood_id FROM streets WHERE id = %s", (street,)).fetchone() == (None,)
    demo.execute("UPDATE streets SET geom = %s WHERE id = %s", (line(east + 0.02, y, east + 0.021, y), street))


def test_a_disabled_or_removed_rule_is_not_applied(demo):
    x, y, east = place(demo)
    street, _ = a_street(demo)
    demo.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'streets' AND rule = 'max_length'")
    demo.execute("UPDATE streets SET geom = %s WHERE id = %s", (line(x, y, x + 0.05, y), street))
    demo.execute("DELETE FROM plausibility_rules WHERE layer = 'streets' AND rule = 'keep_neighbourhood'")
    demo.execute("UPDATE streets SET geom = %s WHERE id = %s", (line(east + 0.01, y, east + 0.012, y), street))
    assert demo.execute("SELECT neighbourhood_id FROM streets WHERE id = %s", (street,)).fetchone() == (None,)


def test_an_unchanged_geometry_is_not_checked_again(demo):
    x, y, _ = place(demo)
    street, _ = a_street(demo)
    demo.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'streets' AND rule = 'max_length'")
    demo.execute("UPDATE streets SET geom = %s WHERE id = %s", (line(x, y, x + 0.05, y), street))
    demo.execute("UPDATE plausibility_rules SET enabled = true WHERE layer = 'streets' AND rule = 'max_length'")
    demo.execute("UPDATE streets SET name = 'renamed' WHERE id = %s", (street,))  # the old line stays as it was


def test_rules_that_do_not_fit_are_refused(demo):
    for statement, words in [
        ("INSERT INTO plausibility_rules (layer, rule, value) VALUES ('parcels', 'max_length', 10)", "does not apply"),
        ("INSERT INTO plausibility_rules (layer, rule, value) VALUES ('neighbourhoods', 'keep_neighbourhood', NULL)",
         "does not apply"),
        ("INSERT INTO plausibility_rules (layer, rule, value) VALUES ('tasks', 'near_neighbourhoods', 10)",
         "not a layer with geometries"),
        ("UPDATE plausibility_rules SET value = -1 WHERE layer = 'streets' AND rule = 'max_length'", "more than 0"),
        ("UPDATE plausibility_rules SET value = NULL WHERE layer = 'parcels' AND rule = 'max_area'", "got none"),
        ("UPDATE plausibility_rules SET value = 3 WHERE layer = 'parcels' AND rule = 'keep_neighbourhood'",
         "takes no value"),
    ]:  # fmt: skip
        with pytest.raises(psycopg.errors.CheckViolation) as caught:
            demo.execute(statement)
        assert words in caught.value.diag.message_primary, statement
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        demo.execute("INSERT INTO plausibility_rules (layer, rule, value) VALUES ('streets', 'max_width', 1)")
    assert "'max_width' is not a plausibility rule; use one of: max_length" in caught.value.diag.message_primary


def test_a_planners_own_database_login_is_refused_too(pg_server, demo_db_url, demo):
    x, y, east = place(demo)
    street, _ = a_street(demo)
    name = f"planner-{uuid.uuid4().hex[:8]}"
    store.add_user(demo, name, [store.Grant("planner", CODE)])
    with psycopg.connect(pg_server.admin(conninfo_to_dict(demo_db_url)["dbname"]), autocommit=True) as admin:
        login, password = db_login.ensure_login(demo, admin, name)
        try:
            url = db_login.connection_url(Database(demo_db_url), login, password)
            with psycopg.connect(url, autocommit=True) as own:
                _, detail = refused(
                    own, "UPDATE streets SET geom = %s WHERE id = %s", (line(x, y, x + 2.83, y), street)
                )
                assert detail["rule"] == "line_too_long"
                _, detail = refused(
                    own, "UPDATE streets SET geom = %s WHERE id = %s", (line(east + 0.01, y, east + 0.012, y), street)
                )
                assert detail["rule"] == "left_neighbourhood"
                assert own.execute("SELECT count(*) FROM plausibility_rules").fetchone()[0] > 10  # reads them
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                    own.execute("UPDATE plausibility_rules SET enabled = false")
                assert "change plausibility rules" in caught.value.diag.message_primary
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    own.execute("DELETE FROM plausibility_rules")
        finally:
            db_login.drop_login(admin, db_login.LOGIN_PREFIX + name)


def test_a_custom_layer_gets_the_neighbourhood_rules(demo):
    x, y, east = place(demo)
    definition = {"name": "benches", "geometry_type": "Point", "attributes": [{"name": "state", "type": "text"}]}
    create_custom_layer(demo, layer_from_definition(definition))
    rules = demo.execute("SELECT rule, value FROM plausibility_rules WHERE layer = 'benches' ORDER BY rule").fetchall()
    assert rules == [("keep_neighbourhood", None), ("near_neighbourhoods", 5000)]
    _, detail = refused(demo, "INSERT INTO benches (geom) VALUES (%s)", (f"SRID=4326;POINT({east + 1} {y})",))
    assert detail == {"rule": "outside_extent", "params": detail["params"]} and detail["params"]["layer"] == "benches"
    bench = demo.execute(
        "INSERT INTO benches (geom) VALUES (%s) RETURNING id", (f"SRID=4326;POINT({x} {y})",)
    ).fetchone()
    _, detail = refused(
        demo, "UPDATE benches SET geom = %s WHERE id = %s", (f"SRID=4326;POINT({east + 0.01} {y})", bench[0])
    )
    assert detail["rule"] == "left_neighbourhood"


def test_without_neighbourhoods_features_go_anywhere(conn):
    conn.execute("INSERT INTO service_points (name, category, geom) VALUES ('x', 'school', 'SRID=4326;POINT(10 10)')")


def test_0014_down_and_up(empty_db_url):
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "0013")
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%plausibility%'").fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('public.plausibility_rules')").fetchone()[0] is None
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.plausibility_rules").fetchone()[0] > 10
