"""History written per statement: every tracked table (core, planning and custom layers, planning link
tables) gets statement-level AFTER triggers with transition tables instead of the row-level ``z90_history``,
and layers with a geometry list their columns so it goes to hex EWKB without a detour through GeoJSON.
The history rows say exactly what they said before; an import of many rows writes them in one statement.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op
from psycopg import sql

from layers import ddl

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Tables whose history is kept by the given trigger (function), and whether they have a geometry.
_TRACKED = """
SELECT DISTINCT c.relname::text,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'geom' AND NOT a.attisdropped)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'public'::regnamespace AND {}
 ORDER BY 1
"""


def _psycopg():
    return op.get_bind().connection.driver_connection


def _tracked(conn, condition: str) -> list[tuple[str, bool]]:
    return conn.execute(sql.SQL(_TRACKED).format(sql.SQL(condition))).fetchall()


def upgrade() -> None:
    conn = _psycopg()
    # Fresh databases already got statement triggers from ddl.py in 0001, but from the catalogue snapshot:
    # make every function again from the table as it is now (0002 added columns to interventions).
    for table, spatial in _tracked(
        conn, "t.tgfoid = 'mahalle.record_history'::regproc OR t.tgname = 'z90_history_insert'"
    ):
        t = sql.Identifier(table)
        for name in ["z90_history", *(f"z90_history_{event}" for event in ddl.HISTORY_EVENTS)]:
            conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON public.{}").format(sql.Identifier(name), t))
        conn.execute(ddl.history_function(table, ddl.columns_now(conn, table) if spatial else None))
        for statement in ddl.history_triggers(table):
            conn.execute(statement)


def downgrade() -> None:
    conn = _psycopg()
    for table, spatial in _tracked(conn, "t.tgname = 'z90_history_insert'"):
        t = sql.Identifier(table)
        for event in ddl.HISTORY_EVENTS:
            conn.execute(sql.SQL("DROP TRIGGER {} ON public.{}").format(sql.Identifier(f"z90_history_{event}"), t))
        conn.execute(sql.SQL("DROP FUNCTION mahalle.{}()").format(sql.Identifier(ddl.history_function_name(table))))
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER z90_history AFTER INSERT OR UPDATE OR DELETE ON public.{} "
                "FOR EACH ROW EXECUTE FUNCTION mahalle.record_history({})"
            ).format(t, sql.Literal("spatial" if spatial else "plain"))
        )
