"""The ``mahalle`` command line against a real database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from layers import migrate


@pytest.fixture
def run(db_url, owner_db_url, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", db_url)
    monkeypatch.setenv("MAHALLE_MIGRATION_DATABASE_URL", owner_db_url)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_db_current_downgrade_upgrade(run):
    head = migrate.head_revision()
    assert f"current: {head}  head: {head}" in run("db", "current").output
    assert "at revision base" in run("db", "downgrade").output
    assert "current: base" in run("db", "current").output
    assert f"at revision {head}" in run("db", "upgrade").output


def test_layer_create_list_and_bad_definition(run, tmp_path, conn):
    out = run(
        "layer",
        "create",
        "--name",
        "water_points",
        "--geometry",
        "Point",
        "--attr",
        "state:choice:working|broken",
        "--attr",
        "depth_m:number",
    ).output
    assert "created layer water_points" in out
    assert "water_points" in run("layer", "list").output
    conn.execute("INSERT INTO water_points (state, geom) VALUES ('broken', 'SRID=4326;POINT(24.9 60.1)')")
    definition = tmp_path / "bad.json"
    definition.write_text(json.dumps({"name": "parcels", "geometry_type": "Point"}))
    bad = run("layer", "create", str(definition), ok=False)
    assert bad.exit_code == 1
    assert "already exists" in bad.output


def test_history_show_and_restore(run, conn):
    sid = conn.execute(
        "INSERT INTO streets (name, geom) VALUES ('Kuja', 'SRID=4326;LINESTRING(24.9 60.1, 24.91 60.1)') RETURNING id"
    ).fetchone()[0]
    conn.execute("UPDATE streets SET surface = 'asphalt' WHERE id = %s", (sid,))
    conn.execute("DELETE FROM streets WHERE id = %s", (sid,))
    shown = run("history", "show", "streets", str(sid)).output
    assert "INSERT" in shown and "DELETE" in shown and "surface" in shown
    assert "now at version 3" in run("history", "restore", "streets", str(sid)).output
    assert conn.execute("SELECT surface FROM streets WHERE id = %s", (sid,)).fetchone()[0] == "asphalt"
    missing = run("history", "show", "streets", "424242", ok=False)
    assert missing.exit_code == 1 and "has no history" in missing.output
