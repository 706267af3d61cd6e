"""Needs matched to the services that answer them, for a scope of neighbourhoods and a period.

Per category of the shared list (``layers/services.py``): the needs recorded (for each area and category the
latest record up to the end of the period, so a survey repeated in spring and autumn is not counted twice; an
area is the polygon drawn, or the neighbourhood when none was), the open service points of the scope offering that
category with their weekly capacity, and the referrals made in the period for it with how many were followed up.
Aggregate counts only; read as the user may read (row-level security).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from layers import services

QUERY = """
WITH latest AS (
  SELECT DISTINCT ON (n.category, n.unit, a.area) n.category, n.unit, n.count
    FROM public.needs n, LATERAL (SELECT coalesce(encode(ST_AsEWKB(n.geom), 'hex'), n.neighbourhood_id::text)) a(area)
   WHERE n.neighbourhood_id = ANY(%(nids)s) AND n.date <= %(end)s
   ORDER BY n.category, n.unit, a.area, n.date DESC, n.id DESC
), needed AS (
  SELECT category, sum(count) FILTER (WHERE unit = 'households') AS households,
         sum(count) FILTER (WHERE unit = 'people') AS people
    FROM latest GROUP BY category
), offered AS (
  SELECT o.category, count(*) AS services, sum(p.capacity) AS capacity
    FROM public.service_points p, unnest(p.offers) o(category)
   WHERE p.neighbourhood_id = ANY(%(nids)s) AND coalesce(p.status, 'open') = 'open'
   GROUP BY o.category
), referred AS (
  SELECT r.need AS category, sum(r.people) AS referred, sum(r.followed_up) AS followed_up
    FROM public.referrals r
   WHERE r.neighbourhood_id = ANY(%(nids)s) AND r.date BETWEEN %(start)s AND %(end)s
   GROUP BY r.need
)
SELECT c.category, d.households, d.people, coalesce(o.services, 0) AS services, o.capacity,
       coalesce(r.referred, 0) AS referred, r.followed_up
  FROM (SELECT category FROM needed UNION SELECT category FROM offered UNION SELECT category FROM referred) c
  LEFT JOIN needed d USING (category) LEFT JOIN offered o USING (category) LEFT JOIN referred r USING (category)
"""


def needs_and_services(conn: psycopg.Connection, nids: list[int], start: date, end: date) -> list[dict[str, Any]]:
    """One row per category with a need, a service offering it or a referral for it, in the list's order."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(QUERY, {"nids": nids, "start": start, "end": end}).fetchall()
    order = [c.value for c in services.SERVICE]
    for row in rows:  # a need no open service of the scope offers is what the office should see first
        row["unserved"] = bool(row["households"] or row["people"]) and row["services"] == 0
    return sorted(rows, key=lambda r: (not r["unserved"], order.index(r["category"]) if r["category"] in order
                                       else len(order), r["category"]))  # fmt: skip
