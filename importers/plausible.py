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
               LATERAL (SELECT CASE WHEN r.rule = 'max_area' AND {far_below} THEN NULL
                                    ELSE mahalle.plausibility_verdict(%(layer)s, r.rule, r.value, o._geom, {was},
                                                                      {inside}) END) v(problem)
         WHERE o._geom IS NOT NULL {changed} AND v.problem IS NOT NULL
         ORDER BY o.ctid, r.rule) checked
 WHERE s.ctid = checked.row
RETURNING s._sid, checked.problem->>'message'
"""


# A geometry whose bounding box is too small to hold the largest area allowed, checked without measuring it (the
# geodesic area, about 5 µs a row, is measured for the others). An upper bound of the box's area: on a sphere of the
# equatorial radius, R² · Δλ · (sin φ₂ − sin φ₁), which the ellipsoid exceeds by at most 0.7 % (up to 85°); twice it
# also covers geodesic edges bulging out of a box of at most 1° a side, and overlapping parts (counted twice) cannot
# occur in the valid geometries a load keeps. Only for such boxes; the others are measured.
_FAR_BELOW = """(ST_XMax(o._geom) - ST_XMin(o._geom) <= 1 AND ST_YMax(o._geom) - ST_YMin(o._geom) <= 1
      AND ST_YMin(o._geom) >= -85 AND ST_YMax(o._geom) <= 85
      AND 2 * 6378137.0 ^ 2 * radians(ST_XMax(o._geom) - ST_XMin(o._geom))
            * (sin(radians(ST_YMax(o._geom))) - sin(radians(ST_YMin(o._geom)))) < r.value)"""


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
        far_below=sql.SQL(_FAR_BELOW),
    )
    rejected = conn.execute(query, {"layer": layer.name}).fetchall()
    for source_id, message in rejected:
        report.reject(layer.name, None, source_id, message)
    return len(rejected)


def _has_rules(conn: psycopg.Connection, layer: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM public.plausibility_rules WHERE layer = %s AND enabled)", (layer,)
    ).fetchone()[0]
