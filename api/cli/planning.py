"""``mahalle report`` and ``mahalle indicators``: the planning outputs on the command line."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.base import _fail, app, console, database
from core.db import connect
from core.i18n import LANGUAGES
from gis import indicators as gis_indicators
from gis import report as gis_report
from web import report_i18n as i18n
from web import report_page


class Format(StrEnum):
    html = "html"
    json = "json"


Lang = StrEnum("Lang", {code: code for code in LANGUAGES})  # the languages of core/i18n/, one file each


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint=option) from None


@app.command("report")
def report(
    neighbourhood: Annotated[str, typer.Option(help="Neighbourhood code, e.g. HKI-CENTRE")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD")],
    format: Annotated[Format, typer.Option(help="html (printable, opens offline) or json")] = Format.html,
    lang: Annotated[Lang, typer.Option(help="Language of the HTML report")] = Lang("en"),
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
) -> None:
    """Achievement report of a neighbourhood for a period."""
    first, last = _day(start, "--from"), _day(end, "--to")
    with database() as db, connect(db.url) as conn:
        built = gis_report.achievement(conn, neighbourhood, first, last)
        text = json.dumps(built.data, ensure_ascii=False, indent=2) if format is Format.json else None
        text = text or report_page.render_report(built, lang.value)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({format.value}, {lang.value})")


@app.command("indicators")
def indicators(
    neighbourhood: Annotated[str | None, typer.Option(help="Neighbourhood code")] = None,
    as_of: Annotated[str | None, typer.Option(help="As recorded at the end of this day, YYYY-MM-DD")] = None,
    polygon: Annotated[
        str | None, typer.Option(help="A drawn area as WKT (lon lat), instead of a neighbourhood")
    ] = None,
) -> None:
    """Neighbourhood indicators (or of a polygon), now or as of a date."""
    if not neighbourhood and not polygon:
        raise _fail("give --neighbourhood CODE or --polygon WKT")
    day = _day(as_of, "--as-of") if as_of else None
    with database() as db, connect(db.url) as conn:
        scope = (
            gis_indicators.polygon_scope(conn, polygon)
            if polygon
            else gis_indicators.neighbourhood_scope(conn, neighbourhood or "")
        )
        result = gis_indicators.compute(conn, scope, day)
    _print_indicators(result, scope.code or "polygon", day)


def _print_indicators(result: dict[str, Any], where: str, day: date | None) -> None:
    units = {key: unit for key, _, _, unit in gis_indicators.SUMMARY}
    table = Table("indicator", "value", title=f"{where} — {'as of ' + day.isoformat() if day else 'now'}")
    for key, value in gis_indicators.summary(result).items():
        unit = "" if units[key] == "count" else " " + i18n.unit(units[key], "en")
        table.add_row(i18n.t(f"indicator.{key}", "en"), "—" if value is None else f"{value:,}{unit}")
    console.print(table)
    services = Table("category", "service points", title="Service points")
    for category, n in result["service_points"]["by_category"].items():
        services.add_row(category, str(n))
    console.print(services)
    tenure = Table("tenure", "parcels", title="Parcels by tenure")
    for name, n in result["parcels"]["by_tenure"].items():
        tenure.add_row(name, str(n))
    console.print(tenure)
    priorities = Table("priority list", "features", "nearest first", title="Priorities")
    for name, rows in result["priorities"].items():
        first = ", ".join(f"{r['id']} ({r['distance_m']:.0f} m)" for r in rows[:5])
        priorities.add_row(name.replace("_", " "), str(len(rows)), first or "—")
    console.print(priorities)
