"""Planning rules enforced by the database: lifecycle, units and quantities, completion effects, targets,
guarded deletes and derived task progress. Written as plain SQL where QGIS would write it."""

from __future__ import annotations

import psycopg
import pytest

from api.problems import status_of
from core.db import attributed
from core.errors import HasDependents, RuleViolation, TransitionNotAllowed
from layers import migrate, planning

A = "SRID=4326;MULTIPOLYGON(((24.90 60.10, 24.92 60.10, 24.92 60.11, 24.90 60.11, 24.90 60.10)))"
B = "SRID=4326;MULTIPOLYGON(((24.92 60.10, 24.94 60.10, 24.94 60.11, 24.92 60.11, 24.92 60.10)))"
PAVING_AREA = "SRID=4326;POLYGON((24.901 60.101, 24.903 60.101, 24.903 60.102, 24.901 60.102, 24.901 60.101))"
LINE = "SRID=4326;LINESTRING(24.901 60.101, 24.905 60.101)"


@pytest.fixture
def hoods(conn: psycopg.Connection) -> tuple[int, int]:
    a = conn.execute(
        "INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('A', 'Alpha', 1000, %s) RETURNING id", (A,)
    ).fetchone()[0]
    b = conn.execute(
        "INSERT INTO neighbourhoods (code, name, population, geom) VALUES ('B', 'Beta', 500, %s) RETURNING id", (B,)
    ).fetchone()[0]
    return a, b


def one(conn: psycopg.Connection, query: str, *params: object) -> object:
    return conn.execute(query, params).fetchone()[0]


def street(conn: psycopg.Connection, x: float = 24.901, **attrs: object) -> int:
    attrs = {"surface": "earth", "lighting": "unlit", **attrs}
    cols = ", ".join(attrs)
    marks = ", ".join(["%s"] * len(attrs))
    return one(
        conn,
        f"INSERT INTO streets ({cols}, geom) VALUES ({marks}, ST_MakeLine(ST_MakePoint(%s, 60.105), "
        "ST_MakePoint(%s + 0.002, 60.105))) RETURNING id",
        *attrs.values(),
        x,
        x,
    )


def intervention(conn: psycopg.Connection, kind: str, geom: str, **attrs: object) -> int:
    attrs = {"title": f"{kind} work", "kind": kind, **attrs}
    cols = ", ".join(attrs)
    marks = ", ".join(["%s"] * len(attrs))
    return one(
        conn, f"INSERT INTO interventions ({cols}, geom) VALUES ({marks}, %s) RETURNING id", *attrs.values(), geom
    )


def target(conn: psycopg.Connection, iid: int, layer: str, fid: int) -> None:
    conn.execute("INSERT INTO intervention_targets (intervention_id, layer, feature_id) VALUES (%s, %s, %s)",
                 (iid, layer, fid))  # fmt: skip


def move(conn: psycopg.Connection, iid: int, status: str, **attrs: object) -> None:
    sets = ", ".join(f"{k} = %s" for k in ["status", *attrs])
    conn.execute(f"UPDATE interventions SET {sets} WHERE id = %s", (status, *attrs.values(), iid))


def refused(conn: psycopg.Connection, statement: str, *params: object) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement, params)
    return err.value


# Lifecycle -----------------------------------------------------------------------------------------


def test_the_lifecycle_moves_one_step_at_a_time(conn, hoods):
    iid = intervention(conn, "paving", PAVING_AREA)
    assert one(conn, "SELECT status FROM interventions WHERE id = %s", iid) == "proposed"
    move(conn, iid, "approved")
    err = refused(conn, "UPDATE interventions SET status = 'completed', actual_end = '2026-05-01' WHERE id = %s", iid)
    assert err.diag.sqlstate == "23M01"
    assert err.diag.column_name == "status"
    assert "cannot go from approved to completed; allowed next states: funded, cancelled" in str(err)
    for status in ("funded", "in_progress"):
        move(conn, iid, status)
    assert one(conn, "SELECT status FROM interventions WHERE id = %s", iid) == "in_progress"


