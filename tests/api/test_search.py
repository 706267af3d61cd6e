"""``GET /search`` through the app: each user finds what they may read (row-level security on the request's
connection), anonymous visitors the public layers, and bad input is a client error in problem details."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS, token_for
from tests.gis.field_samples import NORTH, make_place


@pytest.fixture
def client(db_url: str, tmp_path) -> Iterator[TestClient]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        make_place(conn)
    app = create_app(Settings(database_url=db_url, load_demo=False, data_dir=tmp_path), database=Database(db_url))
    with TestClient(app) as c:
        yield c


def found(client: TestClient, headers: dict[str, str], **params: object) -> list[dict]:
    response = client.get("/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_each_user_finds_what_they_may_read(client, db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        fatma = token_for(conn, "fatma", Grant("field", NORTH))
    everything = found(client, ADMIN_HEADERS, q="yard")
    assert sorted(h["label"] for h in everything) == ["Yard A", "Yard B", "Yard C", "Yard D", "Yard E", "Yard S"]
    hers = found(client, fatma, q="yard")
    assert sorted(h["label"] for h in hers) == ["Yard A", "Yard B", "Yard C", "Yard D", "Yard E"]
    assert {h["neighbourhood"]["code"] for h in hers} == {NORTH}
    # Nor by the id or uid of the south's workshop, nor with a wildcard (which would match everything).
    with psycopg.connect(db_url) as conn:
        fid, uid = conn.execute("SELECT id, uid::text FROM workshops WHERE name = 'Yard S'").fetchone()
    assert fid in {h["id"] for h in found(client, ADMIN_HEADERS, q=str(fid), layers="workshops")}
    assert found(client, fatma, q=str(fid), layers="workshops") == []
    assert found(client, fatma, q=uid[:13]) == []
    assert found(client, fatma, q="%") == [] and found(client, fatma, q="_") == []
    # Anonymous: the public layers only (streets are public, workshops are not).
    assert found(client, {}, q="yard") == []
    assert [h["label"] for h in found(client, {}, q="border street")] == ["Border street"]
    assert found(client, {}, q="yard", layers="workshops") == []


def test_the_answer_and_its_options(client):
    (hit,) = found(client, ADMIN_HEADERS, q="canal")
    assert set(hit) == {"layer", "id", "label", "matched", "neighbourhood", "bbox", "point"}
    assert hit["matched"] == {"attribute": "note", "text": "by the canal"} and hit["point"] == [24.905, 60.165]
    assert [h["layer"] for h in found(client, ADMIN_HEADERS, q="north", layers="streets")] == ["streets"]
    assert len(found(client, ADMIN_HEADERS, q="yard", limit=3)) == 3
    assert found(client, ADMIN_HEADERS, q="yard%") == []  # % is the character, not a wildcard


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"q": "x" * 101}, 422, "at most 100 characters"),
        ({"q": "   "}, 422, "Type something"),
        ({"q": "yard", "layers": "nowhere"}, 422, "no map layer named 'nowhere'"),
        ({}, 400, "q"),
        ({"q": "yard", "limit": 51}, 400, "limit"),
        ({"q": "yard", "limit": 0}, 400, "limit"),
        ({"q": "ya\x00rd"}, 400, "q"),
    ],
)
def test_bad_input_is_a_client_error(client, params, status, says):
    response = client.get("/search", params=params, headers=ADMIN_HEADERS)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.json()["detail"]
