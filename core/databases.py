"""Creating and dropping a Mahalle database, as the server's superuser: the one way the embedded cluster, the
test suite and the benchmark make their databases.

A database made here belongs to the owner role, only the application role (and the owner) may connect, and
PostGIS is in it; a copy of a template keeps the template's objects and grants.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from core import roles
from core.db import with_database


def create_database(admin_url: str, name: str, template: str | None = None, *, exist_ok: bool = False) -> str:
    """Make ``name`` (from ``template`` when given; it must have no other sessions) and return its superuser URL.
    ``admin_url`` is a superuser's URL of the server; with ``exist_ok`` an existing database is prepared the same
    way (and an older installation's objects are handed to the owner)."""
    query = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(roles.OWNER_ROLE))
    if template is not None:
        query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        roles.ensure_roles(admin)
        try:
            admin.execute(query)
        except psycopg.errors.DuplicateDatabase:
            if not exist_ok:
                raise
        roles.prepare_database(admin, name)
    url = with_database(admin_url, name)
    if template is None:
        with psycopg.connect(url, autocommit=True) as conn:
            roles.prepare_schema(conn)
    return url


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE IF EXISTS, disconnecting its sessions (PostgreSQL 13+)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