def test_completion_needs_the_actual_end_date(conn, hoods):
    iid = intervention(conn, "paving", PAVING_AREA, status="in_progress")
    err = refused(conn, "UPDATE interventions SET status = 'completed' WHERE id = %s", iid)
    assert err.diag.column_name == "actual_end"
    assert "needs its actual end date" in str(err)
    move(conn, iid, "completed", actual_end="2026-05-01")
    assert one(conn, "SELECT status FROM interventions WHERE id = %s", iid) == "completed"


def test_leaving_completed_needs_a_new_reason(conn, hoods):
    iid = intervention(conn, "paving", PAVING_AREA, status="in_progress")
    move(conn, iid, "completed", actual_end="2026-05-01")
    err = refused(conn, "UPDATE interventions SET status = 'in_progress' WHERE id = %s", iid)
    assert err.diag.column_name == "status_reason"
    assert "leaving completed needs a reason" in str(err)
    assert refused(conn, "UPDATE interventions SET status = 'proposed', status_reason = 'x' WHERE id = %s", iid)
    move(conn, iid, "in_progress", status_reason="the asphalt cracked within a month")
    move(conn, iid, "completed")
    # the reason given last time does not reopen it again
    err = refused(conn, "UPDATE interventions SET status = 'in_progress' WHERE id = %s", iid)
    assert err.diag.column_name == "status_reason"
    move(conn, iid, "in_progress", status_reason="drainage missing")


def test_cancelling_from_any_open_state_and_reviving_with_a_reason(conn, hoods):
    for status in ("proposed", "approved", "funded", "in_progress"):
        iid = intervention(conn, "paving", PAVING_AREA, status=status)
        move(conn, iid, "cancelled")
    err = refused(conn, "UPDATE interventions SET status = 'approved' WHERE id = %s", iid)
    assert "allowed next states: proposed" in str(err)
    err = refused(conn, "UPDATE interventions SET status = 'proposed' WHERE id = %s", iid)
    assert err.diag.column_name == "status_reason"
    move(conn, iid, "proposed", status_reason="funding found again")
    done = intervention(conn, "paving", PAVING_AREA, status="completed", actual_end="2026-01-01")
    assert "allowed next states: in_progress" in str(refused(conn, "UPDATE interventions SET status = 'cancelled' "
                                                             "WHERE id = %s", done))  # fmt: skip


def test_an_unknown_status_is_explained_by_the_value_check(conn, hoods):
    iid = intervention(conn, "paving", PAVING_AREA)
    err = refused(conn, "UPDATE interventions SET status = 'dreaming' WHERE id = %s", iid)
    assert "status 'dreaming' is not one of" in str(err)


def test_transition_reports_the_allowed_next_states(conn, hoods):
    iid = intervention(conn, "lighting", LINE)
    with pytest.raises(TransitionNotAllowed) as err, attributed(conn, "sara"):
        planning.transition(conn, iid, "in_progress")
    assert (err.value.current, err.value.requested, err.value.allowed) == ("proposed", "in_progress",
                                                                           ["approved", "cancelled"])  # fmt: skip
    assert status_of(err.value) == 409
    with attributed(conn, "sara"):
        planning.transition(conn, iid, "approved")
    row = conn.execute(
        "SELECT actor, cause FROM mahalle.history WHERE layer = 'interventions' AND feature_id = %s ORDER BY id DESC",
        (iid,),
    ).fetchone()
    assert row == ("sara", f"intervention {iid} approved")


# Units and quantities ------------------------------------------------------------------------------


def test_the_unit_follows_the_kind(conn, hoods):
    paving = intervention(conn, "paving", PAVING_AREA)
    lighting = intervention(conn, "lighting", LINE)
    trees = intervention(conn, "tree_planting", "SRID=4326;MULTIPOINT((24.901 60.101), (24.902 60.101))")
    other = intervention(conn, "other", LINE, unit="count")
    units = dict(conn.execute("SELECT id, unit FROM interventions").fetchall())
    assert (units[paving], units[lighting], units[trees], units[other]) == ("m2", "m", "count", "count")
    err = refused(conn, "UPDATE interventions SET unit = 'm' WHERE id = %s", paving)
    assert err.diag.column_name == "unit"
    assert "paving is measured in m2, not m" in str(err)
    conn.execute("UPDATE interventions SET kind = 'sidewalk' WHERE id = %s", (lighting,))  # the unit follows
    assert one(conn, "SELECT unit FROM interventions WHERE id = %s", lighting) == "m2"


