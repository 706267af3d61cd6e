"""Open an outside file for import: unpack archives safely, check the content is what the name says,
list its layers and read its features in batches with pyogrio (GDAL).

Formats: GeoPackage (any layer), zipped Shapefile (.prj, .cpg), GeoJSON, KML/KMZ, CSV and XLSX (lon/lat
columns or a WKT column), FlatGeobuf. OSM PBF goes through ``importers.osm``. Errors name the file and
say what is wrong; nothing here writes to the database.
"""

from __future__ import annotations

import csv
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely

from core.errors import MahalleError
from importers import archive

# Formats by extension; "osm" is read by importers.osm, "table" formats carry coordinates in columns.
EXTENSIONS = {
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".kmz": "kmz",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".fgb": "fgb",
    ".pbf": "osm",
    ".osm": "osm",
    ".zip": "zip",
}
FORMAT_NAMES = {
    "gpkg": "GeoPackage",
    "shp": "Shapefile",
    "geojson": "GeoJSON",
    "kml": "KML",
    "kmz": "KMZ",
    "csv": "CSV",
    "xlsx": "Excel workbook",
    "fgb": "FlatGeobuf",
    "osm": "OpenStreetMap",
    "zip": "zip archive",
    "vrt": "a GDAL virtual dataset (which points at other files; never read from an upload)",
}
TABLE_FORMATS = ("csv", "xlsx")
DATA_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".csv", ".xlsx", ".fgb")
KML_FIELDS = frozenset({"id", "id2", "name"})  # GDAL's placemark id and name, and our id renamed
FIELD_MAP_NAME = "fields.csv"  # written by our Shapefile export: full name ↔ 10-character name
# Coordinate columns by name (any case), and the x/y names that go together as a pair.
PAIRS = (
    ("lon", "lat"), ("lng", "lat"), ("long", "lat"), ("longitude", "latitude"), ("longitud", "latitud"),
    ("longitud", "latitude"), ("x", "y"), ("easting", "northing"), ("point_x", "point_y"),
)  # fmt: skip
X_NAMES = frozenset(x for x, _ in PAIRS)
Y_NAMES = frozenset(y for _, y in PAIRS)
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")


class FileProblem(MahalleError):
    """The file cannot be read as it is; the message names it and says why."""


@dataclass
class SourceLayer:
    name: str
    features: int
    geometry_type: str | None
    crs: str | None
    fields: list[str]


@dataclass
class SourceFile:
    name: str  # what the user called it (upload name or path)
    path: Path  # the data file (inside the extracted archive for .zip/.kmz)
    format: str
    layers: list[SourceLayer] = field(default_factory=list)
    field_map: dict[str, dict[str, str]] = field(default_factory=dict)  # layer → short name → full name
    encoding: str | None = None


@dataclass
class Batch:
    ids: list[str]  # the source's own id for each feature (id field or feature number)
    geometry: np.ndarray  # shapely geometries (None where missing)
    fields: dict[str, np.ndarray]


# --- sniffing ---------------------------------------------------------------------------------------


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as f:
        return f.read(size)


def sniff(path: Path) -> str | None:
    """What the content looks like, whatever the name says."""
    head = _head(path)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"fgb\x03"):
        return "fgb"
    if len(head) >= 4 and head[:4] == b"\x00\x00\x27\x0a":
        return "shp"
    if b"OSMHeader" in head[:64]:
        return "osm"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<ogrvrtdatasource" in head.lower():  # GDAL would open the files it names, whatever the name says
        return "vrt"
    if text.startswith(b"{") or text.startswith(b"["):
        return "geojson"
    if text.startswith(b"<"):
        return {"osm": "osm", "kml": "kml"}.get(_xml_root(text), "xml")
    if head and b"\x00" not in head:
        return "csv"
    return None


# What may come before an XML document's root element: the declaration, comments, processing instructions, a
# DOCTYPE (without an internal subset: none of the formats read here has one).
_XML_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*>)", re.S | re.I)
_XML_ROOT = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _xml_root(text: bytes) -> str | None:
    """The local name of the root element (``kml`` for ``<kml>`` or ``<kml:kml>``), lower case."""
    at = 0
    while prolog := _XML_PROLOG.match(text, at):
        if prolog.end() == at:
            break
        at = prolog.end()
    root = _XML_ROOT.match(text, at)
    return root.group(1).decode("ascii").lower() if root else None


