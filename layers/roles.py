"""What the owner grants the application role on the data model (the roles themselves: ``core/roles.py``).

The application role (the web app, the CLI's data commands, QGIS users) reads and writes rows and calls the
owner's ``SECURITY DEFINER`` functions for custom layers; it cannot create, alter or drop anything, so nothing it
is tricked into running can change the schema. ``grant_statements`` runs after every migration
(``docs/deployment.md`` shows it).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from core.roles import SCHEMAS

# Tables the application reads but must not change: the registry only through the owner's functions,
# the history only by appending (its triggers run as the writing role).
READ_ONLY = (
    "public.alembic_version",
    "mahalle.layer_registry",
    "mahalle.intervention_transitions",  # the intervention lifecycle and the kinds' rules are migrations' business
    "mahalle.intervention_kind_rules",
)
APPEND_ONLY = ("mahalle.history",)


def grant_statements(app_role: str, database: str) -> list[sql.Composed]:
    """What the owner grants the application role; idempotent, so it runs after every migration."""
    app = sql.Identifier(app_role)
    schemas = sql.SQL(", ").join(map(sql.Identifier, SCHEMAS))

    def each(template: str, tables: tuple[str, ...]) -> list[sql.Composed]:
        return [sql.SQL(template).format(sql.Identifier(*t.split(".")), app) for t in tables]

    return [
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), app),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schemas, app),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schemas, app),
        *each("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}", READ_ONLY),
        *each("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}", APPEND_ONLY),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schemas, app),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mahalle TO {}").format(app),
        # Custom-layer tables are made later by the owner's functions: they get the same grants.
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(app),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}").format(app),
    ]


def grant_app_role(owner_conn: psycopg.Connection, app_role: str) -> None:
    """Run ``grant_statements`` as the owner, in one transaction."""
    database = owner_conn.execute("SELECT current_database()").fetchone()[0]
    with owner_conn.transaction():
        for statement in grant_statements(app_role, database):
            owner_conn.execute(statement)
