"""Dropping a custom layer never damages anything else, and the database's own checks keep the catalogue readable."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from layers.catalogue import load_catalogue
from layers.custom import create_custom_layer, drop_custom_layer, layer_from_definition
from layers.spec import SpecError

POINT = "SRID=4326;POINT(24.94 60.17)"


def make(conn: psycopg.Connection, name: str, **extra: object) -> None:
    create_custom_layer(conn, layer_from_definition({"name": name, "geometry_type": "Point", **extra}))


@pytest.mark.parametrize("name", ["custom", "custom_spatial", "custom_plain"])
def test_dropping_a_layer_named_like_a_shared_function_leaves_it_alone(conn, name):
    make(conn, name)
    drop_custom_layer(conn, name)
    make(conn, "wells")  # the shared history and validation functions are still there
    conn.execute("INSERT INTO wells (geom) VALUES (%s)", (POINT,))
    assert conn.execute("SELECT count(*) FROM mahalle.history WHERE layer = 'wells'").fetchone()[0] == 1


def test_a_layer_that_plans_or_other_layers_point_at_cannot_be_dropped(conn):
    make(conn, "wells")
    make(conn, "pumps", attributes=[{"name": "well", "type": "reference", "references": "wells"}])
    with pytest.raises(SpecError, match="another layer has an attribute that refers to it"):
        drop_custom_layer(conn, "wells")
    wid = conn.execute("INSERT INTO wells (geom) VALUES (%s) RETURNING id", (POINT,)).fetchone()[0]
    pid = conn.execute("INSERT INTO pumps (well, geom) VALUES (%s, %s) RETURNING id", (wid, POINT)).fetchone()[0]
    tid = conn.execute("INSERT INTO tasks (title, domain) VALUES ('Fix', 'urban_physical') RETURNING id").fetchone()[0]
    conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'pumps', %s)", (tid, pid))
    with pytest.raises(SpecError, match="interventions or tasks are linked"):
        drop_custom_layer(conn, "pumps")
    assert {"wells", "pumps"} <= set(load_catalogue(conn).layers)


def test_a_name_whose_history_is_kept_is_not_reused(conn):
    make(conn, "wells")
    conn.execute("INSERT INTO wells (geom) VALUES (%s)", (POINT,))
    drop_custom_layer(conn, "wells")
    with pytest.raises(SpecError, match="existed before and its history is kept"):
        make(conn, "wells")


def test_the_database_refuses_a_definition_the_catalogue_could_not_read(conn):
    spec = layer_from_definition({"name": "odd", "attributes": [{"name": "a", "type": "text"}]}).to_json()
    del spec["attributes"][0]["label"]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="needs a name, a type and a label"):
        conn.execute("SELECT mahalle.create_custom_layer(%s)", (Jsonb(spec),))
    spec = {**layer_from_definition({"name": "odd"}).to_json(), "surprise": 1}
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="needs exactly name, title"):
        conn.execute("SELECT mahalle.create_custom_layer(%s)", (Jsonb(spec),))


def test_an_unreadable_registered_definition_is_left_out_not_fatal(conn, owner_conn):
    owner_conn.execute("INSERT INTO mahalle.layer_registry (name, kind, spec) VALUES ('odd', 'custom', '{}')")
    catalogue = load_catalogue(conn)
    assert "odd" not in catalogue.layers and "parcels" in catalogue.layers
