"""Least privilege: custom layers are made and dropped by SECURITY DEFINER functions of the owner role, so the
application role needs no DDL rights; their rules are checked by one generic trigger that reads the registered
definition (no value of a definition is ever written into code). Custom layers made before move onto it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op
from psycopg import sql

from layers import ddl
from layers.spec import Layer
from layers.sql import read

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CUSTOM = "SELECT spec FROM mahalle.layer_registry WHERE kind = 'custom' ORDER BY name"
_DROP = (
    "DROP FUNCTION IF EXISTS mahalle.create_custom_layer(jsonb), mahalle.drop_custom_layer(text), "
    "mahalle.custom_history_triggers(text, boolean), mahalle.custom_attribute_ddl(text, jsonb), "
    "mahalle.custom_column_type(text), mahalle.refuse_definition(text), mahalle.is_translation(jsonb)"
)


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for spatial in (True, False):
        conn.execute(ddl.custom_history_function(spatial))
    conn.execute(read("custom_layers.sql"))
    for (spec,) in conn.execute(_CUSTOM).fetchall():
        layer = Layer.from_json(spec)
        t = sql.Identifier(layer.name)
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS a10_validate ON public.{}").format(t))
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER a10_validate BEFORE INSERT OR UPDATE ON public.{} "
                "FOR EACH ROW EXECUTE FUNCTION mahalle.validate_custom()"
            ).format(t)
        )
        conn.execute("SELECT mahalle.custom_history_triggers(%s, %s)", (layer.name, layer.has_geometry))
        for fn in (f"validate_{layer.name}", ddl.history_function_name(layer.name)):
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS mahalle.{}()").format(sql.Identifier(fn)))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for (spec,) in conn.execute(_CUSTOM).fetchall():
        layer = Layer.from_json(spec)
        conn.execute(ddl.validation_function(layer))
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS a10_validate ON public.{}").format(sql.Identifier(layer.name)))
        for statement in ddl.triggers(layer)[:1]:
            conn.execute(statement)
        conn.execute(ddl.history_function(layer.name, ddl.table_columns(layer) if layer.has_geometry else None))
        for event in ddl.HISTORY_EVENTS:
            conn.execute(
                sql.SQL("DROP TRIGGER IF EXISTS {} ON public.{}").format(
                    sql.Identifier(f"z90_history_{event}"), sql.Identifier(layer.name)
                )
            )
        for statement in ddl.history_triggers(layer.name):
            conn.execute(statement)
    conn.execute(_DROP)
    conn.execute("DROP FUNCTION IF EXISTS mahalle.validate_custom()")
    for name in ddl.CUSTOM_HISTORY_FUNCTIONS.values():
        conn.execute(sql.SQL("DROP FUNCTION IF EXISTS mahalle.{}()").format(sql.Identifier(name)))
