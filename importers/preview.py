"""What an import would do before it runs: a file's layers, first rows, and the proposed mapping.

The web import shows this so the person importing can correct the mapping (fields → attributes, value →
value, the CRS, a table's coordinate columns and the id field) before a dry run. It reads only the first
rows, writes nothing, and proposes exactly what ``importers.run`` would do with the same options.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidInput
from importers import files, validate
from importers.archive import ImportLimits
from importers.mapping import FieldPlan, ValueMapper, ValueProblem, plan_fields
from importers.run import ImportOptions
from layers.catalogue import Catalogue
from layers.spec import Attribute, Layer

ROWS = 10  # rows shown
SAMPLE = 1000  # rows read to find the distinct values of value-list fields
DISTINCT = 50  # distinct values proposed per field
SAMPLES = 3  # example values per field


def preview(
    catalogue: Catalogue, path: Path, options: ImportOptions, limits: ImportLimits | None = None
) -> dict[str, Any]:
    """The preview of importing ``path`` into ``options.layer`` with ``options`` (the mapping included)."""
    if not options.layer:
        raise InvalidInput("Choose the layer to import into.", "layer")
    layer = catalogue[options.layer]
    with files.offline(), tempfile.TemporaryDirectory(prefix="mahalle-preview-") as work:
        limits = limits or ImportLimits()
        source = files.open_source(path, Path(work), limits, options.name, options.encoding, layer.name)
        if source.format == "osm":
            return {"file": source.name, "format": "osm", "layers": [], "fields": [], "rows": [], "problems": []}
        chosen = files.choose_layers(source, layer.name, options.source_layer)[0]
        return _describe(source, chosen, layer, options)


def _describe(source: files.SourceFile, sl: files.SourceLayer, layer: Layer, options: ImportOptions) -> dict[str, Any]:
    problems: list[str] = []
    data = files.read_fields(source, sl, SAMPLE)
    coordinates, where = _coordinates(source, sl, options, problems)
    fields = [f for f in sl.fields if not where or f not in where.columns]
    known = files.KML_FIELDS if source.format in ("kml", "kmz") else frozenset()
    plan = plan_fields(layer, fields, options.mapping, source.field_map.get(sl.name), known)
    id_field = options.id_field or options.mapping.id_field or ("uid" if "uid" in sl.fields else None)
    return {
        "file": source.name,
        "format": source.format,
        "layers": [s.name for s in source.layers],
        "source_layer": sl.name,
        "features": sl.features,
        "geometry_type": sl.geometry_type,
        "crs": _crs(sl, options, source.format, problems),
        "fields": [_field(name, data.get(name), plan) for name in sl.fields],
        "rows": _rows(data, ROWS),
        "values": _values(layer, plan, data, options),
        "id_field": id_field,
        "coordinates": coordinates,
        "unused_fields": [f for f in plan.unmapped + plan.ignored if f != id_field],
        "problems": problems,
    }


def _crs(sl: files.SourceLayer, options: ImportOptions, fmt: str, problems: list[str]) -> str | None:
    """The CRS the import would read the file in; None (and a problem) when the file does not say."""
    try:
        crs = validate.source_crs(sl.crs, options.crs, fmt, sl.name)
    except validate.CrsProblem as exc:
        problems.append(str(exc))
        return None
    if not options.crs and not sl.crs and fmt in files.TABLE_FORMATS:
        problems.append("The file does not say its CRS: coordinates are read as longitude/latitude unless you say.")
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_string()


def _coordinates(
    source: files.SourceFile, sl: files.SourceLayer, options: ImportOptions, problems: list[str]
) -> tuple[dict[str, Any] | None, files.Coordinates | None]:
    if source.format not in files.TABLE_FORMATS:
        return None, None
    candidates = files.coordinate_candidates(sl.fields)
    try:
        where = files.coordinate_columns(source.name, sl.fields, options.x_field, options.y_field, options.wkt_field)
    except files.FileProblem as exc:
        problems.append(str(exc))
        return {"x_field": None, "y_field": None, "wkt_field": None, "candidates": candidates}, None
    return {"x_field": where.x, "y_field": where.y, "wkt_field": where.wkt, "candidates": candidates}, where


def _field(name: str, values: np.ndarray | None, plan: FieldPlan) -> dict[str, Any]:
    samples: list[Any] = []
    for value in values if values is not None else []:
        plain = _plain(value)
        if plain not in (None, "") and plain not in samples:
            samples.append(plain)
            if len(samples) == SAMPLES:
                break
    return {"name": name, "samples": samples, "targets": plan.targets(name), "how": plan.how.get(name)}


def _rows(data: dict[str, np.ndarray], n: int) -> list[dict[str, Any]]:
    count = min(n, min((len(v) for v in data.values()), default=0))
    return [{name: _plain(values[i]) for name, values in data.items()} for i in range(count)]


def _values(layer: Layer, plan: FieldPlan, data: dict[str, np.ndarray], options: ImportOptions) -> dict[str, Any]:
    """For every field feeding a value-list attribute: its distinct values and the list value each becomes."""
    mapper = ValueMapper(layer, options.mapping)
    out: dict[str, dict[str, str | None]] = {}
    for source, attr in plan.columns:
        if attr.choices and source in data:
            out.setdefault(attr.name, {}).update(_proposals(mapper, attr, data[source]))
    return out


def _proposals(mapper: ValueMapper, attr: Attribute, values: np.ndarray) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for value in values:
        text = _plain(value)
        if text in (None, "") or str(text) in found:
            continue
        try:
            found[str(text)] = mapper.choice(attr, value)
        except ValueProblem:
            found[str(text)] = None
        if len(found) == DISTINCT:
            break
    return found


def _plain(value: Any) -> Any:
    """A value as JSON carries it (whole floats as integers, as the file shows them)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value
