"""The composition root: which database to use, bringing it to the current schema, the demo data."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from core import roles
from core.cluster import EmbeddedCluster
from core.db import connect
from core.settings import Settings, first_admin_password
from layers import migrate
from layers.roles import grant_app_role

log = logging.getLogger("mahalle")


@dataclass
class Database:
    url: str  # the application role: reads and writes rows, no DDL
    cluster: EmbeddedCluster | None = None
    owner_url: str | None = None  # the owner role: migrations (None: ``url`` owns the schema itself)

    @property
    def migration_url(self) -> str:
        return self.owner_url or self.url

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


class PrivilegedRole(RuntimeError):
    """The application's database role could run programs or read files on the database host."""


def open_database(settings: Settings, *, upgrade: bool = True, reuse_running: bool = False) -> Database:
    """The configured PostGIS, or the embedded cluster started under ``settings.data_dir``.

    On a configured database, the application role must not be a superuser (nor able to create roles or
    touch the server's files) unless ``MAHALLE_ALLOW_SUPERUSER`` says so; migrations run as
    ``MAHALLE_MIGRATION_DATABASE_URL`` when given, which then grants the application role what it needs."""
    if settings.database_url:
        db = Database(settings.database_url, owner_url=settings.migration_database_url)
    else:
        cluster = EmbeddedCluster.from_settings(settings, reuse_running=reuse_running)
        cluster.start()
        db = Database(cluster.url, cluster, owner_url=cluster.owner_url)
    try:
        with connect(db.url) as conn:
            report = roles.role_report(conn)
        if report.privileged and not settings.allow_superuser:
            raise PrivilegedRole(
                f"The database role {report.name!r} of MAHALLE_DATABASE_URL is a superuser, may create roles or is a "
                "member of a server-file role: anyone who got it to run a statement could take over the database "
                "host. Connect as a role with only the grants in docs/deployment.md (run the migrations with "
                "MAHALLE_MIGRATION_DATABASE_URL), or set MAHALLE_ALLOW_SUPERUSER=true to accept the risk."
            )
        if upgrade:
            upgrade_database(db)
    except Exception:
        db.close()
        raise
    return db


def upgrade_database(db: Database, revision: str = "head", *, down: bool = False) -> None:
    """Migrate as the owner, then grant the application role what the new schema needs."""
    (migrate.downgrade if down else migrate.upgrade)(db.migration_url, revision)
    if not down and db.owner_url and db.owner_url != db.url:
        with connect(db.url) as conn:
            app_role = roles.role_report(conn).name
        with connect(db.owner_url, autocommit=True) as owner:
            grant_app_role(owner, app_role)


def load_demo_if_empty(settings: Settings, url: str) -> None:
    if not settings.load_demo:
        return
    from importers.demo import load_demo  # the OSM reader is only needed here

    load_demo(url)


def ensure_first_admin(settings: Settings, url: str) -> str | None:
    """With no user yet, create ``admin`` (MAHALLE_ADMIN_PASSWORD or _FILE, else a generated password, which is
    returned to be shown once; it is stored only as its Argon2 hash)."""
    from api.identity.store import ensure_first_admin as create

    with connect(url, autocommit=True) as conn:
        return create(conn, first_admin_password(settings))


def announce_first_admin(password: str | None) -> None:
    if password is not None:
        print(
            "\nMahalle made the first user, 'admin', with the password\n\n    "
            f"{password}\n\nIt is shown only this once. Log in at /login and change it with "
            "`mahalle user password admin --password-stdin`.\n",
            file=sys.stderr,
            flush=True,
        )
