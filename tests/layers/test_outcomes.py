"""Outreach visits, referrals and needs (layers/visits.py, referrals.py, needs.py, layers/sql/outcomes.sql): where
they lie, the task outputs they count (kept by the database, changed only with them), and who may record them.
Written as plain SQL where QGIS would write it."""

from __future__ import annotations

import psycopg

from core.db import attributed
from layers import planning
from tests.layers import test_outputs
from tests.layers.test_outputs import IN_A, act_as, one, progress, refused, task

hoods = test_outputs.hoods  # the two neighbourhoods A and B, as a fixture here too


def service(conn: psycopg.Connection, where: str = IN_A, category: str = "school") -> int:
    return one(conn, "INSERT INTO service_points (name, category, geom, offers, audience, capacity) "
                     "VALUES ('Hope school', %s, %s, '{education,counselling}', '{children}', 120) RETURNING id",
               category, where)  # fmt: skip


def visit(conn: psycopg.Connection, tid: int, people: int, **more: object) -> int:
    cols = ", ".join(["task_id", "date", "people_served", *more])
    marks = ", ".join(["%s"] * (3 + len(more)))
    return one(conn, f"INSERT INTO visits ({cols}) VALUES ({marks}) RETURNING id",
               tid, "2026-10-05", people, *more.values())  # fmt: skip


def outputs_of(conn: psycopg.Connection, column: str, fid: int) -> dict[str, tuple]:
    query = f"SELECT kind, quantity, unit, female, male, neighbourhood_id, id FROM outputs WHERE {column} = %s"
    rows = conn.execute(query, (fid,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_a_visit_counts_in_its_tasks_outputs_and_they_follow_it(conn, hoods):
    a, _ = hoods
    tid = task(conn, a, "Counselling at partner schools")
    conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'people_reached', 100), "
                 "(%s, 'outreach_visits', 4)", (tid, tid))  # fmt: skip
    with attributed(conn, "leila"):
        vid = visit(
            conn,
            tid,
            30,
            female=18,
            male=12,
            sessions=3,
            team="{psychologist,social_worker,driver}",
            services="{counselling}",
            place_name="Partner municipality school",
        )
    got = outputs_of(conn, "visit_id", vid)
    assert {k: v[:4] for k, v in got.items()} == {
        "outreach_visits": (1, "visits", None, None),
        "people_reached": (30, "people", 18, 12),
        "sessions_given": (3, "sessions", None, None),
    }
    assert all(v[4] == a for v in got.values())  # no place of its own: the task's neighbourhood
    assert progress(conn, tid) == 27.5  # (30 % + 25 %) / 2
    people_output = got["people_reached"][5]
    conn.execute("UPDATE visits SET people_served = 50, female = 30, sessions = 0 WHERE id = %s", (vid,))
    got = outputs_of(conn, "visit_id", vid)
    assert set(got) == {"outreach_visits", "people_reached"}  # no sessions any more
    assert got["people_reached"][:4] == (50, "people", 30, 12) and got["people_reached"][5] == people_output
    assert one(conn, "SELECT version FROM outputs WHERE id = %s", people_output) == 2  # updated in place
    assert progress(conn, tid) == 37.5
    conn.execute("DELETE FROM visits WHERE id = %s", (vid,))
    assert outputs_of(conn, "visit_id", vid) == {}
    assert progress(conn, tid) == 0


def test_an_output_counted_from_a_visit_changes_only_with_it(conn, hoods):
    tid = task(conn, hoods[0])
    vid = visit(conn, tid, 10)
    oid = outputs_of(conn, "visit_id", vid)["people_reached"][5]
    for statement in ("UPDATE outputs SET quantity = 99 WHERE id = %s", "DELETE FROM outputs WHERE id = %s"):
        err = refused(conn, statement, oid)
        assert isinstance(err, psycopg.errors.CheckViolation)
        assert f"this output counts visit {vid}; change or delete the visit instead" in str(err)
    err = refused(conn, "INSERT INTO outputs (task_id, kind, quantity, date, visit_id) "
                        "VALUES (%s, 'hires', 1, '2026-10-01', %s)", tid, vid)  # fmt: skip
    assert err.diag.column_name == "visit_id"
    assert one(conn, "SELECT quantity FROM outputs WHERE id = %s", oid) == 10


