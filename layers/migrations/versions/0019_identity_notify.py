"""Identity changes announce themselves (issue 19): a change to users, their roles, tokens or sessions that could
take a right away notifies ``mahalle_identity``, so servers may keep each credential's principal a few seconds
(api/identity/principal.py) and drop it at once when it changes. Down: the triggers and their function removed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("identity_notify.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("identity_notify_down.sql"))
