"""Value lists the office can change: intervention kinds, service categories, kinds of output …

The catalogue declares each list with its entries (``layers/*.py``); the database keeps them in
``mahalle.vocabulary`` (``layers/sql/vocabulary.sql``), where administrators of every neighbourhood add entries,
translate them and retire them at run time. The layers' validation asks the database's list, so a value added here
is accepted everywhere (API, imports, QGIS) and a retired one is refused for new values while it stays on the rows
that have it. ``apply`` gives a loaded catalogue the lists as the database has them, so forms, exports, the OGC
API's schemas and the importers' value mapping all see the same entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.errors import InvalidInput, NotFound
from layers.spec import Attribute, Choice, Layer

LIST_TYPES = ("choice", "choices")
STEP = 10  # room between positions, so an entry can later be placed between two


def seed(conn: psycopg.Connection, layers: Iterable[Layer]) -> None:
    """The catalogue's own entries (added if missing; the office's labels and retirements are kept)."""
    rows = [
        (layer.name, a.name, c.value, Jsonb(c.label), c.color, STEP * (i + 1))
        for layer in layers
        for a in layer.attributes
        if a.type in LIST_TYPES
        for i, c in enumerate(a.choices)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mahalle.vocabulary (layer, attribute, value, label, color, position, origin) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'catalogue') ON CONFLICT DO NOTHING",
            rows,
        )


def entries(conn: psycopg.Connection, layer: str | None = None, attribute: str | None = None) -> list[dict[str, Any]]:
    """Entries of every list (or of one), in each list's order."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT layer, attribute, value, label, color, position, retired, origin, updated_at, updated_by "
            "FROM mahalle.vocabulary WHERE (%(l)s::text IS NULL OR layer = %(l)s) "
            "AND (%(a)s::text IS NULL OR attribute = %(a)s) ORDER BY layer, attribute, position, value",
            {"l": layer, "a": attribute},
        ).fetchall()


def apply(layers: dict[str, Layer], conn: psycopg.Connection) -> None:
    """Replace the value lists of ``layers`` (core layers, by name) with the database's, in place."""
    if conn.execute("SELECT to_regclass('mahalle.vocabulary')").fetchone()[0] is None:
        return  # a database before migration 0013: the catalogue's lists as declared
    lists: dict[tuple[str, str], list[Choice]] = {}
    for row in entries(conn):
        lists.setdefault((row["layer"], row["attribute"]), []).append(
            Choice(row["value"], row["label"], row["color"], row["retired"])
        )
    for name, layer in list(layers.items()):
        if layer.kind == "custom" or not any((name, a.name) in lists for a in layer.attributes):
            continue
        attributes = tuple(_with_list(a, lists.get((name, a.name))) for a in layer.attributes)
        layers[name] = replace(layer, attributes=attributes)


def _with_list(attribute: Attribute, choices: list[Choice] | None) -> Attribute:
    if attribute.type not in LIST_TYPES or not choices:
        return attribute
    declared = {c.value: c for c in attribute.choices}
    merged = tuple(  # a language the office left untranslated keeps the catalogue's text
        replace(c, label={**(declared[c.value].label if c.value in declared else {}), **c.label}) for c in choices
    )
    return replace(attribute, choices=merged)


def value_list(layer: Layer, attribute: str) -> Attribute:
    """The value-list attribute ``layer.attribute``, or NotFound naming what there is."""
    lists = [a for a in layer.attributes if a.type in LIST_TYPES]
    for a in lists:
        if a.name == attribute:
            return a
    names = ", ".join(a.name for a in lists) or "none"
    raise NotFound(f"{layer.name} has no value list named {attribute!r} (its value lists: {names})")


def put(
    conn: psycopg.Connection,
    layer: str,
    attribute: str,
    value: str,
    *,
    label: dict[str, str] | None = None,
    color: str | None = None,
    retired: bool | None = None,
) -> tuple[dict[str, Any], bool]:
    """Add the entry, or change its labels (merged by language), colour or retirement. Returns (entry, created)."""
    existing = conn.execute(
        "SELECT 1 FROM mahalle.vocabulary WHERE layer = %s AND attribute = %s AND value = %s FOR UPDATE",
        (layer, attribute, value),
    ).fetchone()
    if existing is None:
        if not label:
            raise InvalidInput(f"a new entry needs a label, at least in English (label.en) for {value!r}", "label")
        conn.execute(
            "INSERT INTO mahalle.vocabulary (layer, attribute, value, label, color, retired, position) "
            "SELECT %(l)s, %(a)s, %(v)s, %(label)s, %(color)s, coalesce(%(retired)s, false), "
            "coalesce(max(position), 0) + %(step)s FROM mahalle.vocabulary WHERE layer = %(l)s AND attribute = %(a)s",
            {"l": layer, "a": attribute, "v": value, "label": Jsonb(label), "color": color, "retired": retired,
             "step": STEP},
        )  # fmt: skip
    else:
        conn.execute(
            "UPDATE mahalle.vocabulary SET label = label || coalesce(%(label)s, '{}'), "
            "color = coalesce(%(color)s, color), retired = coalesce(%(retired)s, retired) "
            "WHERE layer = %(l)s AND attribute = %(a)s AND value = %(v)s",
            {"l": layer, "a": attribute, "v": value, "label": Jsonb(label or {}), "color": color, "retired": retired},
        )
    (entry,) = [e for e in entries(conn, layer, attribute) if e["value"] == value]
    return entry, existing is None


def remove(conn: psycopg.Connection, layer: str, attribute: str, value: str) -> None:
    """Remove an entry no row uses (the database refuses otherwise: retire it instead)."""
    deleted = conn.execute(
        "DELETE FROM mahalle.vocabulary WHERE layer = %s AND attribute = %s AND value = %s RETURNING 1",
        (layer, attribute, value),
    ).fetchone()
    if deleted is None:
        raise NotFound(f"{layer}.{attribute} has no entry {value!r}")


def labels(conn: psycopg.Connection) -> dict[tuple[str, str], dict[str, dict[str, str]]]:
    """{(layer, attribute): {value: label}} of every list as the office keeps it (reports word values with it)."""
    out: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for row in entries(conn):
        out.setdefault((row["layer"], row["attribute"]), {})[row["value"]] = row["label"]
    return out
