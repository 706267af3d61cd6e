"""Integrity held by the database (migration 0005): linked features cannot be deleted, link rows never vanish
without history, no-op updates write no version, a restore cannot take a reused uid, refusals of a new row say
"new feature", and concurrent creates with one client uid make one feature. Plain SQL where QGIS would write it."""

from __future__ import annotations

import concurrent.futures
import time
import uuid

import psycopg
import pytest

from api.problems import status_of
from core.crs import STORAGE
from core.db import HAS_DEPENDENTS, UID_TAKEN, attributed
from core.errors import Conflict, HasDependents
from layers import edit, history, migrate, planning
from layers.catalogue import core_catalogue

HOOD = "SRID=4326;MULTIPOLYGON(((24.90 60.10, 24.92 60.10, 24.92 60.11, 24.90 60.11, 24.90 60.10)))"
AREA = "SRID=4326;POLYGON((24.901 60.101, 24.903 60.101, 24.903 60.102, 24.901 60.102, 24.901 60.101))"
LINE = "SRID=4326;LINESTRING(24.901 60.105, 24.903 60.105)"


@pytest.fixture
def hood(conn: psycopg.Connection) -> int:
    return one(conn, "INSERT INTO neighbourhoods (code, name, geom) VALUES ('A', 'Alpha', %s) RETURNING id", HOOD)


def one(conn: psycopg.Connection, query: str, *params: object) -> object:
    return conn.execute(query, params).fetchone()[0]


def street(conn: psycopg.Connection, name: str = "Kuja 1", surface: str = "earth") -> int:
    return one(conn, "INSERT INTO streets (name, surface, geom) VALUES (%s, %s, %s) RETURNING id", name, surface, LINE)


def paving(conn: psycopg.Connection, title: str, *streets: int) -> int:
    iid = one(conn, "INSERT INTO interventions (title, kind, geom) VALUES (%s, 'paving', %s) RETURNING id", title, AREA)
    for sid in streets:
        conn.execute("INSERT INTO intervention_targets (intervention_id, layer, feature_id) VALUES (%s, 'streets', %s)",
                     (iid, sid))  # fmt: skip
    return iid


def task(conn: psycopg.Connection, title: str, *links: tuple[str, int]) -> int:
    tid = one(conn, "INSERT INTO tasks (title, domain) VALUES (%s, 'urban_physical') RETURNING id", title)
    for layer, fid in links:
        conn.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, %s, %s)", (tid, layer, fid))
    return tid


def refused(conn: psycopg.Connection, statement: str, *params: object) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement, params)
    return err.value


def history_count(conn: psycopg.Connection, layer: str | None = None) -> int:
    return one(conn, "SELECT count(*) FROM mahalle.history WHERE %s::text IS NULL OR layer = %s", layer, layer)


# Deleting a feature that planning rows name ------------------------------------------------------------------


def test_deleting_a_targeted_or_linked_feature_is_refused_in_a_planners_words(conn, hood):
    sid = street(conn)
    iid = paving(conn, "Paving of Kuja 1", sid)
    tid = task(conn, "Walk the lanes", ("streets", sid))
    err = refused(conn, "DELETE FROM streets WHERE id = %s", sid)  # as QGIS would
    assert err.diag.sqlstate == HAS_DEPENDENTS
    assert err.diag.message_primary == (
        f"streets feature {sid} cannot be deleted: intervention {iid} 'Paving of Kuja 1' targets it; "
        f"task {tid} 'Walk the lanes' links it. Remove those links first."
    )
    with pytest.raises(HasDependents) as through_edit, attributed(conn, "amina"):
        edit.delete(conn, core_catalogue()["streets"], sid, None)
    assert status_of(through_edit.value) == 409 and "Remove those links first" in str(through_edit.value)
    assert one(conn, "SELECT count(*) FROM streets") == 1
    assert one(conn, "SELECT count(*) FROM intervention_targets") + one(conn, "SELECT count(*) FROM task_links") == 2

    other = street(conn, "Kuja 2")
    task(conn, "Light Kuja 2", ("streets", other))
    several = refused(conn, "DELETE FROM streets")
    assert f"streets feature {sid} cannot be deleted" in str(several)
    assert "1 more of the features being deleted are linked too" in str(several)

    with attributed(conn, "amina"):
        planning.remove_target(conn, iid, planning.Target("streets", sid))
        planning.unlink(conn, tid, planning.Target("streets", sid))
        edit.delete(conn, core_catalogue()["streets"], sid, None)
    assert one(conn, "SELECT count(*) FROM streets WHERE id = %s", sid) == 0


