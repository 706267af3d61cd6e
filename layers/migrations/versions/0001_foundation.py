"""Foundation: history, registry, core and planning layers, planning link tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op
from psycopg import sql

from layers import ddl
from layers.catalogue import CORE_LAYERS
from layers.sql import read

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LINK_TABLES = ("attachments", "task_updates", "task_links", "intervention_targets")


def _psycopg():
    # The raw psycopg connection of Alembic's transaction: DDL is composed with psycopg.sql.
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _psycopg()
    conn.execute(read("foundation.sql"))
    for layer in CORE_LAYERS:
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
    for layer in reversed(CORE_LAYERS):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(sql.Identifier(layer.name)))
    conn.execute("DROP SCHEMA IF EXISTS mahalle CASCADE")
