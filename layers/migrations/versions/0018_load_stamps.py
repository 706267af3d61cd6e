"""A checked load writes its new rows' stamps and neighbourhood itself (issue 19): the stamp and neighbourhood row
triggers skip a fresh row of a checked load (version 1, created and updated now(); for the neighbourhood, one
already given) as the row checks of migration 0016 do, and every skip asks a cheap question — the setting that
``mahalle.begin_checked_load`` sets to the layer and a fresh number of ``mahalle.checked_load_serial``, compared with
``currval()`` of that sequence, which only the application role may read — instead of a SQL function reading
``mahalle.checked_loads`` once per row and trigger. Down: migration 0016's triggers and functions.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("load_stamps.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("load_stamps_down.sql"))
