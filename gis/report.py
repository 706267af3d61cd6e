"""The achievement report of a neighbourhood for a date range, like the progress summaries offices publish.

What is in it (docs/planning.md has the definitions):

* interventions completed in the range (status completed, ``actual_end`` within it), grouped by kind
  with their achieved quantities summed, the distinct features they acted on and the assets installed;
* action-plan tasks that became ``done`` in the range, per domain (read from the history);
* counted outcomes (``outputs``) dated in the range, per domain of their task and kind, with their breakdown
  by sex and age band; the targets of the scope's tasks, planned vs achieved by the end of the range;
* indicator changes from the start of the range to its end, both read from the history (``as of``); a range
  that starts before the first recorded data compares from the end of that first day (``data_start``);
* needs matched to services: per category, the needs recorded, the open services offering it and their capacity,
  the referrals made for it (``gis.needs``);
* a map (folium, Leaflet inlined so the file opens offline) and SVG charts in the HTML version.

The scope is one neighbourhood, several (a roll-up: every figure summed over them, percentages recomputed
from the summed parts), or a named group of neighbourhoods (``layers.groups``).

``achievement`` builds the data (also the JSON version); ``web.report_page.render_report`` turns it into a
printable page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import jdatetime
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.errors import InvalidInput
from gis import indicators, needs
from layers import interventions, outputs, tasks, vocabulary

CALENDARS = ("gregorian", "jalali")
LAST_DAY = date(9999, 12, 30)  # the last day whose end a datetime can hold
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Report:
    data: dict[str, Any]  # the JSON report
    geo: dict[str, Any] = field(default_factory=dict)  # map context for the HTML version
    labels: dict[tuple[str, str], dict[str, dict[str, str]]] = field(default_factory=dict)  # the office's lists


def parse_day(text: str, calendar: str, name: str) -> date:
    """A day written YYYY-MM-DD in ``calendar`` (Jalali: 1405-01-01 is 21 March 2026), as a Gregorian date;
    InvalidInput naming the parameter ``name`` otherwise."""
    if calendar not in CALENDARS:
        raise InvalidInput(f"calendar must be one of {', '.join(CALENDARS)}, not {calendar!r}", "calendar")
    if not _DAY.match(text or ""):
        raise InvalidInput(f"{name}: {text!r} is not a date; write it as YYYY-MM-DD", name)
    year, month, day = (int(x) for x in text.split("-"))
    try:
        found = jdatetime.date(year, month, day).togregorian() if calendar == "jalali" else date(year, month, day)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{name}: {text} is not a day of the {calendar} calendar ({exc})", name) from None
    if not date(1, 1, 1) < found <= LAST_DAY:
        raise InvalidInput(f"{name}: {text} is out of range", name)
    return found


_HOOD = "SELECT id, code, name, name_latin, city, population, households, office FROM public.neighbourhoods"


def _neighbourhoods(conn: psycopg.Connection, scope: indicators.Scope) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_HOOD + " WHERE id = ANY(%s)", (list(scope.neighbourhood_ids),)).fetchall()
    return sorted(rows, key=lambda r: scope.neighbourhood_ids.index(r["id"]))


def _summed(scope: indicators.Scope, hoods: list[dict[str, Any]]) -> dict[str, Any]:
    """What the report's heading says of a roll-up: the group (or the codes), populations and households summed
    (unknown if any is unknown), the cities and offices each once."""

    def total(key: str) -> int | None:
        values = [h[key] for h in hoods]
        return None if any(v is None for v in values) else sum(values)

    def each_once(key: str) -> str | None:
        return ", ".join(dict.fromkeys(h[key] for h in hoods if h[key])) or None

    return {"code": scope.code, "name": scope.name, "name_latin": None, "city": each_once("city"),
            "population": total("population"), "households": total("households"),
            "office": each_once("office")}  # fmt: skip


def _completed(conn: psycopg.Connection, nids: list[int], start: date, end: date) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT i.id, i.title, i.kind, i.unit, i.achieved_quantity, i.planned_quantity, i.planned_cost,
                   i.actual_cost, i.currency, i.contractor, i.agency, i.actual_start, i.actual_end,
                   (SELECT count(*) FROM public.intervention_targets t WHERE t.intervention_id = i.id) AS targets,
                   ST_AsGeoJSON(i.geom, 7)::jsonb AS geometry
              FROM public.interventions i
             WHERE i.neighbourhood_id = ANY(%s) AND i.status = 'completed' AND i.actual_end BETWEEN %s AND %s
             ORDER BY i.actual_end, i.id
            """,
            (nids, start, end),
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


