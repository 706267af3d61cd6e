"""Export, then import into an empty database: the same features, attributes and geometries, for every
format, with the demo and with Persian, Arabic and Greek text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis.export import ExportOptions, export
from importers.run import ImportOptions, run_import
from layers.catalogue import load_catalogue
from tests.importers.samples import AR, EL, FA, LAYERS, differences, source_database

FILES = {"gpkg": "x.gpkg", "shp": "x.zip", "geojson": "x.zip", "csv": "x.zip", "xlsx": "x.xlsx", "kml": "x.kml"}
FILES["kmz"] = "x.kmz"
# GDAL parses a whole KML document or workbook on every open: these get one file per layer.
ONE_FILE_PER_LAYER = ("xlsx", "kml", "kmz")


@pytest.fixture(scope="module")
def source_url(pg_server, template_db) -> Iterator[str]:
    with source_database(pg_server, template_db) as url:
        yield url


@pytest.fixture(scope="module")
def source(source_url) -> Iterator[psycopg.Connection]:
    with psycopg.connect(source_url, autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize("fmt", list(FILES))
def test_round_trip(fmt: str, source, conn, tmp_path: Path) -> None:
    catalogue = load_catalogue(source)
    path = tmp_path / FILES[fmt]
    exported: dict[str, int] = {}
    if fmt not in ONE_FILE_PER_LAYER:
        exported = export(source, catalogue, ExportOptions(format=fmt, layers=LAYERS), path).layers
    problems = []
    for layer in LAYERS:
        if fmt in ONE_FILE_PER_LAYER:
            path = tmp_path / f"{layer}.{fmt}"
            exported |= export(source, catalogue, ExportOptions(format=fmt, layers=[layer]), path).layers
        report = run_import(conn, catalogue, path, ImportOptions(layer=layer, source="round-trip"), "tester")
        counts = report.layers[layer]
        assert counts.rejected == 0, report.rejected[:3]
        assert counts.new == exported[layer], (layer, counts)
        assert report.unmapped_fields[layer] == [], (layer, report.unmapped_fields)
        problems += differences(source, conn, layer)
    assert problems == []
    assert exported["streets"] > 2000
    names = {r[0] for r in conn.execute("SELECT name FROM streets UNION SELECT name FROM service_points")}
    assert {FA, AR} <= names
    assert conn.execute("SELECT name FROM workshops WHERE kind = 'metal'").fetchone()[0] == EL


def test_re_import_of_an_export_changes_nothing(source, conn, tmp_path: Path) -> None:
    catalogue = load_catalogue(source)
    path = tmp_path / "x.gpkg"
    export(source, catalogue, ExportOptions(format="gpkg", layers=["workshops"]), path)
    options = ImportOptions(layer="workshops", source="inventory")
    first = run_import(conn, catalogue, path, options, "tester").layers["workshops"]
    again = run_import(conn, catalogue, path, options, "tester").layers["workshops"]
    assert (first.new, again.new, again.updated, again.unchanged) == (first.read, 0, 0, first.read)
    assert conn.execute("SELECT count(*) FROM workshops").fetchone()[0] == first.read