def test_planned_quantity_is_read_off_the_map(conn, hoods):
    paving = intervention(conn, "paving", PAVING_AREA)
    lighting = intervention(conn, "lighting", LINE)
    trees = intervention(conn, "tree_planting", "SRID=4326;MULTIPOINT((24.901 60.101), (24.902 60.101), (24.9 60.1))")
    area, length = conn.execute(
        "SELECT round(ST_Area(%s::geometry::geography)), round(ST_Length(%s::geometry::geography))",
        (PAVING_AREA, LINE),
    ).fetchone()
    quantities = dict(conn.execute("SELECT id, planned_quantity FROM interventions").fetchall())
    assert area > 10_000 and length > 200
    assert (quantities[paving], quantities[lighting], quantities[trees]) == (area, length, 3)
    # a different figure needs a reason …
    err = refused(conn, "UPDATE interventions SET planned_quantity = 500 WHERE id = %s", paving)
    assert err.diag.column_name == "planned_quantity"
    assert "give the reason in quantity_note" in str(err)
    conn.execute(
        "UPDATE interventions SET planned_quantity = 500, quantity_note = 'only the lane, not the square' "
        "WHERE id = %s",
        (paving,),
    )
    assert one(conn, "SELECT planned_quantity FROM interventions WHERE id = %s", paving) == 500
    # … rounding by the writer is not a different figure, and a redrawn work is measured again
    conn.execute("UPDATE interventions SET planned_quantity = planned_quantity + 0.6 WHERE id = %s", (lighting,))
    shorter = "SRID=4326;LINESTRING(24.901 60.101, 24.903 60.101)"
    conn.execute("UPDATE interventions SET geom = %s WHERE id = %s", (shorter, lighting))
    expected = one(conn, "SELECT round(ST_Length(%s::geometry::geography))", shorter)
    assert expected < length
    assert one(conn, "SELECT planned_quantity FROM interventions WHERE id = %s", lighting) == expected


def test_negative_quantities_and_costs_and_reversed_dates_are_refused(conn, hoods):
    for column, value, fragment in [
        ("planned_quantity", -5, "planned_quantity must be at least 0"),
        ("achieved_quantity", -1, "achieved_quantity must be at least 0"),
        ("planned_cost", -100, "planned_cost must be at least 0"),
        ("actual_cost", -1, "actual_cost must be at least 0"),
    ]:
        err = refused(conn, f"INSERT INTO interventions (title, kind, {column}, quantity_note, geom) "
                            "VALUES ('x', 'other', %s, 'n', %s)", value, LINE)  # fmt: skip
        assert err.diag.column_name == column
        assert fragment in str(err)
    err = refused(conn, "INSERT INTO interventions (title, kind, planned_start, planned_end, geom) "
                        "VALUES ('x', 'paving', '2026-05-01', '2026-04-01', %s)", PAVING_AREA)  # fmt: skip
    assert "the planned end is before the planned start" in str(err)
    assert one(conn, "SELECT count(*) FROM interventions") == 0


# Completion ----------------------------------------------------------------------------------------


def history_of(conn: psycopg.Connection, layer: str, fid: int) -> list[tuple]:
    return conn.execute(
        "SELECT operation, cause, after FROM mahalle.history WHERE layer = %s AND feature_id = %s ORDER BY id",
        (layer, fid),
    ).fetchall()


