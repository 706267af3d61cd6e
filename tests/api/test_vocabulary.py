"""Value lists over HTTP and the CLI on a copy of the demo database: an administrator adds an intervention kind with
its translations, it is offered by the catalogue (forms, OGC schemas) and accepted on write at once; retired, it is
refused for new features; in use, it cannot be removed; planners cannot change lists."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import base
from api.identity.store import Grant
from api.runtime import Database
from core.db import with_role
from core.roles import OWNER_ROLE
from core.settings import Settings
from importers.demo import CODE
from tests.api.cli.runner import cli
from tests.auth import ADMIN_HEADERS, token_for

ENTRY = "/vocabularies/interventions/kind/traffic_signs"
LINE = {"type": "LineString", "coordinates": [[24.9405, 60.1690], [24.9410, 60.1692]]}


@pytest.fixture
def client(demo_db_url: str, tmp_path) -> Iterator[TestClient]:
    settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
    with TestClient(create_app(settings, database=Database(demo_db_url))) as c:
        yield c


@pytest.fixture
def planner(demo_db_url: str) -> dict[str, str]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        return token_for(conn, "amina", Grant("planner", CODE))


def signs(client: TestClient, headers: dict[str, str]):
    return client.post("/interventions", json={"properties": {"title": "Stop signs", "kind": "traffic_signs"},
                                               "geometry": LINE}, headers=headers)  # fmt: skip


def kind_choices(client: TestClient) -> dict[str, dict]:
    kind = next(a for a in client.get("/layers/interventions").json()["attributes"] if a["name"] == "kind")
    return {c["value"]: c for c in kind["choices"]}


def test_an_added_kind_is_offered_and_accepted_at_once(client, planner):
    refused = signs(client, planner)
    assert refused.status_code == 422 and refused.json()["property"] == "kind"
    made = client.put(ENTRY, json={"label": {"en": "Traffic signs", "fa": "تابلوهای راهنمایی"}}, headers=ADMIN_HEADERS)
    assert made.status_code == 201, made.text
    assert made.json() | {"updated_at": None} == {
        "value": "traffic_signs", "label": {"en": "Traffic signs", "fa": "تابلوهای راهنمایی"}, "color": None,
        "retired": False, "origin": "office", "updated_at": None, "updated_by": "admin"}  # fmt: skip
    assert kind_choices(client)["traffic_signs"]["label"]["fa"] == "تابلوهای راهنمایی"
    schema = client.get("/ogc/collections/interventions/queryables", headers=planner).json()
    assert "traffic_signs" in str(schema)  # OGC clients see the new value too
    created = signs(client, planner)
    assert created.status_code == 201, created.text

    translated = client.put(ENTRY, json={"label": {"ar": "إشارات المرور"}}, headers=ADMIN_HEADERS)
    assert translated.status_code == 200 and translated.json()["label"] == {
        "en": "Traffic signs", "fa": "تابلوهای راهنمایی", "ar": "إشارات المرور"}  # fmt: skip
    listed = client.get("/vocabularies/interventions/kind").json()
    assert listed["entries"][0]["value"] == "paving" and listed["entries"][-1]["value"] == "traffic_signs"

    assert client.put(ENTRY, json={"retired": True}, headers=ADMIN_HEADERS).json()["retired"] is True
    assert kind_choices(client)["traffic_signs"]["retired"] is True
    again = signs(client, planner)
    assert again.status_code == 422 and "is not one of" in again.json()["detail"]
    in_use = client.delete(ENTRY, headers=ADMIN_HEADERS)
    assert in_use.status_code == 409 and "only retired" in in_use.json()["detail"]


def test_planners_cannot_change_lists_and_mistakes_are_named(client, planner):
    assert client.put(ENTRY, json={"label": {"en": "Signs"}}, headers=planner).status_code == 403
    cases = [
        (ENTRY, {"color": "#123456"}, 422, "needs a label"),  # a new entry without a label
        (ENTRY, {"label": {"de": "Schilder"}}, 422, "labels are in"),
        ("/vocabularies/interventions/title/x", {"label": {"en": "X"}}, 404, "no value list named 'title'"),
        ("/vocabularies/nowhere/kind/x", {"label": {"en": "X"}}, 404, "no layer"),
        ("/vocabularies/interventions/kind/Traffic%20Signs", {"label": {"en": "X"}}, 400, "should match pattern"),
    ]
    for path, body, status, words in cases:
        answer = client.put(path, json=body, headers=ADMIN_HEADERS)
        assert answer.status_code == status, (path, answer.text)
        assert words in answer.text
    assert client.delete("/vocabularies/interventions/kind/never_added", headers=ADMIN_HEADERS).status_code == 404
    assert client.delete("/vocabularies/interventions/kind/paving", headers=ADMIN_HEADERS).status_code == 409


def test_the_cli_adds_translates_retires_and_lists(demo_db_url, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MAHALLE_MIGRATION_DATABASE_URL", with_role(demo_db_url, OWNER_ROLE))
    monkeypatch.setenv("MAHALLE_CLI_ACTOR", "cli:tester")
    monkeypatch.setattr(base.console, "width", 250)
    run = cli()
    added = run("vocabulary", "set", "service_points.category", "social_care", "--label", "en=Social care",
                "--label", "fr=Aide sociale", "--color", "#8e24aa")  # fmt: skip
    assert "added service_points.category social_care (Social care)" in added.output
    run("vocabulary", "set", "service_points.category", "social_care", "--label", "el=Κοινωνική φροντίδα", "--retire")
    listing = run("vocabulary", "list", "service_points.category").output
    line = next(x for x in listing.splitlines() if "social_care" in x)
    assert "Social care" in line and "Aide sociale" in line and "Κοινωνική φροντίδα" in line and "retired" in line
    assert "not a value list" not in run("vocabulary", "set", "nowhere.kind", "x", "--label", "en=X", ok=False).output
    assert "LAYER.ATTRIBUTE" in run("vocabulary", "list", "interventions", ok=False).output
    assert "LANG=TEXT" in run("vocabulary", "set", "interventions.kind", "x", "--label", "English", ok=False).output
    run("vocabulary", "remove", "service_points.category", "social_care")
    with psycopg.connect(demo_db_url) as conn:
        left = conn.execute("SELECT count(*) FROM mahalle.vocabulary WHERE layer = 'service_points' "
                            "AND attribute = 'category' AND value = 'social_care'").fetchone()[0]  # fmt: skip
    assert left == 0
