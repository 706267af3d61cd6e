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

from gis.cluster import PORT, SUPERUSER, EmbeddedCluster
from layers import migrate


@dataclass
class BenchCluster:
    cluster: EmbeddedCluster

    @property
    def socket_dir(self) -> Path:
        return self.cluster.socket_dir

    def url(self, dbname: str) -> str:
        return self.cluster.url_for(dbname)

    def asyncpg_url(self, dbname: str) -> str:
        # tipg validates its DSN as a URL with a host; asyncpg unquotes a socket folder written as the host.
        return f"postgresql://{SUPERUSER}@{quote(str(self.socket_dir), safe='')}:{PORT}/{dbname}"

    def ogr(self, dbname: str) -> str:
        return f"PG:host={self.socket_dir} port={PORT} dbname={dbname} user={SUPERUSER}"

    def admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        self.drop_database(name)
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.admin(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

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
    url = bc.create_database(name)
    migrate.upgrade(url)
    return url
