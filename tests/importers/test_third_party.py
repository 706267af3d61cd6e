"""Imports of real files from outside the project (libpysal's examples, tests/data/libpysal): projected CRSs,
a Shapefile without .prj, numeric id fields, a CSV with two pairs of coordinate columns, rows outside every
neighbourhood. Each defect the issue found gets a test that failed before the fix."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from importers.files import FileProblem
from importers.mapping import Mapping
from importers.run import ImportOptions, ImportRejected, run_import
from layers.catalogue import core_catalogue

DATA = Path(__file__).resolve().parents[1] / "data" / "libpysal"
GEORGIA = DATA / "georgia" / "GData_utm.csv"
STREETS = DATA / "geodanet" / "streets.shp"
CHICAGO = DATA / "chicago" / "Chicago77.shp"
CATALOGUE = core_catalogue()
SERVICES = Mapping.from_json({"fields": {"AreaKey": ["name", "provider"]}, "defaults": {"category": "clinic"}})


def load(conn, path: Path, layer: str, **options):
    return run_import(conn, CATALOGUE, path, ImportOptions(layer=layer, **options), "tester")


def georgia() -> list[dict[str, str]]:
    with GEORGIA.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def add_georgia_halves(conn) -> None:
    """Two neighbourhoods covering Georgia north and south of a 6.7 km band (32.47°–32.53° N)."""
    for code, south, north in (("GA-S", 30, 32.47), ("GA-N", 32.53, 35.5)):
        conn.execute(
            # Segmentized: its edges follow the parallels for distances on the sphere too, not great circles.
            "INSERT INTO neighbourhoods (code, name, geom) "
            "VALUES (%s, %s, ST_Multi(ST_Segmentize(ST_MakeEnvelope(-86, %s, -80, %s, 4326), 0.01)))",
            (code, code, south, north),
        )


def in_band() -> list[str]:
    return [r["AreaKey"] for r in georgia() if 32.47 < float(r["Latitude"]) < 32.53]


def test_a_csv_with_two_pairs_of_coordinate_columns_is_not_guessed(conn):
    # Before: X (projected) was paired with Latitude and every row was rejected.
    with pytest.raises(FileProblem, match=r"not clear \(it has Longitud/Latitude, X/Y\).*--x-field/--y-field"):
        load(conn, GEORGIA, "service_points", mapping=SERVICES, dry_run=True)


def test_the_named_coordinate_columns_in_two_crss_put_each_county_in_the_same_place(conn):
    lonlat = load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="Longitud", y_field="Latitude",
                  id_field="AreaKey", source="lonlat")  # fmt: skip
    utm = load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="X", y_field="Y", crs="EPSG:26916",
               id_field="AreaKey", source="utm")  # fmt: skip
    assert lonlat.layers["service_points"].new == utm.layers["service_points"].new == 159
    assert lonlat.coordinates == {"GData_utm": {"x": "Longitud", "y": "Latitude", "wkt": None}}
    far = conn.execute(
        "SELECT max(ST_Distance(a.geom::geography, b.geom::geography)) FROM service_points a "
        "JOIN service_points b ON a.source_id = b.source_id AND a.source = 'lonlat' AND b.source = 'utm'"
    ).fetchone()[0]
    assert far < 30_000  # the table's two positions of a county's centre agree (a wrong CRS: thousands of km)
    # The unused pair is reported, not silently dropped; the id field fed two attributes as well.
    assert lonlat.unused_fields["service_points"][:3] == ["TotPop90", "PctRural", "PctBach"]
    assert {"X", "Y"} <= set(lonlat.unused_fields["service_points"])
    row = conn.execute("SELECT name, provider, source_id FROM service_points WHERE source = 'lonlat' AND "
                       "source_id = '13001'").fetchone()  # fmt: skip
    assert row == ("13001", "13001", "13001")


def test_one_coordinate_column_alone_is_refused(conn):
    with pytest.raises(FileProblem, match="name both coordinate columns"):
        load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="X", dry_run=True)
    with pytest.raises(FileProblem, match="there is no column 'Lon'"):
        load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="Lon", y_field="Latitude", dry_run=True)


def test_the_id_field_can_also_fill_an_attribute(conn):
    # Before: a field used as the id lost its mapping; the attribute was empty, or every row was rejected.
    mapping = Mapping.from_json({"fields": {"ID": "name"}, "defaults": {"street_class": "local"}})
    report = load(conn, STREETS, "streets", mapping=mapping, id_field="ID")
    assert report.layers["streets"].new == 293 and report.crs["streets"].startswith("PROJCRS") or report.crs
    rows = conn.execute("SELECT name, source_id FROM streets ORDER BY length(source_id), source_id LIMIT 2").fetchall()
    # The ids keep their text as written: a numeric field read as 1.0 is the id "1", not "1.0".
    assert rows == [("1", "1"), ("2", "2")]
    assert report.unused_fields["streets"] == ["Length"]


def test_numeric_ids_are_kept_as_written(conn):
    report = load(conn, STREETS, "streets", mapping=Mapping(defaults={"street_class": "local"}), id_field="ID")
    assert report.layers["streets"].new == 293
    ids = [r[0] for r in conn.execute("SELECT source_id FROM streets").fetchall()]
    assert not [i for i in ids if "." in i] and sorted(map(int, ids)) == list(range(1, 294))


def test_a_shapefile_without_prj_is_read_in_the_crs_given(conn):
    mapping = Mapping.from_json({"fields": {"AREA_NUMBE": "code", "COMMUNITY": "name"}, "id_field": "AREA_NUMBE"})
    with pytest.raises(Exception, match="it has no .prj file; give the CRS"):
        load(conn, CHICAGO, "neighbourhoods", mapping=mapping, dry_run=True)
    report = load(conn, CHICAGO, "neighbourhoods", mapping=mapping, crs="EPSG:3435")
    assert report.layers["neighbourhoods"].new == 77
    loop = conn.execute(
        "SELECT name, round(ST_Y(ST_PointOnSurface(geom))::numeric, 1)::float, "
        "round(ST_X(ST_PointOnSurface(geom))::numeric, 1)::float FROM neighbourhoods WHERE code = '32'"
    ).fetchone()
    assert loop == ("LOOP", 41.9, -87.6)  # Chicago's Loop, where it is
    assert {"OBJECTID", "AREA", "SHAPE_AREA", "AREANO"} <= set(report.unused_fields["neighbourhoods"])


@pytest.mark.parametrize("policy", ["keep", "nearest", "nearest-too-far", "reject"])
def test_rows_outside_every_neighbourhood_are_counted_and_settled_as_chosen(conn, policy):
    # Before: they were imported with no neighbourhood and no word, then vanished from every neighbourhood view.
    add_georgia_halves(conn)
    band = in_band()
    assert band == ["13215"]  # Muscogee County: 2.1 km south of GA-N, 4.5 km north of GA-S
    options = {"outside": policy.split("-")[0], "skip_rejected": True}
    if policy.startswith("nearest"):
        options["outside_distance"] = 1_000 if policy == "nearest-too-far" else 3_000
    report = load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="Longitud", y_field="Latitude",
                  id_field="AreaKey", **options)  # fmt: skip
    counts = report.layers["service_points"]
    assert counts.outside == 1
    placed = conn.execute(
        "SELECT coalesce(n.code, '-') FROM service_points s LEFT JOIN neighbourhoods n ON n.id = s.neighbourhood_id "
        "WHERE s.source_id = '13215'"
    ).fetchall()
    if policy == "reject":
        assert counts.rejected == 1 and counts.new == 158 and placed == []
        assert (
            report.rejected[0]["source_id"] == "13215" and "outside every neighbourhood" in report.rejected[0]["reason"]
        )
    elif policy == "nearest":
        assert counts.assigned == 1 and placed == [("GA-N",)] and not report.warnings
    else:
        assert counts.assigned == 0 and placed == [("-",)]
        assert "1 row(s) lie" in report.warnings[0]
    assert json.loads(json.dumps(report.to_json()))["layers"]["service_points"]["outside"] == 1
    north = sum(1 for r in georgia() if float(r["Latitude"]) >= 32.53)
    assert conn.execute(
        "SELECT count(*) FROM service_points s JOIN neighbourhoods n ON n.id = s.neighbourhood_id WHERE n.code = 'GA-N'"
    ).fetchone()[0] == north + (policy == "nearest")


def test_rejecting_the_rows_outside_writes_nothing_unless_told_to_leave_them_out(conn):
    add_georgia_halves(conn)
    with pytest.raises(ImportRejected, match="id 13215: it lies outside every neighbourhood"):
        load(conn, GEORGIA, "service_points", mapping=SERVICES, x_field="Longitud", y_field="Latitude",
             id_field="AreaKey", outside="reject")  # fmt: skip
    assert conn.execute("SELECT count(*) FROM service_points").fetchone()[0] == 0


def test_a_distance_for_the_nearest_neighbourhood_is_required_and_bounded():
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="how far"):
        ImportOptions(layer="assets", outside="nearest")
    with pytest.raises(InvalidInput, match="between 0 and 50,000 m"):
        ImportOptions(layer="assets", outside="nearest", outside_distance=-3)
    with pytest.raises(InvalidInput, match="one of keep, nearest, reject"):
        ImportOptions(layer="assets", outside="drop")


def test_a_named_wkt_column_is_read_whatever_else_the_table_has(conn, tmp_path):
    # Two WKT-looking columns and a lon/lat pair: nothing is guessed; the named column is read.
    rows = [["geometry", "wkt", "lon", "lat", "AreaKey"]]
    rows += [
        [f"POINT({x} {y})", "POINT(0 0)", "0", "0", key] for key, x, y in (("1", -84.39, 33.75), ("2", -81.09, 32.08))
    ]  # fmt: skip  (Atlanta, Savannah)
    path = tmp_path / "cities.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    with pytest.raises(FileProblem, match="not clear"):
        load(conn, path, "service_points", mapping=SERVICES, dry_run=True)
    with pytest.raises(FileProblem, match="either the x and y columns or a WKT column"):
        load(conn, path, "service_points", mapping=SERVICES, wkt_field="geometry", x_field="lon", y_field="lat")
    report = load(conn, path, "service_points", mapping=SERVICES, wkt_field="geometry", id_field="AreaKey")
    assert report.coordinates == {"cities": {"x": None, "y": None, "wkt": "geometry"}}
    assert {"wkt", "lon", "lat"} <= set(report.unused_fields["service_points"])
    placed = conn.execute("SELECT source_id, ST_X(geom), ST_Y(geom) FROM service_points ORDER BY source_id").fetchall()
    assert placed == [("1", -84.39, 33.75), ("2", -81.09, 32.08)]
