"""One import from start to report: open the file, map and check every row, stage with COPY, upsert.

The whole run is one transaction. A dry run does all of it, reads the new/updated/unchanged counts from
the upsert and rolls back. A real run commits only when no row was rejected (or when told to leave the
rejected rows out), so an import is all or nothing, and a killed import leaves the database as it was.
Re-importing the same source updates rows in place: the upsert is keyed on (source, source_id).
"""

from __future__ import annotations

import contextvars
import queue
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from core.db import attributed
from core.errors import InvalidInput, MahalleError, PayloadTooLarge, RuleViolation
from importers import files, outside, plausible, staged_rules, validate
from importers.archive import ImportLimits
from importers.load import (
    Batch,
    create_stage,
    defaults,
    match_staged,
    stage_located,
    to_ewkb,
    upsert_staged,
)
from importers.mapping import FieldPlan, Mapping, MappingError, ValueMapper, plan_fields
from importers.osm import read_osm
from layers.catalogue import Catalogue
from layers.spec import Layer

Progress = Callable[[int, int | None, str], None]  # rows done, rows in all (if known), what is happening
MAX_LISTED = 1000  # rejected/repaired rows listed one by one in a report; all are counted


@dataclass
class ImportOptions:
    layer: str | None = None  # target layer; optional for OSM (fills every layer it maps)
    mapping: Mapping = field(default_factory=Mapping)
    crs: str | None = None  # for files that do not say (or say wrongly)
    dry_run: bool = False
    repair: bool = False  # repair invalid geometries instead of rejecting them
    source: str | None = None  # default: "osm" for OSM, "file:<name>" otherwise
    source_layer: str | None = None  # which layer of a multi-layer file
    id_field: str | None = None  # default: uid (our exports) or the feature number
    encoding: str | None = None  # for files that do not say
    skip_rejected: bool = False  # commit the good rows even when some are rejected
    name: str | None = None  # the file's name as the user knows it (uploads)
    x_field: str | None = None  # a table's coordinate columns (CSV, XLSX); guessed only when unambiguous
    y_field: str | None = None
    wkt_field: str | None = None  # or the column holding each row's shape as WKT
    outside: str = "keep"  # rows in no neighbourhood: keep (unassigned), nearest (within a distance) or reject
    outside_distance: float | None = None  # metres, for "nearest"

    def __post_init__(self) -> None:
        _check_encoding(self.encoding)
        if self.outside not in OUTSIDE:
            raise InvalidInput(
                f"What to do with rows outside every neighbourhood is one of {', '.join(OUTSIDE)}, "
                f"not {self.outside!r}.",
                "outside",
            )
        self.outside_distance = _distance(self.outside_distance)
        if self.outside == "nearest" and self.outside_distance is None:
            why = "Say how far (in metres) a row may lie from the nearest neighbourhood."
            raise InvalidInput(why, "outside_distance")


OUTSIDE = ("keep", "nearest", "reject")
MAX_OUTSIDE_DISTANCE = 50_000.0


def _check_encoding(encoding: str | None) -> None:
    """A text encoding Python knows (a wrong name, or a codec such as rot13 or base64, is the client's mistake)."""
    if encoding is None:
        return
    try:
        "a".encode(encoding)  # LookupError for an unknown name and for codecs that are not text (rot13, hex)
    except (LookupError, UnicodeError):  # UnicodeError: the codec "undefined"
        raise InvalidInput(
            f"{encoding[:40]!r} is not a text encoding; use e.g. utf-8, cp1256 or latin-1.", "encoding"
        ) from None


def _distance(value: float | str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        metres = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"The distance to the nearest neighbourhood is a number of metres, not {value!r}.",
                           "outside_distance") from None  # fmt: skip
    if not 0 < metres <= MAX_OUTSIDE_DISTANCE:
        raise InvalidInput(f"The distance to the nearest neighbourhood is between 0 and {MAX_OUTSIDE_DISTANCE:,.0f} m.",
                           "outside_distance")  # fmt: skip
    return metres


@dataclass
class LayerCounts:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    repaired: int = 0
    outside: int = 0  # rows that lie in no neighbourhood (kept unassigned, given the nearest, or rejected)
    assigned: int = 0  # of them, given the nearest neighbourhood