def _tasks_done(conn: psycopg.Connection, nids: list[int], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Tasks of the neighbourhoods that became done in [since, until), from the history."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT DISTINCT ON (h.feature_id) h.feature_id AS id, h.after ->> 'title' AS title,
                   h.after ->> 'domain' AS domain, h.at AS done_at
              FROM mahalle.history h
             WHERE h.layer = 'tasks' AND h.operation <> 'DELETE' AND h.after ->> 'status' = 'done'
               AND (h.before IS NULL OR h.before ->> 'status' IS DISTINCT FROM 'done')
               AND (h.after ->> 'neighbourhood_id')::bigint = ANY(%s) AND h.at >= %s AND h.at < %s
             ORDER BY h.feature_id, h.at DESC
            """,
            (nids, since, until),
        ).fetchall()


def _per_domain(done: list[dict[str, Any]]) -> dict[str, int]:
    counts = {d: 0 for d in tasks.LAYER.attribute("domain").values}
    for task in done:
        counts[task["domain"]] = counts.get(task["domain"], 0) + 1
    return counts


def _outcomes(conn: psycopg.Connection, nids: list[int], start: date, end: date) -> list[dict[str, Any]]:
    """Outputs dated in [start, end] of the scope's tasks, per task domain, kind and unit, breakdowns summed."""
    breakdown = sql.SQL(", ").join(
        sql.SQL("sum(o.{c}) AS {c}").format(c=sql.Identifier(c)) for c in (*outputs.SEX, *outputs.AGE_BANDS)
    )
    query = sql.SQL(
        "SELECT t.domain, o.kind, o.unit, count(*) AS records, count(DISTINCT o.task_id) AS tasks, "
        "sum(o.quantity) AS quantity, {breakdown} "
        "FROM public.outputs o JOIN public.tasks t ON t.id = o.task_id "
        "WHERE t.neighbourhood_id = ANY(%s) AND o.date BETWEEN %s AND %s GROUP BY t.domain, o.kind, o.unit"
    ).format(breakdown=breakdown)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (nids, start, end)).fetchall()
    return sorted(rows, key=_domain_kind_order)


def _targets(conn: psycopg.Connection, nids: list[int], start: date, end: date) -> list[dict[str, Any]]:
    """The targets of the scope's tasks per domain, kind and unit: planned, achieved by the end of the period
    (every output of the task and kind dated up to ``end``) and of that in the period."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            SELECT t.domain, g.kind, g.unit, count(*) AS tasks, sum(g.target) AS planned,
                   sum(a.achieved) AS achieved, sum(a.in_period) AS achieved_in_period
              FROM public.task_targets g JOIN public.tasks t ON t.id = g.task_id
              CROSS JOIN LATERAL (
                SELECT coalesce(sum(o.quantity), 0) AS achieved,
                       coalesce(sum(o.quantity) FILTER (WHERE o.date >= %(start)s), 0) AS in_period
                  FROM public.outputs o WHERE o.task_id = g.task_id AND o.kind = g.kind AND o.date <= %(end)s) a
             WHERE t.neighbourhood_id = ANY(%(nids)s)
             GROUP BY t.domain, g.kind, g.unit
            """,
            {"nids": nids, "start": start, "end": end},
        ).fetchall()
    for row in rows:
        row["achieved_pct"] = round(100 * row["achieved"] / row["planned"], 1) if row["planned"] else None
    return sorted(rows, key=_domain_kind_order)


def _domain_kind_order(row: dict[str, Any]) -> tuple[int, int, str, str]:
    domains = [c.value for c in tasks.DOMAIN]
    kinds = [c.value for c in outputs.KIND]

    def at(values: list[str], value: str) -> int:
        return values.index(value) if value in values else len(values)

    return at(domains, row["domain"]), at(kinds, row["kind"]), row["kind"], row["unit"] or ""


