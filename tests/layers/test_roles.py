"""An installation made before the roles existed (everything owned by the superuser) is handed to the owner on
its next start, and from then on the application runs without any right on the schema."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from api.runtime import Database, upgrade_database
from core import roles
from core.roles import APP_ROLE, OWNER_ROLE
from layers import migrate
from layers.custom import layer_from_definition


def test_an_older_installation_is_handed_to_the_owner(pg_server):
    name = f"mahalle_old_{uuid.uuid4().hex[:8]}"
    admin_url = pg_server.admin(name)
    pg_server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))  # as the old cluster did
    try:
        migrate.upgrade(admin_url, "0005")  # the schema of the last release, made by the superuser
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            roles.prepare_database(admin, name)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            roles.prepare_schema(admin)
            foreign = admin.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'mahalle'::regnamespace)"
                " AND relkind = 'r' AND relowner <> (SELECT oid FROM pg_roles WHERE rolname = %s)"
                " AND relname <> 'spatial_ref_sys'",
                (OWNER_ROLE,),
            ).fetchone()[0]
            assert foreign == 0, "every table of the schema now belongs to the owner"
        upgrade_database(Database(pg_server.url(name), owner_url=pg_server.url(name, OWNER_ROLE)))
        with psycopg.connect(pg_server.url(name), autocommit=True) as app:
            assert app.execute("SELECT current_user").fetchone()[0] == APP_ROLE
            app.execute("INSERT INTO workshops (kind, geom) VALUES ('scrap', 'SRID=4326;POINT(24.9 60.1)')")
            app.execute(
                "SELECT mahalle.create_custom_layer(%s)",
                (psycopg.types.json.Jsonb(layer_from_definition({"name": "wells"}).to_json()),),
            )
            assert app.execute("SELECT count(*) FROM mahalle.history WHERE layer = 'workshops'").fetchone()[0] == 1
    finally:
        pg_server.drop(name)
