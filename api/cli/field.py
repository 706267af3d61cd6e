"""``mahalle field checkout`` and ``mahalle field checkin``: the GeoPackage round trip for QField, Mergin Maps and
QGIS (docs/field-geopackage.md). The CLI runs as the server itself: it reads and writes every neighbourhood."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.base import _fail, app, console, database
from core.db import connect
from core.i18n import LANGUAGES
from core.settings import Settings, cli_actor
from gis.export.options import ExportError, parse_list
from layers.catalogue import UnknownLayer, load_catalogue

if TYPE_CHECKING:
    from importers.field_checkin import CheckinReport

field_app = typer.Typer(
    help="Take a neighbourhood's layers to QField, Mergin Maps or QGIS as a GeoPackage, and bring the edits back.",
    no_args_is_help=True,
)
app.add_typer(field_app, name="field")


class Format(StrEnum):
    table = "table"
    json = "json"


Lang = StrEnum("Lang", {code: code for code in LANGUAGES})  # the languages of core/i18n/, one file each


@field_app.command("checkout")
def field_checkout(
    neighbourhood: Annotated[str, typer.Option(help="Neighbourhood code, e.g. HKI-CENTRE")],
    out: Annotated[Path, typer.Option(help="The GeoPackage to write, e.g. field.gpkg")],
    layers: Annotated[
        str | None, typer.Option(help="Layers, comma-separated (default: every spatial layer but neighbourhoods)")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the value lists' labels in the forms")] = Lang("en"),
) -> None:
    """Write a GeoPackage of the neighbourhood's features to edit in the field."""
    from gis.field_checkout import checkout  # GDAL: only when a checkout is written (api/cli/transfer.py)

    actor = cli_actor(Settings())
    with database() as db, connect(db.url, autocommit=True) as conn:
        try:
            report = checkout(conn, load_catalogue(conn), neighbourhood, parse_list(layers), out, user=actor,
                              lang=lang.value)  # fmt: skip
        except (UnknownLayer, ExportError) as exc:
            raise _fail(str(exc)) from None
    table = Table("layer", "features", title=f"checkout {report.id}")
    for name, count in report.layers.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"wrote {out} ({sum(report.layers.values()):,} features of {report.neighbourhood})")


@field_app.command("checkin")
def field_checkin(
    path: Annotated[Path, typer.Argument(help="The GeoPackage of a checkout, as the field app left it")],
    format: Annotated[Format, typer.Option("--format", help="table (for people) or json")] = Format.table,
) -> None:
    """Apply the field's inserts, updates and deletes; conflicts with server edits wait for review."""
    from importers.field_checkin import checkin

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    with database() as db, connect(db.url, autocommit=True) as conn:
        report = checkin(conn, load_catalogue(conn), path, cli_actor(Settings()))
    if format is Format.json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print(report)


def _print(report: CheckinReport) -> None:
    from importers.field_checkin import STATUSES

    counts = Table("layer", *STATUSES, title=f"check-in of {report.file} (checkout {report.checkout})")
    for name in report.layer_names():
        counts.add_row(name, *(str(n) for n in report.counts(name).values()))
    console.print(counts)
    notable = [r for r in report.rows if r.status in ("conflict", "refused", "resolved")]
    if notable:
        rows = Table("status", "layer", "feature", "uid", "gpkg fid", "why", title="rows for attention")
        for r in notable:
            rows.add_row(r.status, r.layer, str(r.id or "-"), r.uid or "-", str(r.fid or "-"), escape(r.message or ""))
        console.print(rows)
    console.print(report.summary())