@dataclass
class ImportReport:
    file: str
    format: str
    source: str
    dry_run: bool
    committed: bool = False
    layers: dict[str, LayerCounts] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    repaired: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)  # layer → source field → attribute
    unmapped_fields: dict[str, list[str]] = field(default_factory=dict)
    ignored_fields: dict[str, list[str]] = field(default_factory=dict)
    unused_fields: dict[str, list[str]] = field(default_factory=dict)  # every field no attribute nor the id takes
    id_field: dict[str, str | None] = field(default_factory=dict)  # layer → the field the ids came from
    coordinates: dict[str, dict[str, str | None]] = field(default_factory=dict)  # tables: the columns used
    outside: dict[str, Any] = field(default_factory=dict)  # the policy for rows in no neighbourhood
    unmapped_values: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    crs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self, layer: str) -> LayerCounts:
        return self.layers.setdefault(layer, LayerCounts())

    @property
    def total_rejected(self) -> int:
        return sum(c.rejected for c in self.layers.values())

    def reject(self, layer: str, row: int | None, source_id: str | None, reason: str) -> None:
        self.counts(layer).rejected += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append({"layer": layer, "row": row, "source_id": source_id, "reason": reason})

    def repair(self, layer: str, row: int, source_id: str | None, reason: str) -> None:
        self.counts(layer).repaired += 1
        if len(self.repaired) < MAX_LISTED:
            self.repaired.append({"layer": layer, "row": row, "source_id": source_id, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line: what was new, updated, unchanged and rejected, and whether it was written."""
        kinds = ("new", "updated", "unchanged", "rejected", "outside", "assigned")
        n = {k: sum(getattr(c, k) for c in self.layers.values()) for k in kinds}
        verb = "dry run, nothing written" if self.dry_run else "committed"
        outside = f", {n['outside']:,} outside every neighbourhood" if n["outside"] else ""
        if n["assigned"]:
            outside += f" ({n['assigned']:,} given the nearest)"
        return (
            f"{self.file}: {n['new']:,} new, {n['updated']:,} updated, {n['unchanged']:,} unchanged, "
            f"{n['rejected']:,} rejected{outside} ({verb}, {self.seconds:.1f} s)"
        )


class ImportRejected(MahalleError):
    """Some rows cannot be imported; nothing was written. The report lists every one."""

    def __init__(self, message: str, report: ImportReport):
        super().__init__(message)
        self.report = report


@dataclass
class _Plan:
    """What to load into one layer: its rows in batches, already mapped and checked."""

    layer: Layer
    batches: Callable[[], Iterator[Batch]]


def run_import(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    path: Path,
    options: ImportOptions,
    actor: str,
    progress: Progress | None = None,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Import ``path``; returns the report (also for a dry run). Raises ``ImportRejected`` or another
    ``MahalleError`` when nothing was written."""
    started = time.monotonic()
    limits = limits or ImportLimits()
    progress = progress or (lambda done, total, what: None)
    with files.offline(), tempfile.TemporaryDirectory(prefix="mahalle-import-") as work:
        source = files.open_source(Path(path), Path(work), limits, options.name, options.encoding, options.layer)
        default_source = "osm" if source.format == "osm" else f"file:{source.name}"
        report = ImportReport(source.name, source.format, options.source or default_source, options.dry_run)
        report.outside = {"policy": options.outside, "distance_m": options.outside_distance}
        if source.format == "osm":
            plans, total = _osm_plans(source, catalogue, options, report, limits)
        else:
            plans, total = _file_plans(source, catalogue, options, report, limits)
        _load(conn, plans, options, report, actor, total, progress)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _load(
    conn: psycopg.Connection,
    plans: list[_Plan],
    options: ImportOptions,
    report: ImportReport,
    actor: str,
    total: int | None,
    progress: Progress,
) -> None:
    done = 0
    try:
        with attributed(conn, actor, cause=f"import of {report.file}"):
            for plan in plans:
                create_stage(conn, plan.layer)
                staged = 0
                for batch in _read_ahead(plan.batches()):
                    staged += stage_located(conn, plan.layer, batch)  # neighbourhoods found as the rows arrive
                    done = sum(c.read for c in list(report.layers.values()))
                    progress(done, total, f"reading {plan.layer.name}")
                progress(done, total, f"loading {plan.layer.name}")
                match_staged(conn, plan.layer, report.source)
                staged -= _reject_swapped(conn, plan.layer, report)
                staged -= outside.settle(conn, plan.layer, options.outside, options.outside_distance, report)
                staged -= staged_rules.reject_invalid(conn, plan.layer, report)
                staged -= plausible.reject_implausible(conn, plan.layer, report)
                outside.warn_unassigned(conn, plan.layer, options.outside, options.outside_distance, report)
                staged_rules.refuse_unpermitted(conn, plan.layer)
                loaded = upsert_staged(conn, plan.layer, report.source, staged, checked=True, defer=not options.dry_run)
                counts = report.counts(plan.layer.name)
                counts.new += loaded.inserted
                counts.updated += loaded.updated
                counts.unchanged += loaded.unchanged
            if report.total_rejected and not options.skip_rejected and not options.dry_run:
                raise ImportRejected(_rejected_message(report), report)
            if options.dry_run:
                raise psycopg.Rollback()
    except RuleViolation as exc:
        raise RuleViolation(f"{report.file}: the database refused a row, so nothing was written: {exc}") from exc
    report.committed = not options.dry_run
    progress(done, total, "done")


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def _read_ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """``batches``, read, converted and checked in a thread of their own up to ``depth`` batches ahead: Python works
    on the next batch while the database stages and locates this one, so an import keeps both cores busy. The
    reader's error is raised here; the reader stops when this generator is closed."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_END)
        except BaseException as exc:  # raised again in the importing thread
            put(_Failed(exc))

    # In the caller's context: the limits a request sets (core/limits.py) are context variables.
    reader = threading.Thread(target=contextvars.copy_context().run, args=(read,), name="import-reader", daemon=True)
    reader.start()
    try:
        while (item := ahead.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        reader.join()


# Staged rows outside every neighbourhood that fall inside one with x and y exchanged: lat/lon swapped.
# (A swapped point is often still a valid longitude/latitude, so the range test alone cannot see it.)
_SWAPPED = """
DELETE FROM _mahalle_stage s
 USING (SELECT o.ctid AS row, inside.code
          FROM _mahalle_stage o,
               LATERAL (SELECT n.code FROM public.neighbourhoods n
                         WHERE ST_Intersects(n.geom, ST_FlipCoordinates(o._geom)) ORDER BY n.id LIMIT 1) inside
         WHERE o._geom IS NOT NULL AND o._nid IS NULL) swapped  -- in no neighbourhood: load.stage_located
 WHERE s.ctid = swapped.row
RETURNING s._sid, swapped.code
"""


def _reject_swapped(conn: psycopg.Connection, layer: Layer, report: ImportReport) -> int:
    """Set-based, in PostGIS: take rows whose latitude and longitude look swapped out of the load."""
    if not layer.neighbourhood_scoped or not layer.has_geometry:
        return 0
    swapped = conn.execute(_SWAPPED).fetchall()
    for source_id, code in swapped:
        reason = f"latitude and longitude look swapped: swapped back, it lies in neighbourhood {code}"
        report.reject(layer.name, None, source_id, reason)
    return len(swapped)


def _rejected_message(report: ImportReport) -> str:
    first = report.rejected[0]
    where = f"row {first['row']}" if first["row"] else f"id {first['source_id']}"
    return (
        f"{report.file}: {report.total_rejected} row(s) cannot be imported, so nothing was written "
        f"(first: {where}: {first['reason']}). Fix them, use the repair policy for invalid "
        "geometries, or leave them out explicitly."
    )


# --- files read with GDAL ---------------------------------------------------------------------------


def _file_plans(
    source: files.SourceFile, catalogue: Catalogue, options: ImportOptions, report: ImportReport, limits: ImportLimits
) -> tuple[list[_Plan], int]:
    if not options.layer:
        raise MahalleError(f"{source.name}: say which layer to import into (--layer).")
    layer = catalogue[options.layer]
    if not layer.has_geometry:
        raise MahalleError(f"{layer.name} has no geometry; Mahalle imports spatial layers.")
    options.mapping.check(layer)
    chosen = files.choose_layers(source, layer.name, options.source_layer)
    total = sum(sl.features for sl in chosen)
    if total > limits.max_features:
        raise PayloadTooLarge(f"{source.name}: {total:,} features; at most {limits.max_features:,} are accepted.")
    seen: dict[str, int] = {}
    plans = [_file_plan(source, sl, layer, options, report, seen) for sl in chosen]
    return plans, total


def _file_plan(
    source: files.SourceFile,
    sl: files.SourceLayer,
    layer: Layer,
    options: ImportOptions,
    report: ImportReport,
    seen: dict[str, int],
) -> _Plan:
    what = f"{source.name}" + (f" ({sl.name})" if len(source.layers) > 1 else "")
    crs = validate.source_crs(sl.crs, options.crs, source.format, what)
    report.crs[sl.name] = crs.to_string()
    where = None
    if source.format in files.TABLE_FORMATS:
        where = files.coordinate_columns(what, sl.fields, options.x_field, options.y_field, options.wkt_field)
        report.coordinates[sl.name] = {"x": where.x, "y": where.y, "wkt": where.wkt}
    id_field = options.id_field or options.mapping.id_field or ("uid" if "uid" in sl.fields else None)
    report.id_field[sl.name] = id_field
    fields = [f for f in sl.fields if not where or f not in where.columns]  # the id field may fill attributes too
    known = files.KML_FIELDS if source.format in ("kml", "kmz") else frozenset()
    plan = plan_fields(layer, fields, options.mapping, source.field_map.get(sl.name), known)
    _record_fields(report, layer.name, plan, id_field)
    mapper = ValueMapper(layer, options.mapping)
    base = _defaults(layer, options.mapping, mapper)

    def batches() -> Iterator[Batch]:
        for batch in files.read_batches(source, sl, id_field, where):
            geoms = validate.to_wgs84(batch.geometry, crs)
            values, problems = _convert(layer, batch.fields, plan.columns, mapper)
            yield _checked(layer, batch.ids, geoms, values, problems, base, options, report, seen)
        _record_unmapped_values(report, layer.name, mapper)

    return _Plan(layer, batches)


def _record_fields(report: ImportReport, layer: str, plan: FieldPlan, id_field: str | None) -> None:
    """What became of every field: the attributes it fills, or why it was not imported (the id is used)."""
    mapping = report.mapping.setdefault(layer, {})
    for source, attr in plan.columns:
        mapping[source] = f"{mapping[source]}, {attr.name}" if source in mapping else attr.name
    report.unmapped_fields.setdefault(layer, []).extend(f for f in plan.unmapped if f != id_field)
    report.ignored_fields.setdefault(layer, []).extend(f for f in plan.ignored if f != id_field)
    unused = report.unused_fields.setdefault(layer, [])
    unused.extend(f for f in plan.unmapped + plan.ignored if f != id_field and f not in unused)


def _defaults(layer: Layer, mapping: Mapping, mapper: ValueMapper) -> dict[str, Any]:
    """The layer's defaults, overridden by the mapping's (converted like source values)."""
    out = defaults(layer)
    names = set(layer.attribute_names)  # an OSM import fills several layers: each takes the defaults it has
    for name, value in ((n, v) for n, v in mapping.defaults.items() if n in names):
        converted, problems = mapper.convert_column(layer.attribute(name), [value])
        if problems:
            raise MappingError(f"The mapping's default for {name}: {problems[0]}.")
        out[name] = converted[0]
    return out


Problems = dict[int, list[str]]  # row in batch → what is wrong with it, in the order it is reported


def _convert(
    layer: Layer, fields: dict[str, np.ndarray], columns: list[tuple[str, Any]], mapper: ValueMapper
) -> tuple[dict[str, list[Any]], dict[str, Problems]]:
    """Every mapped source column converted to its attribute, and the problems by attribute and row."""
    values: dict[str, list[Any]] = {}
    problems: dict[str, Problems] = {}
    for source_field, attr in columns:
        converted, found = mapper.convert_column(attr, fields[source_field])
        values[attr.name] = converted
        problems[attr.name] = {i: [p] for i, p in found.items()}
    return values, problems


def _checked(
    layer: Layer,
    ids: list[str | None],
    geoms: np.ndarray,
    values: dict[str, list[Any]],
    field_problems: dict[str, Problems],
    base: dict[str, Any],
    options: ImportOptions,
    report: ImportReport,
    seen: dict[str, int],
) -> Batch:
    """Check one batch column by column; rejected rows go into the report, the rest are returned."""
    counts = report.counts(layer.name)
    offset = counts.read
    counts.read += len(ids)
    checked = validate.check_geometries(geoms, layer, options.repair)
    problems: Problems = {}
    for found in (checked.rejected, validate.duplicates(ids, seen, offset)):
        for i, reason in found.items():
            problems.setdefault(i, []).append(reason)
    columns = _fill(layer, len(ids), values, base)
    for a in layer.attributes:
        for i, reasons in field_problems.get(a.name, {}).items():
            problems.setdefault(i, []).extend(reasons)
    for a in layer.attributes:
        if a.required:
            failed = field_problems.get(a.name, {})
            for i in (i for i, v in enumerate(columns[a.name]) if v is None and i not in failed):
                problems.setdefault(i, []).append(f"{a.name} is required")
    return _keep(layer, ids, checked, columns, problems, offset, report)


def _fill(layer: Layer, n: int, values: dict[str, list[Any]], base: dict[str, Any]) -> dict[str, list[Any]]:
    """Every attribute's column; blanks take the default (the mapping's, else the layer's)."""
    out = {}
    for a in layer.attributes:
        column = values.get(a.name, [None] * n)
        default = base.get(a.name)
        out[a.name] = column if default is None else [default if v is None else v for v in column]
    return out


def _keep(
    layer: Layer,
    ids: list[str | None],
    checked: validate.Checked,
    columns: dict[str, list[Any]],
    problems: Problems,
    offset: int,
    report: ImportReport,
) -> Batch:
    """Report the rejected and repaired rows (in row order) and return the others."""
    for i in sorted(problems.keys() | checked.repaired.keys()):
        if i in problems:
            report.reject(layer.name, offset + i + 1, ids[i], "; ".join(problems[i]))
        else:
            report.repair(layer.name, offset + i + 1, ids[i], checked.repaired[i])
    if not problems:
        return Batch([str(i) for i in ids], to_ewkb(checked.geometry), columns)
    keep = [i for i in range(len(ids)) if i not in problems]
    return Batch(
        [str(ids[i]) for i in keep],
        to_ewkb(checked.geometry[keep]),
        {name: [column[i] for i in keep] for name, column in columns.items()},
    )


def _record_unmapped_values(report: ImportReport, layer: str, mapper: ValueMapper) -> None:
    target = report.unmapped_values.setdefault(layer, {})
    for attr, counter in mapper.unmapped.items():
        merged = Counter(target.get(attr, {}))
        merged.update(counter)
        target[attr] = dict(merged.most_common())


# --- OpenStreetMap ----------------------------------------------------------------------------------


def _osm_plans(
    source: files.SourceFile, catalogue: Catalogue, options: ImportOptions, report: ImportReport, limits: ImportLimits
) -> tuple[list[_Plan], int]:
    try:
        result = read_osm(source.path, [options.layer] if options.layer else None)
    except ValueError as exc:
        raise MahalleError(f"{source.name}: {exc}") from None
    except RuntimeError as exc:
        raise files.FileProblem(f"{source.name}: cannot be read as OpenStreetMap data ({exc}).") from None
    total = sum(len(rows) for rows in result.rows.values())
    if total > limits.max_features:
        raise PayloadTooLarge(f"{source.name}: {total:,} features; at most {limits.max_features:,} are accepted.")
    for key, n in result.unmapped.items():
        layer, _, tag = key.partition(" ")
        name, _, value = tag.partition("=")
        report.unmapped_values.setdefault(layer, {}).setdefault(name, {})[value] = n
    order = [layer.name for layer in catalogue if layer.name in result.rows]  # neighbourhoods first
    plans = []
    for name in order:
        rows = result.rows[name]
        report.crs[name] = "EPSG:4326"
        plans.append(_Plan(catalogue[name], _osm_batches(catalogue[name], rows, options, report)))
    return plans, total


def _osm_batches(layer: Layer, rows: list, options: ImportOptions, report: ImportReport, size: int = 20_000):
    def batches() -> Iterator[Batch]:
        seen: dict[str, int] = {}
        base = _defaults(layer, options.mapping, ValueMapper(layer, options.mapping))
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            geoms = np.array([r.geometry for r in chunk], dtype=object)
            ids = [r.source_id for r in chunk]
            values = {a.name: [r.attributes.get(a.name) for r in chunk] for a in layer.attributes}
            yield _checked(layer, ids, geoms, values, {}, base, options, report, seen)

    return batches
