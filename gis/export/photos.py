"""Photos and documents exported with the inventory (``--photos``): the attachments of exactly the exported
features, read in the export's snapshot. A GeoPackage gets them as an ``attachments`` table (the bytes as BLOBs,
with the layer, feature id and uid to join on, as QGIS's relations and attachment widget expect); a zipped
Shapefile gets a ``photos/<layer>/<feature id>/`` folder and ``photos.csv`` listing every file.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from gis.export.geopackage import register
from gis.export.options import ExportOptions
from gis.export.query import where_clause
from layers.spec import Layer

FORMATS = ("gpkg", "shp")
_INSERT = "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
COLUMNS = ("id", "layer", "feature_id", "feature_uid", "role", "filename", "media_type", "size_bytes", "sha256",
           "caption", "captured_at", "created_by")  # fmt: skip


def rows(conn: psycopg.Connection, layers: list[Layer], options: ExportOptions, files: Path) -> Iterator[tuple]:
    """(metadata…, bytes) of each exported feature's attachments, one at a time (a photo is a few MB)."""
    for layer in layers:
        where, params = where_clause(conn, layer, options)
        query = sql.SQL(
            "SELECT a.id, a.layer, a.feature_id, t.uid, a.role, a.filename, a.media_type, a.size_bytes, a.sha256, "
            "a.caption, a.captured_at::text, a.created_by, a.data, a.path FROM public.attachments a "
            "JOIN public.{table} t ON t.id = a.feature_id WHERE a.layer = {name} AND {where} ORDER BY a.id"
        ).format(table=sql.Identifier(layer.name), name=sql.Literal(layer.name), where=where)
        with conn.cursor(name=f"mahalle_photos_{layer.name}") as cur:  # one photo in memory at a time
            cur.itersize = 16
            cur.execute(query, params)
            for row in cur:
                yield (*row[:-2], _bytes(row[-2], row[-1], files))


def _bytes(data: Any, path: str | None, files: Path) -> bytes | None:
    if data is not None:
        return bytes(data)
    target = (files / path).resolve()
    if not target.is_relative_to(files.resolve()) or not target.is_file():
        return None  # the file went missing on the server: the row still says what it was
    return target.read_bytes()


def to_geopackage(path: Path, photos: Iterator[tuple]) -> int:
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(
                "CREATE TABLE attachments (id INTEGER PRIMARY KEY, layer TEXT NOT NULL, feature_id INTEGER NOT NULL, "
                "feature_uid TEXT, role TEXT, filename TEXT, media_type TEXT, size_bytes INTEGER, sha256 TEXT, "
                "caption TEXT, captured_at TEXT, created_by TEXT, content BLOB)"
            )
            n = 0
            for row in photos:
                db.execute(_INSERT, [_plain(v) for v in row])
                n += 1
            register(db, "attachments", "Photos and documents of the exported features")
        return n
    finally:
        db.close()


def to_folder(folder: Path, photos: Iterator[tuple]) -> int:
    """Each file under ``photos/<layer>/<feature id>/<attachment id>-<name>``, listed in ``photos.csv``."""
    n = 0
    with (folder / "photos.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow([*COLUMNS, "file"])
        for row in photos:
            meta, content = row[:-1], row[-1]
            name = f"photos/{meta[1]}/{meta[2]}/{meta[0]}-{meta[5]}"
            if content is not None:
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            out.writerow([*(_plain(v) for v in meta), name if content is not None else ""])
            n += 1
    return n


def _plain(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, int | float | str | bytes) else value
