"""A user's own PostgreSQL login (``mahalle user db-login``), for QGIS and other clients straight on PostGIS.

The login is ``mahalle_u_<name>``, a member of the group ``mahalle_login`` (core/roles.py) and nothing else: no
superuser, no CREATEROLE/CREATEDB/REPLICATION/BYPASSRLS, at most 10 connections. What it sees and changes is
decided in the database by its user's roles (row-level security and the permit triggers of
layers/sql/identity.sql), and its edits are attributed to the user's name.

Roles belong to the whole server, so creating, renewing and dropping them needs a privileged connection: the
embedded cluster's superuser, or ``MAHALLE_ROLES_DATABASE_URL`` (a role with CREATEROLE) on an external database.
The password is random, shown once, and sent to the server as a SCRAM verifier computed here, so it never
appears in a statement the server might log.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

from api.identity import passwords
from api.identity.store import audit, check_name
from core.cluster import SUPERUSER
from core.db import connect
from core.errors import MahalleError, NotFound
from core.roles import LOGIN_GROUP
from core.settings import Settings

if TYPE_CHECKING:
    from api.runtime import Database

LOGIN_PREFIX = "mahalle_u_"
CONNECTION_LIMIT = 10
# What a fresh login is; only a superuser may name the NO… attributes in ALTER ROLE, so a renewal names them only
# when a role of that name has somehow gained one.
_CREATE_OPTIONS = sql.SQL(
    "LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {} IN ROLE {} "
    "CONNECTION LIMIT {}"
)
_STRIP_OPTIONS = sql.SQL("NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS ")
NO_ROLES_CONNECTION = (
    "managing database logins needs a role allowed to create roles: set MAHALLE_ROLES_DATABASE_URL to a role with "
    "CREATEROLE on this server (see docs/identity.md), or run this as a database administrator"
)


class LoginError(MahalleError):
    """A database login could not be created, renewed or dropped (the message says why and what to do)."""


def login_name(user: str) -> str:
    """The database login of the user named ``user`` (at most 58 characters: PostgreSQL allows 63)."""
    return LOGIN_PREFIX + check_name(user)


def roles_url(db: Database, settings: Settings) -> str | None:
    """A URL of a role allowed to create roles on this database's server, or None when none is configured."""
    if db.cluster is not None:
        return db.cluster.url_for(db.cluster.database, user=SUPERUSER)
    return settings.roles_database_url


def connect_roles(url: str | None) -> psycopg.Connection:
    """An autocommit connection to ``roles_url`` (fails with a message when there is none or it cannot connect)."""
    if url is None:
        raise LoginError(NO_ROLES_CONNECTION)
    try:
        return connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise LoginError(f"cannot connect with MAHALLE_ROLES_DATABASE_URL: {exc}".strip()) from None


def ensure_login(conn: psycopg.Connection, admin: psycopg.Connection, name: str) -> tuple[str, str]:
    """Create the user's database login, or give the existing one a new password; record it on the user and in
    the audit log. ``conn`` is the application's connection, ``admin`` the privileged one (autocommit).
    Returns (login, password); the password is shown once and kept nowhere."""
    role = login_name(name)
    password = passwords.new_password()
    with conn.transaction():
        found = conn.execute(
            "UPDATE mahalle.users SET db_login = %s WHERE name = %s RETURNING id", (role, name)
        ).fetchone()
        if found is None:
            raise NotFound(f"there is no user named {name!r}")
        created = _create_or_renew(admin, role, password)
        audit(conn, "db_login", name, detail=f"database login {role} {'created' if created else 'password renewed'}")
    return role, password


