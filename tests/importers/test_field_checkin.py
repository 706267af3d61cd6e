"""``importers.field_checkin``: a checkout edited by another program (GDAL's ogrinfo and ogr2ogr as the field app),
with edits made on the server meanwhile, checked back in — and checked in again."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from core.crs import STORAGE
from core.errors import Forbidden
from gis.export import ExportOptions, export
from gis.field_checkout import CHECKOUT_TABLE, checkout
from importers.field_checkin import CheckinProblem, CheckinReport, checkin
from layers import edit
from tests.gis.field_samples import LAYERS, NORTH, act_as, append_from_geojson, file_rows, make_place, sql_in

NEW_UID = "6f1c5a1e-2b7d-4c3e-9a51-0d5e8f7a4b21"


@pytest.fixture
def place(conn) -> dict[str, int]:
    return make_place(conn)


@pytest.fixture
def planner(conn, place) -> psycopg.Connection:
    """The test connection as Amina, a planner of the north (who checks out and in)."""
    return act_as(conn, "amina", {"planner": [place[NORTH]]})


@pytest.fixture
def server(db_url, place):
    """Another planner, Sara, editing on the server between the checkout and the check-in."""
    with psycopg.connect(db_url, autocommit=True) as c:
        yield act_as(c, "sara", {"planner": None})


def one(conn: psycopg.Connection, query: str, *params) -> tuple:
    return conn.execute(query, params).fetchone()


def workshop(conn: psycopg.Connection, name: str) -> dict:
    row = conn.execute(
        "SELECT id, uid::text, version, status, note, employees, pollutants, ST_AsBinary(geom) FROM workshops "
        "WHERE name = %s",
        [name],
    ).fetchone()
    keys = ("id", "uid", "version", "status", "note", "employees", "pollutants", "wkb")
    return dict(zip(keys, row, strict=True)) if row else {}


def history_rows(conn: psycopg.Connection) -> int:
    return one(conn, "SELECT count(*) FROM mahalle.history")[0]


def names_in(path: Path) -> dict[tuple[str, int], str]:
    """The name of each row of the file by (layer, GeoPackage fid)."""
    return {(layer, fid): name for layer in LAYERS for fid, name in file_rows(path, f"SELECT fid, name FROM {layer}")}


def by_name(report: CheckinReport, names: dict[tuple[str, int], str]) -> dict[str, tuple[str, str]]:
    """(op, status) of each reported row, by the row's name in the file."""
    return {names[r.layer, r.fid]: (r.op, r.status) for r in report.rows}