def test_a_visit_lies_at_its_place_or_service_point_or_in_its_tasks_neighbourhood(conn, hoods):
    a, b = hoods
    tid = task(conn, b)
    school = service(conn)  # in A
    at_school = visit(conn, tid, 5, service_point_id=school)
    assert one(conn, "SELECT neighbourhood_id FROM visits WHERE id = %s", at_school) == a
    assert outputs_of(conn, "visit_id", at_school)["people_reached"][4] == a
    placed = visit(conn, tid, 5, geom="SRID=4326;POINT(24.93 60.105)")  # in B
    assert one(conn, "SELECT neighbourhood_id FROM visits WHERE id = %s", placed) == b
    err = refused(conn, "INSERT INTO visits (task_id, date, people_served, service_point_id) "
                        "VALUES (%s, '2026-10-05', 3, 999999)", tid)  # fmt: skip
    assert isinstance(err, psycopg.errors.ForeignKeyViolation) and "service points 999999 does not exist" in str(err)
    err = refused(conn, "INSERT INTO visits (task_id, date, people_served, female, male) "
                        "VALUES (%s, '2026-10-05', 3, 2, 2)", tid)  # fmt: skip
    assert "adds up to more than the people served" in str(err)


def test_a_task_with_visits_or_referrals_is_deleted_only_with_cascade(conn, hoods):
    tid = task(conn, hoods[0])
    visit(conn, tid, 8)
    conn.execute("INSERT INTO referrals (date, need, people, task_id) VALUES ('2026-10-06', 'legal_aid', 4, %s)",
                 (tid,))  # fmt: skip
    err = refused(conn, "DELETE FROM tasks WHERE id = %s", tid)
    assert "1 visits, 1 referrals are recorded against it" in str(err)  # (their outputs go with them)
    with attributed(conn, "leila"):
        planning.delete_task(conn, tid, cascade=True)
    assert one(conn, "SELECT count(*) FROM visits") == one(conn, "SELECT count(*) FROM outputs") == 0
    assert one(conn, "SELECT count(*) FROM referrals") == 0


def test_referrals_are_counted_between_services_and_for_their_task(conn, hoods):
    a, b = hoods
    tid = task(conn, b)
    school = service(conn)
    clinic = service(conn, "SRID=4326;POINT(24.93 60.105)", "clinic")
    rid = one(conn, "INSERT INTO referrals (date, from_service_id, to_service_id, need, people, followed_up, task_id) "
                    "VALUES ('2026-10-06', %s, %s, 'health_care', 12, 9, %s) RETURNING id",
              school, clinic, tid)  # fmt: skip
    assert one(conn, "SELECT neighbourhood_id FROM referrals WHERE id = %s", rid) == a  # where the referring one is
    assert {k: v[:2] for k, v in outputs_of(conn, "referral_id", rid).items()} == {"referrals_made": (12, "people")}
    untasked = one(conn, "INSERT INTO referrals (date, to_service_id, need, people) "
                         "VALUES ('2026-10-07', %s, 'food', 3) RETURNING id", clinic)  # fmt: skip
    assert one(conn, "SELECT neighbourhood_id FROM referrals WHERE id = %s", untasked) == b
    assert outputs_of(conn, "referral_id", untasked) == {}  # counted, but towards no task
    err = refused(conn, "UPDATE referrals SET followed_up = 13 WHERE id = %s", rid)
    assert "more people followed up than were referred" in str(err)
    err = refused(conn, "UPDATE referrals SET to_service_id = from_service_id WHERE id = %s", rid)
    assert "cannot refer people to itself" in str(err)
    err = refused(conn, "UPDATE referrals SET need = 'hugs' WHERE id = %s", rid)
    assert err.diag.column_name == "need"


def test_a_need_lies_in_its_area_or_its_neighbourhood(conn, hoods):
    a, b = hoods
    err = refused(conn, "INSERT INTO needs (category, count, date) VALUES ('food', 40, '2026-09-01')")
    assert isinstance(err, psycopg.errors.CheckViolation) and "say where the need is" in str(err)
    nid = one(conn, "INSERT INTO needs (category, count, unit, date, neighbourhood_id) "
                    "VALUES ('food', 40, 'households', '2026-09-01', %s) RETURNING id", b)  # fmt: skip
    assert one(conn, "SELECT neighbourhood_id FROM needs WHERE id = %s", nid) == b
    drawn = one(conn, "INSERT INTO needs (category, count, date, geom) VALUES ('housing', 7, '2026-09-01', "
                      "'SRID=4326;MULTIPOLYGON(((24.905 60.102, 24.91 60.102, 24.91 60.104, 24.905 60.102)))') "
                      "RETURNING id")  # fmt: skip
    where = conn.execute("SELECT neighbourhood_id, unit FROM needs WHERE id = %s", (drawn,)).fetchone()
    assert where == (a, "households")
    err = refused(conn, "INSERT INTO needs (category, count, date, neighbourhood_id) "
                        "VALUES ('food', 0, '2026-09-01', %s)", a)  # fmt: skip
    assert err.diag.column_name == "count"


