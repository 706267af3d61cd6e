"""Import limits on real files: an archive is bounded by its entry count and its total uncompressed size
and ratio whatever the sizes of its entries; a geometry by its vertex count. Nothing is extracted or
written when a limit is passed."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from api.problems import status_of
from core import limits
from importers import archive
from importers.archive import ArchiveTooLarge, ImportLimits
from importers.mapping import Mapping
from importers.run import ImportOptions, ImportRejected, run_import
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()
KB = 1024


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def refused_before_extraction(path: Path, tmp_path: Path, match: str, limits: ImportLimits | None = None) -> None:
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveTooLarge, match=match) as info:
        archive.extract(path, target, limits or ImportLimits())
    assert status_of(info.value) == 413
    assert list(target.iterdir()) == []  # not one byte extracted


def test_many_small_entries_that_together_expand_like_a_bomb(tmp_path):
    # Each entry is under the 1 MB from which a single entry's ratio is checked; together 60 MB from ~60 KB.
    entries = {f"part{i:03}.csv": b"0" * (1000 * KB) for i in range(60)}
    path = make_zip(tmp_path / "parts.zip", entries)
    assert path.stat().st_size < 200 * KB
    assert all(info.file_size <= archive.CHUNK for info in zipfile.ZipFile(path).infolist())
    refused_before_extraction(path, tmp_path, r"parts\.zip: its 60 entries expand \d+ times together .* zip bomb")


def test_too_many_entries_whatever_their_size(tmp_path):
    path = make_zip(tmp_path / "empty.zip", {f"e{i}.txt": b"" for i in range(1001)})
    refused_before_extraction(path, tmp_path, r"empty\.zip: 1001 entries; at most 1000")


def test_total_uncompressed_size_of_small_incompressible_entries(tmp_path):
    path = make_zip(tmp_path / "noise.zip", {f"n{i}.bin": os.urandom(100 * KB) for i in range(25)})
    refused_before_extraction(
        path, tmp_path, r"noise\.zip: 2 MB uncompressed; the limit is 1 MB", ImportLimits(max_unzipped_mb=1)
    )


def test_an_ordinary_archive_of_small_files_still_extracts(tmp_path):
    entries = {f"n{i}.bin": os.urandom(100 * KB) for i in range(25)} | {"readme.txt": b"text " * 2000}
    path = make_zip(tmp_path / "fine.zip", entries)
    target = tmp_path / "out"
    target.mkdir()
    files = archive.extract(path, target, ImportLimits())
    assert sorted(f.name for f in files) == sorted(entries)


def test_a_bomb_upload_is_refused_by_the_import_and_writes_nothing(conn, tmp_path):
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94, 60.17]}, "properties": {}}
    data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    entries = {"trees.geojson": data} | {f"pad{i:03}.txt": b" " * (1000 * KB) for i in range(60)}
    path = make_zip(tmp_path / "trees.zip", entries)
    with pytest.raises(ArchiveTooLarge, match="zip bomb"):
        run_import(conn, CATALOGUE, path, ImportOptions(layer="assets"), "tester")
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0


def test_an_imported_geometry_over_the_vertex_limit_is_a_rejected_row(conn, tmp_path):
    def street(n: int) -> dict:
        coords = [[24.93 + i * 1e-5, 60.165 + (i % 2) * 1e-5] for i in range(n)]
        return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": {}}

    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [street(50), street(51), street(10)]}))
    options = ImportOptions(layer="streets", mapping=Mapping(defaults={"surface": "asphalt"}))
    with limits.use_max_vertices(50), pytest.raises(ImportRejected) as info:
        run_import(conn, CATALOGUE, path, options, "tester")
    reasons = {r["row"]: r["reason"] for r in info.value.report.rejected}
    assert list(reasons) == [2]
    assert reasons[2].startswith("the geometry has 51 vertices; one feature may have at most 50")
    assert conn.execute("SELECT count(*) FROM streets").fetchone()[0] == 0
    report = run_import(conn, CATALOGUE, path, options, "tester")  # the default limit takes all three
    assert report.layers["streets"].new == 3