def new_workshop(name: str, lon: float, lat: float, **properties) -> dict:
    props = {"name": name, "kind": "scrap", "polluting": False, "licence": "unknown", "status": "active", **properties}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def test_field_edits_with_server_edits_meanwhile(planner, server, catalogue, place, tmp_path):
    conn = planner
    out = tmp_path / "north.gpkg"
    taken = checkout(conn, catalogue, NORTH, LAYERS, out, user="amina")
    before = {name: workshop(conn, name) for name in ("Yard A", "Yard B", "Yard C", "Yard D", "Yard E")}
    names = names_in(out)

    # In the field (GDAL edits the file): two updates, a move, two deletes, three new rows.
    sql_in(out, "UPDATE workshops SET status = 'sealed' WHERE name = 'Yard A'")
    sql_in(out, "UPDATE workshops SET status = 'sealed', employees = 0 WHERE name = 'Yard B'")
    sql_in(out, "UPDATE workshops SET geom = AsGPB(ST_GeomFromText('POINT(24.9111 60.1611)', 4326)) "
                "WHERE name = 'Yard E'")  # fmt: skip
    sql_in(out, "DELETE FROM workshops WHERE name IN ('Yard C', 'Yard D')")
    sql_in(out, "UPDATE streets SET surface = 'gravel' WHERE name = 'North lane'")
    sql_in(out, "UPDATE streets SET lighting = 'unlit' WHERE name = 'Border street'")  # in the south: not hers
    append_from_geojson(out, "workshops", [
        new_workshop("New yard", 24.912, 60.1655, employees=2),  # no uid: one is derived
        new_workshop("Tagged yard", 24.913, 60.1656, uid=NEW_UID),  # QField fills uid itself
        new_workshop("Bad yard", 24.914, 60.1657, pollutants="smoke"),  # pollutants but not polluting
    ], tmp_path)  # fmt: skip

    # On the server meanwhile (Sara): Yard A's note, Yard C's staff, Yard E deleted, the lane paved with gravel too.
    edit.patch(server, catalogue["workshops"], before["Yard A"]["id"],
               edit.parse_feature(catalogue["workshops"], {"properties": {"note": "owner called"}}, patch=True),
               before["Yard A"]["version"], STORAGE)  # fmt: skip
    server.execute("UPDATE workshops SET employees = 12 WHERE name = 'Yard C'")
    server.execute("DELETE FROM workshops WHERE name = 'Yard E'")
    server.execute("UPDATE streets SET surface = 'gravel' WHERE name = 'North lane'")
    lane_version = one(server, "SELECT version FROM streets WHERE name = 'North lane'")[0]

    names |= names_in(out)
    report = checkin(conn, catalogue, out, "amina")
    assert report.checkout == str(taken.id)
    outcome = by_name(report, names)
    assert outcome == {
        "Yard A": ("update", "conflict"),  # changed on both sides
        "Yard B": ("update", "updated"),
        "Yard C": ("delete", "conflict"),  # deleted in the field, changed on the server
        "Yard D": ("delete", "deleted"),
        "Yard E": ("update", "conflict"),  # moved in the field, deleted on the server
        "North lane": ("update", "unchanged"),  # the server already holds the field's value
        "Border street": ("update", "refused"),
        "New yard": ("insert", "inserted"),
        "Tagged yard": ("insert", "inserted"),
        "Bad yard": ("insert", "refused"),
    }
    assert report.counts() == {"inserted": 2, "updated": 1, "deleted": 1, "unchanged": 1, "conflict": 3,
                               "refused": 2, "resolved": 0}  # fmt: skip
    reasons = {r.uid: r.message for r in report.rows}
    assert "you may not change streets feature" in reasons[one(conn, "SELECT uid::text FROM streets "
                                                                  "WHERE name = 'Border street'")[0]]  # fmt: skip
    assert "pollutants are listed but the workshop is not marked as polluting" in " ".join(
        m for m in reasons.values() if m
    )
    conflicts = [r for r in report.rows if r.status == "conflict"]
    assert all(r.message.startswith("conflict: ") and r.conflict_id for r in conflicts)

    # Clean changes applied, the server's edits kept, nothing lost.
    b = workshop(conn, "Yard B")
    assert (b["status"], b["employees"], b["version"]) == ("sealed", 0, before["Yard B"]["version"] + 1)
    assert b["wkb"] == before["Yard B"]["wkb"]  # the geometry came back exactly as it went out
    a = workshop(conn, "Yard A")
    assert (a["status"], a["note"]) == ("active", "owner called")
    assert workshop(conn, "Yard C")["employees"] == 12 and workshop(conn, "Yard D") == {}
    assert workshop(conn, "Yard E") == {}  # not brought back by the field's edit: a planner decides
    assert one(conn, "SELECT version FROM streets WHERE name = 'North lane'")[0] == lane_version
    assert one(conn, "SELECT lighting FROM streets WHERE name = 'Border street'")[0] == "lit"
    ((fid,),) = file_rows(out, "SELECT fid FROM workshops WHERE name = 'New yard'")
    derived = str(uuid.uuid5(taken.id, f"workshops/{fid}"))  # from the checkout and the row's GeoPackage fid
    assert workshop(conn, "New yard")["uid"] == derived and workshop(conn, "New yard")["employees"] == 2
    assert workshop(conn, "Tagged yard")["uid"] == NEW_UID
    assert workshop(conn, "Bad yard") == {}

    # Every conflict waits for review with what the field sent and what the server holds.
    queue = conn.execute(
        "SELECT id, source, op, layer, feature_id, base_version, payload, server, message, created_by "
        "FROM field_changes WHERE state = 'conflict' ORDER BY id"
    ).fetchall()
    assert sorted(c.conflict_id for c in conflicts) == [q[0] for q in queue]
    assert {(q[1], q[2], q[4]) for q in queue} == {
        ("geopackage", "update", before["Yard A"]["id"]),
        ("geopackage", "delete", before["Yard C"]["id"]),
        ("geopackage", "update", before["Yard E"]["id"]),
    }
    a_conflict = next(q for q in queue if q[4] == before["Yard A"]["id"])
    assert a_conflict[6]["properties"] == {"status": "sealed"} and "geometry" not in a_conflict[6]  # what it changed
    assert a_conflict[7]["properties"]["note"] == "owner called"
    assert a_conflict[5] == 1 and a_conflict[9] == "amina"
    e_conflict = next(q for q in queue if q[4] == before["Yard E"]["id"])
    assert e_conflict[7] is None and e_conflict[6]["geometry"] == {"type": "Point", "coordinates": [24.9111, 60.1611]}

    # The same file again: nothing applied twice, the same conflicts, none recorded twice.
    history, changes = history_rows(conn), one(conn, "SELECT count(*) FROM field_changes")[0]
    again = checkin(conn, catalogue, out, "amina")
    counts = again.counts()
    assert (counts["inserted"], counts["updated"], counts["deleted"]) == (0, 0, 0)
    assert counts["conflict"] == 3 and counts["refused"] == 2
    assert sorted(r.conflict_id for r in again.rows if r.status == "conflict") == [q[0] for q in queue]
    assert history_rows(conn) == history and one(conn, "SELECT count(*) FROM field_changes")[0] == changes


