"""The benchmark's own PostGIS: an embedded cluster in a data folder, started the way Mahalle starts one.

Every peer (Mahalle, tipg, pygeoapi, ogr2ogr, the raw queries) reaches it through the same Unix socket, and every
peer runs with the same server settings: ``SETTINGS`` is set once for the whole cluster (``ALTER SYSTEM``), so no
peer's value depends on how it opens its connections.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from api.runtime import Database, upgrade_database
from core import databases
from core.cluster import PORT, SUPERUSER, EmbeddedCluster
from core.roles import APP_ROLE, OWNER_ROLE

# Set once for the cluster, so every database and every peer has them. JIT off: requests run short queries whose
# compilation costs more than it saves (Mahalle's own pool also sets jit = off per connection, core/db.py; with the
# cluster's value the same, that makes no difference between peers).
SETTINGS = {"jit": "off"}


@dataclass
class BenchCluster:
    cluster: EmbeddedCluster

    @property
    def socket_dir(self) -> Path:
        return self.cluster.socket_dir

    def url(self, dbname: str) -> str:
        """The superuser's URL: the benchmark's own set-up and the read-only peers."""
        return self.cluster.url_for(dbname)

    def app_url(self, dbname: str) -> str:
        """The application role's URL: Mahalle runs as it does in production (no superuser, no DDL)."""
        return self.cluster.url_for(dbname, user=APP_ROLE)

    def asyncpg_url(self, dbname: str) -> str:
        # tipg validates its DSN as a URL with a host; asyncpg unquotes a socket folder written as the host.
        return f"postgresql://{SUPERUSER}@{quote(str(self.socket_dir), safe='')}:{PORT}/{dbname}"

    def ogr(self, dbname: str) -> str:
        return f"PG:host={self.socket_dir} port={PORT} dbname={dbname} user={SUPERUSER}"

    def admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database of the owner role, as the embedded cluster makes it; returns the superuser's URL."""
        self.drop_database(name)
        return databases.create_database(self.url("postgres"), name, template)

    def drop_database(self, name: str) -> None:
        databases.drop_database(self.url("postgres"), name)

    def stop(self) -> None:
        self.cluster.stop()

    def settings(self, dbname: str, user: str = SUPERUSER) -> dict[str, str]:
        """``SETTINGS`` as a new connection of ``user`` to ``dbname`` sees them, with where each value comes from
        (pg_settings.source: ``configuration file`` for the cluster's, ``database``/``user`` for an override)."""
        with psycopg.connect(self.cluster.url_for(dbname, user=user), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT name, setting, source FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),)
            ).fetchall()
        return {name: f"{setting} (source: {source})" for name, setting, source in rows}


def start(folder: Path, fresh: bool = True) -> BenchCluster:
    """Start (a fresh, by default) cluster in ``folder``; its ``postgres`` database is the admin one."""
    if fresh and folder.exists():
        shutil.rmtree(folder)
    cluster = EmbeddedCluster(folder, database="postgres")
    cluster.start()
    bc = BenchCluster(cluster)
    with psycopg.connect(bc.url("postgres"), autocommit=True) as conn:
        for name, value in SETTINGS.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("SELECT pg_reload_conf()")
    for _ in range(50):  # the postmaster reloads asynchronously: wait until a new connection sees the values
        if all(v.split()[0] == SETTINGS[k] for k, v in bc.settings("postgres").items()):
            return bc
        time.sleep(0.1)
    raise RuntimeError(f"the cluster did not take {SETTINGS}: {bc.settings('postgres')}")


def migrated_database(bc: BenchCluster, name: str) -> str:
    """Migrated as the owner, with the application role's grants, as ``mahalle serve`` leaves a database."""
    url = bc.create_database(name)
    upgrade_database(Database(bc.app_url(name), owner_url=bc.cluster.url_for(name, user=OWNER_ROLE)))
    return url
