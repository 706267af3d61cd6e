"""Import and export drivers for when the ``mahalle`` CLI lacks ``import``/``export``: they call the same
library functions the CLI would (``importers.run.run_import``, ``gis.export.export``); without
``run_import`` the import falls back to ``importers.load.load_rows``.

    python -m bench.drivers import URL FILE LAYER
    python -m bench.drivers export URL OUT LAYER
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pyogrio.raw
import shapely

from core.db import attributed
from layers.catalogue import load_catalogue

BATCH = 50_000


def import_file(url: str, path: Path, layer_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        catalogue = load_catalogue(conn)
        try:
            from importers.run import ImportOptions, run_import
        except ImportError:
            return _load_rows(conn, catalogue[layer_name], path)
        report = run_import(conn, catalogue, path, ImportOptions(layer=layer_name), "bench")
        return sum(c.new + c.updated + c.unchanged for c in report.layers.values())


def _rows(path: Path, layer_name: str, names: tuple[str, ...]) -> Iterator[list[SimpleNamespace]]:
    start = 0
    while True:
        meta, fids, geoms, fields = pyogrio.raw.read(
            path, layer=layer_name, skip_features=start, max_features=BATCH, return_fids=True
        )
        if not len(fids):
            return
        cols = {str(n): v for n, v in zip(meta["fields"], fields, strict=True)}
        shapes = shapely.from_wkb(geoms)
        yield [
            SimpleNamespace(
                source_id=str(fid),
                geometry=shapes[i],
                attributes={n: _plain(cols[n][i]) for n in names if n in cols and _plain(cols[n][i]) is not None},
            )
            for i, fid in enumerate(fids)
        ]
        start += len(fids)


def _plain(value: object) -> object:
    if value is None or value != value:  # NaN stands for null in numeric columns
        return None
    return value.item() if hasattr(value, "item") else value


def _load_rows(conn: psycopg.Connection, layer, path: Path) -> int:
    from importers.load import load_rows

    done = 0
    with attributed(conn, "bench", f"import of {path.name}"):
        for rows in _rows(path, layer.name, layer.attribute_names):
            done += load_rows(conn, layer, rows, f"file:{path.name}").total
    return done


def export_file(url: str, out: Path, layer_name: str) -> int:
    from gis.export import ExportOptions, export

    with psycopg.connect(url, autocommit=True) as conn:
        report = export(conn, load_catalogue(conn), ExportOptions(format="gpkg", layers=[layer_name]), out)
    return sum(report.layers.values())


def main(argv: list[str]) -> int:
    command, url, path, layer = argv
    done = import_file(url, Path(path), layer) if command == "import" else export_file(url, Path(path), layer)
    print(f"{command}: {done} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
