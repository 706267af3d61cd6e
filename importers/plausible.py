"""Staged rows that break a plausibility rule of their layer (a street kilometres long, a parcel the size of a
town, a point far from every neighbourhood, an update moving a feature out of its neighbourhood): rejected one
by one, with the words the database's trigger would use (``mahalle.plausibility_verdict``, migrations 0014 and
0016), so an import reports each such row instead of the trigger refusing the whole load at its first one.

Set-based: one statement over the staging table (the rule functions are inlined), run only when the layer has a
rule switched on; the rows that stay are written as a checked load, which the trigger does not check again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from importers.load import STAGE
from layers.spec import Layer

if TYPE_CHECKING:
    from importers.run import ImportReport

# Every enabled rule of the layer applied to every staged row whose geometry is new or changed (as the trigger checks
# them), the first broken one in the rules' order kept. An update keeps the feature's neighbourhood (importers/load.py),
# so the one it lies in now is `was`; whether a new geometry meets a neighbourhood is known from load.locate_staged.
_REJECT = """
DELETE FROM {stage} s
 USING (SELECT DISTINCT ON (o.ctid) o.ctid AS row, v.problem
          FROM {stage} o {existing}
               CROSS JOIN (SELECT p.rule, p.value FROM public.plausibility_rules p
                            WHERE p.layer = %(layer)s AND p.enabled) r,
               LATERAL (SELECT mahalle.plausibility_verdict(%(layer)s, r.rule, r.value, o._geom, {was},
                                                            {inside})) v(problem)
         WHERE o._geom IS NOT NULL {changed} AND v.problem IS NOT NULL
         ORDER BY o.ctid, r.rule) checked
 WHERE s.ctid = checked.row
RETURNING s._sid, checked.problem->>'message'
"""


def reject_implausible(conn: psycopg.Connection, layer: Layer, report: ImportReport) -> int:
    """Take the staged rows of ``layer`` that break one of its plausibility rules out of the load; how many."""
    if not layer.has_geometry or not _has_rules(conn, layer.name):
        return 0
    # A row matched to a feature of the layer (load.match_staged) is an update, checked only if its geometry changes
    # (as the trigger does); the others are new features.
    existing = sql.SQL("LEFT JOIN public.{} t ON t.id = o._fid").format(sql.Identifier(layer.name))
    scoped = layer.neighbourhood_scoped
    query = sql.SQL(_REJECT).format(
        stage=sql.SQL(STAGE),
        existing=existing,
        was=sql.SQL("t.neighbourhood_id" if scoped else "NULL::bigint"),
        inside=sql.SQL("coalesce(o._inside, false)" if scoped else "NULL::boolean"),
        changed=sql.SQL("AND t.geom IS DISTINCT FROM o._geom"),
    )
    rejected = conn.execute(query, {"layer": layer.name}).fetchall()
    for source_id, message in rejected:
        report.reject(layer.name, None, source_id, message)
    return len(rejected)


def _has_rules(conn: psycopg.Connection, layer: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM public.plausibility_rules WHERE layer = %s AND enabled)", (layer,)
    ).fetchone()[0]
