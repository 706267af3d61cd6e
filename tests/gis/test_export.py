"""What each export format holds, and the export filters, on a small real database."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pyogrio
import pytest
import shapely

import gis.export
import gis.export.arrow
from core.errors import NotFound
from gis.cql2 import FilterError
from gis.export import ExportError, ExportOptions, export
from layers.catalogue import load_catalogue
from layers.custom import create_custom_layer
from layers.spec import Attribute, Layer, choices
from tests.importers.samples import AR, EL, FA, FORMULA, HOSTILE, add_multilingual_rows

NEIGHBOURHOOD = (
    "INSERT INTO neighbourhoods (code, name, geom) VALUES ('KAMPPI', 'Kamppi', "
    "'SRID=4326;MULTIPOLYGON(((24.93 60.16, 24.96 60.16, 24.96 60.18, 24.93 60.18, 24.93 60.16)))')"
)


@pytest.fixture
def db(conn):
    conn.execute(NEIGHBOURHOOD)
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('FAR', 'Far away', "
        "'SRID=4326;MULTIPOLYGON(((25.5 61, 25.6 61, 25.6 61.1, 25.5 61.1, 25.5 61)))')"
    )
    add_multilingual_rows(conn)
    conn.execute("INSERT INTO assets (kind, geom) VALUES ('tree', 'SRID=4326;POINT(25.55 61.05)')")
    return conn


def run(conn, tmp_path: Path, name: str, **options) -> tuple[Path, dict[str, int]]:
    path = tmp_path / name
    report = export(conn, load_catalogue(conn), ExportOptions(**options), path)
    return path, report.layers


def test_geopackage_has_every_layer_a_data_dictionary_aliases_value_lists_and_styles(db, tmp_path):
    path, counts = run(db, tmp_path, "x.gpkg", format="gpkg")
    names = {name for name, _ in pyogrio.list_layers(path)}
    assert {"streets", "parcels", "assets", "interventions", "mahalle_data_dictionary", "layer_styles"} <= names
    assert counts["assets"] == 2
    assert counts["observations"] == 0 and "observations" in names  # an empty layer still gets its table
    streets = pyogrio.read_dataframe(path, layer="streets")
    assert streets.loc[0, "name"] == FA and streets.loc[0, "note"] == HOSTILE
    with sqlite3.connect(path) as lite:
        row = lite.execute(
            "SELECT label_fa, value_list FROM mahalle_data_dictionary WHERE layer = 'streets' AND field = 'surface'"
        ).fetchone()
        assert row[0] == "پوشش سطح"
        assert {
            "value": "earth",
            "label": {"en": "Earth", "fa": "خاکی", "ar": "ترابي", "el": "Χωμάτινος", "fr": "Terre"},
        } in (json.loads(row[1]))
        alias = lite.execute(
            "SELECT name, constraint_name FROM gpkg_data_columns "
            "WHERE table_name = 'streets' AND column_name = 'surface'"
        ).fetchone()
        assert alias == ("Surface", "streets_surface")
        enum = lite.execute(
            "SELECT value FROM gpkg_data_column_constraints WHERE constraint_name = 'streets_surface'"
        ).fetchall()
        assert ("gravel",) in enum
        qml = lite.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'streets'").fetchone()[0]
        assert 'attr="surface"' in qml and 'value="earth"' in qml


def test_shapefile_zip_per_layer_and_geometry_type_with_prj_utf8_cpg_and_field_map(db, tmp_path):
    path, _ = run(db, tmp_path, "x.zip", format="shp", layers=["streets", "interventions", "workshops"])
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"streets.shp", "streets.prj", "streets.dbf", "workshops.shp", "fields.csv"} <= names
        assert "interventions_point.shp" in names  # a mixed layer: one shapefile per geometry type
        assert zf.read("streets.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        assert "WGS" in zf.read("streets.prj").decode()
        field_map = list(csv.DictReader(io.StringIO(zf.read("fields.csv").decode())))
    assert {"layer": "streets", "shapefile": "streets", "field": "neighbourhood", "short_name": "neighbourh"} in (
        field_map
    )
    assert all(len(row["short_name"]) <= 10 for row in field_map)
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "shp")
    streets = pyogrio.read_dataframe(tmp_path / "shp" / "streets.shp")
    assert streets.loc[0, "name"] == FA


def test_geojson_is_rfc7946(db, tmp_path):
    path, _ = run(db, tmp_path, "p.geojson", format="geojson", layers=["parcels"])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    feature = data["features"][0]
    assert feature["properties"]["address"] == EL
    outer, hole = feature["geometry"]["coordinates"][0]
    assert shapely.LinearRing(outer).is_ccw and not shapely.LinearRing(hole).is_ccw  # right-hand rule
    assert outer[0] == [24.94, 60.17]  # longitude first


def test_csv_has_wkt_and_lon_lat_for_points(db, tmp_path):
    path, _ = run(db, tmp_path, "s.csv", format="csv", layers=["service_points"])
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows[0]["name"] == AR
    assert float(rows[0]["lon"]) == 24.9450123456789 and float(rows[0]["lat"]) == 60.1720987654321
    assert rows[0]["wkt"].startswith("POINT(24.9450123456789")


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_several_layers_in_a_file_per_layer_format_are_a_zip_or_a_folder_never_a_zip_named_csv(db, tmp_path, fmt):
    # Before: `--out inventory.csv` of several layers wrote a zip archive named inventory.csv.
    report = export(db, load_catalogue(db), ExportOptions(format=fmt, layers=["streets", "parcels"]),
                    tmp_path / f"inventory.{fmt}")  # fmt: skip
    assert report.path == str(tmp_path / "inventory.zip") and report.media_type == "application/zip"
    assert not (tmp_path / f"inventory.{fmt}").exists()
    assert sorted(zipfile.ZipFile(tmp_path / "inventory.zip").namelist()) == [f"parcels.{fmt}", f"streets.{fmt}"]
    folder = tmp_path / "folder"
    folder.mkdir()
    into = export(db, load_catalogue(db), ExportOptions(format=fmt, layers=["streets", "parcels"]), folder)
    assert into.path == str(folder) and sorted(f.name for f in folder.iterdir()) == [f"parcels.{fmt}", f"streets.{fmt}"]
    # One layer is the plain file, not a .zip name on it.
    single = export(db, load_catalogue(db), ExportOptions(format=fmt, layers=["streets"]), tmp_path / "one.zip")
    assert single.path == str(tmp_path / f"one.{fmt}") and not zipfile.is_zipfile(single.path)


def test_xlsx_has_a_sheet_per_layer_a_summary_and_no_formulas(db, tmp_path):
    path, _ = run(db, tmp_path, "x.xlsx", format="xlsx", layers=["streets", "workshops", "parcels"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Fields", "streets", "workshops", "parcels"]
    summary = [row for row in book["Summary"].iter_rows(values_only=True)]
    assert summary[0] == ("layer", "what", "features", "area_m2", "length_m")
    streets = next(r for r in summary if r[0] == "streets" and r[1] == "Streets")
    assert streets[2] == 1 and streets[4] > 50
    assert ("workshops", "status = sealed", 1, None, None) in summary
    workshop = [c for c in book["workshops"].iter_rows(min_row=2, values_only=False)][0]
    note = next(c for c in workshop if c.value == FORMULA)
    assert note.data_type == "s"  # stays text: never evaluated as a formula


def test_kml_and_kmz(db, tmp_path):
    kml, _ = run(db, tmp_path, "x.kml", format="kml", layers=["service_points", "streets"])
    text = kml.read_text(encoding="utf-8")
    assert "<kml" in text and AR in text and FA in text
    kmz, _ = run(db, tmp_path, "x.kmz", format="kmz", layers=["service_points"])
    with zipfile.ZipFile(kmz) as zf:
        assert zf.namelist() == ["doc.kml"]
        assert AR in zf.read("doc.kml").decode()


def test_filters_neighbourhood_bbox_polygon_cql2_status_dates(db, tmp_path):
    def count(**options) -> dict[str, int]:
        return run(db, tmp_path, "f.gpkg", format="gpkg", **options)[1]

    assert count(layers=["assets"])["assets"] == 2
    assert count(layers=["assets"], neighbourhood="FAR")["assets"] == 1
    assert count(layers=["assets"], bbox=(24.9, 60.1, 25.0, 60.2))["assets"] == 1
    far = "POLYGON((25.5 61, 25.6 61, 25.6 61.1, 25.5 61))"
    assert count(layers=["assets"], polygon=far)["assets"] == 1
    assert count(layers=["assets"], filter="kind = 'tree'")["assets"] == 1
    assert count(layers=["workshops", "streets"], status=["sealed"]) == {"workshops": 1}
    assert count(layers=["assets"], date_from=datetime(2025, 3, 1).date(), date_to=datetime(2025, 3, 21).date()) == {
        "assets": 1
    }
    with pytest.raises(NotFound, match="NOPE"):
        count(neighbourhood="NOPE")
    with pytest.raises(FilterError, match="streets: .*'kind'"):
        count(layers=["streets"], filter="kind = 'tree'")
    with pytest.raises(ExportError, match="polygon"):
        count(polygon="POINT(1 2)")
    with pytest.raises(ExportError, match="no geometry"):
        count(layers=["tasks"])


def test_as_of_exports_the_layer_as_it_was(db, tmp_path):
    before = datetime.now(UTC)
    db.execute("UPDATE streets SET surface = 'asphalt'")
    db.execute("DELETE FROM workshops")
    path, counts = run(db, tmp_path, "old.gpkg", format="gpkg", layers=["streets", "workshops"], as_of=before)
    assert counts == {"streets": 1, "workshops": 1}
    assert pyogrio.read_dataframe(path, layer="streets").loc[0, "surface"] == "earth"


def test_streams_in_batches(db, tmp_path):
    db.execute(
        "INSERT INTO assets (kind, geom) SELECT 'bench', ST_MakePoint(24.94 + i * 1e-5, 60.17) "
        "FROM generate_series(1, 2500) i"
    )
    for fmt, name in (("gpkg", "b.gpkg"), ("geojson", "b.geojson"), ("csv", "b.csv"), ("kml", "b.kml")):
        path, counts = run(db, tmp_path, name, format=fmt, layers=["assets"], batch_size=1000)
        assert counts["assets"] == 2502
        layer = "assets" if fmt in ("gpkg", "kml") else None  # a CSV's layer is named after the file
        assert pyogrio.read_info(path, layer=layer)["features"] == 2502


def test_export_inside_the_callers_transaction(db_url, tmp_path):
    import psycopg

    with psycopg.connect(db_url) as conn:  # not autocommit: a transaction opens with the first query
        conn.execute(NEIGHBOURHOOD)
        conn.execute("INSERT INTO assets (kind, geom) VALUES ('tree', 'SRID=4326;POINT(24.94 60.17)')")
        _, counts = run(conn, tmp_path, "t.gpkg", format="gpkg", layers=["assets"], neighbourhood="KAMPPI")
        assert counts == {"assets": 1}  # sees its own uncommitted row


# --- GDAL formats stream Arrow batches: every row, the right types, nulls, errors ------------------------

WATER_POINTS = Layer(
    name="water_points",
    title={"en": "Water points"},
    description={},
    geometry_type="Point",
    kind="custom",
    geometry_required=False,  # a row without geometry must come out with a null geometry
    attributes=(
        Attribute("state", "choice", {"en": "State"}, choices=choices(("working", {"en": "Working"}))),
        Attribute("issues", "choices", {"en": "Issues"}, choices=choices(("leak", {"en": "Leak"}), ("dry", {}))),
        Attribute("users", "integer", {"en": "Users"}),
        Attribute("depth_m", "number", {"en": "Depth"}),
        Attribute("working", "boolean", {"en": "Working"}),
        Attribute("checked_on", "date", {"en": "Checked on"}),
        Attribute("checked_at", "datetime", {"en": "Checked at"}),
        Attribute("note", "text", {"en": "Note"}),
    ),
)
ROWS = 2_500


@pytest.fixture
def water_points(conn):
    """2,500 points with a value of every type (every other timestamp on a whole second), then a row of nulls."""
    create_custom_layer(conn, WATER_POINTS)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(
        "INSERT INTO water_points (state, issues, users, depth_m, working, checked_on, checked_at, note, geom) "
        "SELECT 'working', ARRAY['leak', 'dry'], i, i * 0.25, i %% 2 = 0, DATE '2025-03-21' + i %% 300, "
        "TIMESTAMPTZ '2025-03-21 10:00:00+00' + i * INTERVAL '1.5 seconds', %s, "
        "ST_SetSRID(ST_MakePoint(24.94 + i * 1e-5, 60.17), 4326) FROM generate_series(1, %s) i",
        (FA, ROWS),
    )
    conn.execute("INSERT INTO water_points (geom) VALUES (NULL)")
    return conn


def test_geopackage_of_a_layer_bigger_than_a_batch_has_every_row_with_its_types_and_nulls(
    water_points, tmp_path, monkeypatch
):
    batches: list[int] = []
    record_batch = gis.export.arrow.record_batch
    monkeypatch.setattr(gis.export.arrow, "record_batch", lambda *a: batches.append(len(a[-1])) or record_batch(*a))
    progress: list[int] = []
    path = tmp_path / "w.gpkg"
    options = ExportOptions(format="gpkg", layers=["water_points"], batch_size=1000)
    report = export(water_points, load_catalogue(water_points), options, path, lambda n, _: progress.append(n))
    assert report.layers == {"water_points": ROWS + 1}
    assert batches == [1000, 1000, 501] and progress == [1000, 2000, 2501]  # one batch in memory at a time
    with sqlite3.connect(path) as lite:
        types = {row[1]: row[2] for row in lite.execute("PRAGMA table_info(water_points)")}
        rows = lite.execute(
            "SELECT id, state, issues, users, depth_m, working, checked_on, checked_at, note, geom IS NULL "
            "FROM water_points ORDER BY fid"
        ).fetchall()
    assert {k: types[k] for k in ("id", "users", "depth_m", "working", "checked_on", "checked_at", "issues")} == {
        "id": "INTEGER",
        "users": "INTEGER",
        "depth_m": "REAL",
        "working": "BOOLEAN",
        "checked_on": "DATE",
        "checked_at": "TEXT",  # ISO 8601 text, as before: QGIS and our importer read it back exactly
        "issues": "TEXT",
    }
    ids = [r[0] for r in water_points.execute("SELECT id FROM water_points ORDER BY id")]
    assert [r[0] for r in rows] == ids
    assert rows[2][1:] == ("working", "leak;dry", 3, 0.75, 0, "2025-03-24", "2025-03-21T10:00:04.500000+00:00", FA, 0)
    assert rows[3][7] == "2025-03-21T10:00:06+00:00"  # a whole second: no fraction, like isoformat()
    assert rows[-1][1:] == (None, None, None, None, None, None, None, None, 1)
    # GDAL's in-memory spatial index is capped too, so memory does not grow with the layer
    assert str(pyogrio.get_gdal_config_option("OGR_GPKG_MAX_RAM_USAGE_RTREE")) == str(gis.export.RTREE_RAM)
    frame = pyogrio.read_dataframe(path, layer="water_points")
    assert frame.geometry.iloc[-1] is None and frame.geometry.iloc[0].equals_exact(shapely.Point(24.94001, 60.17), 1e-9)


def test_timestamps_are_written_as_python_writes_them_in_the_sessions_time_zone(water_points, tmp_path):
    water_points.execute("SET TimeZone = 'Asia/Tehran'")  # +03:30
    rows = water_points.execute("SELECT checked_at FROM water_points ORDER BY id").fetchall()
    expected = [r[0] and r[0].isoformat() for r in rows]
    assert expected[:2] == ["2025-03-21T13:30:01.500000+03:30", "2025-03-21T13:30:03+03:30"]
    gpkg, _ = run(water_points, tmp_path, "t.gpkg", format="gpkg", layers=["water_points"])
    with sqlite3.connect(gpkg) as lite:
        assert [r[0] for r in lite.execute("SELECT checked_at FROM water_points ORDER BY fid")] == expected
    path, _ = run(water_points, tmp_path, "t.csv", format="csv", layers=["water_points"])
    assert [row["checked_at"] or None for row in csv.DictReader(path.open(encoding="utf-8-sig"))] == expected


def test_shapefile_of_a_mixed_layer_bigger_than_a_batch_splits_every_batch_by_geometry_type(conn, tmp_path):
    conn.execute(
        "INSERT INTO interventions (title, kind, status, unit, geom) "
        "SELECT 'bump ' || i, 'speed_bump', 'approved', 'count', CASE WHEN i % 2 = 0 "
        "THEN ST_SetSRID(ST_MakePoint(24.94 + i * 1e-5, 60.17), 4326) "
        "ELSE ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(24.94 + i * 1e-5, 60.17), 4326), 1e-6, 2)) END "
        "FROM generate_series(1, 2500) i"
    )
    path, counts = run(conn, tmp_path, "i.zip", format="shp", layers=["interventions"], batch_size=1000)
    assert counts == {"interventions": 2500}
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "shp")
    points = pyogrio.read_dataframe(tmp_path / "shp" / "interventions_point.shp")
    polygons = pyogrio.read_dataframe(tmp_path / "shp" / "interventions_polygon.shp")
    assert len(points) == len(polygons) == 1250
    assert sorted([*points["title"], *polygons["title"]]) == sorted(f"bump {i}" for i in range(1, 2501))


def test_an_error_while_gdal_reads_the_batches_is_raised_as_itself(water_points, tmp_path):
    class Stop(Exception):
        pass

    def progress(rows: int, layer: str) -> None:
        raise Stop(f"stopped at {rows}")

    options = ExportOptions(format="gpkg", layers=["water_points"], batch_size=1000)
    with pytest.raises(Stop, match="stopped at 1000"):
        export(water_points, load_catalogue(water_points), options, tmp_path / "s.gpkg", progress)
    assert not (tmp_path / "s.gpkg").exists()


def _photo_of_each_asset(conn, files: Path) -> dict[int, bytes]:
    """A large photo (kept as a file) on the asset in FAR, a small one (kept in the row) on every other asset."""
    from layers import attachments

    far = conn.execute("SELECT a.id FROM assets a JOIN neighbourhoods n ON n.id = a.neighbourhood_id "
                       "WHERE n.code = 'FAR'").fetchone()[0]  # fmt: skip
    added = {}
    for (aid,) in conn.execute("SELECT id FROM assets ORDER BY id").fetchall():
        data = bytes([aid % 256]) * (200_000 if aid == far else 100)
        new = attachments.NewAttachment(layer="assets", feature_id=aid, filename=f"asset {aid}.jpg",
                                        media_type="image/jpeg")  # fmt: skip
        attachments.add(conn, files, new, data)
        added[aid] = data
    return added


def test_photos_go_with_exactly_the_exported_features(db, tmp_path):
    files = tmp_path / "files"
    added = _photo_of_each_asset(db, files)
    out = tmp_path / "inventory.gpkg"
    options = ExportOptions(format="gpkg", layers=["assets"], neighbourhood="FAR", photos=True)
    report = export(db, load_catalogue(db), options, out, files=files)
    exported = {int(i) for i in pyogrio.read_dataframe(out, layer="assets")["id"]}
    with sqlite3.connect(out) as gpkg:
        rows = gpkg.execute("SELECT feature_id, content, filename FROM attachments").fetchall()
    assert report.photos == len(rows) == len(exported) >= 1
    assert {r[0] for r in rows} == exported and all(r[1] == added[r[0]] for r in rows)
    assert "attachments" in pyogrio.list_layers(out)[:, 0], "GDAL and QGIS see the table"

    shp = tmp_path / "inventory.zip"
    report = export(db, load_catalogue(db), ExportOptions(format="shp", layers=["assets"], photos=True), shp,
                    files=files)  # fmt: skip
    with zipfile.ZipFile(shp) as z:
        listed = list(csv.DictReader(io.TextIOWrapper(z.open("photos.csv"), encoding="utf-8")))
        assert len(listed) == len(added) == report.photos
        assert all(z.read(row["file"]) == added[int(row["feature_id"])] for row in listed)


def test_photos_need_a_format_that_holds_them_and_the_present(db, tmp_path):
    with pytest.raises(ExportError, match="GeoPackage"):
        export(db, load_catalogue(db), ExportOptions(format="csv", layers=["assets"], photos=True),
               tmp_path / "a.csv", files=tmp_path)  # fmt: skip
    with pytest.raises(ExportError, match="as of a past date"):
        export(db, load_catalogue(db), ExportOptions(format="gpkg", layers=["assets"], photos=True,
                                                     as_of=datetime(2020, 1, 1, tzinfo=UTC)),
               tmp_path / "a.gpkg", files=tmp_path)  # fmt: skip
