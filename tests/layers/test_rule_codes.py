"""Every refusal of a layer's rules carries, besides its English message, a DETAIL of JSON text naming the rule
and its parameters, from which a client words it in the user's language (``RuleViolation.rule``/``params``)."""

from __future__ import annotations

import json

import psycopg
import pytest

from core.db import attributed
from core.errors import RuleViolation
from layers.custom import create_custom_layer, layer_from_definition

SQUARE = "SRID=4326;POLYGON((24.94 60.17, 24.941 60.17, 24.941 60.1705, 24.94 60.1705, 24.94 60.17))"
BOWTIE = "SRID=4326;POLYGON((24.94 60.17, 24.941 60.1705, 24.941 60.17, 24.94 60.1705, 24.94 60.17))"
POINT = "SRID=4326;POINT(24.94 60.17)"
TENURES = ["registered_deed", "customary_deed", "informal", "public", "unknown"]


def refusal(conn: psycopg.Connection, statement: str, params: tuple = ()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement, params)
    return caught.value


def detail(conn: psycopg.Connection, statement: str, params: tuple = ()) -> dict:
    return json.loads(refusal(conn, statement, params).diag.message_detail)


@pytest.mark.parametrize(
    ("statement", "params", "rule", "expected"),
    [
        (
            "INSERT INTO parcels (geom, tenure) VALUES (%s, 'freehold')",
            (SQUARE,),
            "not_in_list",
            {"layer": "parcels", "attribute": "tenure", "value": "freehold", "allowed": TENURES},
        ),
        (
            "INSERT INTO parcels (geom, tenure) VALUES (%s, NULL)",
            (SQUARE,),
            "required",
            {"layer": "parcels", "attribute": "tenure"},
        ),
        (
            "INSERT INTO parcels (geom, floors) VALUES (%s, 201)",
            (SQUARE,),
            "maximum",
            {"layer": "parcels", "attribute": "floors", "maximum": 200, "value": 201},
        ),
        (
            "INSERT INTO parcels (geom, parcel_code) VALUES (%s, repeat('x', 61))",
            (SQUARE,),
            "too_long",
            {"layer": "parcels", "attribute": "parcel_code", "max_length": 60, "length": 61},
        ),
        (
            "INSERT INTO observations (category, captured_at, became_id, geom) VALUES ('other', now(), 0, %s)",
            (POINT,),
            "minimum",
            {"layer": "observations", "attribute": "became_id", "minimum": 1, "value": 0},
        ),
        (
            "INSERT INTO workshops (kind, pollutants, geom) VALUES ('scrap', ARRAY['smoke', 'gold'], %s)",
            (POINT,),
            "values_not_allowed",
            {"layer": "workshops", "attribute": "pollutants", "values": ["gold"]},
        ),
        (
            "INSERT INTO workshops (kind, polluting, pollutants, geom) VALUES ('scrap', false, ARRAY['smoke'], %s)",
            (POINT,),
            "check",
            {"layer": "workshops", "check": "pollutants_need_polluting"},
        ),
        ("INSERT INTO parcels (geom) VALUES (NULL)", (), "no_geometry", {"layer": "parcels"}),
        (
            "INSERT INTO parcels (geom) VALUES (%s)",
            (POINT,),
            "geometry_type",
            {"layer": "parcels", "expected": "multipolygon", "got": "point"},
        ),
        (
            "INSERT INTO parcels (geom) VALUES (%s)",
            (BOWTIE,),
            "geometry_invalid",
            {"layer": "parcels"},
        ),
        (
            "INSERT INTO parcels (geom) VALUES ('SRID=4326;POLYGON EMPTY')",
            (),
            "geometry_empty",
            {"layer": "parcels"},
        ),
        (
            "INSERT INTO parcels (geom) VALUES ('SRID=3857;POLYGON((0 0, 10 0, 10 10, 0 0))')",
            (),
            "geometry_srid",
            {"layer": "parcels", "srid": 3857},
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT Z (24.94 60.17 3)')",
            (),
            "geometry_dimensions",
            {"layer": "workshops"},
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT(60.17 124.94)')",
            (),
            "geometry_out_of_range",
            {"layer": "workshops", "xmin": "60.17", "ymax": "124.94"},
        ),
        (
            "INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT(NaN 60)')",
            (),
            "geometry_out_of_range",
            {"layer": "workshops", "xmin": "NaN"},
        ),
    ],
)
def test_core_rules_carry_code_and_params(conn, statement, params, rule, expected):
    error = refusal(conn, statement, params)
    assert error.diag.message_primary  # the English message stays, for QGIS and psql
    found = json.loads(error.diag.message_detail)
    assert found["rule"] == rule
    assert {k: found["params"].get(k) for k in expected} == expected


