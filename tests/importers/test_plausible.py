"""Rows that break a plausibility rule are rejected one by one, with the trigger's words, instead of the database
refusing the whole import at the first (importers/plausible.py, migration 0014)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from importers.run import ImportOptions, ImportRejected, run_import
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
KAMPPI = "SRID=4326;MULTIPOLYGON(((24.93 60.16, 24.96 60.16, 24.96 60.18, 24.93 60.18, 24.93 60.16)))"


@pytest.fixture
def kamppi(conn) -> int:
    return conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('KAMPPI', 'Kamppi', %s) RETURNING id", (KAMPPI,)
    ).fetchone()[0]


def geojson(path: Path, features: list[tuple[str, str, list]]) -> Path:
    """features: (id, geometry type, coordinates)."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"ref": ref, "name": f"street {ref}"},
                        "geometry": {"type": kind, "coordinates": coords},
                    }  # fmt: skip
                    for ref, kind, coords in features
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def load(conn, path: Path, layer: str, **options):
    return run_import(conn, CATALOGUE, path, ImportOptions(layer=layer, id_field="ref", **options), "tester")


def streets(conn) -> list[tuple]:
    return conn.execute("SELECT source_id, neighbourhood_id FROM streets ORDER BY source_id").fetchall()


def test_each_implausible_row_is_rejected_with_its_reason_and_the_rest_load(conn, kamppi, tmp_path):
    path = geojson(
        tmp_path / "streets.geojson",
        [
            ("1", "LineString", [[24.94, 60.17], [24.945, 60.17]]),  # ~280 m, inside
            ("2", "LineString", [[24.94, 60.17], [26.5, 61.0]]),  # ~118 km: dragged across the map
            ("3", "LineString", [[25.60, 60.40], [25.601, 60.40]]),  # 55 m long, ~40 km away
        ],
    )
    report = load(conn, path, "streets", dry_run=True)
    reasons = {r["source_id"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {"2", "3"}
    assert reasons["2"].startswith("the line is ") and "allows at most 2000 m" in reasons["2"]
    assert "from the nearest neighbourhood" in reasons["3"] and "at most 5000 m" in reasons["3"]
    assert (report.layers["streets"].new, report.layers["streets"].rejected) == (1, 2)
    with pytest.raises(ImportRejected, match="the line is"):
        load(conn, path, "streets")
    assert streets(conn) == []  # nothing written
    done = load(conn, path, "streets", skip_rejected=True)
    assert done.committed and streets(conn) == [("1", kamppi)]


def test_a_rule_switched_off_lets_the_row_in(conn, kamppi, tmp_path):
    conn.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'streets' AND rule = 'max_length'")
    path = geojson(tmp_path / "long.geojson", [("9", "LineString", [[24.94, 60.17], [24.94, 60.2]])])  # 3.3 km
    report = load(conn, path, "streets")
    assert report.rejected == [] and streets(conn) == [("9", kamppi)]


def test_an_update_that_moves_a_feature_out_of_its_neighbourhood_is_rejected(conn, kamppi, tmp_path):
    inside = [("5", "LineString", [[24.94, 60.17], [24.945, 60.17]])]
    (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()  # one file name: one source, so the rows are updates
    load(conn, geojson(tmp_path / "streets.geojson", inside), "streets")
    moved = [("5", "LineString", [[24.97, 60.17], [24.975, 60.17]])]  # 560 m east of Kamppi: near, but outside
    report = load(conn, geojson(tmp_path / "b" / "streets.geojson", moved), "streets", dry_run=True)
    assert [r["source_id"] for r in report.rejected] == ["5"]
    assert "would lie outside every neighbourhood (it was in" in report.rejected[0]["reason"]
    unchanged = [("5", "LineString", [[24.94, 60.17], [24.945, 60.17]])]
    again = load(conn, geojson(tmp_path / "c" / "streets.geojson", unchanged), "streets")
    assert again.rejected == [] and again.layers["streets"].unchanged == 1


def test_a_row_imported_before_a_rule_was_tightened_is_unchanged_on_a_reimport(conn, kamppi, tmp_path):
    conn.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'streets' AND rule = 'max_length'")
    rows = [
        ("9", "LineString", [[24.94, 60.17], [24.94, 60.2]]),
        ("8", "LineString", [[24.94, 60.17], [24.945, 60.17]]),
    ]
    load(conn, geojson(tmp_path / "streets.geojson", rows), "streets")
    conn.execute("UPDATE plausibility_rules SET enabled = true WHERE layer = 'streets' AND rule = 'max_length'")
    (tmp_path / "b").mkdir()  # the same file again: the 3.3 km street is left as it is, the other moves a little
    rows[1] = ("8", "LineString", [[24.94, 60.171], [24.945, 60.171]])
    again = load(conn, geojson(tmp_path / "b" / "streets.geojson", rows), "streets")
    counts = again.layers["streets"]
    assert (counts.unchanged, counts.updated, counts.new, counts.rejected) == (1, 1, 0, 0)


def test_the_area_rule_rejects_exactly_the_rows_measuring_each_would(conn):
    """importers/plausible.py measures the geodesic area only of boxes that could hold more than the limit: over
    parcels from 1 m² to more than 1° a side, from the equator to 84°, it rejects what measuring every one rejects."""
    from importers.load import Batch, create_stage, stage, to_ewkb
    from importers.plausible import reject_implausible
    from importers.run import ImportReport

    parcels = CATALOGUE["parcels"]
    conn.execute("UPDATE plausibility_rules SET enabled = (rule = 'max_area') WHERE layer = 'parcels'")
    shapes, sides = [], [1e-5, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0, 1.2]
    for lat in (0.0, 35.0, 60.0, 80.0, 84.0):
        for side in sides:
            shapes.append(shapely.MultiPolygon([shapely.box(10.0, lat, 10.0 + side, lat + side / 2)]))
            shapes.append(shapely.MultiPolygon([shapely.Polygon([(10, lat), (10 + side, lat), (10, lat + side)])]))
    values = {a.name: [a.default] * len(shapes) for a in parcels.attributes}
    area = "SELECT ST_Area(ST_GeomFromText(%s, 4326)::geography)"
    measured = [conn.execute(area, (s.wkt,)).fetchone()[0] for s in shapes]
    ordered = sorted(measured)
    limits = [m * f for m in ordered[::5] for f in (0.999, 1.001)]  # just below and above parcels' own areas
    for limit in limits:
        conn.execute("UPDATE plausibility_rules SET value = %s WHERE layer = 'parcels' AND rule = 'max_area'", (limit,))
        with conn.transaction():
            create_stage(conn, parcels)
            stage(conn, parcels, Batch([str(i) for i in range(len(shapes))], to_ewkb(shapes), values))
            report = ImportReport("x", "gpkg", "file:x", False)
            reject_implausible(conn, parcels, report)
            rejected = {int(r["source_id"]) for r in report.rejected}
            conn.execute("DROP TABLE _mahalle_stage")
        assert rejected == {i for i, m in enumerate(measured) if m > limit}, limit
        assert rejected or limit >= ordered[-1]  # the comparison above is not an empty one
