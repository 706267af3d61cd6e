"""Field mapping: the changes devices and GeoPackages send (idempotent by the client's change id, conflicts kept
for review), photo uploads in pieces, what a photo carries (size, EXIF position, thumbnail), and why an
observation was rejected or what it became (``review_note``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from alembic import op
from psycopg import sql

from layers import ddl, observations
from layers.catalogue import CORE_LAYERS
from layers.sql import read

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NOTE = observations.LAYER.attribute("review_note")


def _rebuild(conn, layer) -> None:  # a psycopg connection, a Layer
    conn.execute(ddl.validation_function(layer))
    conn.execute(ddl.history_function(layer.name, ddl.columns_now(conn, layer.name)))


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    layer = observations.LAYER
    table = sql.Identifier(layer.name)
    conn.execute(sql.SQL("ALTER TABLE public.{} ADD COLUMN {}").format(table, ddl.column_sql(_NOTE)))
    for check in ddl.attribute_checks(layer, _NOTE):
        conn.execute(sql.SQL("ALTER TABLE public.{} ADD {}").format(table, check))
    _rebuild(conn, layer)
    for core in CORE_LAYERS:
        conn.execute(ddl.register(core))
    conn.execute(read("field.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("field_down.sql"))
    layer = observations.LAYER
    conn.execute(sql.SQL("ALTER TABLE public.{} DROP COLUMN IF EXISTS review_note").format(sql.Identifier(layer.name)))
    _rebuild(conn, layer.without("review_note"))
    for core in CORE_LAYERS:
        conn.execute(ddl.register(core.without("review_note") if core.name == layer.name else core))
