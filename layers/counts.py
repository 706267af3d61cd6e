"""How many rows each layer holds (cheap: one aggregate per table)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from layers.catalogue import Catalogue


def feature_counts(conn: psycopg.Connection, catalogue: Catalogue) -> dict[str, int]:
    parts = [
        sql.SQL("SELECT {}, count(*) FROM public.{}").format(sql.Literal(layer.name), sql.Identifier(layer.name))
        for layer in catalogue
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {name: n for name, n in rows}