def test_an_intervention_linked_by_a_task_is_guarded_too(conn, hood):
    iid = paving(conn, "Paving", street(conn))
    tid = task(conn, "Pave the lanes", ("interventions", iid))
    err = refused(conn, "DELETE FROM interventions WHERE id = %s", iid)
    assert f"interventions feature {iid} cannot be deleted: task {tid} 'Pave the lanes' links it" in str(err)
    with pytest.raises(HasDependents), attributed(conn, "sara"):
        planning.delete_intervention(conn, iid)
    assert one(conn, "SELECT count(*) FROM task_links") == 1


def test_a_delete_with_cascade_removes_the_links_with_their_history(conn, hood):
    sid = street(conn)
    iid = paving(conn, "Paving", sid)
    task(conn, "Walk", ("streets", sid))
    with attributed(conn, "leila"):
        conn.execute("SELECT set_config('mahalle.cascade', 'on', true)")
        conn.execute("DELETE FROM streets WHERE id = %s", (sid,))
    assert one(conn, "SELECT count(*) FROM intervention_targets") == one(conn, "SELECT count(*) FROM task_links") == 0
    rows = conn.execute(
        "SELECT layer, actor, cause, before->>'feature_id' FROM mahalle.history WHERE operation = 'DELETE' "
        "ORDER BY layer"
    ).fetchall()
    cause = f"streets feature {sid} deleted with cascade"
    assert rows == [("intervention_targets", "leila", cause, str(sid)), ("streets", "leila", cause, None),
                    ("task_links", "leila", cause, str(sid))]  # fmt: skip
    assert one(conn, "SELECT count(*) FROM interventions WHERE id = %s", iid) == 1


def test_deleting_an_intervention_or_a_task_keeps_the_history_of_its_links(conn, hood):
    a, b = street(conn, "A"), street(conn, "B")
    iid = paving(conn, "Paving A and B", a, b)
    tid = task(conn, "Streets", ("interventions", iid), ("streets", a))
    conn.execute("INSERT INTO task_updates (task_id, note) VALUES (%s, 'started')", (tid,))
    links = {("intervention_targets", r[0]) for r in conn.execute("SELECT id FROM intervention_targets").fetchall()} | {
        ("task_links", r[0]) for r in conn.execute("SELECT id FROM task_links").fetchall()
    }
    assert len(links) == 4

    with attributed(conn, "sara"):
        planning.delete_intervention(conn, iid, cascade=True)  # its targets go by the foreign key, its task link too
    with attributed(conn, "sara"):
        planning.delete_task(conn, tid)  # its links and updates go by the foreign key
    assert one(conn, "SELECT count(*) FROM intervention_targets") == one(conn, "SELECT count(*) FROM task_links") == 0
    kept = conn.execute(
        "SELECT layer, feature_id, actor, before->>'layer' FROM mahalle.history "
        "WHERE operation = 'DELETE' AND layer IN ('intervention_targets', 'task_links') ORDER BY layer, feature_id"
    ).fetchall()
    assert {(layer, fid) for layer, fid, _, _ in kept} == links
    assert {actor for _, _, actor, _ in kept} == {"sara"}
    assert sorted(linked for _, _, _, linked in kept) == ["interventions", "streets", "streets", "streets"]
    assert history_count(conn, "task_updates") == 2  # inserted, deleted


# Updates that change nothing ------------------------------------------------------------------------------------


def test_an_update_that_changes_nothing_writes_no_version_and_no_history(conn):
    sid = street(conn)
    stamped = "SELECT version, created_at, created_by, updated_at, updated_by FROM streets WHERE id = %s"
    before = conn.execute(stamped, (sid,)).fetchone()
    statements = [
        "UPDATE streets SET name = name, surface = 'earth' WHERE id = %s",
        "UPDATE streets SET geom = geom WHERE id = %s",
        # what QGIS sends when a planner types into the columns the database owns
        "UPDATE streets SET version = 99, created_by = 'me', updated_by = 'me', updated_at = '2001-01-01', "
        "created_at = '2001-01-01' WHERE id = %s",
    ]
    for statement in statements:
        with attributed(conn, "babak"):
            conn.execute(statement, (sid,))
    assert conn.execute(stamped, (sid,)).fetchone() == before
    assert history_count(conn) == 1  # the insert

    with attributed(conn, "babak"):
        conn.execute("UPDATE streets SET width_m = 6, version = 99, created_by = 'me' WHERE id = %s", (sid,))
    version, created_at, created_by, updated_at, updated_by = conn.execute(stamped, (sid,)).fetchone()
    assert (version, created_at, created_by, updated_by) == (2, before[1], before[2], "babak")
    assert updated_at > before[3]
    assert history_count(conn) == 2


