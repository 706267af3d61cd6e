"""Counted outcomes over HTTP on a copy of the demo database: outputs through the OGC API (with and without a
place), targets of tasks (PUT/DELETE /tasks/{tid}/targets/{kind}), planned vs achieved in GET /tasks/{tid}, and a
planner of another neighbourhood refused."""

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
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS, token_for

B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
ITEMS = "/ogc/collections/outputs/items"


@dataclass
class World:
    client: TestClient
    conn: psycopg.Connection
    planner: dict[str, str]  # of the demo neighbourhood (A)
    other: dict[str, str]  # a planner of B
    field: dict[str, str]  # a field worker of A

    def task(self, code: str = CODE, title: str = "Children back to school") -> int:
        nid = self.conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (code,)).fetchone()[0]
        created = self.client.post("/tasks", json={"title": title, "domain": "social", "neighbourhood_id": nid},
                                   headers=ADMIN_HEADERS)  # fmt: skip
        assert created.status_code == 201, created.text
        return created.json()["id"]


@pytest.fixture
def world(demo_db_url: str, tmp_path) -> Iterator[World]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES ('B-NORTH', 'North', %s)", (B_POLYGON,))
        planner = token_for(conn, "amina", Grant("planner", CODE))
        other = token_for(conn, "omar", Grant("planner", "B-NORTH"))
        field = token_for(conn, "fred", Grant("field", CODE))
        settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
        with TestClient(create_app(settings, database=Database(demo_db_url))) as client:
            yield World(client, conn, planner, other, field)


def output(tid: int, quantity: float, kind: str = "children_back_to_school", geometry=None, **props) -> dict:
    properties = {"kind": kind, "quantity": quantity, "date": "2026-10-01", "task_id": tid, **props}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_outputs_are_an_ogc_collection_with_or_without_a_place(world: World):
    collections = world.client.get("/ogc/collections", headers=world.planner).json()["collections"]
    assert "outputs" in [c["id"] for c in collections]
    tid = world.task()
    bare = world.client.post(ITEMS, json=output(tid, 100, unit="children", female=52, male=48, age_0_14=100),
                             headers=world.planner)  # fmt: skip
    assert bare.status_code == 201, bare.text
    place = {"type": "Point", "coordinates": [24.945, 60.17]}
    placed = world.client.post(ITEMS, json=output(tid, 12, "sessions_given", place), headers=world.field)
    assert placed.status_code == 201, placed.text  # a field worker records an outreach team's counts
    read = world.client.get(ITEMS, params={"task_id": tid}, headers=world.planner).json()
    assert {f["properties"]["quantity"] for f in read["features"]} == {100, 12}
    got = world.client.get(bare.headers["location"], headers=world.planner).json()
    assert got["geometry"] is None and got["properties"]["female"] == 52
    nid = world.conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (CODE,)).fetchone()[0]
    assert got["properties"]["neighbourhood_id"] == nid  # the task's
    over = world.client.post(ITEMS, json=output(tid, 10, female=6, male=5), headers=world.planner)
    assert over.status_code == 422
    assert "the breakdown by sex (female + male) adds up to more than the quantity" in over.json()["detail"]
    deleted = world.client.delete(f"/tasks/{tid}", headers=world.planner)
    assert deleted.status_code == 409 and "2 outputs are recorded against it" in deleted.json()["detail"]


def test_targets_planned_vs_achieved_and_progress(world: World):
    tid = world.task()
    put = world.client.put(f"/tasks/{tid}/targets/children_back_to_school", json={"target": 100, "unit": "children"},
                           headers=world.planner)  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["targets"] == [{"kind": "children_back_to_school", "unit": "children", "target": 100,
                                      "achieved": 0}]  # fmt: skip
    world.client.put(f"/tasks/{tid}/targets/certificates", json={"target": 225}, headers=world.planner)
    for body in (output(tid, 64), output(tid, 36), output(tid, 193, "certificates")):
        assert world.client.post(ITEMS, json=body, headers=world.planner).status_code == 201
    task = world.client.get(f"/tasks/{tid}", headers=world.planner).json()
    assert task["targets"] == [
        {"kind": "certificates", "unit": None, "target": 225, "achieved": 193},
        {"kind": "children_back_to_school", "unit": "children", "target": 100, "achieved": 100},
    ]
    assert task["progress_source"] == "targets"
    assert task["progress"] == round((193 / 225 + 1) / 2 * 100, 1)
    assert world.client.put(f"/tasks/{tid}/targets/certificates", json={"target": 193}, headers=world.planner).json()[
        "progress"
    ] == 100  # fmt: skip
    by_hand = world.client.patch(f"/tasks/{tid}", json={"progress": 20}, headers=world.planner)
    assert by_hand.status_code == 422 and by_hand.json().get("property") == "progress"
    gone = world.client.delete(f"/tasks/{tid}/targets/certificates", headers=world.planner)
    assert gone.status_code == 204
    assert world.client.delete(f"/tasks/{tid}/targets/certificates", headers=world.planner).status_code == 404
    assert [t["kind"] for t in world.client.get(f"/tasks/{tid}", headers=world.planner).json()["targets"]] == [
        "children_back_to_school"
    ]
    unknown = world.client.put(f"/tasks/{tid}/targets/smiles", json={"target": 1}, headers=world.planner)
    assert unknown.status_code == 422 and "'smiles' is not a kind of output" in unknown.json()["detail"]  # the list
    assert world.client.put(f"/tasks/{tid}/targets/hires", json={"target": 0}, headers=world.planner).status_code \
        == 422  # fmt: skip
    refused = world.client.put(f"/tasks/{tid}/targets/hires", json={"target": 5}, headers=world.field)
    assert refused.status_code == 403  # the plan is the planners'


def test_a_planner_of_another_neighbourhood_is_refused(world: World):
    tid = world.task()
    sent = world.client.post(ITEMS, json=output(tid, 5), headers=world.other)
    assert sent.status_code == 422 and "does not exist or is not one you may see" in sent.json()["detail"]
    placed = output(tid, 5, geometry={"type": "Point", "coordinates": [24.965, 60.185]})  # in B, for A's task
    assert world.client.post(ITEMS, json=placed, headers=world.other).status_code == 422
    target = world.client.put(f"/tasks/{tid}/targets/hires", json={"target": 5}, headers=world.other)
    assert target.status_code in (403, 404)  # A's task is not even visible to B's planner
    assert world.conn.execute("SELECT count(*) FROM outputs").fetchone()[0] == 0
    assert world.conn.execute("SELECT count(*) FROM task_targets").fetchone()[0] == 0
