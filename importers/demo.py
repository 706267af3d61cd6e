"""The demo neighbourhood: real OpenStreetMap data of central Helsinki plus a small, fictional plan.

Loaded on the first start into an empty database, so the first screen is not empty. The OSM data goes
through the real OSM reader and the bulk loader; the plan (interventions, tasks, a derelict lot and a
scrap yard, marked as fictional) is made by the "demo" user through the same ``layers/`` functions as a
planner's requests: interventions are proposed and moved along their lifecycle, and completing one does
to its targets what it does for anyone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from core.db import attributed, connect
from importers.load import load_rows
from importers.osm import read_osm
from layers import blighted_plots, edit, planning, workshops
from layers.catalogue import core_catalogue
from layers.spec import Layer

log = logging.getLogger("mahalle.demo")

DEMO_PBF = Path(__file__).parent / "data" / "helsinki.osm.pbf"
CODE = "HKI-CENTRE"
FICTIONAL = "Demo feature (fictional), to show the planning tools."
LIFECYCLE = ("proposed", "approved", "funded", "in_progress", "completed")  # the way forward, step by step


def has_data(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM public.neighbourhoods)").fetchone()[0]


def load_demo(url: str) -> bool:
    """Load the demo into an empty database; returns False (and changes nothing) if it holds data."""
    with connect(url) as conn:
        if has_data(conn):
            log.info("database already has neighbourhoods; demo not loaded")
            return False
        result = read_osm(DEMO_PBF)
        catalogue = core_catalogue()
        with attributed(conn, "demo", cause="demo data: OpenStreetMap extract"):
            _neighbourhood(conn, result.bounds)
            for layer, rows in result.rows.items():
                if rows:
                    report = load_rows(conn, catalogue[layer], rows, source="osm")
                    log.info("demo: %s %d rows", layer, report.inserted)
        with attributed(conn, "demo", cause="demo data: fictional plan"):
            _plan(conn)
    return True


def _neighbourhood(conn: psycopg.Connection, bounds: tuple[float, float, float, float] | None) -> None:
    # The extract's admin boundaries are clipped at its edge, so the demo neighbourhood is its extent.
    assert bounds is not None, "the demo extract is empty"
    conn.execute(
        """
        INSERT INTO neighbourhoods (code, name, name_latin, city, population, households, office, geom)
        VALUES (%s, 'Helsinki city centre', 'Helsinki city centre', 'Helsinki', 12400, 6900,
                'Demo facilitation office', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))
        """,
        (CODE, *bounds),
    )


def _plan(conn: psycopg.Connection) -> None:
    lot, yard = _fictional_sites(conn)
    paving = _intervention(
        conn,
        "Pave the back lanes of Kamppi",
        "paving",
        "in_progress",
        "SELECT id FROM streets WHERE street_class IN ('service', 'alley', 'local') "
        "AND surface IN ('unknown', 'gravel', 'earth') AND length_m BETWEEN 60 AND 250 ORDER BY id LIMIT 4",
        "ST_Multi(ST_Union(ST_Buffer(s.geom::geography, 3)::geometry))",
        planned_cost=180_000,
        funding_source="Municipal regeneration fund",
        contractor="Demo Paving Ltd",
        planned_start="2026-04-01",
        planned_end="2026-10-31",
        actual_start="2026-04-20",
    )
    lighting = _intervention(
        conn,
        "Light the footpaths to the schools",
        "lighting",
        "approved",
        "SELECT id FROM streets WHERE street_class = 'pedestrian' AND lighting IN ('unknown', 'unlit') "
        "AND length_m BETWEEN 40 AND 200 ORDER BY id LIMIT 5",
        "ST_Multi(ST_LineMerge(ST_Union(s.geom)))",
        planned_cost=64_000,
        funding_source="Safer Streets programme",
        planned_start="2027-01-15",
        planned_end="2027-03-31",
    )
    _intervention(  # completing it clears the lot, as it would for a planner
        conn,
        "Clear the derelict lot behind the market",
        "lot_clearing",
        "completed",
        [lot],
        "ST_Multi(ST_Union(s.geom))",
        layer="blighted_plots",
        planned_cost=22_000,
        actual_cost=19_500,
        planned_start="2026-03-01",
        planned_end="2026-04-30",
        actual_start="2026-03-05",
        actual_end="2026-04-18",
    )
    _intervention(
        conn,
        "Seal the scrap yard on the school route",
        "workshop_sealing",
        "funded",
        [yard],
        "ST_Union(s.geom)",
        layer="workshops",
        planned_cost=3_000,
        agency="District environment inspectorate",
        planned_start="2026-12-01",
    )
    _tasks(conn, paving, lighting)


def _feature(properties: dict[str, Any], geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _fictional_sites(conn: psycopg.Connection) -> tuple[int, int]:
    """A derelict lot on the smallest unclassified parcel and a scrap yard next to it."""
    parcel = conn.execute(
        "SELECT ST_AsGeoJSON(p.geom, 15)::json FROM parcels p WHERE p.land_use = 'unknown' AND p.area_m2 > 150 "
        "ORDER BY p.area_m2, p.id LIMIT 1"
    ).fetchone()[0]
    lot = {"kind": "vacant_lot", "hazard_level": "high", "safety_issues": ["waste", "drug_use"], "note": FICTIONAL}
    lot_id = _create(conn, blighted_plots.LAYER, lot, parcel)
    beside = conn.execute(
        "SELECT ST_AsGeoJSON(ST_Project(ST_PointOnSurface(b.geom)::geography, 40, radians(90))::geometry, 15)::json "
        "FROM blighted_plots b WHERE b.id = %s",
        (lot_id,),
    ).fetchone()[0]
    yard = {
        "name": "Demo scrap yard",
        "kind": "scrap",
        "polluting": True,
        "pollutants": ["smoke", "oil", "noise"],
        "licence": "unlicensed",
        "status": "warned",
        "employees": 4,
        "note": FICTIONAL,
    }
    return lot_id, _create(conn, workshops.LAYER, yard, beside)


def _create(conn: psycopg.Connection, layer: Layer, properties: dict[str, Any], geometry: dict[str, Any]) -> int:
    fid, _, _ = edit.create(conn, layer, edit.parse_feature(layer, _feature(properties, geometry)))
    return fid


def _intervention(
    conn: psycopg.Connection,
    title: str,
    kind: str,
    status: str,
    targets: str | list[int],
    geometry_sql: str,
    *,
    layer: str = "streets",
    **attrs: Any,
) -> int:
    """One intervention drawn over its targets (ids, or a constant query of them) with ``geometry_sql``,
    proposed and then moved step by step to ``status``; the last step records what a transition records
    (actual dates and cost). Unit and quantities are the database's, as for any planner."""
    if isinstance(targets, str):
        targets = [r[0] for r in conn.execute(sql.SQL(targets)).fetchall()]  # type: ignore[arg-type]
    geometry = conn.execute(
        sql.SQL("SELECT ST_AsGeoJSON({}, 15)::json FROM public.{} s WHERE s.id = ANY(%s)").format(
            sql.SQL(geometry_sql),  # type: ignore[arg-type]
            sql.Identifier(layer),
        ),
        (targets,),
    ).fetchone()[0]
    moved = {name: attrs.pop(name) for name in planning.TRANSITION_FIELDS if name in attrs}
    data = edit.parse_feature(planning.INTERVENTIONS, _feature({"title": title, "kind": kind, **attrs}, geometry))
    iid = planning.create_intervention(conn, data, [planning.Target(layer, t) for t in targets])
    steps = LIFECYCLE[1 : LIFECYCLE.index(status) + 1]
    for step in steps:
        planning.transition(conn, iid, step, moved if step == status else None)
    return iid


