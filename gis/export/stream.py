"""An export run: every layer read from one snapshot through a server-side cursor, a batch at a time, and
handed to the format's writer, so memory stays at one batch whatever the size of the layer."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from gis.export import photos
from gis.export.columns import columns
from gis.export.csvfile import CsvWriter
from gis.export.geojson import GeoJsonWriter
from gis.export.kml import KmlWriter, KmzWriter
from gis.export.ogr import GpkgWriter
from gis.export.options import (
    MEDIA_TYPES,
    ExportError,
    ExportOptions,
    ExportReport,
    Progress,
    choose_layers,
    honest_path,
)
from gis.export.query import Rows, layer_query, skip_reason
from gis.export.shapefile import ShpWriter
from gis.export.writer import Writer
from gis.export.xlsx import XlsxWriter
from layers.catalogue import Catalogue

WRITERS: dict[str, type[Writer]] = {
    "gpkg": GpkgWriter,
    "shp": ShpWriter,
    "geojson": GeoJsonWriter,
    "csv": CsvWriter,
    "xlsx": XlsxWriter,
    "kml": KmlWriter,
    "kmz": KmzWriter,
}


def export(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    options: ExportOptions,
    out: Path,
    progress: Progress | None = None,
    files: Path | None = None,
) -> ExportReport:
    """Write the export to ``out``; returns what went in. Every layer is read from one snapshot: a
    read-only repeatable-read transaction of its own, or the caller's transaction if one is open. ``files``: the
    folder of the attachments' files (``options.photos``)."""
    started = time.monotonic()
    if options.photos and (options.format not in photos.FORMATS or files is None):
        raise ExportError("Photos are exported in a GeoPackage (gpkg) or a zipped Shapefile (shp) only.")
    if options.photos and options.as_of:
        raise ExportError("Photos go with the layers as they are now, not with an export as of a past date.")
    layers = choose_layers(catalogue, options)
    report = ExportReport(options.format, str(out), MEDIA_TYPES[options.format])
    progress = progress or (lambda rows, layer: None)
    fresh = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with tempfile.TemporaryDirectory(prefix="mahalle-export-") as work, conn.transaction():
        if fresh:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        queries = []
        for layer in layers:
            reason = skip_reason(layer, options)
            if reason:
                report.skipped[layer.name] = reason
            else:
                queries.append((layer, *layer_query(conn, layer, options, WRITERS[options.format].geometry)))
        if not queries:
            raise ExportError("No layer is left to export with these filters.")
        out = honest_path(out, options.format, multi=len(queries) > 1)
        report.path = str(out)
        if out.suffix.lower() == ".zip" or out.is_dir():
            report.media_type = MEDIA_TYPES["zip"]
        writer = WRITERS[options.format](Path(work), out, multi=len(queries) > 1)
        _stream(conn, queries, writer, report, options.batch_size, progress)
        if options.photos:
            found = photos.rows(conn, [q[0] for q in queries], options, files)
            target = writer.path if options.format == "gpkg" else writer.folder
            report.photos = (photos.to_geopackage if options.format == "gpkg" else photos.to_folder)(target, found)
        writer.finish()
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _stream(conn, queries, writer: Writer, report: ExportReport, batch_size: int, progress: Progress) -> None:
    for i, (layer, query, params) in enumerate(queries):
        report.layers[layer.name] = 0
        # Binary results: no hex-encoded WKB to decode, numbers and dates without parsing text.
        with conn.cursor(name=f"mahalle_export_{i}", binary=True) as cur:
            cur.execute(query, params)
            writer.write_layer(layer, columns(layer), _batches(cur, batch_size, layer.name, report, progress))


def _batches(
    cur: psycopg.ServerCursor, size: int, layer: str, report: ExportReport, progress: Progress
) -> Iterator[Rows]:
    """The layer's rows a batch at a time; each batch is counted once the writer has taken it."""
    while rows := cur.fetchmany(size):
        yield rows
        report.layers[layer] += len(rows)
        progress(sum(report.layers.values()), layer)
