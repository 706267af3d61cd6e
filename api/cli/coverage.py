"""``mahalle coverage …``: the coverage distance of each service category (how far a home may be from a park, a
school, a clinic … and still count as served). Only administrators change them (the database says so)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.base import app, console, database
from core.db import attributed, connect
from core.settings import Settings, cli_actor
from layers import coverage_rules

coverage_app = typer.Typer(help="Coverage distances per service category (the coverage indicators).",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(coverage_app, name="coverage")


@coverage_app.command("list")
def list_rules() -> None:
    """Every category with a coverage distance."""
    with database() as db, connect(db.url) as conn:
        found = coverage_rules.list_rules(conn)
        allowed = coverage_rules.categories(conn)
    table = Table("category", "distance (m)", "changed", "by", title="Coverage distances")
    for r in found:
        table.add_row(
            escape(r["category"]), f"{r['distance_m']:,}", f"{r['updated_at']:%Y-%m-%d}", escape(r["updated_by"])
        )
    console.print(table)
    console.print(f"categories: {escape(', '.join(allowed))}")


@coverage_app.command("set")
def set_rule(
    category: Annotated[str, typer.Argument(help="park, or a service point category (school, clinic …)")],
    distance: Annotated[float, typer.Option("--distance", help="Metres (along the streets where there are streets)")],
) -> None:
    """Set how far a home may be from a service of CATEGORY and still count as served."""
    with database() as db, connect(db.url) as conn:  # a refusal of the database: its message, exit 1
        with attributed(conn, cli_actor(Settings())):
            created = coverage_rules.set_rule(conn, category, distance)
        rule = coverage_rules.get_rule(conn, category)
    verb = "set" if created else "changed"
    console.print(f"{verb} the coverage distance of {escape(category)}: {rule['distance_m']:,} m")


@coverage_app.command("remove")
def remove_rule(category: Annotated[str, typer.Argument(help="The category")]) -> None:
    """Stop measuring coverage for CATEGORY."""
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        coverage_rules.remove_rule(conn, category)
    console.print(f"removed the coverage distance of {escape(category)}")
