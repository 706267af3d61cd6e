"""Integrity in the database: deleting a feature that intervention targets or task links name is refused (or
removes the links with a cascade, history kept); an update that changes nothing a person can see (or only the
columns the database owns) writes no version and no history row; a restore whose uid was taken meanwhile is
refused; refusals of a row being inserted say "new feature" instead of an id that will never exist.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from alembic import op

from layers import ddl
from layers.catalogue import core_catalogue
from layers.sql import read

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Tables with a per-table history function (mahalle.history_<table>) on their statement triggers, and whether
# they have a geometry.
_TRACKED = """
SELECT DISTINCT c.relname::text,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'geom' AND NOT a.attisdropped)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE c.relnamespace = 'public'::regnamespace AND t.tgname = 'z90_history_update'
   AND p.pronamespace = 'mahalle'::regnamespace AND p.proname = 'history_' || c.relname
 ORDER BY 1
"""
# The one refusal written by hand in planning_rules.sql that named an insert by its sequence value.
_QUANTITIES = "mahalle.intervention_quantities()"
_OLD_WHO = "format('interventions feature %s', coalesce(NEW.id::text, 'new'))"
_NEW_WHO = "format('interventions %s', CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END)"


def _psycopg():
    return op.get_bind().connection.driver_connection


def _reword(conn, function: str, old: str, new: str) -> None:
    definition = conn.execute("SELECT pg_get_functiondef(%s::regprocedure)", (function,)).fetchone()[0]
    if old not in definition:
        raise RuntimeError(f"{function} does not read as expected; cannot change {old!r}")
    conn.execute(definition.replace(old, new))


def upgrade() -> None:
    conn = _psycopg()
    conn.execute(read("integrity.sql"))
    # The history's UPDATE statement now skips rows whose version did not move (ddl._HISTORY_SQL): make every
    # per-table function again from the table as it is, as 0004 did.
    for table, spatial in conn.execute(_TRACKED).fetchall():
        conn.execute(ddl.history_function(table, ddl.columns_now(conn, table) if spatial else None))
    # "<layer> new feature: …" for inserts (ddl.validation_function). Core layers only: a custom layer's definition,
    # read back from the registry, is never compiled into a function again (0006 moves them onto the generic
    # trigger, mahalle.validate_custom, which says "new feature" too).
    for layer in core_catalogue():
        conn.execute(ddl.validation_function(layer))
    _reword(conn, _QUANTITIES, _OLD_WHO, _NEW_WHO)


def downgrade() -> None:
    # The history functions keep their version filter and the validation functions their wording: with the
    # old stamp_row every update moves the version again, so the filter drops nothing.
    conn = _psycopg()
    conn.execute(read("integrity_down.sql"))
    _reword(conn, _QUANTITIES, _NEW_WHO, _OLD_WHO)