# A GeoJSON "crs" given as a link makes GDAL fetch the address it names (RFC 7946 has no "crs" at all). JSON may
# spell any letter as \\u00XX: those are read as the letters before looking.
_ASCII_ESCAPE = re.compile(rb"\\u00([0-7][0-9a-fA-F])")
_LINKED_CRS = re.compile(rb'"crs"\s*:\s*\{[^{}]*(?:\{[^{}]*\}[^{}]*)*?"(?:href|link|url)"', re.I)


def _refuse_linked_crs(path: Path, name: str) -> None:
    """Read the whole file (in overlapping chunks): a linked CRS anywhere is refused."""
    overlap, tail = 4096, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            window = tail + chunk
            if _LINKED_CRS.search(_ASCII_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), window)):
                raise FileProblem(
                    f"{name}: its coordinate system is given as a link to an address; Mahalle does not fetch it. "
                    'Remove the "crs" member (GeoJSON is longitude/latitude) or give the CRS by name (EPSG:…).'
                )
            tail = window[-overlap:]


_offline_lock = threading.Lock()
_offline_users = 0


@contextmanager
def offline() -> Iterator[None]:
    """GDAL with no way out to the network while it reads an upload: its HTTP requests go to a proxy that is
    not there (a format that names an address — a linked CRS, a remote file — must never make the server fetch
    it). Process-wide, so counted: the last reader out gives GDAL its settings back."""
    global _offline_users
    with _offline_lock:
        if _offline_users == 0:
            pyogrio.set_gdal_config_options({"GDAL_HTTP_PROXY": "127.0.0.1:9", "GDAL_HTTP_TIMEOUT": "1"})
        _offline_users += 1
    try:
        yield
    finally:
        with _offline_lock:
            _offline_users -= 1
            if _offline_users == 0:
                pyogrio.set_gdal_config_options({"GDAL_HTTP_PROXY": None, "GDAL_HTTP_TIMEOUT": None})


def _expect(path: Path, name: str, wanted: str) -> None:
    found = sniff(path)
    if found == "geojson" and wanted == "geojson":
        _refuse_linked_crs(path, name)
    if found == wanted or (wanted == "xlsx" and found == "zip"):
        return
    described = FORMAT_NAMES.get(found or "", "unreadable or binary data") if path.stat().st_size else "empty"
    raise FileProblem(f"{name}: the name says {FORMAT_NAMES[wanted]}, but the content is {described}.")


# --- opening ----------------------------------------------------------------------------------------


def open_source(
    path: Path,
    workdir: Path,
    limits: archive.ImportLimits,
    name: str | None = None,
    encoding: str | None = None,
    target: str | None = None,
) -> SourceFile:
    """Check and open ``path`` (unpacking archives into ``workdir``); lists its layers. In an archive of
    several files (one per layer, as our GeoJSON/CSV exports are), ``target`` picks the file."""
    name = name or path.name
    fmt = precheck(path, limits, name)
    if fmt == "osm":
        return SourceFile(name, path, "osm")
    if fmt in ("zip", "kmz"):
        path, fmt = _unpack(path, workdir, limits, name, target)
    source = SourceFile(name, path, fmt, encoding=encoding)
    if fmt == "shp":
        _check_shapefile(source)
    source.layers = _layers(source)
    return source


def precheck(path: Path, limits: archive.ImportLimits, name: str) -> str:
    """The cheap checks an upload gets before it is accepted: size, type, content, an archive's directory.
    Returns the format the name says (and the content confirms)."""
    if not path.is_file():
        raise FileProblem(f"{name}: no such file.")
    archive.check_file_size(path, limits, name)
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise FileProblem(f"{name}: unknown file type {path.suffix or '(no extension)'}; {supported()}.")
    _expect(path, name, fmt if fmt != "kmz" else "zip")
    if fmt in ("zip", "kmz", "xlsx"):  # a workbook is a zip too: the same limits on what it unpacks to
        archive.check_archive(path, limits, name)
    return fmt


def supported() -> str:
    return "Mahalle reads .gpkg, .zip (Shapefile), .geojson, .kml, .kmz, .csv, .xlsx, .fgb and .osm.pbf"


