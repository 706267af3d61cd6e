"""Plausibility rules over HTTP (/plausibility-rules) and the CLI: administrators change them, everyone else is
refused; an edit through the API that breaks one is a 422 carrying the rule code the web app words."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from importers.demo import CODE
from tests.api import office_settings
from tests.api.office_settings import World
from tests.auth import ADMIN_HEADERS

world = office_settings.world  # the fixture


def rules(world: World) -> dict[tuple[str, str], dict]:
    got = world.client.get("/plausibility-rules", headers=world.planner)
    assert got.status_code == 200, got.text
    return {(r["layer"], r["rule"]): r for r in got.json()}


def a_long_street(world: World) -> dict:
    """A street's geometry made ~2.8 km long, as GeoJSON."""
    x, y = world.conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM neighbourhoods n, ST_PointOnSurface(n.geom) p WHERE n.code = %s", (CODE,)
    ).fetchone()
    return {"type": "MultiLineString", "coordinates": [[[x, y], [x + 0.05, y]]]}


def test_an_administrator_sets_disables_and_removes_a_rule(world: World):
    before = rules(world)
    street = before[("streets", "max_length")]
    assert street["value"] == 2000 and street["unit"] == "m" and street["enabled"] is True
    assert before[("streets", "keep_neighbourhood")]["value"] is None
    assert before[("parcels", "max_area")]["unit"] == "m²"
    changed = world.client.put("/plausibility-rules/streets/max_length", json={"value": 5000}, headers=ADMIN_HEADERS)
    assert changed.status_code == 200, changed.text
    assert changed.json()["value"] == 5000 and changed.json()["updated_by"]
    added = world.client.put(
        "/plausibility-rules/interventions/max_area", json={"value": 250000.5}, headers=ADMIN_HEADERS
    )
    assert added.status_code == 201 and added.headers["location"] == "/plausibility-rules/interventions/max_area"
    assert added.json()["value"] == 250000.5
    off = world.client.put("/plausibility-rules/streets/max_length", json={"value": 10, "enabled": False},
                           headers=ADMIN_HEADERS)  # fmt: skip
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert world.client.delete("/plausibility-rules/interventions/max_area", headers=ADMIN_HEADERS).status_code == 204
    gone = world.client.delete("/plausibility-rules/interventions/max_area", headers=ADMIN_HEADERS)
    assert gone.status_code == 404 and "max_area" in gone.json()["detail"]
    assert ("interventions", "max_area") not in rules(world)


def test_an_edit_that_breaks_a_rule_is_422_with_its_code(world: World):
    street = world.conn.execute("SELECT min(id) FROM streets").fetchone()[0]
    url = f"/ogc/collections/streets/items/{street}"
    patch = {"geometry": a_long_street(world)}
    headers = {**ADMIN_HEADERS, "Content-Type": "application/merge-patch+json"}
    refused = world.client.patch(url, json=patch, headers=headers)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["rule"] == "line_too_long" and body["params"]["max_m"] == 2000
    assert "at most 2000 m" in body["detail"]
    world.client.put("/plausibility-rules/streets/max_length", json={"value": 5000}, headers=ADMIN_HEADERS)
    assert world.client.patch(url, json=patch, headers=headers).status_code == 200


def test_a_planner_is_refused(world: World):
    put = world.client.put("/plausibility-rules/streets/max_length", json={"value": 100}, headers=world.planner)
    assert put.status_code == 403 and "administrator" in put.json()["detail"]
    assert world.client.delete("/plausibility-rules/streets/max_length", headers=world.planner).status_code == 403
    assert world.client.put("/plausibility-rules/streets/max_length", json={"value": 100}).status_code == 401
    assert rules(world)[("streets", "max_length")]["value"] == 2000


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/plausibility-rules/streets/max_width", {"value": 5}, "'max_width' is not a plausibility rule"),
        ("/plausibility-rules/nowhere/max_length", {"value": 5}, "'nowhere' is not a layer with geometries"),
        ("/plausibility-rules/parcels/max_length", {"value": 5}, "does not apply to this layer"),
        ("/plausibility-rules/streets/max_length", {"value": -5}, "more than 0"),
        ("/plausibility-rules/streets/max_length", {"value": 0}, "more than 0"),
        ("/plausibility-rules/streets/max_length", {}, "got none"),
        ("/plausibility-rules/parcels/max_area", {"value": 1e11}, "at most 10,000,000,000"),
        ("/plausibility-rules/streets/keep_neighbourhood", {"value": 5}, "takes no value"),
    ],
)
def test_bad_rules_are_422_in_a_planners_words(world: World, path: str, body: dict, words: str):
    bad = world.client.put(path, json=body, headers=ADMIN_HEADERS)
    assert bad.status_code == 422, bad.text
    assert words in bad.json()["detail"]


def test_bad_bodies_are_422(world: World):
    for body, prop in [({"value": "far"}, "value"), ({"value": 5, "enabled": "yes"}, "enabled"),
                       ({"value": 5, "colour": "red"}, "colour")]:  # fmt: skip
        bad = world.client.put("/plausibility-rules/streets/max_length", json=body, headers=ADMIN_HEADERS)
        assert bad.status_code == 422 and bad.json()["property"] == prop, bad.text
    assert rules(world)[("streets", "max_length")]["value"] == 2000  # nothing changed


def test_the_cli(world: World, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", world.url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["plausibility", "list"])
    assert listed.exit_code == 0, listed.output
    assert "max_length" in listed.output and "2,000 m" in listed.output
    changed = runner.invoke(cli, ["plausibility", "set", "streets", "max_length", "--value", "3000"])
    assert changed.exit_code == 0, changed.output
    assert "changed max_length of streets: 3,000 m (applied)" in changed.output
    off = runner.invoke(cli, ["plausibility", "set", "assets", "keep_neighbourhood", "--disabled"])
    assert off.exit_code == 0 and "(not applied)" in off.output, off.output
    refused = runner.invoke(cli, ["plausibility", "set", "parcels", "max_length", "--value", "10"])
    assert refused.exit_code == 1 and "does not apply to this layer" in " ".join(refused.output.split())
    removed = runner.invoke(cli, ["plausibility", "remove", "blighted_plots", "max_area"])
    assert removed.exit_code == 0, removed.output
    found = rules(world)
    assert found[("streets", "max_length")]["value"] == 3000 and not found[("assets", "keep_neighbourhood")]["enabled"]
    assert ("blighted_plots", "max_area") not in found
