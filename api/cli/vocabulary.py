"""``mahalle vocabulary …``: the value lists of the catalogue's layers — add, translate, retire, remove entries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.base import _fail, app, console, database
from core.db import attributed, connect
from core.i18n import LANGUAGES
from core.settings import Settings, cli_actor
from layers import vocabulary
from layers.catalogue import UnknownLayer, load_catalogue

vocabulary_app = typer.Typer(help="Value lists: intervention kinds, service categories, kinds of output …",
                             no_args_is_help=True)  # fmt: skip
app.add_typer(vocabulary_app, name="vocabulary")

ListName = Annotated[str, typer.Argument(help="LAYER.ATTRIBUTE, e.g. interventions.kind")]
Value = Annotated[str, typer.Argument(help="The stored value: lower-case letters, digits and _, e.g. traffic_signs")]


def _split(name: str) -> tuple[str, str]:
    layer, dot, attribute = name.partition(".")
    if not dot or not layer or not attribute:
        raise _fail(f"{name!r}: name the list as LAYER.ATTRIBUTE, e.g. interventions.kind")
    return layer, attribute


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        lang, eq, text = pair.partition("=")
        if not eq or lang not in LANGUAGES or not text.strip():
            raise _fail(f"--label {pair!r}: write LANG=TEXT with LANG one of {', '.join(LANGUAGES)}")
        out[lang] = text.strip()
    return out


def _check(conn, layer: str, attribute: str) -> None:  # a psycopg connection
    """NotFound (the command fails with its message) unless LAYER.ATTRIBUTE is a value list of the catalogue."""
    try:
        vocabulary.value_list(load_catalogue(conn)[layer], attribute)
    except UnknownLayer as exc:
        raise _fail(str(exc)) from None


@vocabulary_app.command("list")
def vocabulary_list(
    name: Annotated[str | None, typer.Argument(help="LAYER.ATTRIBUTE; every list when omitted")] = None,
) -> None:
    """Show the value lists (or one) with their entries, labels and whether they are retired."""
    layer, attribute = _split(name) if name else (None, None)
    with database() as db, connect(db.url) as conn:
        if layer:
            _check(conn, layer, attribute or "")
        rows = vocabulary.entries(conn, layer, attribute)
    table = Table("list", "value", *LANGUAGES, "state")
    for r in rows:
        state = "retired" if r["retired"] else ("office" if r["origin"] == "office" else "")
        table.add_row(f"{r['layer']}.{r['attribute']}", r["value"], *(r["label"].get(g, "") for g in LANGUAGES), state)
    console.print(table)


@vocabulary_app.command("set")
def vocabulary_set(
    name: ListName,
    value: Value,
    label: Annotated[list[str] | None, typer.Option(help="LANG=TEXT, repeatable: --label en='Traffic signs'")] = None,
    color: Annotated[str | None, typer.Option(help="Map colour, #rrggbb")] = None,
    retire: Annotated[bool | None, typer.Option("--retire/--restore", help="Retire it, or bring it back")] = None,
) -> None:
    """Add an entry, or translate, recolour, retire or restore one."""
    layer, attribute = _split(name)
    with database() as db, connect(db.url) as conn:
        _check(conn, layer, attribute)
        with attributed(conn, cli_actor(Settings())):
            entry, created = vocabulary.put(conn, layer, attribute, value, label=_labels(label or []) or None,
                                            color=color, retired=retire)  # fmt: skip
    what = "added" if created else "retired" if entry["retired"] else "updated"
    console.print(f"{what} {layer}.{attribute} [bold]{value}[/] ({entry['label'].get('en', '')})")


@vocabulary_app.command("remove")
def vocabulary_remove(name: ListName, value: Value) -> None:
    """Remove an entry no feature uses (an entry in use can only be retired)."""
    layer, attribute = _split(name)
    with database() as db, connect(db.url) as conn:
        _check(conn, layer, attribute)
        with attributed(conn, cli_actor(Settings())):
            vocabulary.remove(conn, layer, attribute, value)
    console.print(f"removed {layer}.{attribute} {value}")