def _unpack(path: Path, workdir: Path, limits: archive.ImportLimits, name: str, target: str | None) -> tuple[Path, str]:
    files = archive.extract(path, workdir, limits, name)
    data = [f for f in files if f.suffix.lower() in DATA_SUFFIXES and not f.name.startswith(".")]
    shapefiles = [f for f in data if f.suffix.lower() == ".shp"]
    if shapefiles:
        # GDAL opens a folder of shapefiles as one dataset with a layer per file.
        return shapefiles[0].parent if len(shapefiles) > 1 else shapefiles[0], "shp"
    if len(data) > 1 and target:
        data = [f for f in data if f.stem == target] or data
    if len(data) != 1:
        found = ", ".join(f.name for f in data) or "no file Mahalle reads"
        raise FileProblem(
            f"{name}: the archive should hold one data file (or one named after the layer); it has {found}."
        )
    fmt = EXTENSIONS[data[0].suffix.lower()]
    _expect(data[0], f"{name}: {data[0].name}", fmt)
    return data[0], fmt


def _shapefile_parts(source: SourceFile) -> list[Path]:
    return sorted(source.path.glob("*.shp")) if source.path.is_dir() else [source.path]


def _check_shapefile(source: SourceFile) -> None:
    """A shapefile must be one (GDAL opens a file by its content: a ``.shp`` holding a virtual dataset would read
    other files), say its CRS (.prj) and, if it has non-ASCII text, its encoding (.cpg)."""
    for shp in _shapefile_parts(source):
        if sniff(shp) != "shp":
            raise FileProblem(f"{source.name}: {shp.name} is not a shapefile (its content is something else).")
        for part in (".shx", ".dbf"):
            if not _sibling(shp, part):
                raise FileProblem(f"{source.name}: {shp.stem}{part} is missing; a shapefile needs .shp, .shx and .dbf.")
        dbf = _sibling(shp, ".dbf")
        if not source.encoding and not _sibling(shp, ".cpg") and _dbf_language_id(dbf) == 0 and _has_8bit(dbf):
            raise FileProblem(
                f"{source.name}: {shp.stem} has non-English text but no .cpg file saying its encoding; "
                "give the encoding (e.g. --encoding cp1256 for Windows Arabic/Persian, or utf-8)."
            )
    mapping = next((f for f in _neighbours(source.path) if f.name.lower() == FIELD_MAP_NAME), None)
    if mapping:
        source.field_map = _read_field_map(mapping)


def _neighbours(path: Path) -> list[Path]:
    folder = path if path.is_dir() else path.parent
    return list(folder.iterdir())


def _sibling(shp: Path, suffix: str) -> Path | None:
    return next((p for p in shp.parent.iterdir() if p.stem == shp.stem and p.suffix.lower() == suffix), None)


def _dbf_language_id(dbf: Path) -> int:
    head = _head(dbf, 32)
    return head[29] if len(head) > 29 else 0


def _has_8bit(dbf: Path) -> bool:
    with dbf.open("rb") as f:
        head = f.read(32)
        header_size = int.from_bytes(head[8:10], "little")
        f.seek(header_size)
        while chunk := f.read(1 << 20):
            if re.search(rb"[\x80-\xff]", chunk):
                return True
    return False


def _read_field_map(path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["shapefile"], {})[row["short_name"]] = row["field"]
    return out


def _layers(source: SourceFile) -> list[SourceLayer]:
    """The layers by name; their details are read only for the layers an import uses (KML and XLSX are
    parsed whole by every call)."""
    with _gdal_errors(source):
        listed = pyogrio.list_layers(source.path)
    if not len(listed):
        raise FileProblem(f"{source.name}: the file holds no layers.")
    return [SourceLayer(str(name), -1, geometry_type, None, []) for name, geometry_type in listed]


def describe(source: SourceFile, layer: SourceLayer) -> SourceLayer:
    if layer.features < 0:
        with _gdal_errors(source):
            info = pyogrio.read_info(source.path, layer=layer.name, encoding=source.encoding, **_options(source))
        layer.features = int(info["features"])
        layer.geometry_type = info.get("geometry_type")
        layer.crs = info.get("crs")
        layer.fields = [str(f) for f in info["fields"]]
    return layer


@contextmanager
def _gdal_errors(source: SourceFile) -> Iterator[None]:
    try:
        yield
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        what = FORMAT_NAMES[source.format]
        raise FileProblem(f"{source.name}: cannot be read as {what} ({_gdal_message(exc)}).") from None
    except UnicodeDecodeError as exc:
        raise _encoding_problem(source, exc) from None


