"""The planning API on a copy of the demo database: interventions, transitions, targets, tasks, indicators,
reports, and the bad input the issue lists (409 with allowed states, 400/422 naming the field)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import token_for


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=demo_db_url, load_demo=False)
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        amina = token_for(conn, "amina", Grant("planner"))  # her edits are attributed to her
    with TestClient(create_app(settings, database=Database(demo_db_url)), headers=amina) as c:
        yield c


@pytest.fixture
def db(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        yield conn


def streets(db: psycopg.Connection, n: int) -> list[int]:
    rows = db.execute(
        "SELECT id FROM streets WHERE surface IN ('earth', 'gravel') AND length_m > 30 AND id NOT IN "
        "(SELECT feature_id FROM intervention_targets) ORDER BY id LIMIT %s",
        (n,),
    ).fetchall()
    return [r[0] for r in rows]


def paving_body(db: psycopg.Connection, ids: list[int], **props: Any) -> dict[str, Any]:
    geometry = db.execute(
        "SELECT ST_AsGeoJSON(ST_Union(ST_Buffer(geom::geography, 3)::geometry), 9)::json FROM streets "
        "WHERE id = ANY(%s)",
        (ids,),
    ).fetchone()[0]
    return {
        "properties": {"title": "Pave two lanes", "kind": "paving", "planned_cost": 50_000, **props},
        "geometry": geometry,
        "targets": [{"layer": "streets", "feature_id": i} for i in ids],
    }


def test_propose_read_patch_and_complete_an_intervention(client, db):
    ids = streets(db, 2)
    created = client.post("/interventions", json=paving_body(db, ids))
    assert created.status_code == 201, created.text
    feature = created.json()
    iid = feature["id"]
    assert created.headers["location"] == f"/interventions/{iid}"
    assert created.headers["etag"] == '"1"'
    area = db.execute("SELECT round(ST_Area(geom::geography)) FROM interventions WHERE id = %s", (iid,)).fetchone()[0]
    props = feature["properties"]
    assert (props["status"], props["unit"], props["planned_quantity"]) == ("proposed", "m2", area)
    assert feature["targets"] == [{"layer": "streets", "feature_id": i} for i in sorted(ids)]
    assert feature["allowed_transitions"] == ["approved", "cancelled"]

    stale = client.patch(f"/interventions/{iid}", json={"properties": {"contractor": "X"}}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    patched = client.patch(
        f"/interventions/{iid}", json={"properties": {"contractor": "Kivi"}}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.headers["etag"] == '"2"'

    jump = client.post(f"/interventions/{iid}/transition", json={"to": "completed", "actual_end": "2026-09-01"})
    assert jump.status_code == 409
    problem = jump.json()
    assert problem["allowed"] == ["approved", "cancelled"] and problem["current"] == "proposed"
    assert problem["property"] == "status"
    assert "allowed next states: approved, cancelled" in problem["detail"]

    for status in ("approved", "funded", "in_progress"):
        assert client.post(f"/interventions/{iid}/transition", json={"to": status}).status_code == 200
    no_end = client.post(f"/interventions/{iid}/transition", json={"to": "completed"})
    assert no_end.status_code == 422 and no_end.json()["property"] == "actual_end"
    done = client.post(f"/interventions/{iid}/transition", json={"to": "completed", "actual_end": "2026-09-01"})
    assert done.status_code == 200, done.text
    assert done.json()["properties"]["achieved_quantity"] == area
    surfaces = db.execute("SELECT DISTINCT surface FROM streets WHERE id = ANY(%s)", (ids,)).fetchall()
    assert surfaces == [("paved",)]
    cause = db.execute(
        "SELECT actor, cause FROM mahalle.history WHERE layer = 'streets' AND feature_id = %s ORDER BY id DESC",
        (ids[0],),
    ).fetchone()
    assert cause == ("amina", f"intervention {iid} completed")
    reopen = client.post(f"/interventions/{iid}/transition", json={"to": "in_progress"})
    assert reopen.status_code == 422 and reopen.json()["property"] == "status_reason"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"properties": {"planned_cost": -5}}, 422, "planned_cost"),
        ({"properties": {"planned_quantity": 1}}, 422, "planned_quantity"),  # differs from the map, no note
        ({"properties": {"planned_start": "2026-05-01", "planned_end": "2026-04-01"}}, 422, None),
        ({"properties": {"planned_cost": "lots"}}, 422, "planned_cost"),
        ({"properties": {"colour": "red"}}, 422, "colour"),
        ({"properties": {"status": "completed"}}, 422, "status"),
        ({"targets": [{"layer": "streets"}]}, 422, "targets"),
        ({"targets": [{"layer": "workshops", "feature_id": 1}]}, 422, "layer"),
        ({"targets": [{"layer": "streets", "feature_id": 999_999}]}, 422, "feature_id"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(client, db, change, status, field):
    body = paving_body(db, streets(db, 1))
    body["properties"].update(change.get("properties", {}))
    body.update({k: v for k, v in change.items() if k != "properties"})
    before = db.execute("SELECT count(*) FROM interventions").fetchone()[0]
    response = client.post("/interventions", json=body)
    assert response.status_code == status, response.text
    assert response.json().get("property") == field
    if field is None:
        assert "the planned end is before the planned start" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM interventions").fetchone()[0] == before


def test_a_target_outside_the_neighbourhood_is_refused(client, db):
    db.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('FAR', 'Far away', "
        "'SRID=4326;MULTIPOLYGON(((25.5 60.5, 25.6 60.5, 25.6 60.6, 25.5 60.6, 25.5 60.5)))')"
    )
    far = db.execute(
        "INSERT INTO streets (geom) VALUES ('SRID=4326;LINESTRING(25.51 60.51, 25.52 60.51)') RETURNING id"
    ).fetchone()[0]
    body = paving_body(db, streets(db, 1))
    iid = client.post("/interventions", json=body).json()["id"]
    response = client.post(f"/interventions/{iid}/targets", json={"layer": "streets", "feature_id": far})
    assert response.status_code == 422
    assert response.json()["property"] == "feature_id"
    assert f"lies in neighbourhood FAR, not in {CODE}" in response.json()["detail"]
    assert client.get(f"/interventions/{iid}/targets").json() == body["targets"]  # unchanged


def test_deleting_an_intervention_with_installed_assets_needs_cascade(client, db):
    lighting = db.execute("SELECT id FROM interventions WHERE kind = 'lighting'").fetchone()[0]
    db.execute(
        "INSERT INTO assets (kind, intervention_id, geom) SELECT 'street_light', %s, ST_PointOnSurface(geom) "
        "FROM interventions WHERE id = %s",
        (lighting, lighting),
    )
    refused = client.delete(f"/interventions/{lighting}")
    assert refused.status_code == 409
    assert "installed 1 assets" in refused.json()["detail"]
    assert client.delete(f"/interventions/{lighting}?cascade=true").status_code == 204
    assert client.get(f"/interventions/{lighting}").status_code == 404
    kept = db.execute(
        "SELECT layer, count(*) FROM mahalle.history WHERE operation = 'DELETE' AND actor = 'amina' "
        "GROUP BY layer ORDER BY layer"
    ).fetchall()
    assert kept == [("assets", 1), ("intervention_targets", 5), ("interventions", 1), ("task_links", 1)]


def test_tasks_board_links_updates_and_guarded_delete(client, db):
    nid = db.execute("SELECT id FROM neighbourhoods WHERE code = %s", (CODE,)).fetchone()[0]
    goal = client.post("/tasks", json={"title": "Tenure security", "domain": "legal", "level": "goal",
                                       "neighbourhood_id": nid})  # fmt: skip
    assert goal.status_code == 201, goal.text
    gid = goal.json()["id"]
    task = client.post(
        "/tasks",
        json={"title": "Deed clinic", "domain": "legal", "parent_id": gid, "due_date": "2026-01-31",
              "neighbourhood_id": nid, "priority": "urgent"},
    )  # fmt: skip
    tid = task.json()["id"]
    assert task.json()["progress_source"] == "manual"

    board = client.get(f"/tasks/board?neighbourhood={CODE}").json()
    assert list(board) == ["todo", "in_progress", "blocked", "done", "cancelled"]
    assert board["todo"][0]["id"] == tid  # urgent first
    overdue = client.get(f"/tasks/overdue?neighbourhood={CODE}&today=2026-02-01").json()
    assert tid in [t["id"] for t in overdue]

    update = client.post(f"/tasks/{tid}/updates", json={"note": "Registry closed", "status": "blocked"})
    assert update.status_code == 201 and update.json()["status"] == "blocked"
    blocked = client.get(f"/tasks/blocked?neighbourhood={CODE}").json()
    assert {t["id"]: t["last_update"]["note"] for t in blocked if t["id"] == tid} == {tid: "Registry closed"}
    assert client.post(f"/tasks/{tid}/updates", json={"note": "x", "status": "sleeping"}).json()["property"] == "status"
    assert client.post(f"/tasks/{tid}/updates", json={"note": " "}).status_code == 422
    assert client.patch(f"/tasks/{tid}", json={"progress": 30}).json()["progress"] == 30  # no links: by hand

    paving = db.execute("SELECT id FROM interventions WHERE kind = 'paving'").fetchone()[0]
    linked = client.post(f"/tasks/{tid}/links", json={"layer": "interventions", "feature_id": paving})
    assert linked.status_code == 201
    assert linked.json()["progress_source"] == "interventions" and linked.json()["progress"] == 50  # in progress
    by_hand = client.patch(f"/tasks/{tid}", json={"progress": 80})
    assert by_hand.status_code == 422 and by_hand.json()["property"] == "progress"
    assert client.delete(f"/tasks/{tid}/links/interventions/{paving}").status_code == 204
    assert client.delete(f"/tasks/{tid}/links/interventions/{paving}").status_code == 404

    refused = client.delete(f"/tasks/{gid}")
    assert refused.status_code == 409 and "has 1 subtasks" in refused.json()["detail"]
    assert client.delete(f"/tasks/{gid}?cascade=true").status_code == 204
    assert client.get(f"/tasks/{tid}").status_code == 404
    assert client.get("/tasks/abc").status_code == 400


def test_indicators_for_a_neighbourhood_a_date_and_a_polygon(client, db):
    now = client.get(f"/indicators?neighbourhood={CODE}")
    assert now.status_code == 200
    body = now.json()
    assert body["streets"]["count"] > 1000 and body["green_space"]["population"] == 12400
    past = client.get(f"/indicators?neighbourhood={CODE}&as_of=2000-01-01").json()
    assert past["streets"]["count"] == 0 and past["as_of"] == "2000-01-01"
    polygon = {"type": "Polygon", "coordinates": [[[24.93, 60.165], [24.94, 60.165], [24.94, 60.17], [24.93, 60.17],
                                                   [24.93, 60.165]]]}  # fmt: skip
    drawn = client.post("/indicators", json={"geometry": polygon})
    assert drawn.status_code == 200
    assert 0 < drawn.json()["streets"]["length_m"] < body["streets"]["length_m"]
    assert drawn.json()["scope"]["polygon"]["type"] == "Polygon"
    bad = client.post("/indicators", json={"geometry": {"type": "Point", "coordinates": [24.9, 60.1]}})
    assert bad.status_code == 422 and bad.json()["property"] == "geometry"
    assert client.post("/indicators", json={}).json()["property"] == "geometry"
    assert client.get("/indicators?neighbourhood=NOPE").status_code == 404
    assert client.get(f"/indicators?neighbourhood={CODE}&as_of=yesterday").status_code == 400


def test_achievement_report_as_json_and_html(client):
    url = f"/reports/achievement?neighbourhood={CODE}&from=2026-01-01&to=2026-12-31"
    as_json = client.get(url + "&format=json")
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert {g["kind"] for g in as_json.json()["achievements"]} == {"lot_clearing"}
    html = client.get(url + "&lang=fa")
    assert html.status_code == 200 and 'dir="rtl"' in html.text
    assert client.get(url + "&lang=xx").status_code == 400
    assert client.get(url.replace("from=2026-01-01", "from=2027-01-01")).json()["property"] == "to"
    assert client.get(f"/reports/achievement?neighbourhood={CODE}&to=2026-12-31").status_code == 400


def test_cli_report_and_indicators(demo_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", demo_db_url)
    runner = CliRunner()
    out = tmp_path / "report.json"
    args = ["report", "--neighbourhood", CODE, "--from", "2026-01-01", "--to", "2026-12-31", "--format", "json"]
    result = runner.invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["achievements"][0]["kind"] == "lot_clearing"
    html = runner.invoke(cli, ["report", "--neighbourhood", CODE, "--from", "2026-01-01", "--to", "2026-12-31",
                               "--lang", "fa"])  # fmt: skip
    assert html.exit_code == 0 and "گزارش عملکرد" in html.output
    table = runner.invoke(cli, ["indicators", "--neighbourhood", CODE, "--as-of", "2030-01-01"])
    assert table.exit_code == 0, table.output
    assert "Streets paved (by length)" in table.output and "as of 2030-01-01" in table.output
    polygon = runner.invoke(cli, ["indicators", "--polygon", "POLYGON((24.93 60.165, 24.94 60.165, 24.94 60.17, "
                                  "24.93 60.17, 24.93 60.165))"])  # fmt: skip
    assert polygon.exit_code == 0 and "polygon" in polygon.output
    bad = runner.invoke(cli, ["report", "--neighbourhood", CODE, "--from", "January", "--to", "2026-12-31"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    missing = runner.invoke(cli, ["indicators", "--neighbourhood", "NOPE"])
    assert missing.exit_code == 1 and "no neighbourhood with code 'NOPE'" in missing.output
