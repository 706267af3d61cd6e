"""Alembic: an empty database goes up to head and back down to nothing."""

from __future__ import annotations

import psycopg

from layers import migrate
from layers.catalogue import CORE_LAYERS


def public_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname IN ('public', 'mahalle')").fetchall()
    return {r[0] for r in rows}


def test_upgrade_to_head_and_downgrade_to_base(empty_db_url):
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
    tables = public_tables(empty_db_url)
    assert {layer.name for layer in CORE_LAYERS} | {"history", "layer_registry", "intervention_targets"} <= tables
    migrate.downgrade(empty_db_url, "base")
    assert migrate.current_revision(empty_db_url) is None
    assert public_tables(empty_db_url) <= {"spatial_ref_sys", "alembic_version"}
    migrate.upgrade(empty_db_url)  # and up again: downgrade left nothing behind that blocks it
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()


def test_registry_holds_the_catalogue(conn):
    names = {r[0] for r in conn.execute("SELECT name FROM mahalle.layer_registry").fetchall()}
    assert names == {layer.name for layer in CORE_LAYERS}


def _history_triggers(url: str) -> set[tuple[str, str, bool]]:
    """(table, trigger, row-level) of every history trigger."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tgrelid::regclass::text, tgname, (tgtype & 1) = 1 FROM pg_trigger WHERE tgname LIKE 'z90_history%'"
        ).fetchall()
    return set(rows)


def _edit_streets(url: str, name: str) -> list[tuple]:
    """Edit a few rows with multi-row statements; the history rows they wrote, and whether each state is
    the row's JSON with the geometry as hex EWKB (as the row-level trigger wrote it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) FROM mahalle.history").fetchone()[0]
        conn.execute(
            "INSERT INTO streets (name, geom) VALUES (%s, 'SRID=4326;LINESTRING(24.94 60.17, 24.95 60.17)'), (%s, "
            "'SRID=4326;LINESTRING(24.94 60.18, 24.95 60.18)')",
            (name, name),
        )
        conn.execute("UPDATE streets SET surface = 'asphalt' WHERE name = %s", (name,))
        conn.execute("INSERT INTO water_points (state, geom) VALUES ('working', 'SRID=4326;POINT(24.94 60.17)')")
        return conn.execute(
            "SELECT h.layer, h.operation, h.version, h.after - 'id' - 'uid' - 'created_at' - 'updated_at' - 'name', "
            "h.after = mahalle.row_state(to_jsonb(s), s.geom) OR h.layer <> 'streets' OR h.operation <> 'UPDATE' "
            "FROM mahalle.history h LEFT JOIN streets s ON h.layer = 'streets' AND s.id = h.feature_id "
            "WHERE h.id > %s ORDER BY h.id",
            (start,),
        ).fetchall()


def test_0004_statement_history_up_and_down(empty_db_url):
    from layers.custom import create_custom_layer, layer_from_definition

    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        definition = {
            "name": "water_points",
            "geometry_type": "Point",
            "attributes": [{"name": "state", "type": "text"}],
        }
        create_custom_layer(conn, layer_from_definition(definition))
    statement_level = _history_triggers(empty_db_url)
    assert ("water_points", "z90_history_update", False) in statement_level
    assert ("task_links", "z90_history_delete", False) in statement_level
    assert not any(row_level for *_, row_level in statement_level)

    migrate.downgrade(empty_db_url, "0003")
    row_level = _history_triggers(empty_db_url)
    later = {"outputs", "task_targets", "visits", "referrals", "needs"}  # tables made after 0004 (0009, 0011)
    assert {t for t, *_ in row_level} == {t for t, *_ in statement_level} - later  # every table, custom and planning
    assert all(name == "z90_history" and each_row for _, name, each_row in row_level)
    before = _edit_streets(empty_db_url, "old")

    migrate.upgrade(empty_db_url)
    assert _history_triggers(empty_db_url) == statement_level
    after = _edit_streets(empty_db_url, "new")
    assert before == after  # the same history rows, row by row
    assert [r[:3] for r in after] == [
        ("streets", "INSERT", 1),
        ("streets", "INSERT", 1),
        ("streets", "UPDATE", 2),
        ("streets", "UPDATE", 2),
        ("water_points", "INSERT", 1),
    ]
    assert all(r[4] for r in after)