def _options(source: SourceFile) -> dict[str, str]:
    # GDAL guesses whether a sheet's first row holds column names; ours always does.
    return {"HEADERS": "FORCE"} if source.format == "xlsx" else {}


def _gdal_message(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _encoding_problem(source: SourceFile, exc: UnicodeDecodeError) -> FileProblem:
    return FileProblem(
        f"{source.name}: the text is not in the encoding the file declares ({exc.encoding}); "
        "give the right one (e.g. --encoding cp1256 for Windows Arabic/Persian)."
    )


def choose_layers(source: SourceFile, target: str, wanted: str | None = None) -> list[SourceLayer]:
    """The source layers to read into ``target``: the one asked for, the one named like it, or the only one."""
    return [describe(source, layer) for layer in _choose(source, target, wanted)]


def _choose(source: SourceFile, target: str, wanted: str | None) -> list[SourceLayer]:
    names = [layer.name for layer in source.layers]
    if wanted:
        chosen = [layer for layer in source.layers if layer.name == wanted]
        if not chosen:
            raise FileProblem(f"{source.name}: there is no layer {wanted!r}; it has {', '.join(names)}.")
        return chosen
    if len(source.layers) == 1:
        return source.layers
    exact = [layer for layer in source.layers if layer.name == target]
    if exact:
        return exact
    # Our Shapefile export splits a mixed layer by geometry type: interventions_point, interventions_line …
    parts = [layer for layer in source.layers if layer.name.startswith(target + "_")]
    if parts:
        return parts
    raise FileProblem(
        f"{source.name}: it has several layers ({', '.join(names)}) and none is named {target!r}; "
        "say which one to read (--source-layer)."
    )


# --- reading ----------------------------------------------------------------------------------------


def read_batches(
    source: SourceFile,
    layer: SourceLayer,
    id_field: str | None,
    where: Coordinates | None = None,
    batch_size: int = 20_000,
) -> Iterator[Batch]:
    """The features of ``layer`` in batches; geometry in the file's CRS, Z dropped. ``where``: a table's
    coordinate columns."""
    read_geometry = source.format not in TABLE_FORMATS
    prefix = f"{layer.name}:" if len(source.layers) > 1 else ""
    for start in range(0, max(layer.features, 1), batch_size):
        meta, fids, geometry, data = _read(source, layer, start, batch_size, read_geometry)
        fields = {str(name): values for name, values in zip(meta["fields"], data, strict=True)}
        if not read_geometry:
            geoms = table_geometry(source, fields, where or coordinate_columns(source.name, list(fields)))
        else:
            geoms = shapely.from_wkb(geometry) if geometry is not None else np.full(len(fids), None)
        ids = _ids(source, layer, fields, fids, id_field, prefix)
        yield Batch(ids, geoms, fields)


def read_fields(source: SourceFile, layer: SourceLayer, size: int) -> dict[str, np.ndarray]:
    """The attribute columns of the first ``size`` features (a preview; no geometry is built)."""
    meta, _fids, _geometry, data = _read(source, layer, 0, size, False)
    return {str(name): values for name, values in zip(meta["fields"], data, strict=True)}


def _read(source: SourceFile, layer: SourceLayer, start: int, size: int, read_geometry: bool) -> tuple:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.raw.read(
                source.path,
                layer=layer.name,
                encoding=source.encoding,
                read_geometry=read_geometry,
                force_2d=True,
                skip_features=start,
                max_features=size,
                return_fids=True,
                datetime_as_string=True,
                **_options(source),
            )
    except UnicodeDecodeError as exc:
        raise _encoding_problem(source, exc) from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise FileProblem(f"{source.name}: reading {layer.name} failed ({_gdal_message(exc)}).") from None


def _ids(
    source: SourceFile,
    layer: SourceLayer,
    fields: dict[str, np.ndarray],
    fids: np.ndarray,
    id_field: str | None,
    prefix: str,
) -> list[str]:
    column = id_field or ("uid" if "uid" in fields else None)
    if id_field and id_field not in fields:
        raise FileProblem(
            f"{source.name}: the id field {id_field!r} is not in {layer.name}; it has {', '.join(fields)}."
        )
    if column:
        return [None if _blank(v) else id_text(v) for v in fields[column]]  # type: ignore[misc]
    return [f"{prefix}{int(fid)}" for fid in fids]


def id_text(value: Any) -> str:
    """An id as the file writes it: a whole number read as a float (Shapefile/Excel numbers) loses its ".0"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (np.integer, np.floating)):
        return str(value.item())
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value)


@dataclass(frozen=True)
class Coordinates:
    """The columns a table's geometry is built from: x and y (longitude/latitude or projected), or WKT."""

    x: str | None = None
    y: str | None = None
    wkt: str | None = None

    @property
    def columns(self) -> set[str]:
        return {c for c in (self.x, self.y, self.wkt) if c}


def coordinate_candidates(fields: list[str]) -> dict[str, list[str]]:
    """Columns whose names say they hold x, y or WKT (any case), in the file's order."""
    lowered = [(f, f.lower()) for f in fields]
    return {
        kind: [f for f, low in lowered if low in names]
        for kind, names in (("x", X_NAMES), ("y", Y_NAMES), ("wkt", WKT_NAMES))
    }


def coordinate_columns(
    name: str, fields: list[str], x_field: str | None = None, y_field: str | None = None, wkt_field: str | None = None
) -> Coordinates:
    """The coordinate columns of a table: the ones named (``--x-field``/``--y-field``, or ``--wkt-field``), else a
    guess made only when it is unambiguous — one WKT column, or else one x/y pair whose names belong together
    (lon/lat, longitude/latitude, x/y …; never X with Latitude)."""
    if wkt_field:
        if x_field or y_field:
            raise FileProblem(f"{name}: name either the x and y columns or a WKT column, not both.")
        if wkt_field not in fields:
            raise FileProblem(f"{name}: there is no column {wkt_field!r}; its columns are: {', '.join(fields)}.")
        return Coordinates(wkt=wkt_field)
    if x_field or y_field:
        if not (x_field and y_field):
            raise FileProblem(f"{name}: name both coordinate columns (x and y), not only one.")
        for column in (x_field, y_field):
            if column not in fields:
                raise FileProblem(f"{name}: there is no column {column!r}; its columns are: {', '.join(fields)}.")
        return Coordinates(x=x_field, y=y_field)
    found = coordinate_candidates(fields)
    lowered = {f.lower(): f for f in fields}
    pairs = [(lowered[x], lowered[y]) for x, y in PAIRS if x in lowered and y in lowered]
    if len(found["wkt"]) == 1:  # a whole geometry (our exports add lon/lat of the same point beside it)
        return Coordinates(wkt=found["wkt"][0])
    if len(pairs) == 1 and not found["wkt"]:
        return Coordinates(x=pairs[0][0], y=pairs[0][1])
    if pairs or found["wkt"] or found["x"] or found["y"]:
        seen = [f"{x}/{y}" for x, y in pairs] + found["wkt"]
        seen = seen or found["x"] + found["y"]
        raise FileProblem(
            f"{name}: which columns hold the coordinates is not clear (it has {', '.join(seen)}); name the x and "
            "y columns (--x-field/--y-field on the command line), and the coordinate system for projected ones "
            "such as UTM."
        )
    raise FileProblem(
        f"{name}: no coordinates found; give longitude/latitude columns (lon, lat) "
        f"or a WKT column (wkt). Its columns are: {', '.join(fields) or 'none'}."
    )


def table_geometry(source: SourceFile, fields: dict[str, np.ndarray], where: Coordinates) -> np.ndarray:
    """Points from x/y columns, or shapes from a WKT column, for CSV and spreadsheets."""
    if where.wkt:
        texts = np.array([None if _blank(v) else str(v) for v in fields[where.wkt]], dtype=object)
        try:
            return shapely.from_wkt(texts, on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise FileProblem(f"{source.name}: the column {where.wkt!r} holds text that is not WKT ({exc}).") from None
    x, y = _numbers(source, fields, where.x), _numbers(source, fields, where.y)
    points = shapely.points(x, y)
    points[np.isnan(x) | np.isnan(y)] = None
    return points


def _numbers(source: SourceFile, fields: dict[str, np.ndarray], name: str) -> np.ndarray:
    out = np.full(len(fields[name]), np.nan)
    for i, value in enumerate(fields[name]):
        if _blank(value):
            continue
        try:
            out[i] = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
        except ValueError:
            raise FileProblem(f"{source.name}: row {i + 1}: {name} = {value!r} is not a number.") from None
    return out
