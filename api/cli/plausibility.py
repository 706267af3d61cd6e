"""``mahalle plausibility …``: the plausibility rules of each layer (a street's maximum length, a parcel's maximum
area, how far a feature may lie from the neighbourhoods, no feature silently leaving its neighbourhood). Only
administrators change them (the database says so)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.base import app, console, database
from core.db import attributed, connect
from core.settings import Settings, cli_actor
from layers import plausibility

plausibility_app = typer.Typer(help="Plausibility rules per layer (checked on every edit, QGIS included).",
                               no_args_is_help=True)  # fmt: skip
app.add_typer(plausibility_app, name="plausibility")


def _limit(rule: dict) -> str:
    if rule["value"] is None:
        return "-"
    return f"{rule['value']:,} {rule['unit']}"


@plausibility_app.command("list")
def list_rules() -> None:
    """Every layer's plausibility rules."""
    with database() as db, connect(db.url) as conn:
        found = plausibility.list_rules(conn)
    table = Table("layer", "rule", "limit", "applied", "changed", "by", title="Plausibility rules")
    for r in found:
        table.add_row(
            escape(r["layer"]), r["rule"], _limit(r), "yes" if r["enabled"] else "no",
            f"{r['updated_at']:%Y-%m-%d}", escape(r["updated_by"]),
        )  # fmt: skip
    console.print(table)
    console.print(
        "rules: " + "; ".join(f"{name} ({v['unit'] or 'no value'})" for name, v in plausibility.RULES.items())
    )


@plausibility_app.command("set")
def set_rule(
    layer: Annotated[str, typer.Argument(help="The layer (streets, parcels …)")],
    rule: Annotated[str, typer.Argument(help="max_length, max_area, near_neighbourhoods or keep_neighbourhood")],
    value: Annotated[
        float | None, typer.Option("--value", help="Metres, or square metres for max_area; none for keep_neighbourhood")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Keep the rule but do not apply it")] = False,
) -> None:
    """Set RULE of LAYER (and apply it, unless --disabled)."""
    with database() as db, connect(db.url) as conn:  # a refusal of the database: its message, exit 1
        with attributed(conn, cli_actor(Settings())):
            created = plausibility.set_rule(conn, layer, rule, value, not disabled)
        found = plausibility.get_rule(conn, layer, rule)
    verb = "set" if created else "changed"
    state = "applied" if found["enabled"] else "not applied"
    console.print(f"{verb} {escape(rule)} of {escape(layer)}: {_limit(found)} ({state})")


@plausibility_app.command("remove")
def remove_rule(
    layer: Annotated[str, typer.Argument(help="The layer")], rule: Annotated[str, typer.Argument(help="The rule")]
) -> None:
    """Stop applying RULE to LAYER."""
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        plausibility.remove_rule(conn, layer, rule)
    console.print(f"removed {escape(rule)} of {escape(layer)}")
