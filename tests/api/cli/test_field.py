"""``mahalle field checkout`` and ``mahalle field checkin`` end to end: GDAL edits the file between them."""

from __future__ import annotations

import json

import psycopg
import pytest

from api.cli import base
from core.db import with_role
from core.roles import OWNER_ROLE
from tests.api.cli.runner import cli
from tests.gis.field_samples import NORTH, file_rows, make_place, sql_in


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url, autocommit=True) as c:
        make_place(c)
        yield c


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", db_url)
    monkeypatch.setenv("MAHALLE_MIGRATION_DATABASE_URL", with_role(db_url, OWNER_ROLE))
    monkeypatch.setenv("MAHALLE_CLI_ACTOR", "cli:tester")
    monkeypatch.setattr(base.console, "width", 250)  # tables unwrapped, one row a line
    return cli()


def test_checkout_edit_checkin_and_again(run, conn, tmp_path):
    out = tmp_path / "north.gpkg"
    done = run("field", "checkout", "--neighbourhood", NORTH, "--layers", "workshops,streets", "--out", out)
    assert "workshops" in done.output and "wrote" in done.output and "7 features of FLD-NORTH" in done.output
    ((who,),) = file_rows(out, "SELECT created_by FROM mahalle_checkout")
    assert who == "cli:tester"

    sql_in(out, "UPDATE workshops SET status = 'sealed' WHERE name IN ('Yard A', 'Yard B')")
    sql_in(out, "DELETE FROM workshops WHERE name = 'Yard D'")
    conn.execute("UPDATE workshops SET note = 'changed on the server' WHERE name = 'Yard A'")

    shown = run("field", "checkin", out)
    assert "conflict" in shown.output
    assert "1 updated, 1 deleted, 0 unchanged, 1 conflict for review, 0 refused" in shown.output
    line = next(x for x in shown.output.splitlines() if x.strip("│ ").startswith("conflict"))
    assert "workshops" in line and "changed on the server since the checkout" in line
    assert conn.execute("SELECT status FROM workshops WHERE name = 'Yard B'").fetchone()[0] == "sealed"
    assert conn.execute("SELECT status FROM workshops WHERE name = 'Yard A'").fetchone()[0] == "active"

    again = json.loads(run("field", "checkin", out, "--format", "json").output)
    assert (again["inserted"], again["updated"], again["deleted"], again["conflict"]) == (0, 0, 0, 1)
    (conflict,) = [r for r in again["rows"] if r["status"] == "conflict"]
    assert "conflict" in conflict["message"] and conflict["conflict_id"]
    assert conn.execute("SELECT count(*) FROM field_changes WHERE state = 'conflict'").fetchone()[0] == 1


def test_bad_input_is_a_message(run, conn, tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("hello", encoding="utf-8")
    assert "is not a GeoPackage" in run("field", "checkin", text, ok=False).output
    assert "no such file" in run("field", "checkin", tmp_path / "missing.gpkg", ok=False).output
    out = tmp_path / "x.gpkg"
    assert "NOWHERE" in run("field", "checkout", "--neighbourhood", "NOWHERE", "--out", out, ok=False).output
    unknown = run("field", "checkout", "--neighbourhood", NORTH, "--layers", "trees", "--out", out, ok=False)
    assert "There is no layer named 'trees'" in unknown.output
    assert not out.exists()
