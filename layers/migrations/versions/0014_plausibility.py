"""Plausibility rules per layer (``public.plausibility_rules``): a line's maximum length, a polygon's maximum area,
the distance a feature may lie from the neighbourhoods, and no feature silently leaving its neighbourhood when
moved. One trigger on every spatial layer (``mahalle.check_plausibility``) enforces them for every writer, with
the rule codes of 0012 (line_too_long, area_too_large, outside_extent, left_neighbourhood); administrators change
them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("plausibility.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("plausibility_down.sql"))