def _tasks(conn: psycopg.Connection, paving: int, lighting: int) -> None:
    nid = planning.neighbourhood_id(conn, CODE)

    def task(title: str, domain: str, level: str = "task", parent: int | None = None, **attrs: Any) -> int:
        body = {"neighbourhood_id": nid, "title": title, "domain": domain, "level": level, "parent_id": parent}
        return planning.create_task(conn, planning.task_input({**body, **attrs}))

    safe = task("Safe and walkable streets for children", "urban_physical", "goal", priority="high")
    pave = task(
        "Pave the back lanes",
        "urban_physical",
        parent=safe,
        status="in_progress",
        assignee="Sara (engineer)",
        due_date="2026-10-31",
        priority="high",
    )
    light = task(
        "Light the paths to the schools",
        "urban_physical",
        parent=safe,
        assignee="Sara (engineer)",
        due_date="2027-03-31",
    )
    task(
        "Agree lamp positions with the residents' council",
        "urban_physical",
        "subtask",
        light,
        status="done",
        progress=100,
        assignee="Reza (facilitator)",
        due_date="2026-09-30",
    )
    livelihoods = task("Livelihoods for women heads of household", "economic", "goal")
    task(
        "Start a sewing cooperative in the community centre",
        "economic",
        parent=livelihoods,
        status="in_progress",
        progress=40,
        assignee="Leila (social worker)",
        due_date="2027-02-28",
    )
    task(
        "Regularise customary deeds on the hillside",
        "legal",
        status="blocked",
        priority="high",
        progress=10,
        assignee="Legal clinic",
        due_date="2026-09-01",
        description="Waiting for the cadastre office to accept customary deeds as evidence.",
    )
    task(
        "Home visits to households at risk",
        "social_work",
        status="todo",
        assignee="Leila (social worker)",
        due_date="2026-12-15",
    )
    task(
        "After-school club in the mosque courtyard",
        "social",
        status="done",
        progress=100,
        assignee="Community volunteers",
        due_date="2026-06-30",
    )
    # The site note comes before the link: once linked, the paving's progress is the task's (a hand-set
    # figure is refused from then on).
    note = "Contractor on site; first two lanes excavated."
    planning.add_update(conn, pave, note, status="in_progress", progress=35)
    planning.link(conn, pave, planning.Target("interventions", paving))
    planning.link(conn, light, planning.Target("interventions", lighting))
