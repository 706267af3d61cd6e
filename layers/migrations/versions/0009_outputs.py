"""Counted outcomes: the ``outputs`` layer (what tasks achieved, counted: people reached, certificates, job
referrals …; aggregate counts only), targets of tasks (``task_targets``: planned vs achieved) and task progress
derived from them when a task has no linked interventions. Field workers may record outputs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op
from psycopg import sql

from layers import ddl, outputs
from layers.sql import read

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TARGETS = "task_targets"


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    layer = outputs.LAYER.without("visit_id").without("referral_id")  # added by 0011, with the layers they name
    # 0007 and 0008 register the catalogue as it is when they run, which may name this layer before its table
    # exists: registered anew, the registry's triggers protect it (row-level security, permits, delete guard).
    conn.execute("DELETE FROM mahalle.layer_registry WHERE name = %s", (layer.name,))
    for statement in ddl.create_layer_statements(layer):
        conn.execute(statement)
    conn.execute("SELECT mahalle.protect_layer(%s), mahalle.guard_layer_deletes(%s)", (layer.name, layer.name))
    conn.execute(read("outputs.sql"))
    conn.execute(ddl.history_function(TARGETS, None))
    for statement in ddl.history_triggers(TARGETS):
        conn.execute(statement)


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{}").format(sql.Identifier(outputs.LAYER.name)))
    conn.execute(read("outputs_down.sql"))
    for name in (ddl.history_function_name(TARGETS), ddl.history_function_name(outputs.LAYER.name),
                 f"validate_{outputs.LAYER.name}"):  # fmt: skip
        conn.execute(sql.SQL("DROP FUNCTION IF EXISTS mahalle.{}()").format(sql.Identifier(name)))
    conn.execute("DELETE FROM mahalle.layer_registry WHERE name = %s", (outputs.LAYER.name,))
