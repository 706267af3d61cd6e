"""Plausibility rules per layer: limits that catch a street dragged across the city, a parcel the size of a town,
a feature far from every neighbourhood, or one moved out of its neighbourhood (docs/plausibility.md).

The table and its checks are migration 0014's (``layers/sql/plausibility.sql``): everyone reads the rules; only
administrators of every neighbourhood write them (a trigger refuses others with 42501, for QGIS logins too), and a
trigger refuses a rule that does not fit its layer or a value out of range, in a planner's words. The rules are
enforced by a trigger on every spatial layer, so they hold for every writer.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.errors import NotFound

# Each rule: the unit of its value (None: it takes none) and what it says, for the API, the CLI and the docs.
RULES: dict[str, dict[str, str | None]] = {
    "max_length": {"unit": "m", "description": "A line may be at most this long (the whole feature)."},
    "max_area": {"unit": "m²", "description": "A polygon may cover at most this area."},
    "near_neighbourhoods": {
        "unit": "m",
        "description": "A feature must lie within this distance of some neighbourhood (when there are any).",
    },
    "keep_neighbourhood": {
        "unit": None,
        "description": "A feature in a neighbourhood may not be moved to where it lies in none, unless its "
        "neighbourhood is changed in the same edit.",
    },
}

_SELECT = (
    "SELECT layer, rule, value, enabled, updated_at, updated_by FROM public.plausibility_rules "
    "{where} ORDER BY layer, array_position(%(order)s::text[], rule)"
)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    value = row["value"]
    if value is not None and float(value).is_integer():
        value = int(value)
    return {**row, "value": value, "unit": RULES[row["rule"]]["unit"]}


def list_rules(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [_shape(r) for r in cur.execute(_SELECT.format(where=""), {"order": list(RULES)}).fetchall()]


def get_rule(conn: psycopg.Connection, layer: str, rule: str) -> dict[str, Any]:
    where = "WHERE layer = %(layer)s AND rule = %(rule)s"
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT.format(where=where), {"order": list(RULES), "layer": layer, "rule": rule}).fetchone()
    if row is None:
        raise NotFound(f"There is no plausibility rule {rule!r} for the layer {layer!r}.")
    return _shape(row)


def set_rule(conn: psycopg.Connection, layer: str, rule: str, value: float | None, enabled: bool = True) -> bool:
    """Set ``rule`` of ``layer``; True if the layer had no such rule. Run it inside ``core.db.attributed``: a
    rule that does not fit the layer, or a value out of range, is the database's RuleViolation."""
    return conn.execute(
        "INSERT INTO public.plausibility_rules AS r (layer, rule, value, enabled) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (layer, rule) DO UPDATE SET value = excluded.value, enabled = excluded.enabled "
        "RETURNING (xmax = 0)",
        (layer, rule, value, enabled),
    ).fetchone()[0]


def remove_rule(conn: psycopg.Connection, layer: str, rule: str) -> None:
    """Stop applying ``rule`` to ``layer``; NotFound if it had none."""
    deleted = conn.execute("DELETE FROM public.plausibility_rules WHERE layer = %s AND rule = %s", (layer, rule))
    if deleted.rowcount == 0:
        raise NotFound(f"There is no plausibility rule {rule!r} for the layer {layer!r}.")
