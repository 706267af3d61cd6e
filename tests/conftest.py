"""One PostGIS server per test session; every test gets its own database copied from a migrated template.

With ``MAHALLE_TEST_DATABASE_URL`` (a role allowed to create databases) that server is used;
otherwise an embedded cluster is started in a temporary folder and stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from api.runtime import Database, upgrade_database
from core import databases
from core.cluster import EmbeddedCluster
from core.db import with_database, with_role
from core.roles import APP_ROLE, OWNER_ROLE, ensure_roles
from layers.catalogue import Catalogue, load_catalogue
from tests.auth import make_admin

# The app answers only to the hosts of MAHALLE_ALLOWED_HOSTS (api/security.py). Test clients send
# `Host: testserver` (Starlette's TestClient), the live server is on 127.0.0.1; neither default is changed.
os.environ["MAHALLE_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"


@dataclass
class Server:
    """A PostgreSQL server the suite administers as a superuser. Test databases belong to the owner role and
    the tests connect as the application role, as the app does: what works here works without superuser."""

    admin_url: str

    def url(self, dbname: str, role: str = APP_ROLE) -> str:
        return with_role(with_database(self.admin_url, dbname), role)

    def admin(self, dbname: str) -> str:
        return with_database(self.admin_url, dbname)

    def execute(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def create(self, name: str, template: str | None = None) -> str:
        databases.create_database(self.admin_url, name, template)
        return self.url(name)

    def drop(self, name: str) -> None:
        databases.drop_database(self.admin_url, name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    external = os.environ.get("MAHALLE_TEST_DATABASE_URL")
    if external:
        yield _with_roles(Server(with_database(external, "postgres")))
        return
    # Not under pytest's tmp dir: pytest resets it to mode 0700 at each session, and the server runs
    # as the unprivileged `postgres` user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="mahalle-test-pg-"))
    cluster = EmbeddedCluster(folder, database="postgres")
    cluster.start()
    try:
        yield _with_roles(Server(cluster.url_for("postgres")))
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _with_roles(server: Server) -> Server:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        ensure_roles(conn)
    return server


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> Iterator[str]:
    """A database migrated to head once per session; tests copy it (CREATE DATABASE … TEMPLATE)."""
    name = f"mahalle_tpl_{os.getpid()}"
    pg_server.drop(name)
    url = pg_server.create(name)
    upgrade_database(Database(url, owner_url=pg_server.url(name, OWNER_ROLE)))
    with psycopg.connect(url, autocommit=True) as conn:
        make_admin(conn)
    yield name
    pg_server.drop(name)


def _copy(pg_server: Server, template: str | None, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    yield pg_server.create(name, template=template)
    pg_server.drop(name)


@pytest.fixture
def db_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A fresh migrated database for one test."""
    yield from _copy(pg_server, template_db, "mahalle_t")


@pytest.fixture(scope="session")
def demo_template(pg_server: Server, template_db: str) -> Iterator[str]:
    """A migrated database with the demo neighbourhood loaded, built once per session."""
    from importers.demo import load_demo

    name = f"mahalle_demo_{os.getpid()}"
    pg_server.drop(name)
    load_demo(pg_server.create(name, template=template_db))
    yield name
    pg_server.drop(name)


@pytest.fixture
def demo_db_url(pg_server: Server, demo_template: str) -> Iterator[str]:
    """A fresh copy of the demo database for one test."""
    yield from _copy(pg_server, demo_template, "mahalle_d")


@pytest.fixture
def empty_db_url(pg_server: Server) -> Iterator[str]:
    """A database with nothing in it but PostGIS, as its owner role (for migration tests)."""
    for url in _copy(pg_server, None, "mahalle_e"):
        yield with_role(url, OWNER_ROLE)


@pytest.fixture
def owner_db_url(db_url: str) -> str:
    """The same database as ``db_url`` as its owner role (DDL, as the migrations run)."""
    return with_role(db_url, OWNER_ROLE)


@pytest.fixture
def admin_db_url(pg_server: Server, db_url: str) -> str:
    """The same database as ``db_url`` as the superuser (what only a superuser may do, e.g. replica mode)."""
    return pg_server.admin(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def catalogue(conn: psycopg.Connection) -> Catalogue:
    return load_catalogue(conn)


@pytest.fixture
def owner_conn(owner_db_url: str) -> Iterator[psycopg.Connection]:
    """The test database as its owner: for test set-up the application may not do itself, such as moving
    history back in time to simulate a year, or changing a table by hand as a DBA would."""
    with psycopg.connect(owner_db_url, autocommit=True) as c:
        yield c


def as_owner(conn: psycopg.Connection) -> psycopg.Connection:
    """A new autocommit connection to the same database as ``conn``, as the owner role (close it after use)."""
    return psycopg.connect(conn.info.dsn, user=OWNER_ROLE, autocommit=True)