def test_completing_updates_the_targets_and_their_history_names_the_intervention(conn, hoods):
    s1, s2, s3 = street(conn), street(conn, 24.905), street(conn, 24.909)
    plot = one(conn, "INSERT INTO blighted_plots (kind, geom) VALUES ('vacant_lot', %s) RETURNING id", PAVING_AREA)
    yard = one(conn, "INSERT INTO workshops (kind, polluting, status, geom) "
                     "VALUES ('scrap', true, 'warned', 'SRID=4326;POINT(24.91 60.105)') RETURNING id")  # fmt: skip
    paving = intervention(conn, "paving", PAVING_AREA, status="in_progress", paving_surface="asphalt")
    lighting = intervention(conn, "lighting", LINE, status="in_progress")
    clearing = intervention(conn, "lot_clearing", PAVING_AREA, status="in_progress")
    sealing = intervention(conn, "workshop_sealing", "SRID=4326;POINT(24.91 60.105)", status="in_progress")
    for iid, layer, fid in [(paving, "streets", s1), (paving, "streets", s2), (lighting, "streets", s3),
                            (clearing, "blighted_plots", plot), (sealing, "workshops", yard)]:  # fmt: skip
        target(conn, iid, layer, fid)
    for iid in (paving, lighting, clearing, sealing):
        with attributed(conn, "sara"):
            move(conn, iid, "completed", actual_end="2026-06-30")

    assert conn.execute("SELECT surface FROM streets WHERE id IN (%s, %s)", (s1, s2)).fetchall() == [("asphalt",)] * 2
    assert one(conn, "SELECT lighting FROM streets WHERE id = %s", s3) == "lit"
    assert one(conn, "SELECT surface FROM streets WHERE id = %s", s3) == "earth"  # untouched by the lighting
    assert one(conn, "SELECT status FROM blighted_plots WHERE id = %s", plot) == "cleared"
    assert one(conn, "SELECT status FROM workshops WHERE id = %s", yard) == "sealed"
    for layer, fid, iid in [("streets", s1, paving), ("streets", s3, lighting), ("blighted_plots", plot, clearing),
                            ("workshops", yard, sealing)]:  # fmt: skip
        last = history_of(conn, layer, fid)[-1]
        assert last[:2] == ("UPDATE", f"intervention {iid} completed")
    # the achieved quantity defaults to the plan (sealing: the workshops sealed)
    achieved = dict(conn.execute("SELECT id, achieved_quantity = planned_quantity FROM interventions").fetchall())
    assert achieved == {paving: True, lighting: True, clearing: True, sealing: True}
    # the interventions' own history keeps the caller's cause (none here)
    assert history_of(conn, "interventions", paving)[-1][1] is None


def test_tree_planting_installs_a_tree_per_point_and_links_it(conn, hoods):
    trees = intervention(
        conn,
        "tree_planting",
        "SRID=4326;MULTIPOINT((24.901 60.101), (24.902 60.101), (24.903 60.101))",
        status="in_progress",
    )
    move(conn, trees, "completed", actual_end="2026-04-10")
    rows = conn.execute(
        "SELECT kind, installed_on::text, condition FROM assets WHERE intervention_id = %s", (trees,)
    ).fetchall()
    assert rows == [("tree", "2026-04-10", "good")] * 3
    assert one(conn, "SELECT achieved_quantity FROM interventions WHERE id = %s", trees) == 3
    causes = conn.execute("SELECT DISTINCT operation, cause FROM mahalle.history WHERE layer = 'assets'").fetchall()
    assert causes == [("INSERT", f"intervention {trees} completed")]


def test_signs_mapped_in_the_field_are_what_a_signage_work_achieved(conn, hoods):
    signs = intervention(conn, "signage", LINE, status="in_progress", planned_quantity=10)
    for x in (24.901, 24.902):
        conn.execute(
            "INSERT INTO assets (kind, intervention_id, geom) "
            "VALUES ('street_name_sign', %s, ST_MakePoint(%s, 60.101))",
            (signs, x),
        )
    move(conn, signs, "completed", actual_end="2026-04-10")
    assert one(conn, "SELECT achieved_quantity FROM interventions WHERE id = %s", signs) == 2
    assert one(conn, "SELECT count(*) FROM assets WHERE installed_on = '2026-04-10'") == 2


# Targets -------------------------------------------------------------------------------------------


