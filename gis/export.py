"""Asset-inventory exports: GeoPackage, zipped Shapefile, GeoJSON, CSV, XLSX, KML/KMZ.

Rows stream from a server-side cursor in batches inside one read-only, repeatable-read transaction (all
layers from the same snapshot) and go straight to the writer: GDAL for GeoPackage, Shapefile and KML (each
batch becomes an Arrow record batch, and one ``pyogrio.write_arrow`` call per layer streams them into the open
dataset); our own streaming writers for GeoJSON, CSV and XLSX (openpyxl write-only). Memory stays at one
batch, whatever the size of the layer. The query returns only the geometry representations the writer uses.

Columns come from the catalogue: id, uid, the neighbourhood's code, every attribute, the measured
area/length, version, last change and the source. Geometry is EPSG:4326, longitude first.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
import pyarrow as pa
import pyogrio
import shapely
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from psycopg import sql

from core.errors import MahalleError, NotFound
from gis import cql2
from layers.catalogue import Catalogue
from layers.spec import LANGUAGES, Layer

FORMATS = ("gpkg", "shp", "geojson", "csv", "xlsx", "kml", "kmz")
MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "kml": "application/vnd.google-earth.kml+xml",
    "kmz": "application/vnd.google-earth.kmz",
    "zip": "application/zip",
}
BATCH = 5_000
RTREE_RAM_OPTION, RTREE_RAM = "OGR_GPKG_MAX_RAM_USAGE_RTREE", 32 * 1024 * 1024  # bytes
XLSX_CELL_MAX = 32_767
SHP_FIELD_MAX = 10
Progress = Callable[[int, str], None]  # rows written so far, layer being written
Rows = list[tuple]  # a batch: the columns, then the writer's geometry representations
# What a writer can ask for after the columns, in the order it asks.
GEOMETRY_SQL = {
    "wkb": sql.SQL("ST_AsBinary(t.geom)"),
    "geojson": sql.SQL("ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), 15)"),  # RFC 7946: counter-clockwise outer rings
    "wkt": sql.SQL("ST_AsText(t.geom, 15)"),
    "dim": sql.SQL("ST_Dimension(t.geom)"),
}


class ExportError(MahalleError):
    status = 400
    title = "The export cannot be made"


@dataclass
class ExportOptions:
    format: str
    layers: Sequence[str] | None = None  # default: every spatial layer
    neighbourhood: str | None = None  # neighbourhood code
    bbox: tuple[float, float, float, float] | None = None  # lon/lat
    polygon: str | None = None  # WKT, lon/lat
    filter: str | None = None  # CQL2 text
    status: Sequence[str] | None = None  # values of the layers' ``status`` attribute
    date_from: date | None = None  # on each layer's date attribute (default: last change)
    date_to: date | None = None
    as_of: datetime | None = None  # the layers as they were then (from history)
    batch_size: int = BATCH


@dataclass
class ExportReport:
    format: str
    path: str
    media_type: str
    layers: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # catalogue type
    expr: sql.Composable
    label: dict[str, str]


def output_name(options: ExportOptions, layers: Sequence[str]) -> str:
    """The file name an export gets: one GeoJSON/CSV layer is a plain file, several are zipped."""
    base = "mahalle-" + ("-".join(layers) if len(layers) <= 2 else "export")
    if options.format in ("geojson", "csv") and len(layers) > 1:
        return f"{base}.zip"
    return f"{base}.{'zip' if options.format == 'shp' else options.format}"


# --- what to export ---------------------------------------------------------------------------------


def choose_layers(catalogue: Catalogue, options: ExportOptions) -> list[Layer]:
    if options.format not in FORMATS:
        raise ExportError(f"Unknown export format {options.format!r}; use one of {', '.join(FORMATS)}.")
    if options.layers:
        layers = [catalogue[name] for name in dict.fromkeys(options.layers)]
        flat = [layer.name for layer in layers if not layer.has_geometry]
        if flat:
            raise ExportError(f"{', '.join(flat)} has no geometry; exports hold spatial layers.")
    else:
        layers = catalogue.spatial()
    return layers


def columns(layer: Layer) -> list[Column]:
    t = "t"
    out = [
        Column("id", "integer", sql.Identifier(t, "id"), {"en": "Id"}),
        Column("uid", "text", sql.SQL("{}::text").format(sql.Identifier(t, "uid")), {"en": "Unique id"}),
    ]
    if layer.neighbourhood_scoped:
        out.append(Column("neighbourhood", "text", sql.Identifier("n", "code"), {"en": "Neighbourhood"}))
    out += [Column(a.name, a.type, _value(a.name, a.type), a.label) for a in layer.attributes]
    out += [Column(g, "number", sql.Identifier(t, g), {"en": g}) for g in layer.generated_columns]
    out += [
        Column("version", "integer", sql.Identifier(t, "version"), {"en": "Version"}),
        Column("updated_at", "datetime", _value("updated_at", "datetime"), {"en": "Last changed"}),
        Column("updated_by", "text", sql.Identifier(t, "updated_by"), {"en": "Changed by"}),
        Column("source", "text", sql.Identifier(t, "source"), {"en": "Source"}),
        Column("source_id", "text", sql.Identifier(t, "source_id"), {"en": "Id in the source"}),
    ]
    return out


def _value(name: str, kind: str) -> sql.Composable:
    """A column as exported. Timestamps are text, exactly as Python's ``isoformat()`` writes them (in the
    session's time zone), made by PostgreSQL: a fifth of the cost of formatting them value by value here."""
    column = sql.Identifier("t", name)
    if kind != "datetime":
        return column
    return sql.SQL("replace(to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')").format(column)


