"""The layer's validation as one statement over staged rows (importers/staged_rules.py): every row the validation
trigger would refuse is taken out of the load with what is wrong in the trigger's words — rows staged straight,
past the importer's own Python checks — and a file whose value was retired after the catalogue was read is refused
row by row, while a feature that already has a retired value keeps it."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from core.db import attributed
from importers import staged_rules
from importers.load import Batch, create_stage, defaults, stage, to_ewkb
from importers.run import ImportOptions, ImportReport, run_import
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
PARCELS = CATALOGUE["parcels"]
BOX = shapely.MultiPolygon([shapely.box(24.93, 60.16, 24.931, 60.161)])


def staged_parcels(conn, rows: dict[str, tuple[object, dict]]) -> ImportReport:
    """Stage ``rows`` (source id → geometry, attribute overrides) as they are and run the set-based validation."""
    base = defaults(PARCELS)
    values = {a.name: [over.get(a.name, base.get(a.name)) for _, over in rows.values()] for a in PARCELS.attributes}
    geoms = [g if isinstance(g, bytes) else to_ewkb([g])[0] for g, _ in rows.values()]
    report = ImportReport("staged", "test", "file:staged", dry_run=False)
    create_stage(conn, PARCELS)
    stage(conn, PARCELS, Batch(list(rows), geoms, values))
    staged_rules.reject_invalid(conn, PARCELS, report)
    return report


def test_every_rule_of_the_trigger_is_applied_to_the_staged_rows(conn):
    ewkb = conn.execute  # geometries PostGIS makes, as a file might hold them
    three_d = ewkb("SELECT ST_AsEWKB('SRID=4326;MULTIPOLYGON(((24.93 60.16 1, 24.931 60.16 1, 24.931 60.161 1, "
                   "24.93 60.16 1)))'::geometry)").fetchone()[0]  # fmt: skip
    other_crs = ewkb("SELECT ST_AsEWKB(ST_Transform(%s::geometry, 3857))", (to_ewkb([BOX])[0],)).fetchone()[0]
    bowtie = shapely.MultiPolygon([shapely.Polygon([(24.93, 60.16), (24.931, 60.161), (24.931, 60.16),
                                                    (24.93, 60.161)])])  # fmt: skip
    rows = {
        "good": (BOX, {"floors": 3, "land_use": "residential"}),
        "single part": (BOX.geoms[0], {}),  # made multi-part by the load, as by the trigger
        "land use": (BOX, {"land_use": "spaceport"}),
        "floors": (BOX, {"floors": 900}),
        "address": (BOX, {"address": "x" * 301}),
        "tenure": (BOX, {"tenure": None}),
        "no geometry": (None, {}),
        "point": (shapely.Point(24.93, 60.16), {}),
        "3d": (three_d, {}),
        "mercator": (other_crs, {}),
        "range": (shapely.MultiPolygon([shapely.box(190, 60, 191, 61)]), {}),
        "bowtie": (bowtie, {"floors": -1}),
    }
    with attributed(conn, "tester"):
        report = staged_parcels(conn, rows)
        left = {r[0] for r in conn.execute("SELECT _sid FROM _mahalle_stage")}
    why = {r["source_id"]: r["reason"] for r in report.rejected}
    assert left == {"good", "single part"}
    assert why["land use"].startswith("land_use 'spaceport' is not one of: residential, ")
    assert why["floors"] == "floors must be at most 200 (got 900)"
    assert why["address"] == "address is longer than 300 characters"
    assert why["tenure"] == "tenure is required"
    assert why["no geometry"] == "the feature has no geometry"
    assert why["point"] == "a point does not fit this layer, which holds multipolygon geometries"
    assert why["3d"] == "the geometry has Z or M values; send 2D coordinates"
    assert why["mercator"].startswith("the geometry is in EPSG:3857;")
    assert why["range"].startswith("coordinates must be longitude -180..180 and latitude -90..90 (got x 190..191")
    # Every problem of a row, not only the first.
    invalid = "the geometry is invalid: Self-intersection[24.9305 60.1605]"
    assert why["bowtie"] == f"{invalid}; floors must be at least 0 (got -1)"


def geojson(path: Path, land_use: str) -> Path:
    feature = {"type": "Feature", "properties": {"uid": "p1", "land_use": land_use},
               "geometry": json.loads(shapely.to_geojson(BOX))}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_a_value_retired_after_the_catalogue_was_read_is_refused_but_kept_where_it_is(conn, tmp_path: Path):
    path = geojson(tmp_path / "parcels.geojson", "commercial")
    first = run_import(conn, CATALOGUE, path, ImportOptions(layer="parcels"), "tester")
    assert first.layers["parcels"].new == 1
    conn.execute("UPDATE mahalle.vocabulary SET retired = true WHERE layer = 'parcels' AND value = 'commercial'")
    conn.commit()
    # The same file again, with another attribute changed: the feature keeps the value it has.
    path.write_text(path.read_text().replace('"uid": "p1"', '"uid": "p1", "floors": 2'))
    again = run_import(conn, CATALOGUE, path, ImportOptions(layer="parcels"), "tester")
    assert (again.layers["parcels"].updated, again.rejected) == (1, [])
    # A new feature may not take it: the catalogue read before still lists it, the database does not.
    other = geojson(tmp_path / "other.geojson", "commercial")
    other.write_text(other.read_text().replace('"uid": "p1"', '"uid": "p2"'))
    refused = run_import(conn, CATALOGUE, other, ImportOptions(layer="parcels", skip_rejected=True), "tester")
    assert refused.layers["parcels"].new == 0
    assert refused.rejected[0]["reason"].startswith("land_use 'commercial' is not one of: residential, mixed")
