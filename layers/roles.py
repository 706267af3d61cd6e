"""What the owner grants the application role on the data model (the roles themselves: ``core/roles.py``).

The application role (the web app, the CLI's data commands, QGIS users) reads and writes rows and calls the
owner's ``SECURITY DEFINER`` functions for custom layers; it cannot create, alter or drop anything, so nothing it
is tricked into running can change the schema. ``grant_statements`` runs after every migration
(``docs/deployment.md`` shows it).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from core.roles import LOGIN_GROUP, SCHEMAS

# Tables the application reads but must not change: the registry only through the owner's functions, the
# history only through its trigger functions (the owner's: layers/sql/identity.sql).
READ_ONLY = (
    "public.alembic_version",
    "mahalle.layer_registry",
    "mahalle.history",
    "mahalle.intervention_transitions",  # the intervention lifecycle and the kinds' rules are migrations' business
    "mahalle.intervention_kind_rules",
    "mahalle.checked_loads",  # written only by mahalle.begin_checked_load (layers/sql/checked_loads.sql)
)
# What a person's own database login (core.roles.LOGIN_GROUP) may read besides the layers: never the users,
# tokens, sessions, audit log or jobs. Row-level security narrows the layers and the history to their rights.
LOGIN_READS = (
    "mahalle.layer_registry",
    "mahalle.vocabulary",  # the value lists, with their labels (QGIS value maps)
    "mahalle.history",
    "mahalle.intervention_transitions",
    "mahalle.intervention_kind_rules",
)
# The owner's functions that make and drop layers or change who may read them: the application only (they check
# the user's rights too).
ADMIN_FUNCTIONS = (
    "mahalle.create_custom_layer(jsonb)",
    "mahalle.drop_custom_layer(text)",
    "mahalle.set_layer_public(text, boolean)",
    "mahalle.secure_trigger_functions()",
    "mahalle.begin_checked_load(text)",  # an import's rows checked set-based: the row triggers skip them
    "mahalle.end_checked_load()",
    "mahalle.defer_indexes(text)",
    "mahalle.checked_load_triggers(text, boolean)",
)


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
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schemas, app),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mahalle TO {}").format(app),
        # Custom-layer tables are made later by the owner's functions: they get the same grants.
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(app),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}").format(app),
    ]


# Tables only the application writes (what devices sent, uploads in progress): a person's login reads them under
# row-level security and writes nothing, so no one forges a conflict for a planner to apply.
APP_WRITES = ("public.field_changes", "public.field_uploads")


def login_grant_statements(
    admin_functions: tuple[str, ...] = ADMIN_FUNCTIONS, app_writes: tuple[str, ...] = APP_WRITES
) -> list[sql.Composed]:
    """What the owner grants the group of people's database logins: the layer tables (public schema, under
    row-level security), the readable catalogue tables, the functions their defaults and policies call."""
    group = sql.Identifier(LOGIN_GROUP)
    schemas = sql.SQL(", ").join(map(sql.Identifier, SCHEMAS))
    tables = sql.SQL(", ").join(sql.Identifier(*t.split(".")) for t in LOGIN_READS)
    functions = sql.SQL(", ").join(sql.SQL(f) for f in admin_functions)
    app_only = sql.SQL(", ").join(sql.Identifier(*t.split(".")) for t in app_writes)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schemas, group),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(group),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.alembic_version FROM {}").format(group),
        sql.SQL("GRANT SELECT ON {} TO {}").format(tables, group),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(group),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mahalle TO {}").format(group),
        *([sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM {}").format(functions, group)] if admin_functions else []),
        *(
            [sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(app_only, group)]
            if app_writes
            else []
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(group),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}").format(group),
    ]


def grant_app_role(owner_conn: psycopg.Connection, app_role: str) -> None:
    """Run ``grant_statements`` (and, where the group of people's logins exists, ``login_grant_statements``)
    as the owner, in one transaction."""
    database = owner_conn.execute("SELECT current_database()").fetchone()[0]
    group = owner_conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LOGIN_GROUP,)).fetchone()
    present = tuple(f for f in ADMIN_FUNCTIONS if owner_conn.execute("SELECT to_regprocedure(%s)", (f,)).fetchone()[0])
    tables = tuple(t for t in APP_WRITES if owner_conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0])
    logins = login_grant_statements(present, tables) if group else []
    with owner_conn.transaction():
        for statement in grant_statements(app_role, database) + logins:
            owner_conn.execute(statement)
