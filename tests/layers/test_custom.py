"""Custom layers get a real table with the same rules, history and neighbourhood derivation."""

from __future__ import annotations

import psycopg
import pytest

from core.db import attributed
from layers.catalogue import load_catalogue
from layers.custom import create_custom_layer, drop_custom_layer, layer_from_definition
from layers.spec import SpecError

WELLS = {
    "name": "water_wells",
    "title": "Water wells",
    "geometry_type": "Point",
    "attributes": [
        {"name": "depth_m", "type": "number", "minimum": 0, "unit": "m"},
        {"name": "state", "type": "choice", "choices": ["working", "dry", "polluted"], "required": True},
        {"name": "dug_on", "type": "date"},
    ],
}


def test_custom_layer_is_a_real_layer(conn):
    with attributed(conn, "planner"):
        create_custom_layer(conn, layer_from_definition(WELLS))
    cat = load_catalogue(conn)
    assert cat["water_wells"].attribute("state").values == ("working", "dry", "polluted")
    with attributed(conn, "field"):
        wid = conn.execute(
            "INSERT INTO water_wells (state, depth_m, geom) VALUES ('dry', 12, "
            "'SRID=4326;POINT(24.94 60.17)') RETURNING id"
        ).fetchone()[0]
        conn.execute("UPDATE water_wells SET state = 'working' WHERE id = %s", (wid,))
    ops = conn.execute(
        "SELECT operation, actor, after->>'state' FROM mahalle.history WHERE layer = 'water_wells' ORDER BY id"
    ).fetchall()
    assert ops == [("INSERT", "field", "dry"), ("UPDATE", "field", "working")]
    geo = conn.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'water_wells'").fetchone()
    assert geo == ("POINT", 4326)
    with pytest.raises(
        psycopg.Error, match="water_wells new feature: state 'salty' is not one of: working, dry, polluted"
    ):
        conn.execute("INSERT INTO water_wells (state, geom) VALUES ('salty', 'SRID=4326;POINT(24.94 60.17)')")
    with pytest.raises(psycopg.Error, match="depth_m must be at least 0"):
        conn.execute(
            "INSERT INTO water_wells (state, depth_m, geom) VALUES ('dry', -3, 'SRID=4326;POINT(24.94 60.17)')"
        )


def test_polygon_custom_layer_gets_its_area(conn):
    create_custom_layer(conn, layer_from_definition({"name": "gardens", "geometry_type": "Polygon", "attributes": []}))
    area = conn.execute(
        "INSERT INTO gardens (geom) VALUES (ST_Buffer('SRID=4326;POINT(24.94 60.17)'::geography, 10)"
        "::geometry) RETURNING area_m2"
    ).fetchone()[0]
    assert area == pytest.approx(314, rel=0.01)


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({**WELLS, "name": "parcels"}, "already exists"),
        ({**WELLS, "name": "Bad Name; drop table x"}, "must start with a letter"),
        ({**WELLS, "name": "history"}, "already exists"),
        ({**WELLS, "geometry_type": "Circle"}, "is not one of"),
        ({**WELLS, "attributes": [{"name": "version", "type": "text"}]}, "is reserved"),
        ({**WELLS, "attributes": [{"name": "x", "type": "blob"}]}, "unknown type"),
        ({**WELLS, "attributes": [{"name": "x", "type": "choice"}]}, "has no values"),
        ({**WELLS, "attributes": [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}]}, "declared twice"),
        ({"geometry_type": "Point"}, "incomplete"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_created(conn, definition, message):
    tables_before = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    with pytest.raises(SpecError, match=message):
        create_custom_layer(conn, layer_from_definition(definition))
    assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == tables_before


def test_drop_keeps_history_and_refuses_core_layers(conn):
    create_custom_layer(conn, layer_from_definition(WELLS))
    conn.execute("INSERT INTO water_wells (state, geom) VALUES ('dry', 'SRID=4326;POINT(24.94 60.17)')")
    drop_custom_layer(conn, "water_wells")
    assert "water_wells" not in load_catalogue(conn)
    assert conn.execute("SELECT count(*) FROM mahalle.history WHERE layer = 'water_wells'").fetchone()[0] == 1
    with pytest.raises(SpecError, match="core layer"):
        drop_custom_layer(conn, "parcels")
