"""Value lists the office can change: the entries of every value list of the catalogue's layers move to
``mahalle.vocabulary`` (labels per language, colour, order, retired), where administrators add, translate and
retire entries at run time; the layers' validation reads the list from there (a CHECK cannot), so the rules hold
for every writer.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from alembic import op
from psycopg import sql

from layers import ddl, vocabulary
from layers.catalogue import CORE_LAYERS
from layers.sql import read

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _lists():
    return [(layer, a) for layer in CORE_LAYERS for a in layer.attributes if a.type in vocabulary.LIST_TYPES]


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for core in CORE_LAYERS:  # the registry says which lists are fixed (lifecycles the code follows)
        conn.execute(ddl.register(core))
    conn.execute(read("vocabulary.sql"))
    vocabulary.seed(conn, CORE_LAYERS)
    for layer, a in _lists():  # the lists' CHECKs give way to a CHECK of the values' shape
        _drop(conn, layer.name, f"{layer.name}_{a.name}_values")
        _drop(conn, layer.name, f"{layer.name}_{a.name}_value_format")  # made by earlier migrations' current DDL
        for check in ddl.attribute_checks(layer, a):
            if "_value_format" in check.as_string(conn):
                conn.execute(sql.SQL("ALTER TABLE public.{} ADD {}").format(sql.Identifier(layer.name), check))
    for layer in CORE_LAYERS:
        conn.execute(ddl.validation_function(layer))
    conn.execute("SELECT mahalle.secure_trigger_functions()")


def _drop(conn, table: str, constraint: str) -> None:  # a psycopg connection
    conn.execute(
        sql.SQL("ALTER TABLE public.{} DROP CONSTRAINT IF EXISTS {}").format(
            sql.Identifier(table), sql.Identifier(constraint)
        )
    )


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for layer in CORE_LAYERS:
        conn.execute(ddl.validation_function(layer, value_lists=False))
    for layer, a in _lists():  # NOT VALID: rows may hold entries the office added
        _drop(conn, layer.name, f"{layer.name}_{a.name}_value_format")
        for check in ddl.attribute_checks(layer, a, value_lists=False):
            if "_values" in check.as_string(conn):
                conn.execute(
                    sql.SQL("ALTER TABLE public.{} ADD {} NOT VALID").format(sql.Identifier(layer.name), check)
                )
    conn.execute(read("vocabulary_down.sql"))
    conn.execute("SELECT mahalle.secure_trigger_functions()")