def test_an_updated_feature_is_named_and_the_message_is_unchanged(conn):
    fid = conn.execute("INSERT INTO parcels (geom) VALUES (%s) RETURNING id", (SQUARE,)).fetchone()[0]
    error = refusal(conn, "UPDATE parcels SET floors = -1 WHERE id = %s", (fid,))
    assert error.diag.message_primary.startswith(f"parcels feature {fid}: ")
    found = json.loads(error.diag.message_detail)
    assert found == {
        "rule": "minimum",
        "params": {"layer": "parcels", "attribute": "floors", "minimum": 0, "value": -1},
    }
    error = refusal(conn, "UPDATE parcels SET tenure = 'x''); DROP TABLE parcels; --' WHERE id = %s", (fid,))
    assert json.loads(error.diag.message_detail)["params"]["value"] == "x'); DROP TABLE parcels; --"


def test_the_rule_reaches_the_error_the_api_answers_with(conn):
    with pytest.raises(RuleViolation) as caught, attributed(conn, "planner"):
        conn.execute("INSERT INTO parcels (geom, tenure) VALUES (%s, 'freehold')", (SQUARE,))
    error = caught.value
    assert (error.rule, error.column) == ("not_in_list", "tenure")
    assert error.params["value"] == "freehold" and error.params["allowed"] == TENURES
    assert "tenure 'freehold' is not one of" in str(error)


WELLS = {
    "name": "water_wells",
    "geometry_type": "Point",
    "attributes": [
        {"name": "depth_m", "type": "number", "minimum": 0, "maximum": 500},
        {"name": "state", "type": "choice", "choices": ["working", "dry"], "required": True},
        {"name": "uses", "type": "choices", "choices": ["drinking", "washing"]},
        {"name": "note", "type": "text", "max_length": 5},
    ],
}


@pytest.mark.parametrize(
    ("columns", "values", "rule", "expected"),
    [
        ("state", "NULL", "required", {"attribute": "state"}),
        ("state", "'salty'", "not_in_list", {"attribute": "state", "value": "salty", "allowed": ["working", "dry"]}),
        (
            "state, uses",
            "'dry', ARRAY['drinking', 'bathing']",
            "values_not_allowed",
            {"attribute": "uses", "values": ["bathing"], "allowed": ["drinking", "washing"]},
        ),
        ("state, depth_m", "'dry', -3", "minimum", {"attribute": "depth_m", "minimum": 0, "value": -3}),
        ("state, depth_m", "'dry', 501", "maximum", {"attribute": "depth_m", "maximum": 500, "value": 501}),
        ("state, note", "'dry', 'too long'", "too_long", {"attribute": "note", "max_length": 5, "length": 8}),
    ],
)
def test_custom_layer_rules_carry_code_and_params(conn, columns, values, rule, expected):
    create_custom_layer(conn, layer_from_definition(WELLS))
    found = detail(conn, f"INSERT INTO water_wells ({columns}, geom) VALUES ({values}, %s)", (POINT,))
    assert found["rule"] == rule
    assert {k: found["params"].get(k) for k in expected} == expected
    assert found["params"]["layer"] == "water_wells"


def test_custom_layer_geometry_rules(conn):
    create_custom_layer(conn, layer_from_definition(WELLS))
    found = detail(conn, "INSERT INTO water_wells (state, geom) VALUES ('dry', NULL)")
    assert found == {"rule": "no_geometry", "params": {"layer": "water_wells"}}
    found = detail(conn, "INSERT INTO water_wells (state, geom) VALUES ('dry', %s)", (SQUARE,))
    assert found == {"rule": "geometry_type", "params": {"layer": "water_wells", "expected": "point", "got": "polygon"}}


def test_a_field_change_refused_by_a_rule_says_which(conn, catalogue):
    from importers.field_sync import apply

    change = {
        "uid": "9b2f0d6e-4a51-4c3e-9a51-0d6e4a514c3e",
        "op": "create",
        "layer": "workshops",
        "properties": {"kind": "scrap", "status": "asleep"},
        "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
    }
    result = apply(conn, catalogue, "admin", change)
    assert (result["status"], result["property"], result["rule"]) == ("rejected", "status", "not_in_list")
    assert result["params"]["value"] == "asleep" and "status 'asleep' is not one of" in result["message"]
    change = {**change, "uid": "0d6e4a51-4c3e-9a51-9b2f-0d6e4a514c3e", "layer": "nowhere"}
    assert "rule" not in apply(conn, catalogue, "admin", change)
