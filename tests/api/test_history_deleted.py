"""``GET /api/history/deleted``: deleted features nobody brought back, as each user may read them, each with who
deleted it, when, and whether this user may restore it; restoring takes it off the list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS, token_for
from tests.gis.field_samples import NORTH, SOUTH, make_place


@dataclass
class World:
    client: TestClient
    conn: psycopg.Connection
    planner: dict[str, str]  # a planner of the north
    field: dict[str, str]  # a field worker of the north
    viewer: dict[str, str]  # a viewer of everywhere

    def delete(self, name: str) -> int:
        fid, version = self.conn.execute("SELECT id, version FROM workshops WHERE name = %s", (name,)).fetchone()
        response = self.client.delete(
            f"/ogc/collections/workshops/items/{fid}", headers={**ADMIN_HEADERS, "If-Match": f'"{version}"'}
        )
        assert response.status_code == 204, response.text
        return fid

    def deleted(self, headers: dict[str, str], **params: object) -> list[dict]:
        response = self.client.get("/api/history/deleted", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def world(db_url: str, tmp_path) -> Iterator[World]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        make_place(conn)
        planner = token_for(conn, "pia", Grant("planner", NORTH))
        field = token_for(conn, "fred", Grant("field", NORTH))
        viewer = token_for(conn, "vic", Grant("viewer"))
        app = create_app(Settings(database_url=db_url, load_demo=False, data_dir=tmp_path), database=Database(db_url))
        with TestClient(app) as client:
            yield World(client, conn, planner, field, viewer)


def test_who_deleted_what_when_as_each_user_may_see_and_restore_it(world):
    north = world.delete("Yard B")
    south = world.delete("Yard S")
    everything = world.deleted(ADMIN_HEADERS, layer="workshops")
    assert [(d["id"], d["label"]) for d in everything] == [(south, "Yard S"), (north, "Yard B")]  # newest first
    first = everything[1]
    assert first["deleted_by"] == "admin" and first["version"] == 1 and first["restorable"] is True
    assert first["neighbourhood"]["code"] == NORTH and first["deleted_at"]
    # The planner of the north sees and may restore the north's; the south's is not hers to read.
    assert [(d["id"], d["restorable"]) for d in world.deleted(world.planner)] == [(north, True)]
    # A field worker reads it but may not bring it back; a viewer of everywhere reads both and restores neither.
    assert [(d["id"], d["restorable"]) for d in world.deleted(world.field)] == [(north, False)]
    assert [(d["id"], d["restorable"]) for d in world.deleted(world.viewer, layer="workshops")] == [
        (south, False),
        (north, False),
    ]
    assert [d["id"] for d in world.deleted(ADMIN_HEADERS, neighbourhood=SOUTH)] == [south]
    assert world.deleted(ADMIN_HEADERS, layer="streets") == []
    # Restored: off the list.
    restored = world.client.post(f"/api/history/workshops/{north}/restore", headers=world.planner)
    assert restored.status_code == 200, restored.text
    assert [d["id"] for d in world.deleted(ADMIN_HEADERS)] == [south]


def test_restoring_is_checked_again_by_the_server_whatever_the_list_said(world):
    north = world.delete("Yard B")
    south = world.delete("Yard S")
    # A field worker of the north may not bring back the north's feature, a planner of the north not the south's
    # (its history is not hers to read), an anonymous visitor nothing; each refusal leaves it deleted.
    refused = [
        (world.field, north, 403),
        (world.planner, south, 404),
        (world.viewer, north, 403),
        ({}, north, 401),
    ]
    for headers, fid, status in refused:
        response = world.client.post(f"/api/history/workshops/{fid}/restore", headers=headers)
        assert response.status_code == status, (headers, fid, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert world.conn.execute("SELECT count(*) FROM workshops WHERE id IN (%s, %s)", (north, south)).fetchone()[0] == 0
    assert sorted(d["id"] for d in world.deleted(ADMIN_HEADERS)) == sorted([north, south])


def test_a_feature_whose_uid_came_back_under_a_new_id_is_not_listed(world):
    fid = world.delete("Yard C")
    uid = world.conn.execute(
        "SELECT feature_uid FROM mahalle.history WHERE layer = 'workshops' AND feature_id = %s LIMIT 1", (fid,)
    ).fetchone()[0]
    assert [d["id"] for d in world.deleted(ADMIN_HEADERS)] == [fid]
    world.conn.execute(
        "INSERT INTO workshops (uid, name, kind, geom) VALUES (%s, 'Yard C again', 'scrap', "
        "'SRID=4326;POINT(24.915 60.167)')",
        (uid,),
    )
    assert world.deleted(ADMIN_HEADERS) == []


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({}, {}, 401),
        ({"neighbourhood": "NOWHERE"}, ADMIN_HEADERS, 404),
        ({"layer": "nowhere"}, ADMIN_HEADERS, 404),
        ({"layer": "Bad Name"}, ADMIN_HEADERS, 400),
        ({"limit": 0}, ADMIN_HEADERS, 400),
        ({"limit": 501}, ADMIN_HEADERS, 400),
    ],
)
def test_bad_requests(world, params, headers, status):
    response = world.client.get("/api/history/deleted", params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