def test_one_statement_over_changed_and_unchanged_rows_versions_only_the_changed(conn):
    paved, earth = street(conn, "P", "asphalt"), street(conn, "E", "earth")
    conn.execute("UPDATE streets SET surface = 'asphalt'")
    assert conn.execute("SELECT id, version FROM streets ORDER BY id").fetchall() == [(paved, 1), (earth, 2)]
    updates = conn.execute("SELECT feature_id FROM mahalle.history WHERE operation = 'UPDATE'").fetchall()
    assert updates == [(earth,)]


def test_a_no_op_patch_keeps_the_version_even_with_if_match(conn):
    layer = core_catalogue()["streets"]
    sid = street(conn)
    with attributed(conn, "x"):
        same = edit.patch(conn, layer, sid, edit.parse_feature(layer, {"properties": {"name": "Kuja 1"}}, patch=True),
                          1, STORAGE)  # fmt: skip
    assert same == 1 and history_count(conn) == 1


# Restore ------------------------------------------------------------------------------------------------------


def test_a_restore_whose_uid_was_taken_meanwhile_is_a_conflict(conn):
    gone = street(conn, "Old lane")
    uid = one(conn, "SELECT uid FROM streets WHERE id = %s", gone)
    conn.execute("DELETE FROM streets WHERE id = %s", (gone,))
    taker = one(conn, "INSERT INTO streets (uid, name, geom) VALUES (%s, 'New lane', %s) RETURNING id", uid, LINE)
    err = refused(conn, "SELECT mahalle.restore_feature('streets', %s)", gone)
    assert err.diag.sqlstate == UID_TAKEN
    with pytest.raises(Conflict) as conflict, attributed(conn, "x"):
        history.restore(conn, "streets", gone)
    assert status_of(conflict.value) == 409
    assert f"streets feature {gone} cannot be restored: its uid {uid} now belongs to streets feature {taker}" in str(
        conflict.value
    )
    conn.execute("DELETE FROM streets WHERE id = %s", (taker,))
    with attributed(conn, "x"):
        assert history.restore(conn, "streets", gone) == 2  # the uid is free again


# Messages for a new row ---------------------------------------------------------------------------------------


def test_refusals_of_a_row_being_inserted_say_new_feature(conn, hood):
    err = refused(conn, "INSERT INTO workshops (kind, geom) VALUES ('bakery', 'SRID=4326;POINT(24.91 60.105)')")
    assert err.diag.message_primary.startswith("workshops new feature: kind 'bakery' is not one of")
    err = refused(conn, "INSERT INTO streets (geom) VALUES ('SRID=4326;POINT(24.91 60.105)')")
    assert err.diag.message_primary.startswith("streets new feature: a point does not fit this layer")
    err = refused(conn, "INSERT INTO interventions (title, kind, planned_quantity, geom) VALUES ('x', 'paving', 5, %s)",
                  AREA)  # fmt: skip
    assert err.diag.message_primary.startswith("interventions new feature: the planned quantity 5 m2 differs")
    sid = street(conn)
    err = refused(conn, "UPDATE streets SET surface = 'marble' WHERE id = %s", sid)
    assert err.diag.message_primary.startswith(f"streets feature {sid}: surface 'marble'")


# Concurrent creates with one client uid -------------------------------------------------------------------------

OBSERVATIONS = core_catalogue()["observations"]


def observation(uid: str, note: str = "Rubble on the corner") -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.91, 60.105]},
            "properties": {"uid": uid, "category": "waste", "captured_at": "2026-11-20T10:15:00Z",
                           "note": note}}  # fmt: skip


