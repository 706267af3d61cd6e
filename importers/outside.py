"""Staged rows that lie in no neighbourhood: counted, and kept unassigned, given the nearest neighbourhood
within a distance, or rejected — as the person importing chose. Set-based, in PostGIS, on the staging table
after ``load.locate_staged`` found every row's neighbourhood.

A row with no neighbourhood shows in no neighbourhood's views, indicators or exports, so it is never left
so in silence: the report counts it and says where it went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from layers.spec import Layer

if TYPE_CHECKING:
    from importers.run import ImportReport

_NEAREST = """
UPDATE _mahalle_stage s
   SET _nid = (SELECT n.id FROM public.neighbourhoods n
                WHERE ST_DWithin(n.geom::geography, s._geom::geography, %(metres)s)
                ORDER BY ST_Distance(n.geom::geography, s._geom::geography), n.id
                LIMIT 1)
 WHERE s._geom IS NOT NULL AND s._nid IS NULL
"""
_COUNT = "SELECT count(*) FROM _mahalle_stage WHERE _geom IS NOT NULL AND _nid IS NULL"
_REJECT = "DELETE FROM _mahalle_stage WHERE _geom IS NOT NULL AND _nid IS NULL RETURNING _sid"


def settle(conn: psycopg.Connection, layer: Layer, policy: str, metres: float | None, report: ImportReport) -> int:
    """Apply ``policy`` to the staged rows of ``layer`` in no neighbourhood; returns how many left the load."""
    if not (layer.has_geometry and layer.neighbourhood_scoped):
        return 0
    found = conn.execute(_COUNT).fetchone()[0]
    counts = report.counts(layer.name)
    counts.outside += found
    if not found:
        return 0
    if policy == "nearest":
        conn.execute(_NEAREST, {"metres": metres})
        counts.assigned += found - conn.execute(_COUNT).fetchone()[0]
        return 0
    if policy == "reject":
        for (source_id,) in conn.execute(_REJECT).fetchall():
            report.reject(layer.name, None, source_id, "it lies outside every neighbourhood")
        return found
    return 0


def warn_unassigned(conn: psycopg.Connection, layer: Layer, policy: str, metres: float | None,
                    report: ImportReport) -> None:  # fmt: skip
    """Say how many of the rows still to load have no neighbourhood (after every check that may reject rows)."""
    if not (layer.has_geometry and layer.neighbourhood_scoped):
        return
    left = conn.execute(_COUNT).fetchone()[0]
    if not left:
        return
    if policy == "nearest":
        report.warnings.append(
            f"{layer.name}: {left:,} row(s) lie more than {metres:,.0f} m from every neighbourhood; "
            "they are imported with no neighbourhood."
        )
        return
    report.warnings.append(
        f"{layer.name}: {left:,} row(s) lie outside every neighbourhood; they are imported with no neighbourhood "
        "and show in no neighbourhood's views, indicators or exports (choose to give them the nearest one, "
        "or to reject them)."
    )
