"""Planning rules: intervention lifecycle, units and quantities, completion effects, target checks,
guarded deletes, derived task progress; interventions gain status_reason and paving_surface.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from dataclasses import replace

from alembic import op
from psycopg import sql

from layers import ddl, interventions
from layers.sql import read

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_ATTRIBUTES = ("status_reason", "paving_surface")


def _psycopg():
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _psycopg()
    layer = interventions.LAYER
    table = sql.Identifier(layer.name)
    for name in NEW_ATTRIBUTES:
        attribute = layer.attribute(name)
        conn.execute(sql.SQL("ALTER TABLE public.{} ADD COLUMN {}").format(table, ddl.column_sql(attribute)))
        for check in ddl.attribute_checks(layer, attribute):
            conn.execute(sql.SQL("ALTER TABLE public.{} ADD {}").format(table, check))
    conn.execute(ddl.validation_function(layer))
    conn.execute(ddl.register(layer))
    conn.execute(read("planning_rules.sql"))


def downgrade() -> None:
    conn = _psycopg()
    conn.execute(read("planning_rules_down.sql"))
    layer = interventions.LAYER
    before = replace(layer, attributes=tuple(a for a in layer.attributes if a.name not in NEW_ATTRIBUTES))
    conn.execute(ddl.validation_function(before))  # stops reading the columns before they go
    for name in NEW_ATTRIBUTES:
        conn.execute(
            sql.SQL("ALTER TABLE public.{} DROP COLUMN IF EXISTS {}").format(
                sql.Identifier(layer.name), sql.Identifier(name)
            )
        )
    conn.execute(ddl.register(before))