def create(url: str, body: dict) -> tuple[int, int, bool]:
    with psycopg.connect(url, autocommit=True) as c, attributed(c, "field"):
        return edit.create(c, OBSERVATIONS, edit.parse_feature(OBSERVATIONS, body))


def wait_until_blocked(conn: psycopg.Connection) -> None:
    deadline = time.monotonic() + 10
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while one(conn, query) == 0:
        assert time.monotonic() < deadline, "the second create never waited for the first"
        time.sleep(0.02)


@pytest.mark.parametrize("first_commits", [True, False])
def test_a_create_racing_another_with_the_same_uid_waits_and_returns_its_feature(conn, db_url, first_commits):
    uid = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(1) as pool, psycopg.connect(db_url, autocommit=True) as first:
        try:
            with attributed(first, "field"):
                fid, _, created = edit.create(first, OBSERVATIONS, edit.parse_feature(OBSERVATIONS, observation(uid)))
                assert created
                second = pool.submit(create, db_url, observation(uid))
                wait_until_blocked(conn)  # on the uid the first has not committed yet
                assert not second.done()
                if not first_commits:
                    raise RuntimeError("the first client gives up")
        except RuntimeError:
            pass
        again, version, created = second.result(timeout=10)
    assert created is not first_commits and version == 1
    assert (again == fid) is first_commits
    assert one(conn, "SELECT count(*) FROM observations WHERE uid = %s", uid) == 1
    assert history_count(conn, "observations") == 1


def test_the_same_uid_with_other_content_is_a_conflict_naming_what_differs(conn, db_url):
    uid = str(uuid.uuid4())
    fid, _, _ = create(db_url, observation(uid))
    assert create(db_url, observation(uid)) == (fid, 1, False)
    moved = observation(uid, "Rubble cleared")
    moved["geometry"]["coordinates"] = [24.911, 60.105]
    with pytest.raises(Conflict) as err:
        create(db_url, moved)
    assert f"observations feature {fid} was already created with uid {uid}" in str(err.value)
    assert "other values for note, geometry" in str(err.value)
    assert one(conn, "SELECT count(*) FROM observations") == 1


# Migration -----------------------------------------------------------------------------------------------------


def test_the_integrity_migration_goes_down_and_up(conn, owner_db_url, hood):
    sid = street(conn)
    task(conn, "Walk", ("streets", sid))

    def guarded() -> int:
        return one(conn, "SELECT count(*) FROM pg_trigger WHERE tgname = 'z10_refuse_linked_delete'")

    assert guarded() == len(core_catalogue().layers)
    migrate.downgrade(owner_db_url, "0004")
    assert guarded() == 0
    conn.execute("UPDATE streets SET name = name WHERE id = %s", (sid,))  # as before: every update versions
    assert one(conn, "SELECT version FROM streets WHERE id = %s", sid) == 2
    migrate.upgrade(owner_db_url)
    assert guarded() == len(core_catalogue().layers)
    assert refused(conn, "DELETE FROM streets WHERE id = %s", sid).diag.sqlstate == HAS_DEPENDENTS
    conn.execute("UPDATE streets SET name = name WHERE id = %s", (sid,))
    assert one(conn, "SELECT version FROM streets WHERE id = %s", sid) == 2


def test_a_link_made_while_its_feature_is_being_deleted_never_dangles(conn, hood, db_url):
    """The link check locks the feature (FOR KEY SHARE): a concurrent delete waits, then meets the guard."""
    import threading

    sid = street(conn)
    tid = task(conn, "Survey")
    with psycopg.connect(db_url) as linker:  # holds the link, uncommitted
        linker.execute("INSERT INTO task_links (task_id, layer, feature_id) VALUES (%s, 'streets', %s)", (tid, sid))
        outcome: list[object] = []

        def delete() -> None:
            with psycopg.connect(db_url, autocommit=True) as other:
                try:
                    other.execute("DELETE FROM streets WHERE id = %s", (sid,))
                    outcome.append("deleted")
                except psycopg.Error as exc:
                    outcome.append(exc.diag.sqlstate)

        deleter = threading.Thread(target=delete)
        deleter.start()
        deleter.join(1.0)
        assert deleter.is_alive(), "the delete waits for the link's transaction"
        linker.commit()
        deleter.join(10)
    assert outcome == ["23M02"], "refused: the street now has a link"
    assert one(conn, "SELECT count(*) FROM task_links l JOIN streets s ON s.id = l.feature_id") == 1
