"""``mahalle import`` and ``mahalle export``: files in and out, with a progress bar and a report."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.base import _fail, app, console, database, err
from core.db import connect
from core.errors import MahalleError
from core.settings import Settings, cli_actor, get_settings
from gis.export.options import FORMATS, ExportError, ExportOptions, parse_bbox, parse_list
from layers.catalogue import UnknownLayer, load_catalogue

if TYPE_CHECKING:
    from importers.run import ImportReport

# The importers and the writers (GDAL, pandas, openpyxl) are imported by the commands that use them, so that
# `mahalle --help` and every other command start in a fraction of a second.


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _rate(task: Any) -> str:
    speed = task.speed
    return f"{speed:,.0f} rows/s" if speed else ""


@app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="GeoPackage, zipped Shapefile, GeoJSON, KML/KMZ, CSV, XLSX, FGB, OSM PBF")
    ],
    layer: Annotated[str | None, typer.Option(help="Layer to fill (not needed for OSM, which fills several)")] = None,
    mapping: Annotated[Path | None, typer.Option(help="JSON mapping of fields and values")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of a file that does not say, e.g. EPSG:32638")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count; write nothing")] = False,
    repair: Annotated[
        bool, typer.Option("--repair/--reject-invalid", help="Repair invalid geometries, or reject those rows")
    ] = False,
    source: Annotated[str | None, typer.Option(help="Source name kept on each row (re-imports update by it)")] = None,
    source_layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer file to read")] = None,
    id_field: Annotated[str | None, typer.Option(help="Field holding each feature's id in the source")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a file that does not say, e.g. cp1256")] = None,
    skip_rejected: Annotated[
        bool, typer.Option("--skip-rejected", help="Load the good rows even if some are rejected")
    ] = False,
    x_field: Annotated[str | None, typer.Option(help="CSV/XLSX column of the x (longitude or easting)")] = None,
    y_field: Annotated[str | None, typer.Option(help="CSV/XLSX column of the y (latitude or northing)")] = None,
    wkt_field: Annotated[str | None, typer.Option(help="CSV/XLSX column of each row's shape as WKT")] = None,
    outside: Annotated[
        str, typer.Option(help="Rows in no neighbourhood: keep (unassigned), nearest (--outside-distance), reject")
    ] = "keep",
    outside_distance: Annotated[
        float | None, typer.Option(help="Metres a row may lie from the nearest neighbourhood (--outside nearest)")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the report as JSON here")] = None,
) -> None:
    """Import a file into a layer (all or nothing; re-importing the same source updates rows)."""
    if Path(sys.argv[0]).name == "mahalle":  # its own process, which reads no data frames: GDAL without pandas
        from importers.gdal import load_pyogrio_without_pandas

        load_pyogrio_without_pandas()
    from importers import jobs
    from importers.mapping import Mapping
    from importers.run import ImportOptions, ImportRejected

    try:
        options = ImportOptions(
            layer=layer,
            mapping=Mapping.load(mapping) if mapping else Mapping(),
            crs=crs,
            dry_run=dry_run,
            repair=repair,
            source=source,
            source_layer=source_layer,
            id_field=id_field,
            encoding=encoding,
            skip_rejected=skip_rejected,
            x_field=x_field,
            y_field=y_field,
            wkt_field=wkt_field,
            outside=outside,
            outside_distance=outside_distance,
        )
    except MahalleError as exc:
        raise _fail(str(exc)) from None
    actor = cli_actor(Settings())
    with database() as db, _progress() as bar:
        with connect(db.url, autocommit=True) as conn:
            job_id = jobs.create_import(conn, path.name, options, actor)
        task = bar.add_task("reading", total=None, rate="")

        def progress(done: int, total: int | None, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what, rate=_rate(bar.tasks[0]))

        try:
            result = jobs.run_import_job(db.url, job_id, path, options, actor, progress)
        except UnknownLayer as exc:
            raise _fail(str(exc)) from None
        except ImportRejected as exc:
            _print_import(exc.report)
            _write_report(report, exc.report.to_json())
            raise _fail(str(exc)) from exc
    _print_import(result)
    _write_report(report, result.to_json())
    console.print(result.summary())


def _print_import(report: ImportReport) -> None:
    columns = ("read", "new", "updated", "unchanged", "rejected", "repaired", "outside")
    table = Table(title=report.file, box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0))  # fits 80 columns
    for name in ("layer", *columns):  # (how many were given the nearest neighbourhood: the summary line says)
        table.add_column(name, justify="left" if name == "layer" else "right", no_wrap=True)
    for name, c in report.layers.items():
        table.add_row(name, *(f"{getattr(c, k):,}" for k in columns))
    console.print(table)
    if report.rejected:
        rows = Table("layer", "row", "id", "reason", title="rejected rows (first 20)")
        for r in report.rejected[:20]:
            rows.add_row(r["layer"], str(r["row"] or "-"), str(r["source_id"]), r["reason"])
        console.print(rows)
    for name, fields in report.unused_fields.items():
        if fields:
            console.print(f"[yellow]{name}: fields not imported:[/] {', '.join(fields)}")
    for warning in report.warnings:
        console.print(f"[yellow]{warning}[/]")
    for name, attrs in report.unmapped_values.items():
        for attr, values in attrs.items():
            shown = ", ".join(f"{v} ({n})" for v, n in list(values.items())[:10])
            console.print(f"[yellow]{name}.{attr}: values without a match:[/] {shown}")


def _write_report(path: Path | None, data: dict[str, Any]) -> None:
    if path:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _parse_moment(text: str | None, what: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"{what} takes a date or time in ISO 8601, e.g. 2026-01-31 (got {text!r})") from None
    return moment if moment.tzinfo else moment.astimezone()


def _parse_date(text: str | None, what: str) -> date | None:
    moment = _parse_moment(text, what)
    return moment.date() if moment else None


@app.command("export")
def export_command(
    format: Annotated[str, typer.Option("--format", help=" | ".join(FORMATS))],
    out: Annotated[Path, typer.Option(help="File to write")],
    layers: Annotated[str | None, typer.Option(help="Layers, comma-separated (default: every spatial layer)")] = None,
    neighbourhood: Annotated[str | None, typer.Option(help="Neighbourhood code")] = None,
    filter: Annotated[str | None, typer.Option("--filter", help="CQL2 text, e.g. \"surface = 'earth'\"")] = None,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north in longitude/latitude")] = None,
    polygon: Annotated[str | None, typer.Option(help="Area to export, as WKT in longitude/latitude")] = None,
    status: Annotated[str | None, typer.Option(help="Status values, comma-separated")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From this date (each layer's date)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Up to this date, inclusive")] = None,
    as_of: Annotated[str | None, typer.Option(help="The layers as they were at this date/time")] = None,
    photos: Annotated[bool, typer.Option("--photos", help="Include the features' photos (gpkg, shp)")] = False,
    report: Annotated[Path | None, typer.Option(help="Write the report as JSON here")] = None,
) -> None:
    """Export layers (the asset inventory) to a file."""
    try:
        area = parse_bbox(bbox)
    except ExportError as exc:
        raise _fail(str(exc)) from None
    options = ExportOptions(
        format=format.lower(),
        layers=parse_list(layers),
        neighbourhood=neighbourhood,
        bbox=area,
        polygon=polygon,
        filter=filter,
        status=parse_list(status),
        date_from=_parse_date(date_from, "--from"),
        date_to=_parse_date(date_to, "--to"),
        as_of=_parse_moment(as_of, "--as-of"),
        photos=photos,
    )
    from gis.export.stream import export

    with database() as db, connect(db.url, autocommit=True) as conn, _progress() as bar:
        task = bar.add_task("exporting", total=None, rate="")

        def progress(rows: int, layer: str) -> None:
            bar.update(task, completed=rows, description=layer, rate=_rate(bar.tasks[0]))

        try:
            result = export(conn, load_catalogue(conn), options, out, progress, get_settings().files_folder)
        except (UnknownLayer, ExportError) as exc:
            raise _fail(str(exc)) from None
    written = Path(result.path)
    table = Table("layer", "features", title=str(written))
    for name, n in result.layers.items():
        table.add_row(name, f"{n:,}")
    for name, why in result.skipped.items():
        table.add_row(name, f"skipped: {why}")
    console.print(table)
    _write_report(report, result.to_json())
    photos_note = f", {result.photos:,} photos" if options.photos else ""
    if written != out:
        note = f"{options.format} holds one layer a file: the {len(result.layers)} layers are in {written}"
        console.print(f"[yellow]{note}[/]")
    console.print(f"wrote {written} ({sum(result.layers.values()):,} features{photos_note}, {result.seconds:.1f} s)")