def test_field_workers_record_visits_referrals_and_needs_where_they_work_only(conn, hoods):
    a, b = hoods
    task_a, task_b = task(conn, a), task(conn, b)
    act_as(conn, "fred", "field", a)
    vid = visit(conn, task_a, 14)
    assert outputs_of(conn, "visit_id", vid)["people_reached"][0] == 14
    assert one(conn, "SELECT created_by FROM outputs WHERE visit_id = %s LIMIT 1", vid) == "fred"
    conn.execute("INSERT INTO needs (category, count, date, neighbourhood_id) VALUES ('food', 5, '2026-10-01', %s)",
                 (a,))  # fmt: skip
    err = refused(conn, "INSERT INTO visits (task_id, date, people_served) VALUES (%s, '2026-10-05', 3)", task_b)
    assert isinstance(err, psycopg.errors.ForeignKeyViolation) and "is not one you may see" in str(err)  # hidden
    err = refused(conn, "UPDATE visits SET people_served = 99 WHERE id = %s", vid)  # field workers create only
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)
    act_as(conn, "vic", "viewer", a)
    err = refused(conn, "INSERT INTO referrals (date, need, people) VALUES ('2026-10-06', 'food', 1)")
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)


def test_a_tasks_column_and_its_progress_never_contradict_each_other(conn, hoods):
    tid = task(conn, hoods[0])
    state = lambda: conn.execute("SELECT status, progress FROM tasks WHERE id = %s", (tid,)).fetchone()  # noqa: E731
    conn.execute("UPDATE tasks SET progress = 30 WHERE id = %s", (tid,))
    assert state() == ("in_progress", 30)  # work has started: no longer "to do"
    conn.execute("UPDATE tasks SET status = 'done' WHERE id = %s", (tid,))
    assert state() == ("done", 100)  # progress by hand: done is 100 %
    conn.execute("UPDATE tasks SET status = 'in_progress', progress = 80 WHERE id = %s", (tid,))
    assert state() == ("in_progress", 80)  # reopened
    conn.execute("UPDATE tasks SET progress = 100 WHERE id = %s", (tid,))
    assert state() == ("done", 100)
    targeted = task(conn, hoods[0], "Hires")
    conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%s, 'hires', 16)", (targeted,))
    conn.execute("INSERT INTO outputs (task_id, kind, quantity, date) VALUES (%s, 'hires', 4, '2026-10-01')",
                 (targeted,))  # fmt: skip
    assert conn.execute("SELECT status, progress FROM tasks WHERE id = %s", (targeted,)).fetchone() == (
        "in_progress", 25)  # fmt: skip
    conn.execute("UPDATE tasks SET status = 'done' WHERE id = %s", (targeted,))  # closed below target: it says so
    assert conn.execute("SELECT status, progress FROM tasks WHERE id = %s", (targeted,)).fetchone() == ("done", 25)


def test_a_visit_never_lands_or_probes_where_its_writer_may_not_work(conn, hoods):
    a, b = hoods
    task_a, task_b = task(conn, a), task(conn, b)
    school_b = service(conn, "SRID=4326;POINT(24.93 60.105)")  # in B
    act_as(conn, "pia", "planner", a)
    err = refused(conn, "INSERT INTO visits (task_id, date, people_served, service_point_id) "
                        "VALUES (%s, '2026-10-05', 3, %s)", task_a, school_b)  # fmt: skip
    assert isinstance(err, psycopg.errors.InsufficientPrivilege) and "in neighbourhood B" in str(err)
    vid = visit(conn, task_a, 3)
    err = refused(conn, "UPDATE visits SET service_point_id = %s WHERE id = %s", school_b, vid)  # moved by reference
    assert isinstance(err, psycopg.errors.InsufficientPrivilege)
    assert one(conn, "SELECT neighbourhood_id FROM visits WHERE id = %s", vid) == a
    # Another neighbourhood's task and a task that does not exist are answered alike.
    hidden = refused(conn, "INSERT INTO visits (task_id, date, people_served) VALUES (%s, '2026-10-05', 1)", task_b)
    missing = refused(conn, "INSERT INTO visits (task_id, date, people_served) VALUES (%s, '2026-10-05', 1)", 987654)
    assert type(hidden) is type(missing) is psycopg.errors.ForeignKeyViolation
    assert hidden.diag.message_primary.replace(str(task_b), "N") == missing.diag.message_primary.replace("987654", "N")
    assert "does not exist or is not one you may see" in missing.diag.message_primary
