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
from core.errors import InvalidInput
from core.i18n import LANGUAGES


class Format(StrEnum):
    html = "html"
    json = "json"


Lang = StrEnum("Lang", {code: code for code in LANGUAGES})  # the languages of core/i18n/, one file each


class Calendar(StrEnum):
    gregorian = "gregorian"
    jalali = "jalali"


class Digits(StrEnum):
    latn = "latn"
    arab = "arab"
    arabext = "arabext"


NeighbourhoodOption = Annotated[
    str | None, typer.Option(help="Neighbourhood code, or codes separated by commas (a roll-up), e.g. A,B")
]
GroupOption = Annotated[str | None, typer.Option(help="A named group of neighbourhoods (mahalle group list)")]


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint=option) from None


def _period_day(value: str, calendar: Calendar, option: str) -> date:
    from gis import report as gis_report  # the planning modules (and folium) load with the commands that use them

    try:
        return gis_report.parse_day(value, calendar.value, option)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc).removeprefix(f"{option}: "), param_hint=option) from None


@app.command("report")
def report(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD")],
    neighbourhood: NeighbourhoodOption = None,
    group: GroupOption = None,
    calendar: Annotated[Calendar, typer.Option(help="Calendar of --from and --to")] = Calendar.gregorian,
    format: Annotated[Format, typer.Option(help="html (printable, opens offline) or json")] = Format.html,
    lang: Annotated[Lang, typer.Option(help="Language of the HTML report")] = Lang("en"),
    digits: Annotated[Digits | None, typer.Option(help="Digits of the HTML report (latn: Arabic with 0-9)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
) -> None:
    """Achievement report of a neighbourhood, several (summed) or a group, for a period."""
    if not neighbourhood and not group:
        raise _fail("give --neighbourhood CODE[,CODE…] or --group CODE")
    from gis import indicators as gis_indicators
    from gis import report as gis_report
    from web import report_page

    first, last = _period_day(start, calendar, "--from"), _period_day(end, calendar, "--to")
    with database() as db, connect(db.url) as conn:
        built = gis_report.achievement(conn, gis_indicators.scope_of(conn, neighbourhood, group), first, last)
        text = json.dumps(built.data, ensure_ascii=False, indent=2) if format is Format.json else None
        text = text or report_page.render_report(built, lang.value, digits.value if digits else None)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({format.value}, {lang.value})")


@app.command("indicators")
def indicators(
    neighbourhood: NeighbourhoodOption = None,
    group: GroupOption = None,
    as_of: Annotated[str | None, typer.Option(help="As recorded at the end of this day, YYYY-MM-DD")] = None,
    polygon: Annotated[
        str | None, typer.Option(help="A drawn area as WKT (lon lat), instead of a neighbourhood")
    ] = None,
    format: Annotated[Format | None, typer.Option(help="json: every figure as JSON instead of tables")] = None,
) -> None:
    """Neighbourhood indicators (summed over several, or a group; or of a polygon), now or as of a date."""
    if sum(bool(x) for x in (neighbourhood, group, polygon)) != 1:
        raise _fail("give one of --neighbourhood CODE[,CODE…], --group CODE or --polygon WKT")
    from gis import indicators as gis_indicators

    day = _day(as_of, "--as-of") if as_of else None
    with database() as db, connect(db.url) as conn:
        scope = (
            gis_indicators.polygon_scope(conn, polygon)
            if polygon
            else gis_indicators.scope_of(conn, neighbourhood, group)
        )
        result = gis_indicators.compute(conn, scope, day)
    if format is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    _print_indicators(result, scope.code or "polygon", day)


def _print_indicators(result: dict[str, Any], where: str, day: date | None) -> None:
    from gis import indicators as gis_indicators
    from web import report_i18n as i18n

    units = gis_indicators.units(gis_indicators.summary(result))
    table = Table("indicator", "value", title=f"{where} — {'as of ' + day.isoformat() if day else 'now'}")
    for key, value in gis_indicators.summary(result).items():
        unit = "" if units[key] == "count" else " " + i18n.unit(units[key], "en")
        table.add_row(gis_indicators.label(key, "en"), "—" if value is None else f"{value:,}{unit}")
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
