"""The benchmark's own PostGIS: an embedded cluster in a data folder, started the way Mahalle starts one.

Every peer (Mahalle, tipg, pygeoapi, ogr2ogr, the raw queries) reaches it through the same Unix socket.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from api.runtime import Database, upgrade_database
from core import databases
from core.cluster import PORT, SUPERUSER, EmbeddedCluster
from core.roles import APP_ROLE, OWNER_ROLE


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


def start(folder: Path, fresh: bool = True) -> BenchCluster:
    """Start (a fresh, by default) cluster in ``folder``; its ``postgres`` database is the admin one."""
    if fresh and folder.exists():
        shutil.rmtree(folder)
    cluster = EmbeddedCluster(folder, database="postgres")
    cluster.start()
    return BenchCluster(cluster)


def migrated_database(bc: BenchCluster, name: str) -> str:
    """Migrated as the owner, with the application role's grants, as ``mahalle serve`` leaves a database."""
    url = bc.create_database(name)
    upgrade_database(Database(bc.app_url(name), owner_url=bc.cluster.url_for(name, user=OWNER_ROLE)))
    return url
