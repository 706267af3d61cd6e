"""Identity: users with roles per neighbourhood, API tokens, web sessions and an audit log; row-level security
for reading and one statement trigger per table for writing, the same for the web app and for a person's own
database login; history written only by its (owner's) trigger functions. Service points get a status, which
field workers may change (``field_editable`` in the catalogue).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op
from psycopg import sql

from layers import ddl, service_points
from layers.catalogue import CORE_LAYERS
from layers.sql import read

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_STATUS = service_points.LAYER.attribute("status")


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    layer = service_points.LAYER
    table = sql.Identifier(layer.name)
    conn.execute(sql.SQL("ALTER TABLE public.{} ADD COLUMN {}").format(table, ddl.column_sql(_STATUS)))
    for check in ddl.attribute_checks(layer, _STATUS):
        conn.execute(sql.SQL("ALTER TABLE public.{} ADD {}").format(table, check))
    conn.execute(ddl.validation_function(layer))
    conn.execute(ddl.history_function(layer.name, ddl.columns_now(conn, layer.name)))
    for core in CORE_LAYERS:  # the registered definitions gain field_editable (and service points their status)
        conn.execute(ddl.register(core))
    conn.execute(read("identity.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("identity_down.sql"))
    layer = service_points.LAYER
    before = layer.without("status")
    conn.execute(ddl.validation_function(before))
    conn.execute(sql.SQL("ALTER TABLE public.{} DROP COLUMN IF EXISTS status").format(sql.Identifier(layer.name)))
    conn.execute(ddl.history_function(layer.name, ddl.columns_now(conn, layer.name)))
    for core in CORE_LAYERS:
        conn.execute(ddl.register(core.without("status") if core.name == layer.name else core))