def test_a_second_checkin_after_server_edits_of_what_the_first_brought(planner, server, catalogue, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(planner, catalogue, NORTH, ["workshops"], out, user="amina")
    sql_in(out, "UPDATE workshops SET status = 'sealed' WHERE name = 'Yard B'")
    append_from_geojson(out, "workshops", [new_workshop("New yard", 24.912, 60.1655)], tmp_path)
    first = checkin(planner, catalogue, out, "amina")
    assert first.counts()["updated"] == 1 and first.counts()["inserted"] == 1
    # A planner goes on editing what the check-in brought: the file, checked in again, must not undo it.
    server.execute("UPDATE workshops SET status = 'relocated' WHERE name IN ('Yard B', 'New yard')")
    again = checkin(planner, catalogue, out, "amina")
    assert {r.status for r in again.rows} == {"unchanged"} and len(again.rows) == 2
    assert {r[0] for r in planner.execute("SELECT status FROM workshops WHERE name IN ('Yard B', 'New yard')")} == {
        "relocated"
    }


def test_an_untouched_checkout_changes_nothing(planner, catalogue, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(planner, catalogue, NORTH, [*LAYERS, "parcels"], out, user="amina")
    history = history_rows(planner)
    report = checkin(planner, catalogue, out, "amina")
    assert report.rows == [] and history_rows(planner) == history


def test_a_field_worker_changes_only_what_the_field_may(conn, catalogue, place, tmp_path):
    fw = act_as(conn, "farid", {"field": [place[NORTH]]})
    out = tmp_path / "north.gpkg"
    checkout(fw, catalogue, NORTH, ["workshops"], out, user="farid")
    sql_in(out, "UPDATE workshops SET status = 'sealed' WHERE name = 'Yard A'")  # field_editable
    sql_in(out, "UPDATE workshops SET name = 'Renamed', status = 'closed' WHERE name = 'Yard B'")  # name is not
    sql_in(out, "DELETE FROM workshops WHERE name = 'Yard C'")
    append_from_geojson(out, "workshops", [new_workshop("New yard", 24.912, 60.1655)], tmp_path)

    report = checkin(fw, catalogue, out, "farid")
    statuses = {(r.op, r.status) for r in report.rows}
    assert statuses == {("update", "updated"), ("update", "refused"), ("delete", "refused"), ("insert", "refused")}
    why = {r.op + ("" if r.status == "updated" else "-" + r.status): r.message or "" for r in report.rows}
    assert "you may change only status of workshops features" in why["update-refused"]
    assert "you may not delete workshops feature" in why["delete-refused"]
    assert "you may not add workshops in neighbourhood FLD-NORTH" in why["insert-refused"]
    assert "your roles: field in FLD-NORTH" in why["update-refused"]
    rows = dict(conn.execute("SELECT name, status FROM workshops WHERE name <> 'Yard S'").fetchall())
    assert rows == {"Yard A": "sealed", "Yard B": "warned", "Yard C": "active", "Yard D": "active", "Yard E": "warned"}


def test_a_viewer_cannot_check_in(conn, catalogue, place, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(conn, catalogue, NORTH, ["workshops"], out, user=None)
    sql_in(out, "UPDATE workshops SET status = 'sealed'")
    history = history_rows(conn)
    act_as(conn, "vera", {"viewer": None})
    with pytest.raises(Forbidden, match="do not allow you to change workshops anywhere; nothing was checked in"):
        checkin(conn, catalogue, out, "vera")
    act_as(conn, "admin", {"admin": None})
    assert history_rows(conn) == history
    assert one(conn, "SELECT count(*) FROM field_changes")[0] == 0


def _retable(path: Path, statement: str, *params) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(statement, params)
    db.close()


def test_files_that_cannot_be_checked_in_change_nothing(planner, catalogue, tmp_path):
    good = tmp_path / "north.gpkg"
    checkout(planner, catalogue, NORTH, ["workshops"], good, user="amina")
    sql_in(good, "DELETE FROM workshops")  # were any of these applied, the workshops would go
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database", encoding="utf-8")
    plain_sqlite = tmp_path / "plain.gpkg"
    sqlite3.connect(plain_sqlite).execute("CREATE TABLE t (x)").connection.close()
    export_file = tmp_path / "export.gpkg"  # a GeoPackage, but an export, not a checkout
    export(planner, catalogue, ExportOptions(format="gpkg", layers=["workshops"]), export_file)
    unknown_layer, lost_column, newer = (tmp_path / f"{n}.gpkg" for n in ("unknown", "lost", "newer"))
    for copy in (unknown_layer, lost_column, newer):
        shutil.copy(good, copy)
    _retable(unknown_layer, f"UPDATE {CHECKOUT_TABLE} SET layers = ?", json.dumps(["workshops", "trees"]))
    _retable(lost_column, "ALTER TABLE workshops DROP COLUMN employees")
    _retable(newer, f"UPDATE {CHECKOUT_TABLE} SET format = 99")
    cases = {
        text: "is not a GeoPackage",
        plain_sqlite: "is an SQLite database but not a GeoPackage",
        export_file: "is a GeoPackage but not a Mahalle checkout",
        unknown_layer: "holds the layer 'trees', which this server does not know",
        lost_column: "the table workshops has lost its column(s) employees",
        newer: "newer format",
    }
    history = history_rows(planner)
    for path, message in cases.items():
        with pytest.raises(CheckinProblem, match=re.escape(message)):
            checkin(planner, catalogue, path, "amina")
    assert history_rows(planner) == history
    assert one(planner, "SELECT count(*) FROM workshops")[0] == 5  # every one of the north, as before


def test_a_copied_row_and_an_edited_uid(planner, catalogue, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(planner, catalogue, NORTH, ["workshops"], out, user="amina")
    # A copy of Yard A with its uid (a field app's "duplicate feature"), and a uid typed over.
    sql_in(out, "INSERT INTO workshops (uid, name, kind, polluting, licence, status, geom) SELECT uid, 'Yard A2', "
                "kind, 0, licence, status, geom FROM workshops WHERE name = 'Yard A'")  # fmt: skip
    sql_in(out, "UPDATE workshops SET uid = 'not-a-uuid', status = 'closed' WHERE name = 'Yard B'")
    sql_in(out, "UPDATE workshops SET uid = NULL, status = 'closed' WHERE name = 'Yard C'")
    sql_in(out, "INSERT INTO workshops (uid, name, kind, polluting, licence, status, geom) SELECT 'x-1', 'Yard X', "
                "kind, 0, licence, status, geom FROM workshops WHERE name = 'Yard A'")  # fmt: skip
    report = checkin(planner, catalogue, out, "amina")
    got = sorted((r.op, r.status, r.property) for r in report.rows)
    # The copy is a new feature; the edited and the cleared uid are refused, and Yard B and C not taken for deleted;
    # a new row whose uid is not a UUID is refused too.
    assert got == [("insert", "inserted", None), *[("update", "refused", "uid")] * 3]
    messages = " ".join(r.message for r in report.rows if r.status == "refused")
    assert "uid must not be edited" in messages and "'x-1' is not a UUID" in messages
    assert "was changed from" in messages and "to nothing" in messages
    assert workshop(planner, "Yard A2")["uid"] != workshop(planner, "Yard A")["uid"]
    assert workshop(planner, "Yard B")["status"] == "warned" and workshop(planner, "Yard C")["status"] == "active"
    assert workshop(planner, "Yard X") == {}


def test_a_feature_moved_in_the_field_lands_exactly_there(planner, catalogue, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(planner, catalogue, NORTH, ["workshops"], out, user="amina")
    x, y = 24.906123456789012, 60.165876543210987
    sql_in(out, f"UPDATE workshops SET geom = AsGPB(ST_GeomFromText('POINT({x!r} {y!r})', 4326)) WHERE name = 'Yard A'")
    report = checkin(planner, catalogue, out, "amina")
    assert [(r.op, r.status) for r in report.rows] == [("update", "updated")]
    assert one(planner, "SELECT ST_X(geom), ST_Y(geom) FROM workshops WHERE name = 'Yard A'") == (x, y)
    assert one(planner, "SELECT status FROM workshops WHERE name = 'Yard A'")[0] == "active"  # nothing else changed
