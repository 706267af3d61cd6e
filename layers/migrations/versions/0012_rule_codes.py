"""Rule codes: every refusal of a layer's rules carries, besides its English message, a DETAIL of JSON text
``{"rule": <code>, "params": {...}}`` (required, not_in_list, minimum, geometry_type, …) from which the web app
words it in the user's language. The validation functions of the core layers are made again, and
``mahalle.prepare_geometry`` and ``mahalle.validate_custom`` replaced.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op

from layers import ddl
from layers.catalogue import CORE_LAYERS
from layers.sql import read

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _validation_functions(conn, rule_codes: bool) -> None:  # a psycopg connection
    for layer in CORE_LAYERS:
        conn.execute(ddl.validation_function(layer, rule_codes=rule_codes, value_lists=False))  # lists: 0013


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    _validation_functions(conn, rule_codes=True)
    conn.execute(read("rule_codes.sql"))  # ends with mahalle.secure_trigger_functions() for all of them


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    _validation_functions(conn, rule_codes=False)
    conn.execute(read("rule_codes_down.sql"))