def _per_domain_outcomes(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Quantities of outputs per domain (every kind added up), for the chart."""
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["domain"]] = totals.get(row["domain"], 0) + row["quantity"]
    return totals


def data_start(conn: psycopg.Connection, nids: list[int]) -> datetime | None:
    """When the first change to the indicators' layers in the neighbourhoods was recorded (None: never)."""
    # per layer, the history's (layer, at) index read in time order up to the first record of the scope
    return conn.execute(
        "SELECT min(f.at) FROM unnest(%s::text[]) l(layer) CROSS JOIN LATERAL ("
        "  SELECT h.at FROM mahalle.history h WHERE h.layer = l.layer "
        "     AND (coalesce(h.after, h.before) ->> 'neighbourhood_id')::bigint = ANY(%s) ORDER BY h.at LIMIT 1) f",
        (list(indicators.LAYERS), nids),
    ).fetchone()[0]


def _indicator_changes(
    conn: psycopg.Connection, scope: indicators.Scope, since: datetime, until: datetime
) -> dict[str, Any]:
    start = indicators.summary(indicators.compute(conn, scope, since))
    end = indicators.summary(indicators.compute(conn, scope, until))
    change = {k: (round(end[k] - start[k], 2) if end[k] is not None and start[k] is not None else None) for k in start}
    units = indicators.units(start)
    return {"start": start, "end": end, "change": change, "units": units, "compared_from": since.isoformat()}


def _baseline(first: datetime | None, start: date, since: datetime, until: datetime) -> tuple[date | None, datetime]:
    """The day the data start when the period starts on or before it, and the moment the indicators compare
    from: the end of that first day (what was mapped then is the baseline, not growth), else the period's start."""
    if first is None:
        return None, since
    first_day = first.date()  # in the session's time zone, as the history's times are read
    if start > first_day:
        return None, since
    baseline = indicators.end_of_day(first_day)
    return first_day, baseline if baseline < until else since


def _geo(conn: psycopg.Connection, nids: list[int]) -> dict[str, Any]:
    """The neighbourhoods' boundary (their union) and their streets (simplified) as map context."""
    boundary, streets = conn.execute(
        "SELECT ST_AsGeoJSON(ST_Union(n.geom), 6)::jsonb, "
        "(SELECT ST_AsGeoJSON(ST_Collect(ST_Simplify(s.geom, 0.00001)), 6)::jsonb "
        "   FROM public.streets s WHERE s.neighbourhood_id = ANY(%s)) "
        "FROM public.neighbourhoods n WHERE n.id = ANY(%s)",
        (nids, nids),
    ).fetchone()
    return {"boundary": boundary, "streets": streets}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def achievement(
    conn: psycopg.Connection,
    where: str | indicators.Scope,
    start: date,
    end: date,
    *,
    generated_on: date | None = None,
) -> Report:
    """The report over [start, end] (both days included) of neighbourhood ``where`` (a code) or of a scope of
    one or several neighbourhoods (``gis.indicators.scope_of``)."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})", "to")
    scope = indicators.neighbourhood_scope(conn, where) if isinstance(where, str) else where
    if not scope.neighbourhood_ids:
        raise InvalidInput("a report is of neighbourhoods, not of a drawn area", "neighbourhood")
    nids = list(scope.neighbourhood_ids)
    hoods = _neighbourhoods(conn, scope)
    since = datetime.combine(start, time.min)  # the start of the first day
    until = datetime.combine(end + timedelta(days=1), time.min)  # the end of the last day
    first_day, baseline = _baseline(data_start(conn, nids), start, since, until)
    done = _completed(conn, nids, start, end)
    finished_tasks = _tasks_done(conn, nids, since, until)
    outcomes = _outcomes(conn, nids, start, end)
    geometries = {d["id"]: d.pop("geometry") for d in done}
    data = {
        "neighbourhood": _summed(scope, hoods) if scope.rollup else {k: v for k, v in hoods[0].items() if k != "id"},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated_on": (generated_on or date.today()).isoformat(),
        "data_start": first_day.isoformat() if first_day else None,
        "achievements": _by_kind(conn, list(geometries)),
        "interventions": done,
        "tasks_completed": {
            "by_domain": _per_domain(finished_tasks),
            "total": len(finished_tasks),
            "tasks": sorted(finished_tasks, key=lambda t: (t["done_at"], t["id"])),
        },
        "outcomes": {
            "by_kind": outcomes,
            "by_domain": _per_domain_outcomes(outcomes),
            "targets": _targets(conn, nids, start, end),
        },
        "indicators": _indicator_changes(conn, scope, baseline, until),
        "needs_and_services": needs.needs_and_services(conn, nids, start, end),
    }
    if scope.rollup:  # which neighbourhoods were added up
        data["group"] = scope.group
        data["neighbourhoods"] = [{k: v for k, v in h.items() if k != "id"} for h in hoods]
    geo = _geo(conn, nids) | {
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
    return Report(_jsonable(data), geo, vocabulary.labels(conn))
