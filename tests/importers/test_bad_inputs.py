"""Bad files: each gets a clear error naming the file and the problem, and nothing is written."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from api.problems import status_of
from core.errors import MahalleError, PayloadTooLarge
from importers import archive
from importers.archive import ArchiveTooLarge, BadArchive, ImportLimits
from importers.files import FileProblem
from importers.run import ImportOptions, run_import
from importers.validate import CrsProblem
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94 + i / 1000, 60.17]}, "properties": {}}
        for i in range(3)
    ],
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "trees.geojson"
    path.write_text(json.dumps(GEOJSON))
    return path


def nothing_written(conn) -> None:
    assert conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0


def attempt(conn, path: Path, error: type[Exception], match: str, limits: ImportLimits | None = None, **options):
    with pytest.raises(error, match=match) as info:
        run_import(conn, CATALOGUE, path, ImportOptions(layer="assets", **options), "tester", limits=limits)
    nothing_written(conn)
    return info.value


def test_the_good_file_imports(conn, good):
    report = run_import(conn, CATALOGUE, good, ImportOptions(layer="assets", mapping=_kind_tree()), "tester")
    assert report.layers["assets"].new == 3


def _kind_tree():
    from importers.mapping import Mapping

    return Mapping(defaults={"kind": "tree"})


def test_too_large_file(conn, tmp_path):
    path = tmp_path / "big.geojson"
    path.write_bytes(b" " * (1024 * 1024 + 10))
    error = attempt(
        conn,
        path,
        PayloadTooLarge,
        r"big\.geojson: the file is 1\.0 MB; the limit is 1 MB",
        ImportLimits(max_file_mb=1),
    )
    assert status_of(error) == 413


def test_too_many_features(conn, good):
    error = attempt(conn, good, PayloadTooLarge, r"trees\.geojson: 3 features; at most 2", ImportLimits(max_features=2))
    assert status_of(error) == 413


def make_zip(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_too_many_entries(conn, tmp_path):
    path = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(6)})
    error = attempt(conn, path, ArchiveTooLarge, r"many\.zip: 6 entries; at most 5", ImportLimits(max_zip_entries=5))
    assert status_of(error) == 413


def test_zip_bomb_is_refused_before_extraction(conn, tmp_path):
    path = make_zip(tmp_path / "bomb.zip", {"bomb.geojson": b"\0" * (30 * 1024 * 1024)})
    assert path.stat().st_size < 100_000
    attempt(conn, path, ArchiveTooLarge, r"bomb\.zip: bomb\.geojson expands \d+ times .* zip bomb")
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveTooLarge):
        archive.extract(path, target, ImportLimits())
    assert list(target.iterdir()) == []


def test_uncompressed_total_limit(conn, tmp_path):
    path = make_zip(tmp_path / "large.zip", {"a.geojson": os.urandom(2 * 1024 * 1024)})
    attempt(
        conn,
        path,
        ArchiveTooLarge,
        r"large\.zip: 2 MB uncompressed; the limit is 1 MB",
        ImportLimits(max_unzipped_mb=1),
    )


@pytest.mark.parametrize(
    ("entries", "symlink", "match"),
    [
        ({"../evil.geojson": b"{}"}, None, r"'\.\./evil\.geojson' points outside the archive"),
        ({"data/../../evil.geojson": b"{}"}, None, "points outside the archive"),
        ({"/tmp/evil.geojson": b"{}"}, None, r"'/tmp/evil\.geojson' points outside the archive"),
        ({"a.geojson": b"{}"}, "link.geojson", r"'link\.geojson' is a symbolic link"),
    ],
)
def test_dangerous_entries_refuse_the_whole_archive(conn, tmp_path, entries, symlink, match):
    path = make_zip(tmp_path / "evil.zip", {"ok.txt": b"fine", **entries}, symlink)
    error = attempt(conn, path, BadArchive, r"evil\.zip: .*" + match)
    assert status_of(error) == 422
    target = tmp_path / "deep" / "out"
    target.mkdir(parents=True)
    with pytest.raises(BadArchive):
        archive.extract(path, target, ImportLimits())
    assert list(target.iterdir()) == [] and not (tmp_path / "deep" / "evil.geojson").exists()


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("parcels.gpkg", b"name,lat,lon\nx,1,2\n", r"parcels\.gpkg: the name says GeoPackage, but the content is CSV"),
        (
            "parcels.zip",
            json.dumps(GEOJSON).encode(),
            r"parcels\.zip: the name says zip archive, but the content is GeoJSON",
        ),
        (
            "parcels.geojson",
            b"\x89PNG\r\n\x1a\n\0\0\0",
            r"parcels\.geojson: the name says GeoJSON, but the content is unreadable",
        ),
        ("parcels.kml", b"", r"parcels\.kml: the name says KML, but the content is empty"),
        ("parcels.txt", b"hello", r"parcels\.txt: unknown file type \.txt"),
    ],
)
def test_not_what_the_extension_says(conn, tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    attempt(conn, path, FileProblem, match)


def test_corrupt_and_truncated_files(conn, tmp_path, good):
    truncated_json = tmp_path / "cut.geojson"
    truncated_json.write_text(json.dumps(GEOJSON)[:60])
    attempt(conn, truncated_json, FileProblem, r"cut\.geojson: cannot be read as GeoJSON")
    gpkg = tmp_path / "full.gpkg"
    import pyogrio

    pyogrio.write_dataframe(pyogrio.read_dataframe(good), gpkg)
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(gpkg.read_bytes()[:8192])
    attempt(conn, cut, FileProblem, r"cut\.gpkg: cannot be read as GeoPackage")
    whole = make_zip(tmp_path / "whole.zip", {"trees.geojson": good.read_bytes() * 50})
    cut_zip = tmp_path / "cut.zip"
    cut_zip.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    attempt(conn, cut_zip, BadArchive, r"cut\.zip: not a readable zip archive")


@pytest.mark.parametrize(
    ("crs", "match"),
    [("EPSG:999999", r"the CRS 'EPSG:999999' is not known"), ("nonsense", r"the CRS 'nonsense' is not known")],
)
def test_unknown_crs(conn, good, crs, match):
    error = attempt(conn, good, CrsProblem, r"trees\.geojson: " + match, crs=crs)
    assert status_of(error) == 422


def test_csv_without_coordinates(conn, tmp_path):
    path = tmp_path / "trees.csv"
    path.write_text("kind,note\ntree,old oak\n", encoding="utf-8")
    attempt(conn, path, FileProblem, r"trees\.csv: no coordinates found; give longitude/latitude columns .* kind, note")


def test_csv_with_text_in_a_coordinate_column(conn, tmp_path):
    path = tmp_path / "trees.csv"
    path.write_text("kind,lon,lat\ntree,24.9,north\n", encoding="utf-8")
    attempt(conn, path, FileProblem, r"trees\.csv: row 1: lat = 'north' is not a number")


def test_mapping_to_an_attribute_the_layer_lacks(conn, good):
    from importers.mapping import Mapping

    attempt(conn, good, MahalleError, "'colour', which assets does not have", mapping=Mapping(fields={"x": "colour"}))


def test_truncated_osm_extract(conn, tmp_path):
    from importers.demo import DEMO_PBF

    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(DEMO_PBF.read_bytes()[:3000])
    with pytest.raises(FileProblem, match=r"cut\.osm\.pbf: cannot be read as OpenStreetMap data"):
        run_import(conn, CATALOGUE, path, ImportOptions(), "tester")
    nothing_written(conn)
