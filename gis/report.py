"""The achievement report of a neighbourhood for a date range, like the progress summaries offices publish.

What is in it (docs/planning.md has the definitions):

* interventions completed in the range (status completed, ``actual_end`` within it), grouped by kind
  with their achieved quantities summed, the distinct features they acted on and the assets installed;
* action-plan tasks that became ``done`` in the range, per domain (read from the history);
* indicator changes from the start of the range to its end, both read from the history (``as of``);
* a map (folium, Leaflet inlined so the file opens offline) and SVG charts in the HTML version.

``achievement`` builds the data (also the JSON version); ``web.report_page.render_report`` turns it into a
printable page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.errors import InvalidInput
from gis import indicators
from layers import interventions, tasks


@dataclass
class Report:
    data: dict[str, Any]  # the JSON report
    geo: dict[str, Any] = field(default_factory=dict)  # map context for the HTML version


def _neighbourhood(conn: psycopg.Connection, code: str) -> dict[str, Any]:
    scope = indicators.neighbourhood_scope(conn, code)  # NotFound for an unknown code
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, code, name, name_latin, city, population, households, office "
            "FROM public.neighbourhoods WHERE id = %s",
            (scope.neighbourhood_id,),
        ).fetchone()


def _completed(conn: psycopg.Connection, nid: int, start: date, end: date) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT i.id, i.title, i.kind, i.unit, i.achieved_quantity, i.planned_quantity, i.planned_cost,
                   i.actual_cost, i.currency, i.contractor, i.agency, i.actual_start, i.actual_end,
                   (SELECT count(*) FROM public.intervention_targets t WHERE t.intervention_id = i.id) AS targets,
                   ST_AsGeoJSON(i.geom, 7)::jsonb AS geometry
              FROM public.interventions i
             WHERE i.neighbourhood_id = %s AND i.status = 'completed' AND i.actual_end BETWEEN %s AND %s
             ORDER BY i.actual_end, i.id
            """,
            (nid, start, end),
        ).fetchall()


def _by_kind(conn: psycopg.Connection, ids: list[int]) -> list[dict[str, Any]]:
    """Completed interventions grouped by kind (and unit): sums, distinct targets, installed assets."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            WITH done AS (SELECT * FROM public.interventions WHERE id = ANY(%(ids)s))
            SELECT d.kind, d.unit, count(*) AS interventions,
                   sum(d.achieved_quantity) AS quantity, sum(d.planned_quantity) AS planned_quantity,
                   sum(d.planned_cost) AS planned_cost, sum(d.actual_cost) AS actual_cost,
                   (SELECT coalesce(jsonb_object_agg(x.layer, x.n), '{}') FROM (
                      SELECT t.layer, count(DISTINCT t.feature_id) AS n
                        FROM public.intervention_targets t JOIN done o ON o.id = t.intervention_id
                       WHERE o.kind = d.kind AND o.unit IS NOT DISTINCT FROM d.unit GROUP BY t.layer) x) AS targets,
                   (SELECT coalesce(jsonb_object_agg(y.kind, y.n), '{}') FROM (
                      SELECT a.kind, count(*) AS n
                        FROM public.assets a JOIN done o ON o.id = a.intervention_id
                       WHERE o.kind = d.kind AND o.unit IS NOT DISTINCT FROM d.unit GROUP BY a.kind) y) AS assets
              FROM done d GROUP BY d.kind, d.unit
            """,
            {"ids": ids},
        ).fetchall()
    order = [c.value for c in interventions.KIND]
    return sorted(rows, key=lambda r: (order.index(r["kind"]) if r["kind"] in order else len(order), r["unit"] or ""))


def _tasks_done(conn: psycopg.Connection, nid: int, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Tasks of the neighbourhood that became done in [since, until), from the history."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT DISTINCT ON (h.feature_id) h.feature_id AS id, h.after ->> 'title' AS title,
                   h.after ->> 'domain' AS domain, h.at AS done_at
              FROM mahalle.history h
             WHERE h.layer = 'tasks' AND h.operation <> 'DELETE' AND h.after ->> 'status' = 'done'
               AND (h.before IS NULL OR h.before ->> 'status' IS DISTINCT FROM 'done')
               AND (h.after ->> 'neighbourhood_id')::bigint = %s AND h.at >= %s AND h.at < %s
             ORDER BY h.feature_id, h.at DESC
            """,
            (nid, since, until),
        ).fetchall()


def _per_domain(done: list[dict[str, Any]]) -> dict[str, int]:
    counts = {d: 0 for d in tasks.LAYER.attribute("domain").values}
    for task in done:
        counts[task["domain"]] = counts.get(task["domain"], 0) + 1
    return counts


def _indicator_changes(conn: psycopg.Connection, code: str, since: datetime, until: datetime) -> dict[str, Any]:
    scope = indicators.neighbourhood_scope(conn, code)
    start = indicators.summary(indicators.compute(conn, scope, since))
    end = indicators.summary(indicators.compute(conn, scope, until))
    change = {k: (round(end[k] - start[k], 2) if end[k] is not None and start[k] is not None else None) for k in start}
    units = {key: unit for key, _, _, unit in indicators.SUMMARY}
    return {"start": start, "end": end, "change": change, "units": units}


def _geo(conn: psycopg.Connection, nid: int) -> dict[str, Any]:
    """Neighbourhood boundary and its streets (simplified) as map context."""
    boundary, streets = conn.execute(
        "SELECT ST_AsGeoJSON(n.geom, 6)::jsonb, "
        "(SELECT ST_AsGeoJSON(ST_Collect(ST_Simplify(s.geom, 0.00001)), 6)::jsonb "
        "   FROM public.streets s WHERE s.neighbourhood_id = n.id) "
        "FROM public.neighbourhoods n WHERE n.id = %s",
        (nid,),
    ).fetchone()
    return {"boundary": boundary, "streets": streets}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def achievement(
    conn: psycopg.Connection, code: str, start: date, end: date, *, generated_on: date | None = None
) -> Report:
    """The report for neighbourhood ``code`` over [start, end] (both days included)."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})", "to")
    hood = _neighbourhood(conn, code)
    since = datetime.combine(start, time.min)  # the start of the first day
    until = datetime.combine(end + timedelta(days=1), time.min)  # the end of the last day
    done = _completed(conn, hood["id"], start, end)
    finished_tasks = _tasks_done(conn, hood["id"], since, until)
    geometries = {d["id"]: d.pop("geometry") for d in done}
    data = {
        "neighbourhood": {k: v for k, v in hood.items() if k != "id"},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated_on": (generated_on or date.today()).isoformat(),
        "achievements": _by_kind(conn, list(geometries)),
        "interventions": done,
        "tasks_completed": {
            "by_domain": _per_domain(finished_tasks),
            "total": len(finished_tasks),
            "tasks": sorted(finished_tasks, key=lambda t: (t["done_at"], t["id"])),
        },
        "indicators": _indicator_changes(conn, code, since, until),
    }
    geo = _geo(conn, hood["id"]) | {
        "interventions": [
            {
                "id": d["id"],
                "title": d["title"],
                "kind": d["kind"],
                "quantity": d["achieved_quantity"],
                "unit": d["unit"],
                "actual_end": d["actual_end"],
                "geometry": geometries[d["id"]],
            }
            for d in done
        ]
    }
    return Report(_jsonable(data), geo)