def test_targets_must_exist_fit_the_kind_and_lie_in_the_neighbourhood(conn, hoods):
    iid = intervention(conn, "paving", PAVING_AREA)
    far = street(conn, 24.93)  # in neighbourhood B
    err = refused(conn, "INSERT INTO intervention_targets (intervention_id, layer, feature_id) "
                        "VALUES (%s, 'streets', %s)", iid, far)  # fmt: skip
    assert err.diag.column_name == "feature_id"
    assert f"streets feature {far} lies in neighbourhood B, not in A where intervention {iid} is" in str(err)
    yard = one(
        conn, "INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT(24.91 60.105)') RETURNING id"
    )
    err = refused(conn, "INSERT INTO intervention_targets (intervention_id, layer, feature_id) "
                        "VALUES (%s, 'workshops', %s)", iid, yard)  # fmt: skip
    assert err.diag.column_name == "layer"
    assert "a paving intervention acts on streets, not on workshops" in str(err)
    err = refused(conn, "INSERT INTO intervention_targets (intervention_id, layer, feature_id) "
                        "VALUES (%s, 'streets', 99999)", iid)  # fmt: skip
    assert err.diag.column_name == "feature_id"
    assert isinstance(err, psycopg.errors.ForeignKeyViolation)
    with pytest.raises(RuleViolation) as violation, attributed(conn, "x"):
        planning.add_targets(conn, iid, [planning.Target("streets", far)])
    assert violation.value.column == "feature_id" and status_of(violation.value) == 422
    assert one(conn, "SELECT count(*) FROM intervention_targets") == 0


# Guarded deletes -----------------------------------------------------------------------------------


def test_an_intervention_with_installed_assets_is_deleted_only_with_cascade(conn, hoods):
    iid = intervention(conn, "lighting", LINE)
    conn.execute(
        "INSERT INTO assets (kind, intervention_id, geom) "
        "VALUES ('street_light', %s, 'SRID=4326;POINT(24.902 60.101)')",
        (iid,),
    )
    tid = one(conn, "INSERT INTO tasks (title, domain) VALUES ('Light it', 'urban_physical') RETURNING id")
    conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s)", (tid, iid))
    refusal = "installed 1 assets; delete them first, or delete with cascade"
    with pytest.raises(HasDependents, match=refusal), attributed(conn, "sara"):
        planning.delete_intervention(conn, iid)
    assert one(conn, "SELECT count(*) FROM interventions") == 1
    with attributed(conn, "sara"):
        planning.delete_intervention(conn, iid, cascade=True)
    assert one(conn, "SELECT count(*) FROM interventions") == 0
    assert one(conn, "SELECT count(*) FROM assets") == 0
    assert one(conn, "SELECT count(*) FROM task_links") == 0
    deleted = conn.execute(
        "SELECT layer, actor, cause FROM mahalle.history WHERE operation = 'DELETE' ORDER BY layer"
    ).fetchall()
    assert deleted == [("assets", "sara", f"intervention {iid} deleted with cascade"),
                       ("interventions", "sara", f"intervention {iid} deleted with cascade"),
                       ("task_links", "sara", f"intervention {iid} deleted with cascade")]  # fmt: skip
    assert one(conn, "SELECT mahalle.restore_feature('interventions', %s)", iid) == 2  # and it can come back


def test_a_task_with_subtasks_is_deleted_only_with_cascade(conn):
    goal = one(conn, "INSERT INTO tasks (title, domain, level) VALUES ('Goal', 'social', 'goal') RETURNING id")
    task = one(conn, "INSERT INTO tasks (title, domain, parent_id) VALUES ('Task', 'social', %s) RETURNING id", goal)
    one(conn, "INSERT INTO tasks (title, domain, level, parent_id) VALUES ('Sub', 'social', 'subtask', %s) "
              "RETURNING id", task)  # fmt: skip
    conn.execute("INSERT INTO task_updates (task_id, note) VALUES (%s, 'started')", (task,))
    err = refused(conn, "DELETE FROM tasks WHERE id = %s", goal)
    assert isinstance(err, psycopg.errors.ForeignKeyViolation)
    assert f"tasks feature {goal} has 1 subtasks" in str(err)
    with pytest.raises(HasDependents), attributed(conn, "leila"):
        planning.delete_task(conn, task)
    with attributed(conn, "leila"):
        planning.delete_task(conn, goal, cascade=True)
    assert one(conn, "SELECT count(*) FROM tasks") == 0
    ops = conn.execute(
        "SELECT layer, count(*) FROM mahalle.history WHERE operation = 'DELETE' GROUP BY layer ORDER BY layer"
    ).fetchall()
    assert ops == [("task_updates", 1), ("tasks", 3)]


