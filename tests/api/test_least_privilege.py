"""The app runs as a role that cannot reach the host or change the schema, yet planners still create layers."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database, PrivilegedRole, open_database
from core.roles import APP_ROLE
from core.settings import Settings
from tests.auth import ADMIN_HEADERS

ATTACKS = [
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/mahalle-pwned'",
    "SELECT pg_read_file('/etc/passwd')",
    "CREATE TABLE public.pwned (x int)",
    "CREATE FUNCTION mahalle.pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE public.parcels ADD COLUMN pwned int",
    "DROP TABLE public.streets",
    "CREATE ROLE pwned SUPERUSER",
    "UPDATE mahalle.layer_registry SET spec = spec",
    "DELETE FROM mahalle.history",
    "UPDATE alembic_version SET version_num = 'x'",
    "ALTER FUNCTION mahalle.create_custom_layer(jsonb) SECURITY INVOKER",
    "UPDATE mahalle.intervention_transitions SET to_status = to_status",
    "DELETE FROM mahalle.intervention_kind_rules",
]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False, allowed_hosts=["testserver"])
    with TestClient(create_app(settings, database=Database(db_url)), headers=ADMIN_HEADERS) as c:
        yield c


@pytest.mark.parametrize("statement", ATTACKS)
def test_the_application_role_cannot_reach_the_host_or_change_the_schema(conn, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_application_role_has_no_dangerous_attribute_or_membership(conn):
    row = conn.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,"
        " pg_has_role(current_user, 'pg_execute_server_program', 'USAGE')"
        " OR pg_has_role(current_user, 'pg_read_server_files', 'USAGE')"
        " OR pg_has_role(current_user, 'pg_write_server_files', 'USAGE')"
        " FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert conn.execute("SELECT current_user").fetchone()[0] == APP_ROLE
    assert row == (False, False, False, False, False)
    owned = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).fetchone()[0]
    assert owned == 0


def test_health_reports_the_role(client):
    role = client.get("/health").json()["role"]
    assert role == {"name": APP_ROLE, "superuser": False, "createrole": False, "createdb": False, "server_roles": []}


def test_planners_create_and_drop_layers_through_the_owners_functions(client, conn):
    definition = {
        "name": "water_points",
        "geometry_type": "Point",
        "attributes": [{"name": "state", "type": "choice", "choices": ["working", "broken"], "required": True}],
    }
    created = client.post("/layers", json=definition)
    assert created.status_code == 201, created.text
    owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'water_points'").fetchone()[0]
    assert owner == "mahalle_owner"
    feature = {
        "type": "Feature",
        "properties": {"state": "working"},
        "geometry": {"type": "Point", "coordinates": [24.9, 60.1]},
    }
    assert client.post("/ogc/collections/water_points/items", json=feature).status_code == 201
    assert client.delete("/layers/water_points").status_code == 204
    assert conn.execute("SELECT to_regclass('public.water_points')").fetchone()[0] is None
    refused = client.delete("/layers/parcels")
    assert refused.status_code == 422 and "core layer" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"name": "wells", "geometry_type": "Point", "colour": "red"}, "colour"),
        (
            {"name": "wells", "attributes": [{"name": "d", "type": "number", "minimum": "0); DROP TABLE x; --"}]},
            "minimum",
        ),
        ({"name": "wells'; DROP TABLE parcels; --"}, "name"),
        ({"name": "wells", "attributes": [{"name": "s", "type": "choice", "choices": ["a\u0000b"]}]}, "choices"),
        ({"name": "wells", "title": "x" * 5000}, "title"),
        ({"name": "wells", "attributes": [{"name": f"a{i}", "type": "text"} for i in range(101)]}, "attributes"),
    ],
)
def test_bad_definitions_are_422_naming_the_field(client, conn, definition, field):
    response = client.post("/layers", json=definition)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"]
    assert conn.execute("SELECT count(*) FROM mahalle.layer_registry WHERE kind = 'custom'").fetchone()[0] == 0


def test_the_server_refuses_a_superuser_unless_told(admin_db_url):
    with pytest.raises(PrivilegedRole, match="superuser"):
        open_database(Settings(database_url=admin_db_url, load_demo=False), upgrade=False)
    db = open_database(Settings(database_url=admin_db_url, load_demo=False, allow_superuser=True), upgrade=False)
    assert db.url == admin_db_url


def test_migrations_run_as_the_owner_and_grant_the_application(db_url, owner_db_url):
    settings = Settings(database_url=db_url, migration_database_url=owner_db_url, load_demo=False)
    open_database(settings).close()
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT has_table_privilege('public.parcels', 'INSERT')").fetchone()[0]
        assert not conn.execute("SELECT has_table_privilege('mahalle.layer_registry', 'INSERT')").fetchone()[0]
