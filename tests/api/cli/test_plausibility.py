"""``mahalle plausibility …`` end to end, on the demo copy: list, set, refuse what does not fit, remove; and a
rule set from the CLI refusing an edit from another connection."""

from __future__ import annotations

import psycopg
import pytest

from api.cli import base
from tests.api.cli.runner import cli


@pytest.fixture
def run(demo_db_url, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MAHALLE_CLI_ACTOR", "cli:tester")
    monkeypatch.setattr(base.console, "width", 250)
    return cli()


def test_list_set_refuse_and_remove(run, demo_db_url):
    listed = run("plausibility", "list").output
    assert "streets" in listed and "max_length" in listed and "2,000 m" in listed
    assert "changed max_length of streets: 300 m (applied)" in run(
        "plausibility", "set", "streets", "max_length", "--value", "300").output  # fmt: skip
    with psycopg.connect(demo_db_url, autocommit=True) as conn, pytest.raises(psycopg.errors.CheckViolation) as no:
        conn.execute(
            "INSERT INTO streets (name, geom) VALUES ('long', 'SRID=4326;LINESTRING(24.93 60.17, 24.94 60.17)')"
        )
    assert "allows at most 300 m" in no.value.diag.message_primary
    refused = run("plausibility", "set", "parcels", "max_length", "--value", "10", ok=False).output
    assert "does not apply" in refused
    assert "0 allowed for near_neighbourhoods" in run(
        "plausibility", "set", "streets", "max_length", "--value", "-5", ok=False).output  # fmt: skip
    assert "not applied" in run("plausibility", "set", "streets", "max_length", "--value", "300", "--disabled").output
    assert "removed max_area of blighted_plots" in run("plausibility", "remove", "blighted_plots", "max_area").output
    assert "no plausibility rule" in run("plausibility", "remove", "blighted_plots", "max_area", ok=False).output
    with psycopg.connect(demo_db_url) as conn:
        rules = dict(conn.execute("SELECT layer || '.' || rule, enabled FROM plausibility_rules").fetchall())
    assert rules["streets.max_length"] is False and "blighted_plots.max_area" not in rules
