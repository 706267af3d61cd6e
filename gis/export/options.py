"""What an export is asked for (formats, filters, batch size), what it reports, its file name and its layers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.errors import MahalleError
from layers.catalogue import Catalogue
from layers.spec import Layer

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
Progress = Callable[[int, str], None]  # rows written so far, layer being written


class ExportError(MahalleError):
    """An export asked for with options that cannot be met."""


def parse_list(text: str | None) -> list[str] | None:
    """``a,b,c`` as the CLI and the API take layer names and status values."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in longitude/latitude, as the CLI and the API take it."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ExportError(f"bbox takes four numbers: west,south,east,north (got {text!r}).")
    return values[0], values[1], values[2], values[3]


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
    photos: bool = False  # the exported features' photos and documents too (GeoPackage, Shapefile zip)
    batch_size: int = BATCH


@dataclass
class ExportReport:
    format: str
    path: str
    media_type: str
    layers: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    photos: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def output_name(options: ExportOptions, layers: Sequence[str]) -> str:
    """The file name an export gets: one GeoJSON/CSV layer is a plain file, several are zipped."""
    base = "mahalle-" + ("-".join(layers) if len(layers) <= 2 else "export")
    if options.format in ("geojson", "csv") and len(layers) > 1:
        return f"{base}.zip"
    return f"{base}.{'zip' if options.format == 'shp' else options.format}"


SPLIT_FORMATS = ("geojson", "csv")  # a file per layer: several layers are zipped (or written into a folder)


def honest_path(out: Path, fmt: str, multi: bool) -> Path:
    """Where an export really goes: several GeoJSON/CSV layers make a .zip (or fill a folder that exists), never an
    archive behind a .csv name; one layer is the plain file, never a .zip name on a plain file."""
    if fmt not in SPLIT_FORMATS or out.is_dir():
        return out
    if multi and out.suffix.lower() != ".zip":
        return out.with_name(out.stem + ".zip") if out.suffix.lower() == f".{fmt}" else out.with_name(out.name + ".zip")
    if not multi and out.suffix.lower() == ".zip":
        return out.with_suffix(f".{fmt}")
    return out


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
