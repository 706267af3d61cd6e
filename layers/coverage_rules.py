"""Coverage distances per service category: how far a home may be from a park, a school, a clinic … and still count
as served (the coverage indicators, ``gis/coverage.py``).

The table is migration 0010's (``layers/sql/groups_coverage.sql``): everyone reads it; only administrators of every
neighbourhood write it (a trigger refuses others with 42501, for QGIS logins too), and a trigger refuses a category
that is neither ``park`` nor a service point category, or a distance outside (0, 20 000] m, in a planner's words.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.errors import NotFound

_SELECT = (
    "SELECT category, distance_m, updated_at, updated_by FROM public.coverage_rules "
    "{where} ORDER BY array_position(mahalle.coverage_categories(), category), category"
)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    distance = row["distance_m"]
    return {**row, "distance_m": int(distance) if float(distance).is_integer() else distance}


def categories(conn: psycopg.Connection) -> list[str]:
    """The categories a coverage distance can be set for: ``park`` and every service point category."""
    return conn.execute("SELECT mahalle.coverage_categories()").fetchone()[0]


def list_rules(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [_shape(r) for r in cur.execute(_SELECT.format(where="")).fetchall()]


def get_rule(conn: psycopg.Connection, category: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT.format(where="WHERE category = %s"), (category,)).fetchone()
    if row is None:
        raise NotFound(f"There is no coverage distance for {category!r}.")
    return _shape(row)


def set_rule(conn: psycopg.Connection, category: str, distance_m: float) -> bool:
    """Set the distance of ``category`` (in metres); True if the category had none. Run it inside
    ``core.db.attributed``: an unknown category or a distance out of range is the database's RuleViolation."""
    return conn.execute(
        "INSERT INTO public.coverage_rules AS r (category, distance_m) VALUES (%s, %s) "
        "ON CONFLICT (category) DO UPDATE SET distance_m = excluded.distance_m RETURNING (xmax = 0)",
        (category, distance_m),
    ).fetchone()[0]


def remove_rule(conn: psycopg.Connection, category: str) -> None:
    """Stop measuring coverage for ``category``; NotFound if it had no distance."""
    if conn.execute("DELETE FROM public.coverage_rules WHERE category = %s", (category,)).rowcount == 0:
        raise NotFound(f"There is no coverage distance for {category!r}.")
