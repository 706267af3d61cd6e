"""The composition root: which database to use, bringing it to the current schema, the demo data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gis.cluster import EmbeddedCluster
from gis.settings import Settings
from layers import migrate

log = logging.getLogger("mahalle")


@dataclass
class Database:
    url: str
    cluster: EmbeddedCluster | None = None

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def open_database(settings: Settings, *, upgrade: bool = True, reuse_running: bool = False) -> Database:
    """The configured PostGIS, or the embedded cluster started under ``settings.data_dir``."""
    if settings.database_url:
        db = Database(settings.database_url)
    else:
        cluster = EmbeddedCluster.from_settings(settings, reuse_running=reuse_running)
        cluster.start()
        db = Database(cluster.url, cluster)
    try:
        if upgrade:
            migrate.upgrade(db.url)
    except Exception:
        db.close()
        raise
    return db


def load_demo_if_empty(settings: Settings, url: str) -> None:
    if not settings.load_demo:
        return
    from importers.demo import load_demo  # the OSM reader is only needed here

    load_demo(url)
