"""Atomic, repeatable bulk load of source rows into a layer.

Rows are streamed into a temporary staging table with COPY, then moved into the layer with one
set-based ``INSERT … ON CONFLICT (source, source_id) DO UPDATE``: the layer's triggers validate each
row, derive its neighbourhood and write its history, and a rejected row rolls the whole load back.
Re-loading the same source updates rows instead of duplicating them, and leaves unchanged rows alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from layers.spec import Layer


class Row(Protocol):
    source_id: str
    attributes: dict[str, Any]
    geometry: Any


@dataclass
class LoadReport:
    layer: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def defaults(layer: Layer) -> dict[str, Any]:
    return {a.name: a.default for a in layer.attributes if a.default is not None}


def load_rows(conn: psycopg.Connection, layer: Layer, rows: Iterable[Row], source: str) -> LoadReport:
    """Load ``rows`` into ``layer`` inside the caller's transaction."""
    staged = stage_rows(conn, layer, rows)
    return upsert_staged(conn, layer, source, staged)


def stage_rows(conn: psycopg.Connection, layer: Layer, rows: Iterable[Row], *, truncate: bool = True) -> int:
    """COPY ``rows`` into the session's staging table (emptied first unless ``truncate`` is False, so a
    large import can stage batch after batch); returns how many rows were staged by this call."""
    base = defaults(layer)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _mahalle_stage (source_id text, attrs jsonb, wkb bytea) ON COMMIT DROP"
    )
    if truncate:
        conn.execute("TRUNCATE _mahalle_stage")
    staged = 0
    with conn.cursor().copy("COPY _mahalle_stage (source_id, attrs, wkb) FROM STDIN") as copy:
        copy.set_types(["text", "jsonb", "bytea"])
        for row in rows:
            wkb = shapely.to_wkb(row.geometry) if row.geometry is not None else None
            copy.write_row((row.source_id, Jsonb({**base, **row.attributes}), wkb))
            staged += 1
    return staged


def upsert_staged(conn: psycopg.Connection, layer: Layer, source: str, staged: int) -> LoadReport:
    """Move the staged rows into the layer: one set-based upsert on (source, source_id)."""
    report = LoadReport(layer.name)
    if not staged:
        return report
    cols = [sql.Identifier(n) for n in layer.attribute_names]
    geom_cols = [sql.Identifier("geom")] if layer.has_geometry else []
    geom_vals = [sql.SQL("ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326)")] if layer.has_geometry else []
    target = sql.SQL(", ").join([*cols, *geom_cols, sql.Identifier("source"), sql.Identifier("source_id")])
    values = sql.SQL(", ").join(
        [*(sql.SQL("r.{}").format(c) for c in cols), *geom_vals, sql.Placeholder(), sql.SQL("s.source_id")]
    )
    changed = sql.SQL(", ").join([*cols, *geom_cols])
    excluded = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in [*cols, *geom_cols])
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in [*cols, *geom_cols])
    query = sql.SQL(
        """
        WITH upserted AS (
        INSERT INTO public.{table} AS t ({target})
        SELECT {values}
          FROM _mahalle_stage s, jsonb_populate_record(NULL::public.{table}, s.attrs) r
        ON CONFLICT (source, source_id) DO UPDATE SET ({changed}) = ROW({excluded})
         WHERE ({current}) IS DISTINCT FROM ({excluded})
        RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FROM upserted
        """
    ).format(
        table=sql.Identifier(layer.name),
        target=target,
        values=values,
        changed=changed,
        excluded=excluded,
        current=current,
    )
    inserted, written = conn.execute(query, (source,)).fetchone()
    report.inserted = inserted
    report.updated = written - inserted
    report.unchanged = staged - written
    return report
