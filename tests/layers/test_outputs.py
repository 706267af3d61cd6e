"""Counted outcomes (layers/outputs.py, layers/sql/outputs.sql): breakdowns within the quantity, outputs without a
place in their task's neighbourhood, tasks with outputs kept from deletion, progress derived from targets, and
the rights of planners and field workers. Written as plain SQL where QGIS would write it."""

from __future__ import annotations

import json

import psycopg
import pytest

from core.db import HAS_DEPENDENTS, attributed
from core.errors import HasDependents, RuleViolation
from layers import planning

A = "SRID=4326;MULTIPOLYGON(((24.90 60.10, 24.92 60.10, 24.92 60.11, 24.90 60.11, 24.90 60.10)))"
B = "SRID=4326;MULTIPOLYGON(((24.92 60.10, 24.94 60.10, 24.94 60.11, 24.92 60.11, 24.92 60.10)))"
IN_A = "SRID=4326;POINT(24.91 60.105)"


@pytest.fixture
def hoods(conn: psycopg.Connection) -> tuple[int, int]:
    ids = [
        one(conn, "INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, %s, %s) RETURNING id", code, code, g)
        for code, g in (("A", A), ("B", B))
    ]
    return ids[0], ids[1]


def one(conn: psycopg.Connection, query: str, *params: object) -> object:
    return conn.execute(query, params).fetchone()[0]


def task(conn: psycopg.Connection, hood: int | None, title: str = "Back to school") -> int:
    return one(conn, "INSERT INTO tasks (title, domain, neighbourhood_id) VALUES (%s, 'social', %s) RETURNING id",
               title, hood)  # fmt: skip


def output(conn: psycopg.Connection, tid: int, quantity: float, kind: str = "children_back_to_school", **more) -> int:
    cols = ", ".join(["task_id", "kind", "quantity", "date", *more])
    marks = ", ".join(["%s"] * (4 + len(more)))
    return one(conn, f"INSERT INTO outputs ({cols}) VALUES ({marks}) RETURNING id",
               tid, kind, quantity, "2026-10-01", *more.values())  # fmt: skip


def progress(conn: psycopg.Connection, tid: int) -> float | None:
    return one(conn, "SELECT progress FROM tasks WHERE id = %s", tid)


def refused(conn: psycopg.Connection, statement: str, *params: object) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement, params)
    return err.value


def act_as(conn: psycopg.Connection, name: str, role: str, hood: int) -> None:
    grants = json.dumps({"user": name, "roles": {role: [hood]}})
    conn.execute("SELECT set_config('mahalle.grants', %s, false), set_config('mahalle.actor', %s, false)",
                 (grants, name))  # fmt: skip


def test_a_breakdown_over_the_quantity_is_refused_in_a_planners_words(conn, hoods):
    tid = task(conn, hoods[0])
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date, female, male) "
                        "VALUES (%s, 'people_reached', 10, '2026-10-01', 6, 5)", tid)  # fmt: skip
    assert isinstance(err, psycopg.errors.CheckViolation)
    assert "outputs new feature: the breakdown by sex (female + male) adds up to more than the quantity" in str(err)
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date, age_0_14, age_65_plus) "
                        "VALUES (%s, 'people_reached', 10, '2026-10-01', 8, 3)", tid)  # fmt: skip
    assert "age bands" in str(err)
    oid = output(conn, tid, 10, female=6, male=4, age_0_14=10)  # equal is fine; bands may be partly unknown
    with pytest.raises(RuleViolation) as caught, attributed(conn, "leila"):
        conn.execute("UPDATE outputs SET quantity = 9 WHERE id = %s", (oid,))
    assert "more than the quantity" in str(caught.value)
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date) VALUES (%s, 'hugs', 1, '2026-10-01')", tid)
    assert err.diag.column_name == "kind"
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date) VALUES (%s, 'hires', -1, '2026-10-01')",
                  tid)  # fmt: skip
    assert err.diag.column_name == "quantity"
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date) VALUES (999999, 'hires', 1, '2026-10-01')")
    assert err.diag.column_name == "task_id" and "task 999999 does not exist" in str(err)


def test_an_output_without_a_place_lies_in_its_tasks_neighbourhood(conn, hoods):
    a, b = hoods
    tid = task(conn, b)
    bare = output(conn, tid, 3, kind="funds_set_up")
    assert one(conn, "SELECT neighbourhood_id FROM outputs WHERE id = %s", bare) == b
    placed = one(conn, "INSERT INTO outputs (task_id, kind, quantity, date, geom) "
                       "VALUES (%s, 'sessions_given', 4, '2026-10-02', %s) RETURNING id", tid, IN_A)  # fmt: skip
    assert one(conn, "SELECT neighbourhood_id FROM outputs WHERE id = %s", placed) == a  # where it happened
    far = one(
        conn,
        "INSERT INTO outputs (task_id, kind, quantity, date, geom) "
        "VALUES (%s, 'outreach_visits', 1, '2026-10-02', 'SRID=4326;POINT(24.96 60.105)') RETURNING id",
        tid,
    )
    assert one(conn, "SELECT neighbourhood_id FROM outputs WHERE id = %s", far) == b  # outside every one: the task's


