"""Staged rows that break a plausibility rule of their layer (a street kilometres long, a parcel the size of a
town, a point far from every neighbourhood, an update moving a feature out of its neighbourhood): rejected one
by one, with the words the database's trigger would use (``mahalle.plausibility_problem``, migration 0014), so
an import reports each such row instead of the trigger refusing the whole load at its first one.

Set-based: one statement over the staging table, run only when the layer has a rule switched on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from importers.load import STAGE
from layers.spec import Layer

if TYPE_CHECKING:
    from importers.run import ImportReport

# An update keeps the feature's neighbourhood (importers/load.py), so the one it lies in now is `was`; a row whose
# geometry the update leaves as it is, is not checked (as the trigger does not).
_REJECT = """
DELETE FROM {stage} s
 USING (SELECT o.ctid AS row, mahalle.plausibility_problem(%(layer)s, o._geom, {was}) AS problem
          FROM {stage} o {existing}
         WHERE o._geom IS NOT NULL {changed}) checked
 WHERE s.ctid = checked.row AND checked.problem IS NOT NULL
RETURNING s._sid, checked.problem->>'message'
"""


def reject_implausible(conn: psycopg.Connection, layer: Layer, source: str, report: ImportReport) -> int:
    """Take the staged rows of ``layer`` that break one of its plausibility rules out of the load; how many."""
    if not layer.has_geometry or not _has_rules(conn, layer.name):
        return 0
    # Every layer has (source, source_id): a row the layer has is an update (checked only if its geometry changes,
    # as the trigger does), the others are new features.
    existing = sql.SQL("LEFT JOIN public.{} t ON t.source = %(source)s AND t.source_id = o._sid").format(
        sql.Identifier(layer.name)
    )
    was = sql.SQL("t.neighbourhood_id" if layer.neighbourhood_scoped else "NULL::bigint")
    changed = sql.SQL("AND t.geom IS DISTINCT FROM o._geom")
    query = sql.SQL(_REJECT).format(stage=sql.SQL(STAGE), was=was, existing=existing, changed=changed)
    rejected = conn.execute(query, {"layer": layer.name, "source": source}).fetchall()
    for source_id, message in rejected:
        report.reject(layer.name, None, source_id, message)
    return len(rejected)


def _has_rules(conn: psycopg.Connection, layer: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM public.plausibility_rules WHERE layer = %s AND enabled)", (layer,)
    ).fetchone()[0]
