"""The database roles Mahalle runs with, and setting them up as a superuser (the embedded cluster, the tests).

- The **owner** owns the schemas, tables and functions: it runs the migrations (DDL). It is not a superuser.
- The **application role** reads and writes rows and calls the owner's ``SECURITY DEFINER`` functions; it cannot
  create, alter or drop anything, is not a superuser, cannot create roles and is a member of none of the
  server-file roles. What the owner grants it lives with the data model, in ``layers/roles.py``.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import psycopg
from psycopg import sql

OWNER_ROLE = "mahalle_owner"
APP_ROLE = "mahalle_app"
# The group of people's own database logins (``mahalle user db-login``): rows they see and change are decided by
# their user's roles (row-level security and the permit triggers of layers/sql/identity.sql).
LOGIN_GROUP = "mahalle_login"
# Built-in roles that let a member read or write files, or run programs, on the database host.
SERVER_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")
SCHEMAS = ("public", "mahalle")


@dataclass(frozen=True)
class RoleReport:
    """What a connection's role may do that the application should never need."""

    name: str
    superuser: bool
    createrole: bool
    createdb: bool
    server_roles: tuple[str, ...]

    @property
    def privileged(self) -> bool:
        return self.superuser or self.createrole or bool(self.server_roles)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "superuser": self.superuser,
            "createrole": self.createrole,
            "createdb": self.createdb,
            "server_roles": list(self.server_roles),
        }


def role_report(conn: psycopg.Connection) -> RoleReport:
    row = conn.execute(
        "SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb,"
        " ARRAY(SELECT s FROM unnest(%s::text[]) s WHERE pg_has_role(r.oid, s, 'USAGE'))"
        " FROM pg_roles r WHERE r.rolname = current_user",
        (list(SERVER_ROLES),),
    ).fetchone()
    return RoleReport(row[0], row[1], row[2], row[3], tuple(row[4]))


# --- provisioning, as a superuser (the embedded cluster, the test suite) ---------------------------------

_ROLE_OPTIONS = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")


def ensure_roles(admin: psycopg.Connection) -> None:
    """Create the owner and application roles and the group of people's logins if they are missing (roles
    belong to the whole server)."""
    group = sql.SQL("NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    for role, options in ((OWNER_ROLE, _ROLE_OPTIONS), (APP_ROLE, _ROLE_OPTIONS), (LOGIN_GROUP, group)):
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            with suppress(psycopg.errors.DuplicateObject):  # another process sharing the server made it first
                admin.execute(sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(role), options))


def prepare_database(admin: psycopg.Connection, database: str) -> None:
    """Give ``database`` to the owner, let only the application role (and the owner) connect. ``admin`` is a
    superuser's autocommit connection to another database of the server."""
    db = sql.Identifier(database)
    admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, sql.Identifier(OWNER_ROLE)))
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    admin.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, sql.Identifier(APP_ROLE)))
    admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(LOGIN_GROUP)))


def prepare_schema(admin_db: psycopg.Connection) -> None:
    """In the database itself, as a superuser: the extensions only a superuser may create, and the objects an
    earlier version made as the superuser handed to the owner (so migrations, run as the owner, can change them)."""
    admin_db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # Distances along the street network (coverage indicators); without it they are straight lines, and say so.
    if admin_db.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'").fetchone():
        admin_db.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    for function in LEAKPROOF:
        admin_db.execute(sql.SQL("ALTER FUNCTION {} LEAKPROOF").format(sql.SQL(function)))
    owner = sql.Identifier(OWNER_ROLE)
    if admin_db.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'mahalle'").fetchone():
        admin_db.execute(sql.SQL("ALTER SCHEMA mahalle OWNER TO {}").format(owner))
    for kind, name in admin_db.execute(_NOT_OWNED, {"owner": OWNER_ROLE}).fetchall():
        admin_db.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind), sql.SQL(name), owner))


# PostGIS's bounding-box and intersection tests, declared LEAKPROOF (a superuser's right): under row-level
# security PostgreSQL uses an index only for leakproof conditions, so without this every map view of a
# neighbourhood-scoped user would read the whole table. They return a boolean about their arguments and fail
# only on malformed geometries, which stored rows never are (mahalle.prepare_geometry checks them).
LEAKPROOF = (
    "public.geometry_overlaps(public.geometry, public.geometry)",
    "public.st_intersects(public.geometry, public.geometry)",
    "public.st_dwithin(public.geometry, public.geometry, double precision)",
    "public.geometry_within(public.geometry, public.geometry)",
    "public.geometry_contains(public.geometry, public.geometry)",
)

# Tables, views and functions of public/mahalle not owned by the owner and not part of an extension
# (sequences follow their tables). ``name`` is regclass/regprocedure text: quoted and qualified by PostgreSQL.
_NOT_OWNED = """
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace::regnamespace::text IN ('public', 'mahalle') AND c.relkind IN ('r', 'p', 'v', 'm')
   AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = %(owner)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'FUNCTION', p.oid::regprocedure::text
  FROM pg_proc p
 WHERE p.pronamespace::regnamespace::text IN ('public', 'mahalle')
   AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = %(owner)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""
