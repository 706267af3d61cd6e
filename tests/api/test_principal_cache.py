"""Who a credential stands for, kept a few seconds per server (api/identity/principal.py, issue 19): a client's
next request costs no round trip for who it is, yet a revoked token, a changed role or an expired credential is
never honoured once the database has announced the change, and no request inherits another user's rights."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity import store
from api.identity.principal import ANONYMOUS, Credentials, Principals, bind, from_memory, key_of
from api.identity.store import Grant
from api.runtime import Database
from core.db import ANONYMOUS_GRANTS, as_server, grants_of
from core.settings import Settings
from importers.demo import CODE
from tests.auth import heard
from tests.pgtrace import round_trips

ROOT = Path(__file__).resolve().parents[2]
MERGE = {"Content-Type": "application/merge-patch+json"}


def _listening(seconds: float = 30.0) -> Principals:
    principals = Principals(seconds)
    principals.set_listening(True)
    return principals


@pytest.fixture
def conn(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as c:
        yield c


def test_a_kept_principal_costs_no_round_trip(conn: psycopg.Connection, tmp_path: Path):
    store.add_user(conn, "kim", [Grant("planner", CODE)])
    creds = Credentials(token=store.create_token(conn, "kim"))
    principals = _listening()
    first, waits = round_trips(conn, lambda: bind(conn, creds, principals), tmp_path / "first")
    assert first.name == "kim" and waits >= 1
    again, waits = round_trips(conn, lambda: bind(conn, creds, principals), tmp_path / "again")
    assert again == first and waits == 0
    assert from_memory(conn, creds, principals) == first
    grants = conn.execute("SELECT current_setting('mahalle.grants')").fetchone()[0]
    assert grants == grants_of(conn) and '"kim"' in grants, "the connection runs with what is remembered"
    with psycopg.connect(conn.info.dsn, autocommit=True) as other:  # another connection: told, not asked
        assert from_memory(other, creds, principals) is None
        told, waits = round_trips(other, lambda: bind(other, creds, principals), tmp_path / "other")
        assert told == first and waits == 1
        assert other.execute("SELECT mahalle.grants() ->> 'user'").fetchone()[0] == "kim"


def test_a_connection_lent_to_the_server_is_told_again(conn: psycopg.Connection):
    """``as_server`` changes the connection's grants (and back to anonymous): the next request is bound anew."""
    store.add_user(conn, "lou", [Grant("viewer")])
    creds = Credentials(token=store.create_token(conn, "lou"))
    principals = _listening()
    bind(conn, creds, principals)
    with as_server(conn):
        assert grants_of(conn) == ""
    assert grants_of(conn) == ANONYMOUS_GRANTS and from_memory(conn, creds, principals) is None
    assert bind(conn, creds, principals).name == "lou"
    assert conn.execute("SELECT mahalle.grants() ->> 'user'").fetchone()[0] == "lou"


def test_unknown_credentials_are_never_kept(conn: psycopg.Connection, tmp_path: Path):
    principals = _listening()
    bogus = Credentials(token="mht_00_nothing")
    for turn in range(2):
        refused, waits = round_trips(conn, lambda: bind(conn, bogus, principals), tmp_path / f"bogus{turn}")
        assert refused.invalid and waits == 1
    assert principals.get(key_of(bogus)) is None
    assert conn.execute("SELECT mahalle.grants() ->> 'user'").fetchone()[0] is None, "an unknown token reads as nobody"
    assert bind(conn, Credentials(), principals) is ANONYMOUS


def test_nothing_is_kept_while_not_listening(conn: psycopg.Connection, tmp_path: Path):
    store.add_user(conn, "max", [Grant("viewer")])
    creds = Credentials(token=store.create_token(conn, "max"))
    principals = Principals(30.0)  # the listener is not connected
    bind(conn, creds, principals)
    _, waits = round_trips(conn, lambda: bind(conn, creds, principals), tmp_path / "trace")
    assert waits == 1
    listening = _listening()
    bind(conn, creds, listening)
    kept = listening.get(key_of(creds))
    assert kept is not None
    generation = listening.generation
    listening.invalidate()  # a change heard while a look-up ran: what that look-up found is not kept
    assert listening.get(key_of(creds)) is None
    listening.keep(key_of(creds), kept, generation)
    assert listening.get(key_of(creds)) is None


# --- the app ------------------------------------------------------------------------------------------------


@pytest.fixture
def client(demo_db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    # Two pooled connections (the catalogue is read on a second one): requests of different users take turns on them.
    settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path, pool_min_size=1, pool_max_size=2)
    with TestClient(create_app(settings, database=Database(demo_db_url))) as c:
        deadline = time.monotonic() + 5
        while not c.app.state.metadata.listening:
            assert time.monotonic() < deadline, "the listener did not connect"
            time.sleep(0.01)
        yield c


