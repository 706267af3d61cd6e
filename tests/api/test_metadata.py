"""The in-memory catalogue and CRS list: kept while the listener hears the database, dropped on a change
made by anyone (another server, QGIS, psql), and never kept while the listener is away."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core.db import with_role
from core.roles import OWNER_ROLE
from core.settings import Settings
from tests.auth import ADMIN_HEADERS

UTM_34N = "http://www.opengis.net/def/crs/EPSG/0/32634"
CUSTOM = {
    "name": "water_points",
    "kind": "custom",
    "title": {"en": "Water points"},
    "geometry_type": "Point",
    "attributes": [],
}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False)
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as c:
        eventually(lambda: c.app.state.metadata.listening)
        yield c


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def collection_crs(client: TestClient) -> list[str]:
    return client.get("/ogc/collections/parcels").json()["crs"]


def test_the_catalogue_and_crs_list_are_cached_while_listening(client):
    client.get("/ogc/collections/parcels")
    md = client.app.state.metadata
    assert md.cached("catalogue") is not None and md.cached("crs") is not None
    assert client.get("/ogc/collections").status_code == 200
    assert md.cached("catalogue") is md.catalogue()  # the same object: not read again


def test_a_neighbourhood_added_outside_the_app_shows_in_the_crs_list(client, db_url):
    assert UTM_34N not in collection_crs(client)
    with psycopg.connect(db_url, autocommit=True) as conn:  # as QGIS or psql would
        conn.execute(
            "INSERT INTO neighbourhoods (code, name, geom) VALUES ('N-34', 'Zone 34',"
            " ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(21.0, 52.2), 4326), 0.01)))"
        )
    eventually(lambda: UTM_34N in collection_crs(client))


def test_a_layer_registered_outside_the_app_becomes_a_collection(client, db_url):
    assert client.get("/ogc/collections/water_points").status_code == 404
    from layers.custom import create_custom_layer, layer_from_definition

    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():  # as `mahalle layer create` would
        create_custom_layer(conn, layer_from_definition(CUSTOM))
    eventually(lambda: client.get("/ogc/collections/water_points").status_code == 200)


def test_a_layer_created_through_the_api_is_there_on_the_next_request(client):
    client.get("/ogc/collections")  # fill the cache first
    assert client.post("/layers", json=CUSTOM).status_code == 201
    assert client.get("/ogc/collections/water_points").status_code == 200


def test_nothing_is_cached_while_the_listener_is_away(client):
    md = client.app.state.metadata
    md.close()
    eventually(lambda: not md.listening)
    client.get("/ogc/collections/parcels")
    assert md.cached("catalogue") is None and md.cached("crs") is None


def test_without_the_cache_a_change_shows_at_once(db_url):
    settings = Settings(database_url=db_url, load_demo=False, cache_catalogue=False)
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as client:
        assert UTM_34N not in collection_crs(client)
        with psycopg.connect(with_role(db_url, OWNER_ROLE), autocommit=True) as conn:  # as a DBA would
            conn.execute("ALTER TABLE neighbourhoods DISABLE TRIGGER z99_notify_metadata")  # no notice at all
            conn.execute(
                "INSERT INTO neighbourhoods (code, name, geom) VALUES ('N-34', 'Zone 34',"
                " ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(21.0, 52.2), 4326), 0.01)))"
            )
        assert UTM_34N in collection_crs(client)
        assert client.app.state.metadata.cached("crs") is None
