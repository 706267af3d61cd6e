"""Checked bulk loads (issue 19): an import checks its staged rows set-based — the layer's validation and
plausibility rules in one statement each — and the row triggers then skip their repeat for the rows of that one
statement. The signal is a row in ``mahalle.checked_loads`` keyed by the transaction, written only through
``mahalle.begin_checked_load`` (EXECUTE granted to the application role alone, refused to a person's login), so a
database login cannot forge it. Down: the triggers check every row again, the table and functions go.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("checked_loads.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("checked_loads_down.sql"))
