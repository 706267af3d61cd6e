"""Importing files written with GDAL in other CRSs and encodings: reprojection, mapping, validation,
dry run and re-import, on a real database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from importers.mapping import Mapping
from importers.run import ImportOptions, ImportRejected, run_import
from importers.validate import CrsProblem
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
# Three points in central Helsinki (longitude, latitude) and their names in four languages.
POINTS = [(24.9384, 60.1699), (24.9458, 60.1718), (24.9502, 60.1675)]
NAMES = ["مسجد النور", "کتابخانه محله", "Βιβλιοθήκη"]
WEB_MERCATOR = "EPSG:3857"
UTM35 = "EPSG:32635"


def project(points: list[tuple[float, float]], crs: str) -> list[shapely.Point]:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return [shapely.Point(*t.transform(x, y)) for x, y in points]


def write(path: Path, geoms: list, fields: dict[str, list], crs: str | None, driver: str, **kw) -> Path:
    pyogrio.raw.write(
        path,
        np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        [np.array(v, dtype=object if isinstance(v[0], str) or v[0] is None else None) for v in fields.values()],
        list(fields),
        driver=driver,
        geometry_type=kw.pop("geometry_type", geoms[0].geom_type),
        crs=crs,
        **kw,
    )
    return path


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def service_points(conn) -> list[tuple]:
    return conn.execute(
        "SELECT name, category, round(ST_X(geom)::numeric, 6), round(ST_Y(geom)::numeric, 6), source, source_id "
        "FROM service_points ORDER BY source_id"
    ).fetchall()


def load(conn, path: Path, layer: str = "service_points", **options):
    return run_import(conn, CATALOGUE, path, ImportOptions(layer=layer, **options), "tester")


def expected_points() -> list[tuple]:
    return [(round(x, 6), round(y, 6)) for x, y in POINTS]


FIELDS = {"name": NAMES, "Category": ["Mosque", "Library", "کتابخانه"]}  # values by label, in any language


def check(conn, report) -> None:
    assert report.layers["service_points"].new == 3, report.rejected
    rows = service_points(conn)
    assert sorted(r[0] for r in rows) == sorted(NAMES)
    assert sorted(r[1] for r in rows) == ["library", "library", "mosque"]
    assert sorted((float(r[2]), float(r[3])) for r in rows) == sorted(
        (float(a), float(b)) for a, b in expected_points()
    )


def test_geopackage_in_utm_is_reprojected(conn, tmp_path):
    path = write(tmp_path / "sp.gpkg", project(POINTS, UTM35), FIELDS, UTM35, "GPKG", layer="places")
    report = load(conn, path)
    check(conn, report)
    assert report.crs["places"] == "EPSG:32635"
    assert report.mapping["service_points"] == {"name": "name", "Category": "category"}


def test_zipped_shapefile_in_web_mercator(conn, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    write(folder / "places.shp", project(POINTS, WEB_MERCATOR), FIELDS, WEB_MERCATOR, "ESRI Shapefile")
    check(conn, load(conn, zip_folder(folder, tmp_path / "places.zip")))


def test_windows_1256_shapefile_with_cpg(conn, tmp_path):
    arabic = ["مسجد النور", "مكتبة الحي", "سوق الجمعة"]  # all in Windows-1256
    folder = tmp_path / "shp"
    folder.mkdir()
    fields = {"name": arabic, "category": ["mosque", "library", "market"]}
    write(folder / "p.shp", project(POINTS, UTM35), fields, UTM35, "ESRI Shapefile", encoding="cp1256")
    raw = (folder / "p.dbf").read_bytes()
    assert "مسجد".encode("cp1256") in raw  # really written in Windows-1256
    (folder / "p.cpg").write_text("1256")
    report = load(conn, zip_folder(folder, tmp_path / "p.zip"))
    assert report.layers["service_points"].new == 3
    assert sorted(r[0] for r in service_points(conn)) == sorted(arabic)


def test_shapefile_without_cpg_asks_for_the_encoding_then_reads_it(conn, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    fields = {"name": ["مسجد النور", "مكتبة", "سوق"], "category": ["mosque", "library", "market"]}
    write(folder / "p.shp", project(POINTS, UTM35), fields, UTM35, "ESRI Shapefile", encoding="cp1256")
    (folder / "p.cpg").unlink()
    path = zip_folder(folder, tmp_path / "p.zip")
    with pytest.raises(Exception, match=r"p\.zip: p has non-English text but no \.cpg.*--encoding cp1256"):
        load(conn, path)
    assert service_points(conn) == []
    assert load(conn, path, encoding="cp1256").layers["service_points"].new == 3
    assert "مسجد النور" in [r[0] for r in service_points(conn)]


def test_shapefile_with_a_wrong_cpg_asks_for_the_encoding(conn, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    fields = {"name": ["مسجد النور", "مكتبة", "سوق"], "category": ["mosque", "library", "market"]}
    write(folder / "p.shp", project(POINTS, UTM35), fields, UTM35, "ESRI Shapefile", encoding="cp1256")
    (folder / "p.cpg").write_text("UTF-8")
    with pytest.raises(Exception, match=r"p\.zip: the text is not in the encoding the file declares"):
        load(conn, zip_folder(folder, tmp_path / "p.zip"))
    assert service_points(conn) == []


def test_shapefile_without_prj_needs_the_crs(conn, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        write(folder / "p.shp", project(POINTS, UTM35), FIELDS, None, "ESRI Shapefile", encoding="UTF-8")
    assert not (folder / "p.prj").exists()
    path = zip_folder(folder, tmp_path / "noprj.zip")
    with pytest.raises(CrsProblem, match=r"noprj\.zip: it has no \.prj file; give the CRS"):
        load(conn, path)
    assert service_points(conn) == []
    check(conn, load(conn, path, crs="EPSG:32635"))


def test_geojson_kml_kmz_flatgeobuf(conn, tmp_path):
    geo = write(tmp_path / "p.geojson", [shapely.Point(p) for p in POINTS], FIELDS, "EPSG:4326", "GeoJSON")
    check(conn, load(conn, geo, source="a"))
    conn.execute("DELETE FROM service_points")
    kml = write(tmp_path / "p.kml", [shapely.Point(p) for p in POINTS], FIELDS, "EPSG:4326", "KML")
    check(conn, load(conn, kml, source="b"))
    conn.execute("DELETE FROM service_points")
    with zipfile.ZipFile(tmp_path / "p.kmz", "w") as zf:
        zf.write(kml, "doc.kml")
    check(conn, load(conn, tmp_path / "p.kmz", source="c"))
    conn.execute("DELETE FROM service_points")
    fgb = write(tmp_path / "p.fgb", project(POINTS, WEB_MERCATOR), FIELDS, WEB_MERCATOR, "FlatGeobuf")
    check(conn, load(conn, fgb, source="d"))


def test_csv_with_lon_lat_and_with_wkt(conn, tmp_path):
    lines = ["name,Category,lat,lon"] + [
        f"{n},{c},{y},{x}" for n, c, (x, y) in zip(*FIELDS.values(), POINTS, strict=True)
    ]
    (tmp_path / "a.csv").write_text("\n".join(lines), encoding="utf-8")
    check(conn, load(conn, tmp_path / "a.csv", source="a"))
    conn.execute("DELETE FROM service_points")
    lines = ["name;category;WKT"] + [
        f"{n};{c};POINT ({x} {y})" for n, c, (x, y) in zip(*FIELDS.values(), POINTS, strict=True)
    ]
    (tmp_path / "b.csv").write_text("\n".join(lines), encoding="utf-8")
    check(conn, load(conn, tmp_path / "b.csv", source="b"))


def test_swapped_latitude_longitude_is_reported(conn, tmp_path):
    # Longitude 120: a latitude cannot be over 90, so the columns were swapped.
    lines = ["name,category,lon,lat", "a,mosque,45.5,120.25", "b,mosque,24.94,60.17"]
    (tmp_path / "s.csv").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        load(conn, tmp_path / "s.csv")
    assert info.value.report.rejected == [
        {
            "layer": "service_points",
            "row": 1,
            "source_id": "1",
            "reason": "latitude and longitude look swapped (the first coordinate is over 90)",
        }
    ]
    assert service_points(conn) == []


def test_invalid_geometry_rejected_or_repaired_by_policy(conn, tmp_path):
    bowtie = shapely.from_wkt("POLYGON((24.94 60.17, 24.95 60.18, 24.95 60.17, 24.94 60.18, 24.94 60.17))")
    good = shapely.box(24.93, 60.16, 24.935, 60.165)
    path = write(tmp_path / "p.gpkg", [bowtie, good], {"land_use": ["residential", "park"]}, "EPSG:4326", "GPKG")
    with pytest.raises(ImportRejected, match="row 1: the geometry is invalid: Self-intersection"):
        load(conn, path, layer="parcels")
    assert conn.execute("SELECT count(*) FROM parcels").fetchone()[0] == 0
    report = load(conn, path, layer="parcels", repair=True)
    assert report.layers["parcels"].new == 2 and report.layers["parcels"].repaired == 1
    assert "Self-intersection" in report.repaired[0]["reason"]
    assert conn.execute("SELECT bool_and(ST_IsValid(geom)), count(*) FROM parcels").fetchone() == (True, 2)


def test_row_by_row_report_and_dry_run_write_nothing(conn, tmp_path):
    geoms = [shapely.Point(p) for p in POINTS] + [shapely.Point(24.94, 60.17), shapely.LineString([(0, 0), (1, 1)])]
    fields = {
        "ref": ["A", "B", "C", "A", "E"],
        "name": ["x", "y", "z", "w", "v"],
        "category": ["mosque", "spaceport", "school", "school", "school"],
        "colour": ["red", "red", "blue", "green", "red"],
    }
    path = write(tmp_path / "p.gpkg", geoms[:4] + [geoms[4]], fields, "EPSG:4326", "GPKG", geometry_type="Unknown")
    report = load(conn, path, dry_run=True, id_field="ref")
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert reasons[2] == "category: 'spaceport' is not one of " + ", ".join(
        CATALOGUE["service_points"].attribute("category").values
    )
    assert reasons[4] == "duplicate id 'A' (also row 1)"
    assert reasons[5].startswith("a LineString does not fit this layer")
    counts = report.layers["service_points"]
    assert (counts.read, counts.new, counts.rejected) == (5, 2, 3)
    assert report.unmapped_fields["service_points"] == ["colour"]
    assert report.unmapped_values["service_points"] == {"category": {"spaceport": 1}}
    assert not report.committed
    assert conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0] == 0
    assert service_points(conn) == []


def test_mapping_file_and_re_import_updates(conn, tmp_path):
    fields = {"OBJECTID": ["7", "8", "9"], "NAME_FA": NAMES, "TYPE": ["M", "L", "L"], "extra": ["1", "2", "3"]}
    path = write(tmp_path / "p.gpkg", [shapely.Point(p) for p in POINTS], fields, "EPSG:4326", "GPKG")
    mapping = {
        "fields": {"NAME_FA": "name", "TYPE": "category", "extra": None},
        "values": {"category": {"M": "mosque", "L": "library"}},
        "defaults": {"provider": "Municipality"},
        "id_field": "OBJECTID",
    }
    (tmp_path / "m.json").write_text(json.dumps(mapping), encoding="utf-8")
    options = {"mapping": Mapping.load(tmp_path / "m.json"), "source": "municipality"}
    first = load(conn, path, **options)
    assert first.layers["service_points"].new == 3 and first.unmapped_fields["service_points"] == []
    assert first.ignored_fields["service_points"] == ["extra"]
    rows = service_points(conn)
    assert [r[4:] for r in rows] == [("municipality", "7"), ("municipality", "8"), ("municipality", "9")]
    assert conn.execute("SELECT DISTINCT provider FROM service_points").fetchall() == [("Municipality",)]
    fields["NAME_FA"] = ["Renamed", *NAMES[1:]]
    write(path, [shapely.Point(p) for p in POINTS], fields, "EPSG:4326", "GPKG")
    again = load(conn, path, **options).layers["service_points"]
    assert (again.new, again.updated, again.unchanged) == (0, 1, 2)
    assert conn.execute("SELECT count(*) FROM service_points").fetchone()[0] == 3
    assert conn.execute("SELECT version FROM service_points WHERE source_id = '7'").fetchone()[0] == 2


def test_osm_pbf_fills_several_layers_and_reimport_is_unchanged(conn):
    from importers.demo import DEMO_PBF

    first = run_import(conn, CATALOGUE, DEMO_PBF, ImportOptions(), "tester")
    filled = {name for name, c in first.layers.items() if c.new}
    assert {"streets", "parcels", "service_points", "assets", "workshops"} <= filled
    assert first.unmapped_values["streets"]["highway"]  # what the mapping left out is reported
    again = run_import(conn, CATALOGUE, DEMO_PBF, ImportOptions(layer="streets"), "tester")
    assert again.layers["streets"].unchanged == first.layers["streets"].new
    assert list(again.layers) == ["streets"]


def test_swapped_columns_are_found_by_the_neighbourhoods(conn, tmp_path):
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('KAMPPI', 'Kamppi', "
        "'SRID=4326;MULTIPOLYGON(((24.93 60.16, 24.96 60.16, 24.96 60.18, 24.93 60.18, 24.93 60.16)))')"
    )
    # Swapped, Helsinki's 60.17/24.94 is still a valid longitude/latitude (in the Indian Ocean).
    lines = ["name,category,lon,lat", "a,mosque,60.17,24.94", "b,mosque,24.94,60.17", "c,school,24.98,60.17"]
    (tmp_path / "s.csv").write_text("\n".join(lines), encoding="utf-8")
    report = load(conn, tmp_path / "s.csv", dry_run=True)
    assert report.rejected == [
        {
            "layer": "service_points",
            "row": None,
            "source_id": "1",
            "reason": "latitude and longitude look swapped: swapped back, it lies in neighbourhood KAMPPI",
        }
    ]
    assert (report.layers["service_points"].new, report.layers["service_points"].rejected) == (2, 1)
    with pytest.raises(ImportRejected, match="id 1: latitude and longitude look swapped"):
        load(conn, tmp_path / "s.csv")
    assert service_points(conn) == []
