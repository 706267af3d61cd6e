"""``mahalle group …``: named groups of neighbourhoods (a municipality, a programme's cities) that ``mahalle report``
and ``mahalle indicators`` roll up over with ``--group``. Only administrators change them (the database says so)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.base import _fail, app, console, database
from core.db import attributed, connect
from core.settings import Settings, cli_actor
from layers import groups

group_app = typer.Typer(help="Named groups of neighbourhoods that reports roll up over.", no_args_is_help=True)
app.add_typer(group_app, name="group")


class Kind(StrEnum):
    municipality = "municipality"
    programme = "programme"
    other = "other"


@group_app.command("list")
def list_groups() -> None:
    """Every group with its neighbourhoods."""
    with database() as db, connect(db.url) as conn:
        found = groups.list_groups(conn)
    table = Table("code", "name", "kind", "neighbourhoods", title="Groups of neighbourhoods")
    for g in found:
        table.add_row(escape(g["code"]), escape(g["name"]), g["kind"], escape(", ".join(g["neighbourhoods"])))
    console.print(table)


@group_app.command("set")
def set_group(
    code: Annotated[str, typer.Argument(help="Code of the group, e.g. HELSINKI")],
    name: Annotated[str, typer.Option(help="Its name, e.g. 'City of Helsinki'")],
    neighbourhood: Annotated[str, typer.Option(help="Its neighbourhoods' codes, separated by commas")],
    kind: Annotated[Kind, typer.Option(help="What the group is")] = Kind.programme,
) -> None:
    """Create a group, or replace its name, kind and neighbourhoods."""
    members = [c.strip() for c in neighbourhood.split(",") if c.strip()]
    if not members:
        raise _fail("--neighbourhood: name at least one neighbourhood code")
    with database() as db, connect(db.url) as conn:
        with attributed(conn, cli_actor(Settings())):
            created = groups.put_group(conn, code, name, kind.value, members)
        group = groups.get_group(conn, code)
    verb = "created" if created else "replaced"
    console.print(f"{verb} group {escape(code)}: {escape(', '.join(group['neighbourhoods']))}")


@group_app.command("remove")
def remove_group(code: Annotated[str, typer.Argument(help="Code of the group")]) -> None:
    """Remove a group (its neighbourhoods stay)."""
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        groups.delete_group(conn, code)
    console.print(f"removed group {escape(code)}")
