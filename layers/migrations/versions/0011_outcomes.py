"""Outreach visits, referrals and needs as layers, rolling up into the task outputs they count; the service points'
directory (what they offer, for whom, their capacity).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op
from psycopg import sql

from layers import ddl, needs, outputs, referrals, service_points, visits
from layers.catalogue import CORE_LAYERS
from layers.spec import Layer
from layers.sql import read

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NEW_LAYERS = (visits.LAYER, referrals.LAYER, needs.LAYER)
# Attributes this migration adds to existing layers.
ADDED = {service_points.LAYER.name: ("offers", "audience", "capacity"), outputs.LAYER.name: ("visit_id", "referral_id")}


def _before(layer: Layer) -> Layer:
    for name in ADDED.get(layer.name, ()):
        layer = layer.without(name)
    return layer


def _rebuild(conn, layer: Layer) -> None:  # a psycopg connection
    conn.execute(ddl.validation_function(layer))
    conn.execute(ddl.history_function(layer.name, ddl.columns_now(conn, layer.name)))


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for layer in NEW_LAYERS:
        # Earlier migrations register the catalogue as it is when they run: registered anew with its table.
        conn.execute("DELETE FROM mahalle.layer_registry WHERE name = %s", (layer.name,))
        for statement in ddl.create_layer_statements(layer):
            conn.execute(statement)
        conn.execute("SELECT mahalle.protect_layer(%s), mahalle.guard_layer_deletes(%s)", (layer.name, layer.name))
    for layer in (service_points.LAYER, outputs.LAYER):
        table = sql.Identifier(layer.name)
        for name in ADDED[layer.name]:
            attribute = layer.attribute(name)
            conn.execute(sql.SQL("ALTER TABLE public.{} ADD COLUMN {}").format(table, ddl.column_sql(attribute)))
            for check in ddl.attribute_checks(layer, attribute):
                conn.execute(sql.SQL("ALTER TABLE public.{} ADD {}").format(table, check))
            if attribute.type == "reference":
                conn.execute(
                    sql.SQL(
                        "ALTER TABLE public.{} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES public.{} (id)"
                    ).format(
                        table,
                        sql.Identifier(f"{layer.name}_{name}_fkey"),
                        sql.Identifier(name),
                        sql.Identifier(attribute.references or ""),
                    )
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {} ON public.{} ({}) WHERE {} IS NOT NULL").format(
                        sql.Identifier(f"{layer.name}_{name}_idx"), table, sql.Identifier(name), sql.Identifier(name)
                    )
                )
        _rebuild(conn, layer)
    for core in CORE_LAYERS:
        conn.execute(ddl.register(core))
    conn.execute(read("outcomes.sql"))


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(read("outcomes_down.sql"))
    conn.execute("DELETE FROM public.outputs WHERE visit_id IS NOT NULL OR referral_id IS NOT NULL")
    for layer in (service_points.LAYER, outputs.LAYER):
        for name in ADDED[layer.name]:
            conn.execute(
                sql.SQL("ALTER TABLE public.{} DROP COLUMN IF EXISTS {}").format(
                    sql.Identifier(layer.name), sql.Identifier(name)
                )
            )
        _rebuild(conn, _before(layer))
    for layer in reversed(NEW_LAYERS):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{}").format(sql.Identifier(layer.name)))
        for name in (ddl.history_function_name(layer.name), f"validate_{layer.name}"):
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS mahalle.{}()").format(sql.Identifier(name)))
        conn.execute("DELETE FROM mahalle.layer_registry WHERE name = %s", (layer.name,))
    for core in CORE_LAYERS:
        if core not in NEW_LAYERS:
            conn.execute(ddl.register(_before(core)))
