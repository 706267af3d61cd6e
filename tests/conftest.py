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

from gis.cluster import EmbeddedCluster
from gis.db import with_database
from layers import migrate
from layers.catalogue import Catalogue, load_catalogue


@dataclass
class Server:
    admin_url: str

    def url(self, dbname: str) -> str:
        return with_database(self.admin_url, dbname)

    def execute(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def create(self, name: str, template: str | None = None) -> str:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.execute(query)
        return self.url(name)

    def drop(self, name: str) -> None:
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    external = os.environ.get("MAHALLE_TEST_DATABASE_URL")
    if external:
        yield Server(with_database(external, "postgres"))
        return
    # Not under pytest's tmp dir: pytest resets it to mode 0700 at each session, and the server runs
    # as the unprivileged `postgres` user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="mahalle-test-pg-"))
    cluster = EmbeddedCluster(folder, database="postgres")
    cluster.start()
    try:
        yield Server(cluster.url_for("postgres"))
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> Iterator[str]:
    """A database migrated to head once per session; tests copy it (CREATE DATABASE … TEMPLATE)."""
    name = f"mahalle_tpl_{os.getpid()}"
    pg_server.drop(name)
    url = pg_server.create(name)
    migrate.upgrade(url)
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
    """A database with nothing in it (for migration tests)."""
    yield from _copy(pg_server, None, "mahalle_e")


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def catalogue(conn: psycopg.Connection) -> Catalogue:
    return load_catalogue(conn)
