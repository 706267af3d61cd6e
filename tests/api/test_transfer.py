"""``POST /imports`` (a job with progress and report), ``GET /imports/{id}`` and ``GET /exports``."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS
from tests.importers.samples import AR, FA, add_multilingual_rows

TREES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [24.94 + i / 1000, 60.17]},
            "properties": {"ref": f"t{i}", "kind": "درخت" if i else "Tree", "note": FA},
        }
        for i in range(3)
    ],
}


@pytest.fixture
def client(db_url: str, tmp_path) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False, data_dir=tmp_path / "data")
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as c:
        yield c


def upload(client: TestClient, content: bytes, name: str = "trees.geojson", **fields: str):
    return client.post("/imports", files={"file": (name, content)}, data={"layer": "assets", **fields})


def follow(client: TestClient, response) -> dict:
    assert response.status_code == 202, response.text
    href = response.headers["location"]
    assert response.json()["links"][0]["href"] == href
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(href).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    pytest.fail("the import job did not finish")


def test_upload_runs_as_a_job_with_a_report(client, conn):
    job = follow(client, upload(client, json.dumps(TREES).encode(), id_field="ref"))
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1
    assert job["report"]["layers"]["assets"]["new"] == 3
    assert job["report"]["mapping"]["assets"] == {"kind": "kind", "note": "note"}
    rows = conn.execute("SELECT kind, note, source, source_id FROM assets ORDER BY source_id").fetchall()
    assert rows == [("tree", FA, "file:trees.geojson", f"t{i}") for i in range(3)]
    again = follow(client, upload(client, json.dumps(TREES).encode(), id_field="ref"))
    assert again["report"]["layers"]["assets"]["unchanged"] == 3


def test_dry_run_and_mapping_in_the_form(client, conn):
    mapping = json.dumps({"fields": {"kind": None}, "defaults": {"kind": "bench"}})
    job = follow(client, upload(client, json.dumps(TREES).encode(), dry_run="true", mapping=mapping))
    assert job["status"] == "succeeded"
    assert job["report"]["dry_run"] is True and job["report"]["layers"]["assets"]["new"] == 3
    assert job["report"]["ignored_fields"]["assets"] == ["kind"]
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0


def test_rejected_rows_fail_the_job_and_write_nothing(client, conn):
    bad = json.loads(json.dumps(TREES))
    bad["features"][1]["properties"]["kind"] = "volcano"
    job = follow(client, upload(client, json.dumps(bad).encode()))
    assert job["status"] == "failed"
    assert "1 row(s) cannot be imported" in job["message"]
    assert job["report"]["rejected"][0]["reason"].startswith("kind: 'volcano' is not one of")
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0


def test_too_large_upload_is_413(client, conn, monkeypatch):
    monkeypatch.setenv("MAHALLE_IMPORT_MAX_FILE_MB", "1")
    response = upload(client, b" " * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "the limit is 1 MB" in response.json()["detail"]
    assert conn.execute("SELECT count(*) FROM mahalle.jobs").fetchone()[0] == 0


def test_zip_bomb_and_path_traversal_are_refused_before_any_job(client, conn):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.geojson", b"\0" * (20 * 1024 * 1024))
    response = upload(client, bomb.getvalue(), "bomb.zip")
    assert response.status_code == 413 and "zip bomb" in response.json()["detail"]
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/cron.d/x.geojson", b"{}")
    response = upload(client, evil.getvalue(), "evil.zip")
    assert response.status_code == 422 and "points outside the archive" in response.json()["detail"]
    response = upload(client, b"not a geopackage", "parcels.gpkg")
    assert response.status_code == 422 and "parcels.gpkg: the name says GeoPackage" in response.json()["detail"]
    assert conn.execute("SELECT count(*) FROM mahalle.jobs").fetchone()[0] == 0


def test_import_job_errors(client):
    assert client.post("/imports", data={"layer": "assets"}).status_code == 400
    assert client.get("/imports/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/imports/not-a-uuid").status_code == 400


def test_exports(client, conn, tmp_path):
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('KAMPPI', 'Kamppi', "
        "'SRID=4326;MULTIPOLYGON(((24.93 60.16, 24.96 60.16, 24.96 60.18, 24.93 60.18, 24.93 60.16)))')"
    )
    add_multilingual_rows(conn)
    response = client.get("/exports", params={"format": "gpkg", "layers": "streets,service_points"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    assert 'filename="mahalle-streets-service_points.gpkg"' in response.headers["content-disposition"]
    (tmp_path / "x.gpkg").write_bytes(response.content)
    assert pyogrio.read_dataframe(tmp_path / "x.gpkg", layer="service_points").loc[0, "name"] == AR
    geojson = client.get(
        "/exports",
        params={"format": "geojson", "layers": "streets", "filter": "surface = 'earth'", "neighbourhood": "KAMPPI"},
    )
    assert geojson.headers["content-type"] == "application/geo+json"
    assert geojson.json()["features"][0]["properties"]["name"] == FA
    csvs = client.get("/exports", params={"format": "csv", "layers": "streets,workshops"})
    assert csvs.headers["content-type"] == "application/zip"
    assert sorted(zipfile.ZipFile(io.BytesIO(csvs.content)).namelist()) == ["streets.csv", "workshops.csv"]


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"format": "pdf"}, 400, "Unknown export format 'pdf'"),
        ({"format": "gpkg", "layers": "nope"}, 404, "no layer named 'nope'"),
        ({"format": "gpkg", "neighbourhood": "NOPE"}, 404, "no neighbourhood with the code 'NOPE'"),
        ({"format": "gpkg", "layers": "streets", "filter": "colour = 'red'"}, 400, "streets: The filter uses 'colour'"),
        ({"format": "gpkg", "filter": "surface = "}, 400, "not valid CQL2"),
        ({"format": "gpkg", "bbox": "1,2,3"}, 400, "bbox takes four numbers"),
    ],
)
def test_export_errors_are_problem_details(client, params, status, detail):
    response = client.get("/exports", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


def test_cli_import_dry_run_then_import_then_export(db_url, conn, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("MAHALLE_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trees.geojson").write_text(json.dumps(TREES), encoding="utf-8")
    runner = CliRunner()
    args = ["import", "trees.geojson", "--layer", "assets", "--id-field", "ref", "--report", "r.json"]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    said = " ".join(dry.output.split())  # no neighbourhood in this database: every row is outside, and says so
    assert "3 new, 0 updated, 0 unchanged, 0 rejected, 3 outside every neighbourhood (dry run, nothing written" in said
    assert "assets: 3 row(s) lie outside every neighbourhood" in said
    assert json.loads((tmp_path / "r.json").read_text())["layers"]["assets"]["new"] == 3
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 3
    assert conn.execute("SELECT status FROM mahalle.jobs ORDER BY created_at").fetchall() == [("succeeded",)] * 2
    out = runner.invoke(
        app, ["export", "--format", "gpkg", "--out", "a.gpkg", "--layers", "assets", "--filter", "kind = 'tree'"]
    )
    assert out.exit_code == 0, out.output
    assert pyogrio.read_info(tmp_path / "a.gpkg", layer="assets")["features"] == 3
    bad = runner.invoke(app, ["import", "trees.geojson", "--layer", "assets", "--crs", "EPSG:999999"])
    assert bad.exit_code == 1 and "trees.geojson: the CRS 'EPSG:999999' is not known" in " ".join(bad.output.split())
    assert conn.execute("SELECT status FROM mahalle.jobs ORDER BY created_at DESC LIMIT 1").fetchone() == ("failed",)
    unknown = runner.invoke(app, ["import", "trees.geojson", "--layer", "nope"])
    assert unknown.exit_code == 1 and "There is no layer named 'nope'" in unknown.output


def test_an_upload_beyond_the_running_imports_is_503_and_leaves_nothing(client, tmp_path):
    import threading

    client.app.state.import_slots = threading.BoundedSemaphore(1)
    client.app.state.import_slots.acquire()  # one import is running
    busy = upload(client, b'{"type": "FeatureCollection", "features": []}')
    assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
    assert busy.json()["title"] == "The server is busy with other imports"
    assert list((tmp_path / "data" / "uploads").iterdir()) == []  # the upload it read is gone
    client.app.state.import_slots.release()
    assert upload(client, b"not json at all").status_code in (202, 422)  # the slot is free again


@pytest.mark.parametrize("name", ["..", "."])
def test_an_upload_named_like_a_folder_is_refused(client, name):
    response = upload(client, b"{}", name=name)
    assert response.status_code == 422 and response.json()["property"] == "file"


GEORGIA = Path(__file__).resolve().parents[1] / "data" / "libpysal" / "georgia" / "GData_utm.csv"


def preview(client: TestClient, content: bytes, name: str, **fields: str):
    return client.post("/imports/preview", files={"file": (name, content)}, data=fields)


def test_preview_shows_the_first_rows_and_the_mapping_an_import_would_use(client, conn):
    mapping = json.dumps({"fields": {"ref": ["note"]}})
    response = preview(client, json.dumps(TREES).encode(), "trees.geojson", layer="assets", id_field="ref",
                       mapping=mapping)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["features"], body["crs"], body["id_field"]) == ("geojson", 3, "EPSG:4326", "ref")
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["ref"]["targets"] == ["note"] and fields["ref"]["how"] == "mapping"  # the id field fills note
    assert fields["kind"]["targets"] == ["kind"] and fields["kind"]["samples"] == ["Tree", "درخت"]
    assert fields["note"]["targets"] == [] and body["unused_fields"] == ["note"]  # the mapping fills note from ref
    assert body["values"] == {"kind": {"Tree": "tree", "درخت": "tree"}}  # value by label, in any language
    assert body["rows"][0] == {"ref": "t0", "kind": "Tree", "note": FA}
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0  # a preview writes nothing


def test_preview_shows_a_value_that_fits_no_value_of_the_list_as_unmapped(client):
    odd = {**TREES, "features": [{**TREES["features"][0], "properties": {"ref": "x", "kind": "spaceship"}}]}
    response = preview(client, json.dumps(odd).encode(), "odd.geojson", layer="assets", id_field="ref")
    assert response.status_code == 200, response.text
    assert response.json()["values"] == {"kind": {"spaceship": None}}


def test_preview_of_a_table_lists_its_coordinate_columns_and_says_when_they_are_not_clear(client):
    content = GEORGIA.read_bytes()
    unclear = preview(client, content, "georgia.csv", layer="service_points").json()
    assert unclear["coordinates"]["x_field"] is None
    assert unclear["coordinates"]["candidates"] == {"x": ["Longitud", "X"], "y": ["Latitude", "Y"], "wkt": []}
    assert any("not clear" in p for p in unclear["problems"])
    named = preview(client, content, "georgia.csv", layer="service_points", x_field="X", y_field="Y",
                    crs="EPSG:26916").json()  # fmt: skip
    assert named["coordinates"]["x_field"] == "X" and named["crs"] == "EPSG:26916" and named["problems"] == []
    assert preview(client, b"{}", "x.geojson").status_code == 422  # no layer chosen
    assert preview(client, b"not a zip", "x.zip", layer="assets").status_code == 422


def test_past_imports_are_listed_with_their_report_to_download(client):
    done = follow(client, upload(client, json.dumps(TREES).encode(), dry_run="true"))
    listed = client.get("/imports").json()
    assert [(j["id"], j["file"], j["layer"], j["dry_run"], j["status"]) for j in listed] == [
        (done["id"], "trees.geojson", "assets", True, "succeeded")
    ]
    report = client.get(f"/imports/{done['id']}/report")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert json.loads(report.content)["layers"]["assets"]["new"] == 3
    assert client.get("/imports/00000000-0000-0000-0000-000000000000/report").status_code == 404


def test_outside_and_coordinate_options_go_through_the_upload_form(client):
    bad = upload(client, json.dumps(TREES).encode(), outside="nearest")
    assert bad.status_code == 422 and "how far" in bad.json()["detail"]
    job = follow(client, upload(client, json.dumps(TREES).encode(), outside="reject", dry_run="true"))
    counts = job["report"]["layers"]["assets"]  # no neighbourhood in this database: every row lies outside
    assert job["status"] == "succeeded" and (counts["outside"], counts["rejected"], counts["new"]) == (3, 3, 0)
    assert job["report"]["outside"] == {"policy": "reject", "distance_m": None}
