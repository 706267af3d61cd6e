"""The demo neighbourhood: real OpenStreetMap data of central Helsinki plus a small, fictional plan.

Loaded on the first start into an empty database, so the first screen is not empty. The OSM data goes
through the real OSM reader and the bulk loader; the plan (interventions, tasks, a derelict lot and a
scrap yard, marked as fictional) is written as SQL attributed to the "demo" user.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql

from core.db import attributed, connect
from importers.load import load_rows
from importers.osm import read_osm
from layers.catalogue import core_catalogue

log = logging.getLogger("mahalle.demo")

DEMO_PBF = Path(__file__).parent / "data" / "helsinki.osm.pbf"
CODE = "HKI-CENTRE"
FICTIONAL = "Demo feature (fictional), to show the planning tools."


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
        unit="m2",
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
        unit="m",
        planned_cost=64_000,
        funding_source="Safer Streets programme",
        planned_start="2027-01-15",
        planned_end="2027-03-31",
    )
    _intervention(
        conn,
        "Clear the derelict lot behind the market",
        "lot_clearing",
        "completed",
        [lot],
        "ST_Multi(ST_Union(s.geom))",
        layer="blighted_plots",
        unit="m2",
        planned_cost=22_000,
        actual_cost=19_500,
        planned_start="2026-03-01",
        planned_end="2026-04-30",
        actual_start="2026-03-05",
        actual_end="2026-04-18",
        achieved=True,
    )
    _intervention(
        conn,
        "Seal the scrap yard on the school route",
        "workshop_sealing",
        "funded",
        [yard],
        "ST_Union(s.geom)",
        layer="workshops",
        unit="count",
        planned_cost=3_000,
        agency="District environment inspectorate",
        planned_start="2026-12-01",
    )
    _tasks(conn, paving, lighting)


def _fictional_sites(conn: psycopg.Connection) -> tuple[int, int]:
    """A derelict lot on the smallest unclassified parcel and a scrap yard next to it."""
    lot = conn.execute(
        """
        INSERT INTO blighted_plots (kind, hazard_level, safety_issues, status, note, geom)
        SELECT 'vacant_lot', 'high', ARRAY['waste', 'drug_use'], 'cleared', %s, p.geom
          FROM parcels p WHERE p.land_use = 'unknown' AND p.area_m2 > 150 ORDER BY p.area_m2, p.id LIMIT 1
        RETURNING id
        """,
        (FICTIONAL,),
    ).fetchone()[0]
    yard = conn.execute(
        """
        INSERT INTO workshops (name, kind, polluting, pollutants, licence, status, employees, note, geom)
        SELECT 'Demo scrap yard', 'scrap', true, ARRAY['smoke', 'oil', 'noise'], 'unlicensed', 'warned', 4, %s,
               ST_Project(ST_PointOnSurface(b.geom)::geography, 40, radians(90))::geometry
          FROM blighted_plots b WHERE b.id = %s
        RETURNING id
        """,
        (FICTIONAL, lot),
    ).fetchone()[0]
    return lot, yard


def _intervention(
    conn: psycopg.Connection,
    title: str,
    kind: str,
    status: str,
    targets: str | list[int],
    geometry_sql: str,
    *,
    layer: str = "streets",
    unit: str,
    achieved: bool = False,
    **attrs: object,
) -> int:
    """One intervention drawn over its targets (ids, or a constant query of them) with ``geometry_sql``."""
    if isinstance(targets, str):
        targets = [r[0] for r in conn.execute(sql.SQL(targets)).fetchall()]  # type: ignore[arg-type]
    quantity = {"m2": "ST_Area(g::geography)", "m": "ST_Length(g::geography)", "count": "1"}[unit]
    columns = ["title", "kind", "status", "unit", *attrs]
    query = sql.SQL(
        """
        WITH g AS (SELECT {geometry} AS g FROM public.{layer} s WHERE s.id = ANY(%s))
        INSERT INTO interventions ({columns}, planned_quantity, achieved_quantity, geom)
        SELECT {values}, round({quantity}), CASE WHEN %s THEN round({quantity}) END, g FROM g
        RETURNING id
        """
    ).format(
        geometry=sql.SQL(geometry_sql),  # type: ignore[arg-type]
        layer=sql.Identifier(layer),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        quantity=sql.SQL(quantity),  # type: ignore[arg-type]
    )
    iid = conn.execute(query, (targets, title, kind, status, unit, *attrs.values(), achieved)).fetchone()[0]
    conn.cursor().executemany(
        "INSERT INTO intervention_targets (intervention_id, layer, feature_id) VALUES (%s, %s, %s)",
        [(iid, layer, t) for t in targets],
    )
    return iid


def _tasks(conn: psycopg.Connection, paving: int, lighting: int) -> None:
    nid = conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (CODE,)).fetchone()[0]

    def task(title: str, domain: str, level: str = "task", parent: int | None = None, **attrs: object) -> int:
        cols = ["neighbourhood_id", "title", "domain", "level", "parent_id", *attrs]
        query = sql.SQL("INSERT INTO tasks ({}) VALUES ({}) RETURNING id").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(sql.Placeholder() * len(cols))
        )
        return conn.execute(query, (nid, title, domain, level, parent, *attrs.values())).fetchone()[0]

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
    conn.execute(
        "INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s), "
        "(%s, 'interventions', %s)",
        (pave, paving, light, lighting),
    )
    conn.execute(
        "INSERT INTO task_updates (task_id, note, status, progress) VALUES "
        "(%s, 'Contractor on site; first two lanes excavated.', 'in_progress', 35)",
        (pave,),
    )
