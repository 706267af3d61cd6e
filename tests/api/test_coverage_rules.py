"""Coverage distances per service category over HTTP (/coverage-rules), the CLI, and a QGIS login through SQL:
administrators change them, everyone else is refused; the indicators follow them."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from api.cli import app as cli
from api.identity import db_login, store
from api.runtime import Database
from importers.demo import CODE
from tests.api import office_settings
from tests.api.office_settings import World
from tests.auth import ADMIN_HEADERS

world = office_settings.world  # the fixture


def school_coverage(world: World) -> dict:
    got = world.client.get("/indicators", params={"neighbourhood": CODE}, headers=ADMIN_HEADERS)
    assert got.status_code == 200, got.text
    return {c["category"]: c for c in got.json()["coverage"]["by_category"]}["school"]


def test_an_administrator_sets_and_removes_a_distance(world: World):
    rules = world.client.get("/coverage-rules", headers=world.planner).json()
    assert [(r["category"], r["distance_m"]) for r in rules] == [
        ("park", 300), ("school", 500), ("clinic", 500), ("hospital", 500)
    ]  # fmt: skip
    before = school_coverage(world)
    assert before["distance_m"] == 500 and before["method"] in ("network", "straight_line")
    changed = world.client.put("/coverage-rules/school", json={"distance_m": 1500}, headers=ADMIN_HEADERS)
    assert changed.status_code == 200, changed.text
    assert changed.json()["distance_m"] == 1500 and changed.json()["updated_by"]
    after = school_coverage(world)
    assert after["distance_m"] == 1500 and after["covered"] >= before["covered"]
    added = world.client.put("/coverage-rules/pharmacy", json={"distance_m": 400.5}, headers=ADMIN_HEADERS)
    assert added.status_code == 201 and added.headers["location"] == "/coverage-rules/pharmacy"
    assert added.json()["distance_m"] == 400.5
    assert world.client.delete("/coverage-rules/pharmacy", headers=ADMIN_HEADERS).status_code == 204
    gone = world.client.delete("/coverage-rules/pharmacy", headers=ADMIN_HEADERS)
    assert gone.status_code == 404 and "pharmacy" in gone.json()["detail"]
    categories = [r["category"] for r in world.client.get("/coverage-rules", headers=ADMIN_HEADERS).json()]
    assert "pharmacy" not in categories


def test_a_planner_is_refused(world: World):
    put = world.client.put("/coverage-rules/school", json={"distance_m": 100}, headers=world.planner)
    assert put.status_code == 403 and "administrator" in put.json()["detail"]
    assert world.client.delete("/coverage-rules/school", headers=world.planner).status_code == 403
    assert world.client.put("/coverage-rules/school", json={"distance_m": 100}).status_code == 401


def test_bad_categories_and_distances_are_422_in_a_planners_words(world: World):
    unknown = world.client.put("/coverage-rules/swimming", json={"distance_m": 100}, headers=ADMIN_HEADERS)
    assert unknown.status_code == 422, unknown.text
    detail = unknown.json()["detail"]
    assert "'swimming' is not a service category" in detail and "park, " in detail and "school" in detail
    for distance in (-5, 0, 50_000):
        bad = world.client.put("/coverage-rules/school", json={"distance_m": distance}, headers=ADMIN_HEADERS)
        assert bad.status_code == 422, bad.text
        assert "must be more than 0 m and at most 20 000 m" in bad.json()["detail"]
    text = world.client.put("/coverage-rules/school", json={"distance_m": "far"}, headers=ADMIN_HEADERS)
    assert text.status_code == 422 and text.json()["property"] == "distance_m"
    rules = {r["category"]: r["distance_m"] for r in world.client.get("/coverage-rules").json()}
    assert rules["school"] == 500  # nothing changed


def test_a_database_login_may_not_change_distances(pg_server, world: World):
    admin_url = pg_server.admin(conninfo_to_dict(world.url)["dbname"])
    name = f"planner-{uuid.uuid4().hex[:8]}"
    store.add_user(world.conn, name, [store.Grant("planner", CODE)])
    with psycopg.connect(admin_url, autocommit=True) as admin:
        login, password = db_login.ensure_login(world.conn, admin, name)
        try:
            url = db_login.connection_url(Database(world.url), login, password)
            with psycopg.connect(url, autocommit=True) as own:
                assert own.execute("SELECT count(*) FROM coverage_rules").fetchone()[0] == 4  # reads them
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                    own.execute("UPDATE coverage_rules SET distance_m = 50 WHERE category = 'school'")
                assert "administrator" in caught.value.diag.message_primary
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    own.execute("DELETE FROM coverage_rules")
        finally:
            db_login.drop_login(admin, db_login.LOGIN_PREFIX + name)


def test_the_cli(world: World, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", world.url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["coverage", "list"])
    assert listed.exit_code == 0, listed.output
    assert "school" in listed.output and "500" in listed.output
    changed = runner.invoke(cli, ["coverage", "set", "clinic", "--distance", "750"])
    assert changed.exit_code == 0, changed.output
    assert "750 m" in changed.output
    refused = runner.invoke(cli, ["coverage", "set", "spa", "--distance", "10"])
    assert refused.exit_code == 1 and "is not a service category" in refused.output
    removed = runner.invoke(cli, ["coverage", "remove", "hospital"])
    assert removed.exit_code == 0, removed.output
    rules = {r["category"]: r["distance_m"] for r in world.client.get("/coverage-rules").json()}
    assert rules == {"park": 300, "school": 500, "clinic": 750}
