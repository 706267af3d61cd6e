"""Faster rights checks for single-feature edits (issue 19): ``mahalle.person_login()`` and
``mahalle.role_allows()`` become PL/pgSQL with the same tests, so their plans are kept for the session instead of
being made again in every statement (a SQL function with a sub-query is never inlined), and ``mahalle.scope()`` asks
one query instead of three. Same answers. Down: the functions of migrations 0007 and 0011.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("edit_speed.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("edit_speed_down.sql"))
