"""Foundation: history, registry, core and planning layers, planning link tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import json
from pathlib import Path

from alembic import op
from psycopg import sql

from layers import ddl
from layers.spec import Layer
from layers.sql import read

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LINK_TABLES = ("attachments", "task_updates", "task_links", "intervention_targets")
# The core layers as they were at this revision: a migration must build the same tables whenever it runs,
# so later catalogue changes arrive through their own migrations (see 0002).
SNAPSHOT = Path(__file__).with_name("0001_catalogue.json")


def _layers() -> list[Layer]:
    return [Layer.from_json(spec) for spec in json.loads(SNAPSHOT.read_text(encoding="utf-8"))]


def _psycopg():
    # The raw psycopg connection of Alembic's transaction: DDL is composed with psycopg.sql.
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _psycopg()
    conn.execute(read("foundation.sql"))
    for layer in _layers():
        for statement in ddl.create_layer_statements(layer):
            conn.execute(statement)
    conn.execute(read("planning.sql"))


def downgrade() -> None:
    conn = _psycopg()
    for table in LINK_TABLES:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(sql.Identifier(table)))
    custom = conn.execute("SELECT name FROM mahalle.layer_registry WHERE kind = 'custom'").fetchall()
    for (name,) in custom:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(sql.Identifier(name)))
    for layer in reversed(_layers()):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(sql.Identifier(layer.name)))
    conn.execute("DROP SCHEMA IF EXISTS mahalle CASCADE")
