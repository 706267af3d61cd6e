"""``mahalle layer …``: the catalogue's layers, and custom layers made and dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.base import _fail, app, console, database
from core.db import attributed, connect
from core.settings import Settings, cli_actor
from layers import custom
from layers.catalogue import load_catalogue
from layers.counts import feature_counts

layer_app = typer.Typer(help="Layers of the catalogue, and custom layers.", no_args_is_help=True)
app.add_typer(layer_app, name="layer")


@layer_app.command("list")
def layer_list() -> None:
    """List every layer with its geometry type and number of features."""
    with database() as db, connect(db.url) as conn:
        cat = load_catalogue(conn)
        counts = feature_counts(conn, cat)
    table = Table("layer", "kind", "geometry", "attributes", "features")
    for layer in cat:
        table.add_row(
            layer.name, layer.kind, layer.geometry_type or "-", str(len(layer.attributes)), f"{counts[layer.name]:,}"
        )
    console.print(table)


@layer_app.command("create")
def layer_create(
    definition: Annotated[Path | None, typer.Argument(help="JSON file with name, geometry_type, attributes")] = None,
    name: Annotated[str | None, typer.Option(help="Layer name (a-z, 0-9, _)")] = None,
    geometry: Annotated[str | None, typer.Option(help="Point, MultiLineString, MultiPolygon")] = None,
    attr: Annotated[list[str] | None, typer.Option(help="name:type[:value1|value2…], repeatable")] = None,
    title: Annotated[str | None, typer.Option(help="Title shown to people")] = None,
) -> None:
    """Create a custom layer, from a JSON definition or from options."""
    if definition:
        data = json.loads(definition.read_text(encoding="utf-8"))
    elif name:
        data = {
            "name": name,
            "geometry_type": geometry,
            "title": title or None,
            "attributes": [_parse_attr(a) for a in attr or []],
        }
    else:
        raise _fail("give a JSON definition file or --name")
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        layer = custom.create_custom_layer(conn, custom.layer_from_definition(data))
    console.print(
        f"created layer [bold]{layer.name}[/] ({layer.geometry_type or 'table'}, {len(layer.attributes)} attributes)"
    )


def _parse_attr(text: str) -> dict[str, object]:
    name, _, rest = text.partition(":")
    kind, _, values = rest.partition(":")
    out: dict[str, object] = {"name": name, "type": kind or "text"}
    if values:
        out["choices"] = values.split("|")
    return out


@layer_app.command("drop")
def layer_drop(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False) -> None:
    """Drop a custom layer (its history is kept)."""
    if not yes:
        typer.confirm(f"Drop layer {name} and all its features?", abort=True)
    with database() as db, connect(db.url) as conn:
        custom.drop_custom_layer(conn, name)
        conn.commit()
    console.print(f"dropped layer {name}")
