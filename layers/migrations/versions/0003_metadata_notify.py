"""Announce catalogue and neighbourhood changes on the ``mahalle_metadata`` channel, so running servers
can cache the catalogue and the CRS list instead of reading them on every request.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

from layers.sql import read

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().connection.driver_connection.execute(read("metadata_notify.sql"))


def downgrade() -> None:
    op.get_bind().connection.driver_connection.execute(read("metadata_notify_down.sql"))
