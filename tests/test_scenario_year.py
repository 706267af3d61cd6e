"""A year of an office's work on the demo neighbourhood, replayed through the API, then checked end to end.

Baseline: the demo (OpenStreetMap streets of central Helsinki plus a small fictional plan) and a field
survey that found two more derelict lots and another polluting yard, all recorded by 31 December 2026.
During 2027 the office proposes, funds and completes paving and lighting on several streets (two of
them the demo's own interventions), clears the lots, seals the yards, plants saplings, puts up
street-name signs, cancels a speed-bump proposal, leaves a sidewalk unfinished and moves its tasks
across the board. Every step is stamped with its date in the history, as if it had happened then.

Then: the achievement report's sums to the m² and the count, tasks per domain, the indicators at the
start and the end of the year (read from the history), the history of every affected feature, and the
HTML report opened in headless Chromium (screenshot in test-artifacts/).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.db import with_role
from core.roles import OWNER_ROLE
from core.settings import Settings
from gis import indicators, report
from importers.demo import CODE
from tests.auth import token_for

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
YEAR_START, YEAR_END = date(2027, 1, 1), date(2027, 12, 31)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Office:
    """The office at work: API calls as a named user (sara, a planner), each stamped in the history with a date."""

    def __init__(self, client: TestClient, conn: psycopg.Connection):
        self.client, self.conn = client, conn

    @contextmanager
    def on(self, day: str) -> Iterator[None]:
        last, last_note = self.conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM mahalle.history), (SELECT coalesce(max(id), 0) FROM task_updates)"
        ).fetchone()
        yield
        when = datetime.fromisoformat(day + "T10:00:00+00:00")
        self.conn.execute("UPDATE mahalle.history SET at = %s WHERE id > %s", (when, last))
        self.conn.execute("UPDATE task_updates SET created_at = %s WHERE id > %s", (when, last_note))

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def geometry(self, expression: str, ids: list[int], table: str = "streets") -> dict:
        return self.conn.execute(
            f"SELECT ST_AsGeoJSON({expression}, 9)::json FROM {table} s WHERE s.id = ANY(%s)", (ids,)
        ).fetchone()[0]

    def propose(self, title: str, kind: str, geometry: dict, targets: list[tuple[str, int]], **props: Any) -> int:
        body = {
            "properties": {"title": title, "kind": kind, **props},
            "geometry": geometry,
            "targets": [{"layer": layer, "feature_id": fid} for layer, fid in targets],
        }
        return self.call("POST", "/interventions", 201, json=body)["id"]

    def move(self, iid: int, to: str, **fields: Any) -> dict:
        return self.call("POST", f"/interventions/{iid}/transition", json={"to": to, **fields})

    def task_update(self, tid: int, note: str, **fields: Any) -> None:
        self.call("POST", f"/tasks/{tid}/updates", 201, json={"note": note, **fields})


@pytest.fixture
def office(demo_db_url: str) -> Iterator[Office]:
    settings = Settings(database_url=demo_db_url, load_demo=False)
    with psycopg.connect(demo_db_url, autocommit=True) as app_conn:
        sara = token_for(app_conn, "sara", Grant("planner"))
    with (
        TestClient(create_app(settings, database=Database(demo_db_url)), headers=sara) as client,
        psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as conn,  # it backdates history
    ):
        yield Office(client, conn)


def ids(conn: psycopg.Connection, query: str, *params: Any) -> list[int]:
    return [r[0] for r in conn.execute(query, params).fetchall()]


def value(conn: psycopg.Connection, query: str, *params: Any) -> Any:
    return conn.execute(query, params).fetchone()[0]


def test_a_year_of_work(office: Office) -> None:
    conn = office.conn
    conn.execute("UPDATE mahalle.history SET at = '2026-11-01T10:00:00Z'")  # the demo, mapped before the year
    demo = dict(conn.execute("SELECT kind, id FROM interventions").fetchall())
    targets_sql = "SELECT feature_id FROM intervention_targets WHERE intervention_id = %s ORDER BY feature_id"
    demo_paved, demo_lit = ids(conn, targets_sql, demo["paving"]), ids(conn, targets_sql, demo["lighting"])
    demo_targets = demo_paved + demo_lit

    # Baseline survey, recorded by the end of 2026 ------------------------------------------------
    with office.on("2026-12-31"):
        lots = ids(
            conn,
            "INSERT INTO blighted_plots (kind, hazard_level, status, geom) "
            "SELECT 'dumping_site', 'high', 'identified', geom FROM parcels "
            "WHERE land_use = 'unknown' AND area_m2 BETWEEN 500 AND 2000 ORDER BY id LIMIT 2 RETURNING id",
        )
        new_yard = value(
            conn,
            "INSERT INTO workshops (name, kind, polluting, pollutants, status, geom) "
            "SELECT 'Tyre yard', 'scrap', true, '{smoke}', 'active', "
            "ST_Project(ST_PointOnSurface(geom)::geography, 20, 0)::geometry "
            "FROM parcels WHERE land_use = 'residential' ORDER BY id LIMIT 1 RETURNING id",
        )
    start_state = indicators.compute(conn, indicators.neighbourhood_scope(conn, CODE), date(2026, 12, 31))
    demo_yard = value(conn, "SELECT feature_id FROM intervention_targets WHERE layer = 'workshops'")
    tasks = dict(conn.execute("SELECT title, id FROM tasks").fetchall())

    # January: proposals ----------------------------------------------------------------------------
    pave_streets = ids(
        conn,
        "SELECT id FROM streets WHERE street_class IN ('local', 'service', 'alley') "
        "AND surface IN ('earth', 'gravel', 'unknown') AND length_m BETWEEN 40 AND 300 AND NOT id = ANY(%s) "
        "ORDER BY id LIMIT 3",
        demo_targets,
    )
    light_streets = ids(
        conn,
        "SELECT id FROM streets WHERE lighting = 'unlit' AND street_class = 'pedestrian' AND NOT id = ANY(%s) "
        "ORDER BY id LIMIT 4",
        demo_targets,
    )
    sign_street = pave_streets[0]
    with office.on("2027-01-12"):
        paving = office.propose(
            "Pave the lanes behind the school",
            "paving",
            office.geometry("ST_Multi(ST_Union(ST_Buffer(s.geom::geography, 3)::geometry))", pave_streets),
            [("streets", s) for s in pave_streets],
            planned_cost=120_000,
            paving_surface="paving_stones",
            contractor="Kivi & Co",
        )
        lighting = office.propose(
            "Light the gravel paths",
            "lighting",
            office.geometry("ST_Multi(ST_Union(s.geom))", light_streets),
            [("streets", s) for s in light_streets],
            planned_cost=40_000,
        )
        clearing = office.propose(
            "Clear the dumping sites",
            "lot_clearing",
            office.geometry("ST_Multi(ST_Union(s.geom))", lots, "blighted_plots"),
            [("blighted_plots", p) for p in lots],
            planned_cost=15_000,
        )
        sealing = office.propose(
            "Seal the tyre yard",
            "workshop_sealing",
            office.geometry("s.geom", [new_yard], "workshops"),
            [("workshops", new_yard)],
        )
        saplings = office.propose(
            "Plant saplings along the lanes",
            "tree_planting",
            office.geometry(
                "ST_Collect(ARRAY(SELECT ST_LineInterpolatePoint(ST_GeometryN(s.geom, 1), f / 12.0) "
                "FROM generate_series(0, 11) f))",
                [pave_streets[1]],
            ),
            [("streets", pave_streets[1])],
        )
        signs = office.propose(
            "Street-name signs", "signage", office.geometry("s.geom", [sign_street]), [("streets", sign_street)]
        )
        bumps = office.propose(
            "Speed bumps", "speed_bump", office.geometry("ST_PointOnSurface(s.geom)", [sign_street]), []
        )
        sidewalk = office.propose(
            "Sidewalk on the main lane",
            "sidewalk",
            office.geometry("ST_Multi(ST_Buffer(s.geom::geography, 1.5)::geometry)", [pave_streets[2]]),
            [("streets", pave_streets[2])],
        )
        clear_task = office.call(
            "POST", "/tasks", 201, json={"title": "Clear the dumping sites", "domain": "urban_physical",
                                         "neighbourhood_id": value(conn, "SELECT id FROM neighbourhoods")},
        )["id"]  # fmt: skip
        office.call("POST", f"/tasks/{clear_task}/links", 201, json={"layer": "interventions", "feature_id": clearing})

    # A jump straight to completion is refused with the way forward ---------------------------------
    refused = office.client.post(f"/interventions/{paving}/transition", json={"to": "completed"})
    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["approved", "cancelled"]

    # The year ---------------------------------------------------------------------------------------
    mine = [paving, lighting, clearing, sealing, saplings, signs, sidewalk, demo["lighting"]]
    with office.on("2027-02-01"):
        for iid in mine:
            if iid != demo["lighting"]:
                office.move(iid, "approved")
        office.move(bumps, "cancelled", status_reason="residents prefer a raised crossing")
        office.move(demo["workshop_sealing"], "in_progress", actual_start="2027-02-01")
        office.task_update(tasks["Home visits to households at risk"], "First round of visits.", status="in_progress")
    with office.on("2027-02-15"):
        office.move(demo["workshop_sealing"], "completed", actual_end="2027-02-15")
    with office.on("2027-03-01"):
        for iid in mine:
            office.move(iid, "funded")
        office.move(demo["lighting"], "in_progress", actual_start="2027-03-01")
    with office.on("2027-03-31"):
        office.move(demo["lighting"], "completed", actual_end="2027-03-31", actual_cost=61_000)
    with office.on("2027-04-05"):
        office.task_update(tasks["Light the paths to the schools"], "Lamps on.", status="done")
    with office.on("2027-04-10"):
        for iid in (paving, lighting, clearing, sealing, saplings, signs, sidewalk):
            office.move(iid, "in_progress", actual_start="2027-04-10")
        # the sign positions are mapped in the field as assets of the intervention
        for i in range(8):
            conn.execute(
                "INSERT INTO assets (kind, intervention_id, geom) SELECT 'street_name_sign', %s, "
                "ST_LineInterpolatePoint(ST_GeometryN(geom, 1), %s) FROM streets WHERE id = %s",
                (signs, i / 8, sign_street),
            )
    with office.on("2027-05-20"):
        office.move(demo["paving"], "completed", actual_end="2027-05-20", actual_cost=176_500)
    with office.on("2027-05-25"):
        office.task_update(tasks["Pave the back lanes"], "All four lanes paved.", status="done")
    with office.on("2027-06-10"):
        office.move(clearing, "completed", actual_end="2027-06-10", actual_cost=14_200)
    with office.on("2027-06-15"):
        office.task_update(clear_task, "Both sites cleared.", status="done")
    with office.on("2027-07-15"):
        office.move(paving, "completed", actual_end="2027-07-15", actual_cost=118_000)
    with office.on("2027-08-01"):
        office.move(sealing, "completed", actual_end="2027-08-01")
    with office.on("2027-09-01"):
        office.task_update(
            tasks["Start a sewing cooperative in the community centre"], "Twelve members.", status="done"
        )
    with office.on("2027-09-30"):
        for i in range(6):  # the lamps put up, mapped as they went in
            conn.execute(
                "INSERT INTO assets (kind, intervention_id, geom) SELECT 'street_light', %s, "
                "ST_PointOnSurface(geom) FROM streets WHERE id = %s",
                (lighting, light_streets[i % len(light_streets)]),
            )
        office.move(lighting, "completed", actual_end="2027-09-30")
    with office.on("2027-10-20"):
        office.move(saplings, "completed", actual_end="2027-10-20")
    with office.on("2027-11-05"):
        office.move(signs, "completed", actual_end="2027-11-05")
    with office.on("2027-12-01"):
        office.task_update(tasks["Home visits to households at risk"], "Every household visited.", status="done")

    # Board, overdue and blocked at the end of the year ---------------------------------------------
    board = office.call("GET", f"/tasks/board?neighbourhood={CODE}")
    assert {t["title"] for t in board["done"]} >= {"Pave the back lanes", "Clear the dumping sites"}
    assert [t["title"] for t in board["blocked"]] == ["Regularise customary deeds on the hillside"]
    overdue = office.call("GET", f"/tasks/overdue?neighbourhood={CODE}&today=2028-01-01")
    assert "Pave the back lanes" not in {t["title"] for t in overdue}
    assert "Regularise customary deeds on the hillside" in {t["title"] for t in overdue}
    assert office.call("GET", f"/tasks/{tasks['Pave the back lanes']}")["progress"] == 100
    assert office.call("GET", f"/tasks/{clear_task}")["progress_source"] == "interventions"

    # The report: sums to the m² and the count ------------------------------------------------------
    built = report.achievement(conn, CODE, YEAR_START, YEAR_END, generated_on=date(2028, 1, 5))
    data = built.data
    groups = {g["kind"]: g for g in data["achievements"]}
    assert set(groups) == {"paving", "lighting", "lot_clearing", "workshop_sealing", "tree_planting", "signage"}

    def measured(measure: str, works: list[int]) -> float:
        """What the map says, independently of the stored quantities: whole m² / m per intervention."""
        return value(
            conn, f"SELECT sum(round({measure}(geom::geography))) FROM interventions WHERE id = ANY(%s)", works
        )

    paved_m2 = measured("ST_Area", [paving, demo["paving"]])
    lit_m = measured("ST_Length", [lighting, demo["lighting"]])
    cleared_m2 = measured("ST_Area", [clearing])
    assert groups["paving"]["quantity"] == paved_m2
    assert groups["paving"]["interventions"] == 2 and groups["paving"]["unit"] == "m2"
    assert groups["paving"]["targets"] == {"streets": len(pave_streets) + len(demo_paved)}
    assert groups["paving"]["actual_cost"] == 176_500 + 118_000
    assert groups["lighting"]["quantity"] == lit_m
    assert groups["lighting"]["targets"] == {"streets": len(light_streets) + len(demo_lit)}
    assert groups["lighting"]["assets"] == {"street_light": 6}
    assert groups["lot_clearing"]["quantity"] == cleared_m2 and groups["lot_clearing"]["targets"] == {
        "blighted_plots": 2
    }
    assert groups["workshop_sealing"]["quantity"] == 2 and groups["workshop_sealing"]["targets"] == {"workshops": 2}
    assert groups["tree_planting"]["quantity"] == 12 and groups["tree_planting"]["assets"] == {"tree": 12}
    assert groups["signage"]["quantity"] == 8 and groups["signage"]["assets"] == {"street_name_sign": 8}
    assert len(data["interventions"]) == 9  # the demo's paving, lighting and sealing, and six of ours
    assert data["tasks_completed"]["by_domain"] == {
        "urban_physical": 3, "social": 0, "economic": 1, "legal": 0, "social_work": 1,
    }  # fmt: skip

    from web.report_page import achievement_line

    lines = {g["kind"]: achievement_line(g, "en") for g in data["achievements"]}
    assert lines["paving"] == f"Street paving: {paved_m2:,.0f} m² on {len(pave_streets) + len(demo_paved)} streets"
    assert lines["signage"] == "Street-name signs: 8"
    assert lines["tree_planting"] == "Tree planting: 12"
    assert lines["lighting"].endswith(", 6 light points")
    assert achievement_line(groups["signage"], "fa") == "تابلوی نام معابر: ۸"

    # Indicators before and after, read from the history --------------------------------------------
    ind = data["indicators"]
    assert ind["start"] == indicators.summary(start_state)
    scope = indicators.neighbourhood_scope(conn, CODE)
    assert ind["end"] == indicators.summary(indicators.compute(conn, scope))  # nothing changed since
    newly_paved = value(conn, "SELECT sum(ST_Length(geom::geography)) FROM streets WHERE id = ANY(%s)",
                        pave_streets + demo_paved)  # fmt: skip
    end_state = indicators.compute(conn, scope, YEAR_END)
    assert end_state["streets"]["paved_m"] - start_state["streets"]["paved_m"] == pytest.approx(newly_paved, abs=0.2)
    newly_lit = value(conn, "SELECT sum(ST_Length(geom::geography)) FROM streets WHERE id = ANY(%s) ",
                      light_streets + demo_lit)  # fmt: skip
    assert end_state["streets"]["lit_m"] - start_state["streets"]["lit_m"] == pytest.approx(newly_lit, abs=0.2)
    assert (ind["start"]["blighted_count"], ind["end"]["blighted_count"]) == (3, 3)
    assert (ind["start"]["cleared_pct"], ind["end"]["cleared_pct"]) == (33.3, 100.0)
    assert (ind["start"]["polluting_active"], ind["end"]["polluting_active"]) == (2, 0)
    assert (ind["start"]["polluting_sealed"], ind["end"]["polluting_sealed"]) == (0, 2)
    assert ind["change"]["paved_pct"] > 0 and ind["change"]["lit_pct"] > 0
    assert ind["change"]["service_points"] == 0
    near_homes = [w["id"] for w in start_state["priorities"]["polluting_workshops_near_homes"]]
    assert new_yard in near_homes
    assert end_state["priorities"]["polluting_workshops_near_homes"] == []
    unlit_after = {s["id"] for s in end_state["priorities"]["unlit_streets_near_schools"]}
    assert not unlit_after & set(light_streets)
    # a mid-year look sees the demo's works done and ours still under way
    midyear = indicators.compute(conn, scope, date(2027, 6, 1))
    assert start_state["streets"]["paved_m"] < midyear["streets"]["paved_m"] < end_state["streets"]["paved_m"]

    # The history of every affected feature names its intervention, on the day it was completed ----
    effects = [
        ("streets", pave_streets, paving, "2027-07-15", "surface", "paving_stones"),
        ("streets", demo_paved, demo["paving"], "2027-05-20", "surface", "paved"),
        ("streets", light_streets, lighting, "2027-09-30", "lighting", "lit"),
        ("streets", demo_lit, demo["lighting"], "2027-03-31", "lighting", "lit"),
        ("blighted_plots", lots, clearing, "2027-06-10", "status", "cleared"),
        ("workshops", [new_yard], sealing, "2027-08-01", "status", "sealed"),
        ("workshops", [demo_yard], demo["workshop_sealing"], "2027-02-15", "status", "sealed"),
    ]
    for layer, features, iid, day, column, after in effects:
        for fid in features:
            rows = conn.execute(
                "SELECT actor, cause, at::date::text, before ->> %s, after ->> %s FROM mahalle.history "
                "WHERE layer = %s AND feature_id = %s AND at >= '2027-01-01' ORDER BY id",
                (column, column, layer, fid),
            ).fetchall()
            changed = [r for r in rows if r[3] != r[4]]
            assert changed == [("sara", f"intervention {iid} completed", day, changed[0][3], after)], (layer, fid)
            assert changed[0][3] != after
    trees = conn.execute(
        "SELECT count(*), min(h.cause), min(h.at::date::text) FROM assets a "
        "JOIN mahalle.history h ON h.layer = 'assets' AND h.feature_id = a.id WHERE a.intervention_id = %s",
        (saplings,),
    ).fetchone()
    assert trees == (12, f"intervention {saplings} completed", "2027-10-20")
    untouched = value(conn, "SELECT count(*) FROM mahalle.history WHERE layer = 'streets' AND feature_id = %s "
                            "AND at >= '2027-01-01'", pave_streets[2])  # fmt: skip
    assert untouched == 1  # paved by the paving work; the unfinished sidewalk changed nothing

    # The printable report, as a person sees it -----------------------------------------------------
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("en", "fa"):
        page = office.client.get(
            f"/reports/achievement?neighbourhood={CODE}&from=2027-01-01&to=2027-12-31&format=html&lang={lang}"
        )
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "<script src=" not in html and 'rel="stylesheet" href="http' not in html  # opens offline
        path = ARTIFACTS / f"report-year-{lang}.html"
        path.write_text(html, encoding="utf-8")
        dom = chromium(path, ARTIFACTS / f"report-year-{lang}.png")
        assert dom.count('class="leaflet-interactive"') >= 8  # the works drawn on the map
        assert "leaflet-container" in dom
    fa = (ARTIFACTS / "report-year-fa.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in fa and "۱۴۰۵" in fa and "۱۴۰۶" in fa  # Jalali years of 2027
    as_json = office.call("GET", f"/reports/achievement?neighbourhood={CODE}&from=2027-01-01&to=2027-12-31&format=json")
    assert as_json["achievements"] == data["achievements"]


def chromium(page: Path, png: Path) -> str:
    """Screenshot the page in headless Chromium and return its DOM after scripts ran."""
    common = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [*common, f"--user-data-dir={profile}", "--window-size=1100,3000", f"--screenshot={png}", page.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [*common, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert png.stat().st_size > 50_000
    return dom
