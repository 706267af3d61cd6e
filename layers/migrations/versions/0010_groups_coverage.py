"""Groups of neighbourhoods (a municipality, a programme's cities) that reports and indicators roll up over, and
coverage distances set per service category (measured along the street network where pgRouting is installed).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("groups_coverage.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("groups_coverage_down.sql"))
