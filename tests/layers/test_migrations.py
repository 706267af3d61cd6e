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