def test_a_task_with_outputs_is_deleted_only_with_cascade(conn, hoods):
    tid = task(conn, hoods[0])
    output(conn, tid, 100)
    err = refused(conn, "DELETE FROM tasks WHERE id = %s", tid)
    assert err.diag.sqlstate == HAS_DEPENDENTS
    assert f"tasks feature {tid} cannot be deleted: 1 outputs are recorded against it" in str(err)
    with pytest.raises(HasDependents), attributed(conn, "leila"):
        planning.delete_task(conn, tid)
    with attributed(conn, "leila"):
        planning.delete_task(conn, tid, cascade=True)
    assert one(conn, "SELECT count(*) FROM outputs") == 0
    deleted = conn.execute("SELECT layer, cause FROM mahalle.history WHERE operation = 'DELETE' ORDER BY id").fetchall()
    assert deleted == [("outputs", f"task {tid} deleted with cascade"), ("tasks", f"task {tid} deleted with cascade")]


def test_progress_follows_targets_as_outputs_are_added_edited_and_deleted(conn, hoods):
    tid = task(conn, hoods[0])
    conn.execute("UPDATE tasks SET progress = 5 WHERE id = %s", (tid,))  # no targets yet: set by hand
    conn.execute("INSERT INTO task_targets (task_id, kind, target, unit) VALUES (%s, 'children_back_to_school', 100, "
                 "'children'), (%s, 'certificates', 200, NULL)", (tid, tid))  # fmt: skip
    assert progress(conn, tid) == 0
    with attributed(conn, "leila"):
        first = output(conn, tid, 50)
    assert progress(conn, tid) == 25  # (50 % + 0 %) / 2
    assert conn.execute("SELECT cause FROM mahalle.history WHERE layer = 'tasks' ORDER BY id DESC LIMIT 1").fetchone() \
        == ("outputs recorded",)  # fmt: skip
    second = output(conn, tid, 100, kind="certificates")
    assert progress(conn, tid) == 50  # (50 % + 50 %) / 2
    conn.execute("UPDATE outputs SET quantity = 150 WHERE id = %s", (first,))
    assert progress(conn, tid) == 75  # a target met counts 100 %, never more
    conn.execute("UPDATE outputs SET kind = 'hires' WHERE id = %s", (second,))  # no longer counts
    assert progress(conn, tid) == 50
    conn.execute("DELETE FROM outputs WHERE id = %s", (first,))
    assert progress(conn, tid) == 0
    output(conn, tid, 20)
    conn.execute("UPDATE task_targets SET target = 40 WHERE task_id = %s AND kind = 'children_back_to_school'", (tid,))
    assert progress(conn, tid) == 25
    conn.execute("DELETE FROM task_targets WHERE task_id = %s AND kind = 'certificates'", (tid,))
    assert progress(conn, tid) == 50
    err = refused(conn, "UPDATE tasks SET progress = 90 WHERE id = %s", tid)
    assert err.diag.column_name == "progress" and "its targets and the outputs recorded against them" in str(err)
    task_view = planning.get_task(conn, tid)
    assert task_view["progress_source"] == "targets"
    assert task_view["targets"] == [{"kind": "children_back_to_school", "unit": "children", "target": 40,
                                     "achieved": 20}]  # fmt: skip


def test_targets_name_a_kind_of_output_and_a_positive_figure(conn, hoods):
    tid = task(conn, hoods[0])
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'smiles', 10)", tid)
    assert err.diag.column_name == "kind" and "people_reached" in str(err)
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 0)", tid)
    assert err.diag.column_name == "target"
    conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 16)", (tid,))
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 10)", tid)
    assert isinstance(err, psycopg.errors.UniqueViolation)


def test_linked_interventions_still_decide_progress(conn, hoods):
    tid = task(conn, hoods[0])
    conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 10)", (tid,))
    output(conn, tid, 10, kind="hires")
    assert progress(conn, tid) == 100
    iid = one(conn, "INSERT INTO interventions (title, kind, geom) VALUES ('Light', 'lighting', "
                    "'SRID=4326;LINESTRING(24.901 60.101, 24.905 60.101)') RETURNING id")  # fmt: skip
    conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'interventions', %s)", (tid, iid))
    assert progress(conn, tid) == 0
    assert planning.get_task(conn, tid)["progress_source"] == "interventions"


def test_planners_and_field_workers_record_outputs_of_their_neighbourhood_only(conn, hoods):
    a, b = hoods
    task_a, task_b = task(conn, a), task(conn, b)
    assert one(conn, "SELECT count(*) FROM pg_policies WHERE tablename IN ('outputs', 'task_targets')") == 8
    act_as(conn, "pia", "planner", a)
    output(conn, task_a, 5)
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date) VALUES (%s, 'hires', 1, '2026-10-01')",
                  task_b)  # fmt: skip
    assert isinstance(err, psycopg.errors.ForeignKeyViolation)  # a task hidden from the writer looks missing
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date, geom) "
                        "VALUES (%s, 'hires', 1, '2026-10-01', %s)", task_b, IN_A)  # fmt: skip
    assert f"tasks {task_b} does not exist or is not one you may see" in str(err)  # placed in A, still B's task
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 3)", task_b)
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)
    assert one(conn, "SELECT count(*) FROM outputs") == 1  # B's are not visible either
    act_as(conn, "fred", "field", a)
    output(conn, task_a, 12, kind="outreach_visits")  # field workers count their outreach
    err = refused(conn, "INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 3)", task_a)
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)  # the plan is the planners'
    err = refused(conn, "DELETE FROM outputs WHERE task_id = %s", task_a)
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)
