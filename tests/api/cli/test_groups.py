"""``mahalle group …`` and the roll-ups of ``mahalle report`` / ``mahalle indicators`` end to end, on the demo copy."""

from __future__ import annotations

import json

import psycopg
import pytest

from api.cli import base
from importers.demo import CODE
from tests.api.cli.runner import cli

B = "B-NORTH"
B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
YEAR = ("--from", "2026-01-01", "--to", "2026-12-31")


@pytest.fixture
def run(demo_db_url, monkeypatch):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, 'North', %s)", (B, B_POLYGON))
        conn.execute(
            "INSERT INTO streets (name, geom) VALUES ('N1', %s)",
            ("SRID=4326;LINESTRING(24.961 60.181, 24.965 60.181)",),
        )
    monkeypatch.setenv("MAHALLE_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MAHALLE_CLI_ACTOR", "cli:tester")
    monkeypatch.setattr(base.console, "width", 250)
    return cli()


def test_group_set_list_remove(run):
    made = run("group", "set", "HKI", "--name", "City of Helsinki", "--kind", "municipality", "--neighbourhood",
               f"{CODE},{B}").output  # fmt: skip
    assert f"created group HKI: {B}, {CODE}" in made
    assert f"replaced group HKI: {B}" in run("group", "set", "HKI", "--name", "Helsinki", "--neighbourhood", B).output
    listed = run("group", "list").output
    assert "HKI" in listed and "Helsinki" in listed and "programme" in listed
    refused = run("group", "set", "X", "--name", "X", "--neighbourhood", "NOPE", ok=False)
    assert "'NOPE'" in refused.output
    assert "removed group HKI" in run("group", "remove", "HKI").output
    assert "no group" in run("group", "remove", "HKI", ok=False).output


def test_report_and_indicators_roll_up(run, tmp_path):
    run("group", "set", "HKI", "--name", "Helsinki", "--neighbourhood", f"{CODE},{B}")
    out = {}
    for name, scope in (("list", ("--neighbourhood", f"{B},{CODE}")), ("group", ("--group", "HKI"))):
        path = tmp_path / f"{name}.json"
        run("report", *scope, *YEAR, "--format", "json", "--out", path)
        out[name] = json.loads(path.read_text())
    ignore = ("neighbourhood", "group", "generated_on")
    assert {k: v for k, v in out["group"].items() if k not in ignore} == {
        k: v for k, v in out["list"].items() if k not in ignore
    }
    assert [h["code"] for h in out["group"]["neighbourhoods"]] == [B, CODE]
    jalali = tmp_path / "jalali.json"
    run("report", "--group", "HKI", "--from", "1404-10-11", "--to", "1405-10-10", "--calendar", "jalali",
        "--format", "json", "--out", jalali)  # fmt: skip
    assert {k: v for k, v in json.loads(jalali.read_text()).items() if k != "generated_on"} == {
        k: v for k, v in out["group"].items() if k != "generated_on"
    }
    page = run("report", "--group", "HKI", *YEAR, "--lang", "ar", "--digits", "latn").output
    assert '<html lang="ar-u-nu-latn" dir="rtl">' in page
    one = {c: json.loads(run("indicators", "--neighbourhood", c, "--format", "json").output) for c in (CODE, B)}
    both = json.loads(run("indicators", "--group", "HKI", "--format", "json").output)
    assert both["streets"]["count"] == one[CODE]["streets"]["count"] + one[B]["streets"]["count"]
    assert "Street length" in run("indicators", "--neighbourhood", f"{CODE},{B}").output
    assert "'NOPE'" in run("report", "--neighbourhood", f"{CODE},NOPE", *YEAR, ok=False).output
    assert "--group" in run("report", *YEAR, ok=False).output
