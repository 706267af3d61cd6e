"""Every change is kept: who, when, before and after; versions count up; features can be restored."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest

from core.db import attributed
from core.errors import NotFound, RuleViolation
from layers import history

LINE = "SRID=4326;LINESTRING(24.940 60.170, 24.942 60.171)"


def add_street(conn: psycopg.Connection, actor: str = "amina", **attrs: object) -> int:
    attrs = {"name": "Kuja 1", "surface": "earth", **attrs}
    cols = ", ".join(["geom", *attrs])
    marks = ", ".join(["%s::geometry", *["%s"] * len(attrs)])
    with attributed(conn, actor):
        return conn.execute(
            f"INSERT INTO streets ({cols}) VALUES ({marks}) RETURNING id", (LINE, *attrs.values())
        ).fetchone()[0]


def history_rows(conn: psycopg.Connection, layer: str, fid: int) -> list[tuple]:
    return conn.execute(
        "SELECT operation, version, actor, cause, before->>'surface', after->>'surface' "
        "FROM mahalle.history WHERE layer = %s AND feature_id = %s ORDER BY id",
        (layer, fid),
    ).fetchall()


def test_insert_update_delete_are_recorded_with_who_and_what(conn):
    sid = add_street(conn)
    with attributed(conn, "babak", cause="intervention 7 completed"):
        conn.execute("UPDATE streets SET surface = 'asphalt' WHERE id = %s", (sid,))
    with attributed(conn, "chloe"):
        conn.execute("DELETE FROM streets WHERE id = %s", (sid,))
    assert history_rows(conn, "streets", sid) == [
        ("INSERT", 1, "amina", None, None, "earth"),
        ("UPDATE", 2, "babak", "intervention 7 completed", "earth", "asphalt"),
        ("DELETE", 2, "chloe", None, "asphalt", None),
    ]


def test_direct_sql_edits_fall_back_to_the_database_role(conn):
    conn.execute("INSERT INTO streets (geom) VALUES (%s::geometry)", (LINE,))
    assert conn.execute("SELECT actor FROM mahalle.history").fetchone()[0] == conn.info.user


def test_version_counts_up_and_system_columns_are_kept(conn):
    sid = add_street(conn)
    created = conn.execute("SELECT created_at, created_by FROM streets WHERE id = %s", (sid,)).fetchone()
    for n in range(3):
        with attributed(conn, "editor"):
            conn.execute("UPDATE streets SET width_m = %s, version = 99, created_by = 'x' WHERE id = %s", (n + 4, sid))
    version, created_at, created_by, updated_by = conn.execute(
        "SELECT version, created_at, created_by, updated_by FROM streets WHERE id = %s", (sid,)
    ).fetchone()
    assert version == 4
    assert (created_at, created_by) == created
    assert updated_by == "editor"


def test_ids_cannot_be_changed(conn):
    sid = add_street(conn)
    with pytest.raises(psycopg.Error, match="id and uid of a feature cannot be changed"):
        conn.execute("UPDATE streets SET id = id + 1000 WHERE id = %s", (sid,))


def test_history_keeps_the_exact_geometry(conn):
    sid = add_street(conn)
    same = conn.execute(
        "SELECT ST_AsEWKB(s.geom) = ST_AsEWKB((h.after->>'geom')::geometry) "
        "FROM streets s JOIN mahalle.history h ON h.feature_id = s.id AND h.layer = 'streets' WHERE s.id = %s",
        (sid,),
    ).fetchone()[0]
    assert same is True


def test_feature_history_shows_geometry_as_geojson(conn):
    sid = add_street(conn)
    rows = history.feature_history(conn, "streets", sid)
    assert rows[0]["after"]["geom"]["type"] == "MultiLineString"
    assert rows[0]["after"]["surface"] == "earth"


def test_restore_brings_back_a_deleted_feature_with_its_id(conn):
    sid = add_street(conn, width_m=6.5)
    uid = conn.execute("SELECT uid FROM streets WHERE id = %s", (sid,)).fetchone()[0]
    with attributed(conn, "chloe"):
        conn.execute("DELETE FROM streets WHERE id = %s", (sid,))
    with attributed(conn, "dara"):
        new_version = history.restore(conn, "streets", sid)
    row = conn.execute(
        "SELECT uid, width_m, version, created_by, length_m > 100 FROM streets WHERE id = %s", (sid,)
    ).fetchone()
    assert row == (uid, 6.5, 2, "amina", True)
    assert new_version == 2
    last = conn.execute(
        "SELECT operation, actor, cause FROM mahalle.history WHERE feature_id = %s ORDER BY id DESC LIMIT 1", (sid,)
    ).fetchone()
    assert last == ("INSERT", "dara", "restore of version 1")


def test_restore_an_earlier_version_of_a_live_feature(conn):
    sid = add_street(conn)
    with attributed(conn, "babak"):
        conn.execute(
            "UPDATE streets SET surface = 'asphalt', geom = ST_Translate(geom, 0.001, 0) WHERE id = %s", (sid,)
        )
    with attributed(conn, "dara"):
        assert history.restore(conn, "streets", sid, version=1) == 3
    surface, moved_back = conn.execute(
        "SELECT surface, ST_Equals(geom, ST_Multi(%s::geometry)) FROM streets WHERE id = %s", (LINE, sid)
    ).fetchone()
    assert (surface, moved_back) == ("earth", True)


def test_restoring_an_unknown_version_is_a_clear_error(conn):
    sid = add_street(conn)
    with pytest.raises(NotFound, match="has no version 7"):
        history.restore(conn, "streets", sid, version=7)


def test_layer_as_of_a_past_moment(conn, owner_conn):
    a = add_street(conn, name="A")
    b = add_street(conn, name="B")
    owner_conn.execute("UPDATE mahalle.history SET at = '2026-01-01'")  # pretend both were mapped in January
    with attributed(conn, "babak"):
        conn.execute("UPDATE streets SET surface = 'asphalt' WHERE id = %s", (a,))
        conn.execute("DELETE FROM streets WHERE id = %s", (b,))
        conn.execute("INSERT INTO streets (name, geom) VALUES ('C', %s::geometry)", (LINE,))
    owner_conn.execute("UPDATE mahalle.history SET at = '2026-06-01' WHERE at > '2026-01-01'")

    january = {
        r["state"]["name"]: r["state"]["surface"] for r in history.layer_as_of(conn, "streets", datetime(2026, 3, 1))
    }
    assert january == {"A": "earth", "B": "earth"}
    typed = conn.execute(
        "SELECT name, surface, GeometryType(geom) FROM mahalle.as_of(NULL::streets, '2026-07-01') ORDER BY name"
    ).fetchall()
    assert typed == [("A", "asphalt", "MULTILINESTRING"), ("C", "unknown", "MULTILINESTRING")]


def test_a_refused_edit_writes_no_history(conn):
    sid = add_street(conn)
    before = conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0]
    with pytest.raises(RuleViolation, match="surface 'marble' is not one of"), attributed(conn, "x"):
        conn.execute("UPDATE streets SET surface = 'marble' WHERE id = %s", (sid,))
    assert conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0] == before
    assert conn.execute("SELECT surface, version FROM streets WHERE id = %s", (sid,)).fetchone() == ("earth", 1)


def test_multi_row_statements_write_one_history_row_per_row(conn, owner_conn):
    ids = [add_street(conn, name=f"S{n}") for n in range(3)]
    owner_conn.execute("DELETE FROM mahalle.history")
    with attributed(conn, "babak", cause="resurvey"):
        conn.execute("UPDATE streets SET surface = 'gravel' WHERE id = ANY(%s)", (ids[:2],))
        conn.execute("DELETE FROM streets WHERE id = ANY(%s)", (ids[1:],))
        conn.execute(
            "INSERT INTO streets (name, geom) SELECT 'N' || n, %s::geometry FROM generate_series(1, 2) n", (LINE,)
        )
    rows = conn.execute(
        "SELECT operation, feature_id, version, actor, cause, before->>'surface', after->>'surface', after->>'name' "
        "FROM mahalle.history ORDER BY operation, feature_id"
    ).fetchall()
    new = [r[0] for r in conn.execute("SELECT id FROM streets WHERE name LIKE 'N%' ORDER BY id").fetchall()]
    assert rows == [
        ("DELETE", ids[1], 2, "babak", "resurvey", "gravel", None, None),
        ("DELETE", ids[2], 1, "babak", "resurvey", "earth", None, None),
        *[("INSERT", i, 1, "babak", "resurvey", None, "unknown", f"N{n}") for n, i in enumerate(new, 1)],
        ("UPDATE", ids[0], 2, "babak", "resurvey", "earth", "gravel", "S0"),
        ("UPDATE", ids[1], 2, "babak", "resurvey", "earth", "gravel", "S1"),
    ]


def test_history_states_are_the_whole_row_with_the_geometry_as_hex_ewkb(conn):
    for n in range(3):
        add_street(conn, name=f"S{n}")
    with attributed(conn, "babak"):
        conn.execute("UPDATE streets SET geom = ST_Translate(geom, 0.001, 0), width_m = 5")
    # What the row-level trigger wrote: to_jsonb of the row, geometry replaced by hex EWKB.
    same = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE h.after = mahalle.row_state(to_jsonb(s), s.geom)) "
        "FROM streets s JOIN mahalle.history h ON h.layer = 'streets' AND h.feature_id = s.id "
        "AND h.operation = 'UPDATE'"
    ).fetchone()
    assert same == (3, 3)


def test_a_column_added_later_still_reaches_the_history(conn, owner_conn):
    owner_conn.execute("ALTER TABLE streets ADD COLUMN drainage text")  # e.g. by hand, without ddl.py
    sid = add_street(conn, drainage="open ditch")
    after, geom = conn.execute(
        "SELECT h.after, encode(ST_AsEWKB(s.geom), 'hex') FROM mahalle.history h JOIN streets s ON s.id = h.feature_id "
        "WHERE h.layer = 'streets' AND h.feature_id = %s",
        (sid,),
    ).fetchone()
    assert (after["drainage"], after["geom"]) == ("open ditch", geom)


def test_every_layer_history_function_lists_the_table_columns(conn, catalogue):
    from layers import ddl

    for layer in catalogue:
        columns = conn.execute(
            "SELECT array_agg(attname::text ORDER BY attname) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (f"public.{layer.name}",),
        ).fetchone()[0]
        assert sorted(ddl.table_columns(layer)) == columns, layer.name
        if layer.has_geometry:  # its history function lists them (the fast path), as migration 0004 made it
            source = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (f"history_{layer.name}",))
            assert "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]" in source.fetchone()[0], layer.name
