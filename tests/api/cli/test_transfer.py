"""``mahalle import`` with named coordinate columns and a policy for rows outside the neighbourhoods, and
``mahalle export`` of several layers in CSV: what an office runs on real files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.api.cli.runner import cli

GEORGIA = Path(__file__).resolve().parents[2] / "data" / "libpysal" / "georgia" / "GData_utm.csv"


@pytest.fixture
def run(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return cli()


def test_import_names_the_coordinate_columns_and_reports_the_rows_outside(run, conn, tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"fields": {"AreaKey": ["name"]}, "defaults": {"category": "clinic"}}))
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('ATL', 'Atlanta', "
        "ST_Multi(ST_MakeEnvelope(-84.6, 33.5, -84.2, 34.0, 4326)))"
    )
    base = ["import", GEORGIA, "--layer", "service_points", "--mapping", "m.json", "--id-field", "AreaKey"]
    unclear = run(*base, "--dry-run", ok=False)
    assert "--x-field/--y-field" in " ".join(unclear.output.split())
    bad = run(*base, "--outside", "nearest", ok=False)
    assert "how far" in " ".join(bad.output.split())
    done = run(*base, "--x-field", "Longitud", "--y-field", "Latitude", "--outside", "reject", "--skip-rejected",
               "--report", "r.json")  # fmt: skip
    report = json.loads((tmp_path / "r.json").read_text())
    inside = report["layers"]["service_points"]["new"]
    assert 0 < inside < 159 and report["layers"]["service_points"]["rejected"] == 159 - inside
    assert report["layers"]["service_points"]["outside"] == 159 - inside
    assert "TotPop90" in report["unused_fields"]["service_points"] and "X" in report["unused_fields"]["service_points"]
    said = " ".join(done.output.split())
    assert "outside" in said and "fields not imported: TotPop90" in said
    assert conn.execute("SELECT count(*) FROM service_points WHERE neighbourhood_id IS NULL").fetchone()[0] == 0


def test_export_of_several_layers_in_csv_is_a_zip_named_so(run, conn, tmp_path):
    conn.execute("INSERT INTO assets (kind, geom) VALUES ('tree', 'SRID=4326;POINT(24.94 60.17)')")
    result = run("export", "--format", "csv", "--out", "inventory.csv", "--layers", "assets,streets")
    assert not (tmp_path / "inventory.csv").exists()
    assert sorted(zipfile.ZipFile(tmp_path / "inventory.zip").namelist()) == ["assets.csv", "streets.csv"]
    assert "inventory.zip" in " ".join(result.output.split())