# Task progress -------------------------------------------------------------------------------------


def test_task_progress_is_derived_and_cannot_be_set_by_hand(conn, hoods):
    small = intervention(conn, "paving", PAVING_AREA, planned_cost=100_000, status="in_progress")
    big = intervention(conn, "lighting", LINE, planned_cost=300_000, status="funded")
    tid = one(conn, "INSERT INTO tasks (title, domain, progress) VALUES ('Streets', 'urban_physical', 10) RETURNING id")
    for iid in (small, big):
        conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s)", (tid, iid))
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 12.5  # half of a quarter of the cost
    with attributed(conn, "sara"):
        move(conn, small, "completed", actual_end="2026-05-01")
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 25
    assert history_of(conn, "tasks", tid)[-1][1] == f"intervention {small} completed"
    err = refused(conn, "UPDATE tasks SET progress = 90 WHERE id = %s", tid)
    assert err.diag.column_name == "progress"
    conn.execute("UPDATE tasks SET status = 'in_progress' WHERE id = %s", (tid,))  # other edits keep it derived
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 25
    move(conn, big, "cancelled")  # a cancelled work no longer counts
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 100
    conn.execute("DELETE FROM task_links WHERE task_id = %s", (tid,))
    conn.execute("UPDATE tasks SET progress = 60 WHERE id = %s", (tid,))  # no links: by hand again
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 60


def test_without_costs_progress_is_weighted_by_quantity_of_one_unit(conn, hoods):
    first = intervention(conn, "paving", PAVING_AREA, status="completed", actual_end="2026-01-01",
                         planned_quantity=300, quantity_note="n")  # fmt: skip
    second = intervention(conn, "sidewalk", PAVING_AREA, planned_quantity=100, quantity_note="n")
    tid = one(conn, "INSERT INTO tasks (title, domain) VALUES ('Surfaces', 'urban_physical') RETURNING id")
    for iid in (first, second):
        conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s)", (tid, iid))
    assert one(conn, "SELECT progress FROM tasks WHERE id = %s", tid) == 75


# Migration -----------------------------------------------------------------------------------------


def test_the_planning_rules_migration_goes_down_and_up(db_url, owner_db_url):
    def state() -> tuple[int, set[str]]:
        with psycopg.connect(db_url) as c:
            triggers = c.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname IN ('a05_lifecycle', 'z50_completion', 'a25_progress')"
            ).fetchone()[0]
            columns = {r[0] for r in c.execute("SELECT column_name FROM information_schema.columns "
                                               "WHERE table_name = 'interventions'").fetchall()}  # fmt: skip
        return triggers, columns & {"status_reason", "paving_surface"}

    assert state() == (3, {"status_reason", "paving_surface"})
    migrate.downgrade(owner_db_url, "0001")
    assert state() == (0, set())
    with psycopg.connect(db_url, autocommit=True) as c:  # 0001's rules alone: a jump to completed is possible
        c.execute("INSERT INTO interventions (title, kind, status, geom) VALUES ('x', 'paving', 'proposed', %s)",
                  (PAVING_AREA,))  # fmt: skip
        c.execute("UPDATE interventions SET status = 'completed', actual_end = '2026-01-01'")
    migrate.upgrade(owner_db_url)
    assert state() == (3, {"status_reason", "paving_surface"})
    with psycopg.connect(db_url, autocommit=True) as c:
        spec = c.execute("SELECT spec FROM mahalle.layer_registry WHERE name = 'interventions'").fetchone()[0]
        assert "status_reason" in {a["name"] for a in spec["attributes"]}
        with pytest.raises(psycopg.errors.CheckViolation, match="status_reason is longer than 1000"):
            c.execute("UPDATE interventions SET status_reason = repeat('x', 1001)")