def _a_parcel(client: TestClient, headers: dict[str, str]) -> int:
    got = client.get("/ogc/collections/parcels/items?limit=1", headers=headers)
    assert got.status_code == 200, got.text
    return got.json()["features"][0]["id"]


def _note(client: TestClient, fid: int, headers: dict[str, str], note: str) -> int:
    return client.patch(
        f"/ogc/collections/parcels/items/{fid}", json={"properties": {"note": note}}, headers={**headers, **MERGE}
    ).status_code


def test_no_request_inherits_the_rights_of_the_one_before(client: TestClient, demo_db_url: str):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        store.add_user(conn, "pia", [Grant("planner", CODE)])
        store.add_user(conn, "vera", [Grant("viewer")])
        planner = {"Authorization": f"Bearer {store.create_token(conn, 'pia')}"}
        viewer = {"Authorization": f"Bearer {store.create_token(conn, 'vera')}"}
    fid = _a_parcel(client, planner)
    for turn in range(3):  # the same pooled connection, users alternating, principals kept
        assert _note(client, fid, planner, f"pia {turn}") == 200
        assert _note(client, fid, viewer, f"vera {turn}") == 403
        assert client.get("/auth/me", headers=viewer).json()["user"]["name"] == "vera"
        assert _note(client, fid, {}, "nobody") == 401
    with psycopg.connect(demo_db_url) as conn:
        assert conn.execute("SELECT note FROM parcels WHERE id = %s", (fid,)).fetchone()[0] == "pia 2"


def test_revocation_and_role_changes_from_psql_end_what_was_kept(client: TestClient, demo_db_url: str):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        store.add_user(conn, "rae", [Grant("planner", CODE)])
        token = store.create_token(conn, "rae")
        headers = {"Authorization": f"Bearer {token}"}
        fid = _a_parcel(client, headers)
        assert _note(client, fid, headers, "kept") == 200
        assert client.app.state.metadata.principals.get(key_of(Credentials(token=token))) is not None
        with heard(client.app):
            conn.execute(
                "DELETE FROM mahalle.user_roles WHERE user_id = (SELECT id FROM mahalle.users WHERE name = 'rae')"
            )
        assert _note(client, fid, headers, "no longer") == 403
        with heard(client.app):
            store.change_roles(conn, "rae", [Grant("planner", CODE)])
        assert _note(client, fid, headers, "again") == 200
        with heard(client.app):
            conn.execute("UPDATE mahalle.users SET active = false WHERE name = 'rae'")
        assert client.get("/ogc/collections/parcels/items?limit=1", headers=headers).status_code == 401
        with heard(client.app):
            conn.execute("UPDATE mahalle.users SET active = true WHERE name = 'rae'")
        assert _note(client, fid, headers, "back") == 200
        with heard(client.app):
            store.revoke_token(conn, store.token_prefix(token))
        assert _note(client, fid, headers, "revoked") == 401


def test_a_kept_token_ends_with_its_expiry_without_any_notice(client: TestClient, demo_db_url: str):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        store.add_user(conn, "sol", [Grant("viewer")])
        token = store.create_token(conn, "sol")
        with heard(client.app):
            conn.execute(
                "UPDATE mahalle.api_tokens SET expires_at = now() + interval '1.5 seconds' WHERE prefix = %s",
                (store.token_prefix(token),),
            )
    headers = {"Authorization": f"Bearer {token}"}
    principals = client.app.state.metadata.principals
    assert client.get("/auth/me", headers=headers).json()["user"]["name"] == "sol"
    assert principals.get(key_of(Credentials(token=token))) is not None
    generation = principals.generation
    while principals.get(key_of(Credentials(token=token))) is not None:
        client.get("/health")
    assert principals.generation == generation, "no notice was needed"
    assert client.get("/ogc/collections/parcels/items?limit=1", headers=headers).status_code == 401


def test_revoking_a_token_in_the_app_ends_it_on_the_next_request(client: TestClient, demo_db_url: str):
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        store.add_user(conn, "uma", [Grant("viewer")])
        token = store.create_token(conn, "uma")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/auth/me", headers=headers).json()["user"]["name"] == "uma"
    assert client.delete(f"/auth/tokens/{store.token_prefix(token)}", headers=headers).status_code == 204
    assert client.get("/ogc/collections/parcels/items?limit=1", headers=headers).status_code == 401


def test_only_the_binding_code_sets_a_pooled_connections_grants():
    """A change of ``mahalle.grants`` the cache does not hear of could let a request run with another user's
    rights: only core/db.py and api/identity/principal.py set it (importers/jobs.py on a connection of its own)."""
    setting = re.compile(r"set_config\('mahalle\.grants'")
    allowed = {"core/db.py", "api/identity/principal.py", "importers/jobs.py"}
    found = {
        str(path.relative_to(ROOT))
        for top in ("api", "core", "gis", "importers", "layers", "web")
        for path in (ROOT / top).rglob("*.py")
        if setting.search(path.read_text(encoding="utf-8"))
    }
    assert found and found <= allowed, found - allowed
