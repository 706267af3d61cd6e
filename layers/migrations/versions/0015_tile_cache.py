"""The vector tile cache: tiles kept per layer, zoom, column, row and reader's scope in an UNLOGGED table
(``mahalle.tile_cache``); a statement-level trigger on every spatial layer (custom layers as they are registered)
drops exactly the kept tiles an edit's old and new geometries touch, for every writer, and notes where the edit
reached (``mahalle.tile_cache_edits``) so a tile made meanwhile is not kept; TRUNCATE and a change of the layer's
registration drop the layer's tiles. Down: the triggers leave every layer, the tables and functions go.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from alembic import op

from layers.sql import read

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("tile_cache.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("tile_cache_down.sql"))