def _where(conn: psycopg.Connection, layer: Layer, options: ExportOptions) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if options.neighbourhood:
        nid = conn.execute("SELECT id FROM public.neighbourhoods WHERE code = %s", (options.neighbourhood,)).fetchone()
        if nid is None:
            raise NotFound(f"There is no neighbourhood with the code {options.neighbourhood!r}.")
        column = "id" if layer.name == "neighbourhoods" else "neighbourhood_id"
        parts.append(sql.SQL("{} = %s").format(sql.Identifier("t", column)))
        params.append(nid[0])
    if options.bbox:
        parts.append(sql.SQL("ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
        params += [float(v) for v in options.bbox]
    if options.polygon:
        parts.append(sql.SQL("ST_Intersects(t.geom, ST_GeomFromText(%s, 4326))"))
        params.append(_polygon(options.polygon))
    if options.status:
        parts.append(sql.SQL("t.status = ANY(%s)"))
        params.append(list(options.status))
    if options.date_from or options.date_to:
        column = sql.Identifier("t", layer.date_attribute or "updated_at")
        if options.date_from:
            parts.append(sql.SQL("{} >= %s").format(column))
            params.append(options.date_from)
        if options.date_to:
            parts.append(sql.SQL("{} < %s::date + 1").format(column))
            params.append(options.date_to)
    if options.filter:
        try:
            condition, filter_params = cql2.filter_sql(options.filter, cql2.layer_properties(layer))
        except cql2.FilterError as exc:
            raise cql2.FilterError(f"{layer.name}: {exc}") from None
        parts.append(condition)
        params += filter_params
    return (sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")), params


def _polygon(wkt: str) -> str:
    try:
        shape = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        raise ExportError(f"The polygon is not valid WKT ({exc}).") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
        raise ExportError("The area to export must be a valid polygon in longitude/latitude.")
    return wkt


def _query(
    conn: psycopg.Connection, layer: Layer, options: ExportOptions, geometry: Sequence[str] = tuple(GEOMETRY_SQL)
) -> tuple[sql.Composable, list[Any]]:
    """The layer's rows: its columns, then the geometry as each of ``geometry`` (keys of GEOMETRY_SQL)."""
    table = sql.SQL("public.{}").format(sql.Identifier(layer.name))
    params: list[Any] = []
    if options.as_of:
        source = sql.SQL("(SELECT * FROM mahalle.as_of(NULL::{}, %s))").format(table)
        params.append(options.as_of)
    else:
        source = table
    where, where_params = _where(conn, layer, options)
    join = (
        sql.SQL("LEFT JOIN public.neighbourhoods n ON n.id = t.neighbourhood_id")
        if layer.neighbourhood_scoped
        else sql.SQL("")
    )
    select = sql.SQL(", ").join([*(c.expr for c in columns(layer)), *(GEOMETRY_SQL[g] for g in geometry)])
    query = sql.SQL("SELECT {select} FROM {source} t {join} WHERE {where} ORDER BY t.id").format(
        select=select, source=source, join=join, where=where
    )
    return query, params + where_params


def _skip(layer: Layer, options: ExportOptions) -> str | None:
    if options.status and "status" not in layer.attribute_names:
        return "it has no status"
    return None


def export(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    options: ExportOptions,
    out: Path,
    progress: Progress | None = None,
) -> ExportReport:
    """Write the export to ``out``; returns what went in. Every layer is read from one snapshot: a
    read-only repeatable-read transaction of its own, or the caller's transaction if one is open."""
    started = time.monotonic()
    layers = choose_layers(catalogue, options)
    media = MEDIA_TYPES["zip"] if output_name(options, [la.name for la in layers]).endswith(".zip") else None
    report = ExportReport(options.format, str(out), media or MEDIA_TYPES[options.format])
    progress = progress or (lambda rows, layer: None)
    fresh = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with tempfile.TemporaryDirectory(prefix="mahalle-export-") as work, conn.transaction():
        if fresh:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        queries = []
        for layer in layers:
            reason = _skip(layer, options)
            if reason:
                report.skipped[layer.name] = reason
            else:
                queries.append((layer, *_query(conn, layer, options, WRITERS[options.format].geometry)))
        if not queries:
            raise ExportError("No layer is left to export with these filters.")
        writer = WRITERS[options.format](Path(work), out, multi=len(queries) > 1)
        _stream(conn, queries, writer, report, options.batch_size, progress)
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


# --- values -----------------------------------------------------------------------------------------


def plain(value: Any, kind: str) -> Any:
    """A value for formats without lists or dates: value lists joined with ';', dates in ISO 8601."""
    if value is None:
        return None
    if kind == "choices":
        return ";".join(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


# --- writers ----------------------------------------------------------------------------------------


class Writer:
    geometry: tuple[str, ...] = ("wkb",)  # the representations (GEOMETRY_SQL) it reads after the columns

    def __init__(self, work: Path, out: Path, multi: bool):
        self.work, self.out, self.multi = work, out, multi
        self.layer: Layer | None = None
        self.cols: list[Column] = []

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        self.open_layer(layer, cols)
        for rows in batches:
            self.write(rows)
        self.close_layer()

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        self.layer, self.cols = layer, cols
        self.at = {g: len(cols) + i for i, g in enumerate(self.geometry)}  # where each representation is in a row

    def write(self, rows: Rows) -> None:
        raise NotImplementedError

    def close_layer(self) -> None:
        pass

    def finish(self) -> None:
        pass


def _zip(out: Path, files: Iterable[Path], root: Path) -> None:
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.relative_to(root).as_posix())
    tmp.replace(out)


class GeoJsonWriter(Writer):
    """RFC 7946 FeatureCollections written feature by feature (one file per layer; zipped if several)."""

    geometry = ("geojson",)

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.path = self.work / f"{layer.name}.geojson"
        self.f = self.path.open("w", encoding="utf-8")
        self.f.write(f'{{"type": "FeatureCollection", "name": {json.dumps(layer.name)}, "features": [\n')
        self.first = True

    def write(self, rows: Rows) -> None:
        parts = []
        at = self.at["geojson"]
        for row in rows:
            props = {c.name: json_value(v) for c, v in zip(self.cols, row, strict=False)}
            geometry = row[at] or "null"
            properties = json.dumps(props, ensure_ascii=False)
            feature = f'{{"type": "Feature", "id": {int(row[0])}, "geometry": {geometry}, "properties": {properties}}}'

            parts.append(("" if self.first else ",\n") + feature)
            self.first = False
        self.f.write("".join(parts))

    def close_layer(self) -> None:
        self.f.write("\n]}\n")
        self.f.close()

    def finish(self) -> None:
        files = sorted(self.work.glob("*.geojson"))
        if self.multi:
            _zip(self.out, files, self.work)
        else:
            files[0].replace(self.out)


class CsvWriter(Writer):
    """One CSV per layer (UTF-8 with BOM so Excel reads Persian/Arabic/Greek), WKT plus lon/lat for points."""

    geometry = ("wkb", "wkt")

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.points = layer.geometry_type == "Point"
        self.f = (self.work / f"{layer.name}.csv").open("w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.f)
        self.csv.writerow([c.name for c in cols] + (["lon", "lat"] if self.points else []) + ["wkt"])

    def write(self, rows: Rows) -> None:
        wkb, wkt = self.at["wkb"], self.at["wkt"]
        for row in rows:
            values = [plain(v, c.type) for c, v in zip(self.cols, row, strict=False)]
            if self.points:
                values += [None if v is None else repr(v) for v in _lon_lat(row[wkb])]
            self.csv.writerow([*values, row[wkt]])

    def close_layer(self) -> None:
        self.f.close()

    def finish(self) -> None:
        files = sorted(self.work.glob("*.csv"))
        if self.multi:
            _zip(self.out, files, self.work)
        else:
            files[0].replace(self.out)


def _lon_lat(wkb: bytes | None) -> list[float | None]:
    """A point's coordinates; empty cells for a feature without geometry (custom layers may allow that)."""
    if wkb is None:
        return [None, None]
    point = shapely.from_wkb(wkb)
    return [point.x, point.y]


class XlsxWriter(Writer):
    """A sheet per layer and a summary sheet (counts, area and length totals, counts by key value)."""

    geometry = ("wkb", "wkt")

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.book = Workbook(write_only=True)
        self.summary = self.book.create_sheet("Summary")
        self.dictionary = self.book.create_sheet("Fields")
        self.dictionary.append(["layer", "field", "type", *(f"label_{lang}" for lang in LANGUAGES), "values"])
        self.totals: list[list[Any]] = []

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.sheet = self.book.create_sheet(layer.name[:31])
        self.points = layer.geometry_type == "Point"
        self.sheet.append([c.name for c in cols] + (["lon", "lat"] if self.points else []) + ["wkt"])
        self.count, self.area, self.length = 0, 0.0, 0.0
        self.by_key: Counter[str] = Counter()
        for c in cols:
            values = (
                ";".join(ch.value for ch in layer.attribute(c.name).choices) if c.name in layer.attribute_names else ""
            )
            self.dictionary.append([layer.name, c.name, c.type, *(c.label.get(lang, "") for lang in LANGUAGES), values])

    def write(self, rows: Rows) -> None:
        names = [c.name for c in self.cols]
        key = names.index(self.layer.key_attribute) if self.layer.key_attribute in names else None
        for row in rows:
            values = [self._cell(plain(v, c.type)) for c, v in zip(self.cols, row, strict=False)]
            if self.points:
                values += _lon_lat(row[self.at["wkb"]])
            self.sheet.append([*values, self._cell(self._wkt(row))])
            self.count += 1
            self.area += _number(row, names, "area_m2")
            self.length += _number(row, names, "length_m")
            if key is not None:
                self.by_key[str(row[key])] += 1

    def _wkt(self, row: tuple) -> str | None:
        text = row[self.at["wkt"]]
        if text and len(text) > XLSX_CELL_MAX:  # a cell holds at most 32,767 characters: ~1 cm precision
            text = shapely.to_wkt(shapely.from_wkb(row[self.at["wkb"]]), rounding_precision=7)
        return text if text and len(text) <= XLSX_CELL_MAX else None

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.data_type = "s"  # text that starts with "=" stays text, never a formula
        return cell

    def close_layer(self) -> None:
        layer = self.layer
        self.totals.append([layer.name, layer.title.get("en"), self.count, round(self.area, 1), round(self.length, 1)])
        for value, n in sorted(self.by_key.items()):
            self.totals.append([layer.name, f"{layer.key_attribute} = {value}", n, None, None])

    def finish(self) -> None:
        self.summary.append(["layer", "what", "features", "area_m2", "length_m"])
        for row in self.totals:
            self.summary.append(row)
        tmp = self.out.with_name(self.out.name + ".part")
        self.book.save(tmp)
        tmp.replace(self.out)


def _number(row: tuple, names: list[str], name: str) -> float:
    return (row[names.index(name)] or 0.0) if name in names else 0.0


class OgrWriter(Writer):
    """GeoPackage, Shapefile and KML through GDAL: one ``write_arrow`` call per layer streams its batches."""

    driver = "GPKG"
    suffix = "gpkg"

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.path = work / f"export.{self.suffix}"
        self.started: set[str] = set()
        _bound_rtree_memory()

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.names = self.field_names(cols)
        self.schema = arrow_schema(cols, self.names)

    def field_names(self, cols: list[Column]) -> list[str]:
        return [c.name for c in cols]

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        self.open_layer(layer, cols)
        self._write(self.target_path(layer.name), layer.name, _ogr_type(layer.geometry_type), batches)

    def target_path(self, name: str) -> Path:
        return self.path

    def _write(self, path: Path, name: str, geometry_type: str, batches: Iterable[Rows]) -> None:
        failed: list[Exception] = []
        stream = pa.RecordBatchReader.from_batches(
            self.schema, _record_batches(self.schema, self.cols, batches, failed)
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_arrow(
                    stream,
                    path,
                    layer=name,
                    driver=self.driver,
                    geometry_name=GEOMETRY,
                    geometry_type=geometry_type,
                    crs="EPSG:4326",
                    encoding="UTF-8" if self.driver == "ESRI Shapefile" else None,
                    append=name in self.started,
                    **self.layer_options(),
                )
        except Exception:
            if failed:  # GDAL only says "Error while accessing batch from stream": raise what went wrong
                raise failed[0] from None
            raise
        self.started.add(name)

    def layer_options(self) -> dict[str, Any]:
        return {}

    def finish(self) -> None:
        self.path.replace(self.out)


class GpkgWriter(OgrWriter):
    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.layers: list[tuple[Layer, list[Column]]] = []

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.layers.append((layer, cols))

    def finish(self) -> None:
        _gpkg_extras(self.path, self.layers)
        super().finish()

    def layer_options(self) -> dict[str, Any]:
        # GeoPackage 1.2: QGIS and GDAL releases still in use warn about newer versions.
        return {"layer_options": {"FID": "fid", "GEOMETRY_NAME": "geom"}, "dataset_options": {"VERSION": "1.2"}}


class KmlWriter(OgrWriter):
    """KML (or KMZ): GDAL's KML driver rewrites its file on every append, so the layers go to a GeoPackage
    first and ``ogr2ogr`` streams that into KML in one pass."""

    kmz = False

    def finish(self) -> None:
        kml = self.work / "doc.kml"
        command = ["ogr2ogr", "-f", "KML", str(kml), str(self.path), *sorted(self.started, key=self.order.index)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ExportError(f"Writing KML failed: {done.stderr.strip()[:300]}")
        if not self.kmz:
            kml.replace(self.out)
            return
        tmp = self.out.with_name(self.out.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(kml, "doc.kml")
        tmp.replace(self.out)

    def open_layer(self, layer: Layer, cols: list[Column]) -> None:
        super().open_layer(layer, cols)
        self.order = [*getattr(self, "order", []), layer.name]

    def layer_options(self) -> dict[str, Any]:
        return {"dataset_options": {"VERSION": "1.2"}}


class KmzWriter(KmlWriter):
    kmz = True


class ShpWriter(OgrWriter):
    """A shapefile per layer and geometry type; field names cut to 10 characters, listed in fields.csv."""

    driver = "ESRI Shapefile"
    geometry = ("wkb", "dim")

    def __init__(self, work: Path, out: Path, multi: bool):
        super().__init__(work, out, multi)
        self.folder = work / "shp"
        self.folder.mkdir()
        self.field_map: list[tuple[str, str, str, str]] = []

    def field_names(self, cols: list[Column]) -> list[str]:
        return _short_names([c.name for c in cols])

    def target_path(self, name: str) -> Path:
        return self.folder / f"{name}.shp"

    def write_layer(self, layer: Layer, cols: list[Column], batches: Iterable[Rows]) -> None:
        if layer.geometry_type != "Geometry":
            super().write_layer(layer, cols, batches)
            return
        # A mixed layer: each batch is split by geometry type and appended to that type's shapefile.
        self.open_layer(layer, cols)
        for rows in batches:
            for (name, geometry_type), group in self._by_type(rows).items():
                self._write(self.target_path(name), name, geometry_type, [group])

    def _by_type(self, rows: Rows) -> dict[tuple[str, str], Rows]:
        """(shapefile, geometry type) → rows."""
        wkb, dim = self.at["wkb"], self.at["dim"]
        groups: dict[tuple[str, str], Rows] = {}
        for row in rows:
            kind = {0: "point", 1: "line", 2: "polygon"}[row[dim]]
            if kind == "point" and shapely.get_type_id(shapely.from_wkb(row[wkb])) == 4:
                kind = "multipoint"
            groups.setdefault((f"{self.layer.name}_{kind}", _SHP_TYPES[kind]), []).append(row)
        return groups

    def _write(self, path: Path, name: str, geometry_type: str, batches: Iterable[Rows]) -> None:
        if name not in self.started:
            self.field_map += [(self.layer.name, name, c.name, s) for c, s in zip(self.cols, self.names, strict=True)]
        super()._write(path, name, geometry_type, batches)

    def finish(self) -> None:
        with (self.folder / "fields.csv").open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["layer", "shapefile", "field", "short_name"])
            out.writerows(self.field_map)
        _zip(self.out, sorted(self.folder.iterdir()), self.folder)


def _bound_rtree_memory() -> None:
    """GDAL builds a GeoPackage's spatial index in memory while the rows arrive (on another core); by default
    it may keep a share of the machine's RAM. Past this much it goes on in a temporary file, so memory does
    not grow with the layer; a value set by the operator (environment) wins."""
    if pyogrio.get_gdal_config_option(RTREE_RAM_OPTION) is None:
        pyogrio.set_gdal_config_options({RTREE_RAM_OPTION: str(RTREE_RAM)})


_SHP_TYPES = {"point": "Point", "multipoint": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}


def _ogr_type(geometry_type: str | None) -> str:
    return "Unknown" if geometry_type in (None, "Geometry") else geometry_type


def _short_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        short = name[:SHP_FIELD_MAX]
        n = 1
        while short in out:
            suffix = str(n)
            short = name[: SHP_FIELD_MAX - len(suffix)] + suffix
            n += 1
        out.append(short)
    return out


# --- Arrow batches for GDAL -------------------------------------------------------------------------

GEOMETRY = "geom"  # the WKB column of the record batches: the tables' geometry column, never an attribute
_ARROW_TYPES = {
    "integer": pa.int64(),
    "reference": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}  # anything else is text: value lists, timestamps (ISO 8601 from the query), lists of values joined by ';'


def arrow_schema(cols: list[Column], names: list[str]) -> pa.Schema:
    """Field types GDAL maps to Integer64, Real, boolean Integer, Date and String; then the WKB geometry."""
    fields = [pa.field(name, _ARROW_TYPES.get(c.type, pa.string())) for c, name in zip(cols, names, strict=True)]
    wkb = pa.field(GEOMETRY, pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"})
    return pa.schema([*fields, wkb])


def record_batch(schema: pa.Schema, cols: list[Column], rows: Rows) -> pa.RecordBatch:
    """Rows (the columns, then WKB) as an Arrow batch, converted column by column by pyarrow; only lists of
    values are joined here, value by value."""
    values = list(zip(*rows, strict=False)) if rows else [()] * len(schema)
    kinds = [c.type for c in cols] + ["wkb"]
    arrays = [
        pa.array([plain(v, kind) for v in column] if kind == "choices" else column, type=f.type)
        for kind, column, f in zip(kinds, values, schema, strict=False)  # shapefiles' rows also have a dimension
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _record_batches(
    schema: pa.Schema, cols: list[Column], batches: Iterable[Rows], failed: list[Exception]
) -> Iterator[pa.RecordBatch]:
    """Record batches for GDAL to pull; an error while reading rows is kept in ``failed`` for the caller."""
    try:
        for rows in batches:
            yield record_batch(schema, cols, rows)
    except Exception as exc:
        failed.append(exc)
        raise


# --- GeoPackage extras: data dictionary, aliases and value lists, QGIS styles ------------------------


def _gpkg_extras(path: Path, layers: list[tuple[Layer, list[Column]]]) -> None:
    db = sqlite3.connect(path)
    try:
        with db:
            _data_dictionary(db, layers)
            _schema_extension(db, layers)
            _styles(db, [layer for layer, _ in layers])
    finally:
        db.close()


def _register(db: sqlite3.Connection, table: str, description: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (table, table, description),
    )


def _data_dictionary(db: sqlite3.Connection, layers: list[tuple[Layer, list[Column]]]) -> None:
    labels = ", ".join(f"label_{lang} TEXT" for lang in LANGUAGES)
    db.execute(
        f"CREATE TABLE mahalle_data_dictionary (fid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, "
        f"field TEXT NOT NULL, type TEXT NOT NULL, required INTEGER, unit TEXT, {labels}, value_list TEXT)"
    )
    rows = []
    for layer, cols in layers:
        for c in cols:
            attr = layer.attribute(c.name) if c.name in layer.attribute_names else None
            value_list = (
                json.dumps([{"value": ch.value, "label": ch.label} for ch in attr.choices], ensure_ascii=False)
                if attr and attr.choices
                else None
            )
            rows.append(
                (
                    layer.name,
                    c.name,
                    c.type,
                    int(bool(attr and attr.required)),
                    attr.unit if attr else None,
                    *(c.label.get(lang) for lang in LANGUAGES),
                    value_list,
                )
            )
    marks = ", ".join("?" * (6 + len(LANGUAGES)))
    db.executemany(
        f"INSERT INTO mahalle_data_dictionary (layer, field, type, required, unit, "  # noqa: S608 (fixed names)
        f"{', '.join(f'label_{lang}' for lang in LANGUAGES)}, value_list) VALUES ({marks})",
        rows,
    )
    _register(db, "mahalle_data_dictionary", "Fields of every layer: labels in four languages, units, value lists")


def _schema_extension(db: sqlite3.Connection, layers: list[tuple[Layer, list[Column]]]) -> None:
    """GeoPackage schema extension: field aliases (QGIS shows them) and value lists as enum constraints."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,
          CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name));
        CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
          constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC,
          max_is_inclusive BOOLEAN, description TEXT,
          CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
        CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
          extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
          CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """
    )
    spec = "http://www.geopackage.org/spec121/#extension_schema"
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        db.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')", (table, spec)
        )
    for layer, cols in layers:
        used: set[str] = set()
        for c in cols:
            alias = c.label.get("en") or c.name
            alias = alias if alias not in used else f"{alias} ({c.name})"
            used.add(alias)
            attr = layer.attribute(c.name) if c.name in layer.attribute_names else None
            constraint = f"{layer.name}_{c.name}" if attr and attr.type == "choice" else None
            db.execute(
                "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description, "
                "constraint_name) VALUES (?, ?, ?, ?, ?, ?)",
                (layer.name, c.name, alias, alias, c.label.get("fa"), constraint),
            )
            for ch in attr.choices if constraint else ():
                db.execute(
                    "INSERT OR IGNORE INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
                    "description) VALUES (?, 'enum', ?, ?)",
                    (constraint, ch.value, ch.label.get("en")),
                )


def _styles(db: sqlite3.Connection, layers: list[Layer]) -> None:
    """QGIS reads a GeoPackage's ``layer_styles`` table: a categorised style on each layer's key attribute."""
    db.execute(
        "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
        "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
        "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
        "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    for layer in layers:
        qml = _qml(layer)
        if qml:
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner) "
                "VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'mahalle')",
                (layer.name, layer.name, qml, f"Mahalle style: {layer.key_attribute}"),
            )
    _register(db, "layer_styles", "QGIS layer styles")


_SYMBOL = {
    "Point": ("marker", "SimpleMarker", "color"),
    "MultiPoint": ("marker", "SimpleMarker", "color"),
    "MultiLineString": ("line", "SimpleLine", "line_color"),
    "MultiPolygon": ("fill", "SimpleFill", "color"),
}


def _qml(layer: Layer) -> str | None:
    if not layer.key_attribute or layer.geometry_type not in _SYMBOL:
        return None
    choices = [c for c in layer.attribute(layer.key_attribute).choices if c.color]
    if not choices:
        return None
    kind, cls, colour_key = _SYMBOL[layer.geometry_type]
    root = ET.Element("qgis", version="3.28", styleCategories="Symbology")
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=layer.key_attribute)
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, choice in enumerate(choices):
        ET.SubElement(categories, "category", symbol=str(i), value=choice.value, label=choice.label.get("en", ""))
        symbol = ET.SubElement(symbols, "symbol", type=kind, name=str(i), alpha="1")
        sym_layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
        options = ET.SubElement(sym_layer, "Option", type="Map")
        rgb = ",".join(str(int(choice.color[k : k + 2], 16)) for k in (1, 3, 5)) + ",255"
        ET.SubElement(options, "Option", type="QString", name=colour_key, value=rgb)
        if kind == "line":
            ET.SubElement(options, "Option", type="QString", name="line_width", value="0.8")
    buffer = io.StringIO()
    ET.ElementTree(root).write(buffer, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + buffer.getvalue()


WRITERS: dict[str, type[Writer]] = {
    "gpkg": GpkgWriter,
    "shp": ShpWriter,
    "geojson": GeoJsonWriter,
    "csv": CsvWriter,
    "xlsx": XlsxWriter,
    "kml": KmlWriter,
    "kmz": KmzWriter,
}
