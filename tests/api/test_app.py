"""The HTTP app on a real database: health, the catalogue, the start page, problem details."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False)
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as c:
        yield c


def test_health_reports_database_postgis_and_migrations(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["migrations"]["at_head"] is True


def test_health_is_503_when_migrations_are_behind(client, owner_db_url):
    import psycopg

    with psycopg.connect(owner_db_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'old'")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["migrations"]["at_head"] is False


def test_layers_lists_the_catalogue_with_counts(client, conn):
    conn.execute("INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT(24.9 60.1)')")
    layers = {layer["name"]: layer for layer in client.get("/layers", params={"counts": "true"}).json()}
    assert {
        "parcels",
        "streets",
        "blighted_plots",
        "workshops",
        "service_points",
        "assets",
        "interventions",
        "tasks",
        "observations",
        "neighbourhoods",
    } <= set(layers)
    assert layers["workshops"]["feature_count"] == 1
    tenure = next(a for a in layers["parcels"]["attributes"] if a["name"] == "tenure")
    assert [c["value"] for c in tenure["choices"]] == [
        "registered_deed",
        "customary_deed",
        "informal",
        "public",
        "unknown",
    ]
    assert tenure["choices"][2]["label"]["fa"] == "غیررسمی"


def test_unknown_layer_is_a_problem_document(client):
    response = client.get("/layers/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "There is no layer named 'nope'.",
    }


def test_malformed_query_parameter_is_400(client):
    response = client.get("/layers", params={"counts": "maybe"})
    assert response.status_code == 400
    assert "counts" in response.json()["detail"]


def test_start_page_escapes_attribute_values(client, conn):
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('X1', '<img src=x onerror=alert(1)>', "
        "ST_Multi(ST_MakeEnvelope(24.9, 60.1, 24.91, 60.11, 4326)))"
    )
    html = client.get("/").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/health" in client.get("/openapi.json").json()["paths"]