def _create_or_renew(admin: psycopg.Connection, role: str, password: str) -> bool:
    """CREATE ROLE (True) or ALTER ROLE … PASSWORD (False); refuses a role of that name that is more than a login."""
    verifier = sql.Literal(admin.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode())
    ident = sql.Identifier(role)
    try:
        existing = admin.execute(
            "SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls, "
            "ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "      WHERE m.member = r.oid AND g.rolname <> %s ORDER BY 1) "
            "FROM pg_roles r WHERE r.rolname = %s",
            (LOGIN_GROUP, role),
        ).fetchone()
        if existing is None:
            admin.execute(
                sql.SQL("CREATE ROLE {} ").format(ident)
                + _CREATE_OPTIONS.format(verifier, sql.Identifier(LOGIN_GROUP), sql.Literal(CONNECTION_LIMIT))
            )
            return True
        privileged, groups = existing
        if groups:
            raise LoginError(
                f"the database role {role} already exists and is a member of {', '.join(groups)}: it is not a "
                f"Mahalle login; revoke those memberships or drop the role first"
            )
        admin.execute(
            sql.SQL("ALTER ROLE {} WITH LOGIN INHERIT {}PASSWORD {} CONNECTION LIMIT {}").format(
                ident, _STRIP_OPTIONS if privileged else sql.SQL(""), verifier, sql.Literal(CONNECTION_LIMIT)
            )
        )
        member = admin.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
            "WHERE g.rolname = %s AND u.rolname = %s",
            (LOGIN_GROUP, role),
        ).fetchone()
        if member is None:
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(LOGIN_GROUP), ident))
        return False
    except psycopg.errors.UndefinedObject as exc:
        raise LoginError(
            f"the group role {LOGIN_GROUP} does not exist on this server: create it as a superuser "
            f"(CREATE ROLE {LOGIN_GROUP} NOLOGIN) and run `mahalle db upgrade` ({exc.diag.message_primary})"
        ) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise LoginError(
            f"the roles connection may not create or change the database role {role}: "
            f"{exc.diag.message_primary} (it needs CREATEROLE, and ADMIN OPTION on {LOGIN_GROUP})"
        ) from None


def drop_login(admin: psycopg.Connection, role: str) -> None:
    """End the login's sessions (where the connection may) and drop it; a missing role is fine."""
    # Without the right to end them, its open sessions live on, seeing public layers only (the user is gone).
    with suppress(psycopg.errors.InsufficientPrivilege):
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
            (role,),
        )
    try:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    except (psycopg.errors.DependentObjectsStillExist, psycopg.errors.InsufficientPrivilege) as exc:
        raise LoginError(
            f"the database login {role} could not be dropped: {exc.diag.message_primary}. {drop_hint(role)}"
        ) from None


def drop_hint(role: str) -> str:
    """How an administrator drops a login by hand."""
    ident = sql.Identifier(role).as_string(None)
    return (
        f"It sees only public layers now; a database administrator drops it with "
        f"DROP OWNED BY {ident}; DROP ROLE {ident};"
    )


def connection_url(db: Database, role: str, password: str) -> str:
    """The URL the login connects with: over TCP when the embedded cluster listens (MAHALLE_DB_LISTEN), else its
    Unix socket; on an external database, the host and port of MAHALLE_DATABASE_URL."""
    cluster = db.cluster
    if cluster is not None:
        if cluster.listening:
            return cluster.tcp_url_for(cluster.database, role, password)
        return with_credentials(cluster.url_for(cluster.database, user=role), role, password)
    return with_credentials(db.url, role, password)


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server and database as ``url`` (a URL or key=value string) as ``user`` with ``password``."""
    params = psycopg.conninfo.conninfo_to_dict(url.replace("postgresql+psycopg://", "postgresql://", 1))
    for key in ("user", "password", "passfile"):
        params.pop(key, None)
    dbname = str(params.pop("dbname", "") or "")
    host = str(params.pop("host", "") or "")
    port = params.pop("port", None)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    query: dict[str, str] = {}
    if host and "," not in host and not host.startswith("/") and not host.startswith("@"):
        netloc += f"[{host}]" if ":" in host else host
        if port:
            netloc += f":{port}"
    else:  # a Unix socket folder or a list of hosts: in the query, as libpq reads them
        if host:
            query["host"] = host
        if port:
            query["port"] = str(port)
    query.update({k: str(v) for k, v in params.items() if v is not None})
    tail = f"?{urlencode(query, quote_via=quote, safe='')}" if query else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{tail}"
