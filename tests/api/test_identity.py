"""Logging in and out, sessions, CSRF, API tokens, rate limiting, anonymous reading and the audit log, through
the HTTP API on a copy of the demo database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity import store
from api.identity.principal import COOKIE
from api.identity.store import Grant
from api.runtime import Database, ensure_first_admin
from core.settings import Settings
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS, ADMIN_PASSWORD, heard

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def db(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        yield conn


def make_client(url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url)))


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    with make_client(demo_db_url) as c:
        yield c


def login(client: TestClient, name: str, password: str) -> Any:
    return client.post(
        "/auth/login", data={"name": name, "password": password, "next": "/#map"}, follow_redirects=False
    )


def a_parcel(client: TestClient) -> int:
    return client.get("/ogc/collections/parcels/items?limit=1", headers=ADMIN_HEADERS).json()["features"][0]["id"]


def test_login_sets_a_safe_cookie_and_the_session_edits_with_its_csrf_token(client, db):
    answer = login(client, "admin", ADMIN_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/#map"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    me = client.get("/auth/me").json()
    assert me["user"]["name"] == "admin" and me["can"]["admin"] and me["csrf"]
    fid = a_parcel(client)
    without = client.patch(f"/ogc/collections/parcels/items/{fid}", json={"properties": {"note": "a"}}, headers=MERGE)
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    wrong = client.patch(f"/ogc/collections/parcels/items/{fid}", json={"properties": {"note": "a"}},
                         headers={**MERGE, "X-CSRF-Token": "guess"})  # fmt: skip
    assert wrong.status_code == 403
    ok = client.patch(f"/ogc/collections/parcels/items/{fid}", json={"properties": {"note": "a"}},
                      headers={**MERGE, "X-CSRF-Token": me["csrf"]})  # fmt: skip
    assert ok.status_code == 200, ok.text
    actor = db.execute("SELECT actor FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s "
                       "ORDER BY id DESC LIMIT 1", (fid,)).fetchone()[0]  # fmt: skip
    assert actor == "admin"
    events = [e for (e,) in db.execute("SELECT event FROM mahalle.audit_log ORDER BY id").fetchall()]
    assert "login" in events


def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(client, db):
    unknown = login(client, "nobody", "whatever-it-is")
    wrong = login(client, "admin", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert COOKIE not in unknown.headers.get("set-cookie", "") and COOKIE not in wrong.headers.get("set-cookie", "")
    assert "user name or password is wrong" in unknown.text and "user name or password is wrong" in wrong.text
    api_unknown = client.post("/auth/login", json={"name": "nobody", "password": "whatever-it-is"})
    api_wrong = client.post("/auth/login", json={"name": "admin", "password": "not-the-password"})
    assert api_unknown.json()["detail"] == api_wrong.json()["detail"]
    failed = db.execute("SELECT count(*) FROM mahalle.audit_log WHERE event = 'login_failed'").fetchone()[0]
    assert failed == 4


def test_logins_are_rate_limited_per_name_and_address(demo_db_url):
    with make_client(demo_db_url, login_max_failures=3) as client:
        for _ in range(3):
            assert login(client, "admin", "wrong-password").status_code == 401
        limited = client.post("/auth/login", json={"name": "admin", "password": ADMIN_PASSWORD})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        other = client.post("/auth/login", json={"name": "someone", "password": "x" * 12})
        assert other.status_code == 429, "the same address is limited for every name"


def test_a_tampered_cookie_or_an_unknown_token_is_401_not_anonymous(client):
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 303
    client.cookies.set(COOKIE, client.cookies.get(COOKIE)[:-2] + "xx")
    assert client.get("/ogc/collections/streets/items?limit=1").status_code == 401
    client.cookies.clear()
    bogus = client.get("/ogc/collections/streets/items?limit=1", headers={"Authorization": "Bearer mht_00_nothing"})
    assert bogus.status_code == 401 and bogus.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/").status_code == 200, "a page treats a stale credential as none"


def test_revoked_and_expired_tokens_are_refused(client, db):
    store.add_user(db, "sam", [Grant("viewer")])
    token = store.create_token(db, "sam", "script")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/ogc/collections/parcels/items?limit=1", headers=headers).status_code == 200
    used = db.execute("SELECT last_used_at FROM mahalle.api_tokens WHERE prefix = %s", (store.token_prefix(token),))
    assert used.fetchone()[0] is not None
    assert db.execute("SELECT count(*) FROM mahalle.audit_log WHERE event = 'token_used' AND user_name = 'sam'"
                      ).fetchone()[0] == 1  # fmt: skip
    with heard(client.app):
        store.revoke_token(db, store.token_prefix(token))
    assert client.get("/ogc/collections/parcels/items?limit=1", headers=headers).status_code == 401
    other = store.create_token(db, "sam", days=1)
    with heard(client.app):
        db.execute("UPDATE mahalle.api_tokens SET expires_at = now() - interval '1 second' WHERE prefix = %s",
                   (store.token_prefix(other),))  # fmt: skip
    assert client.get("/ogc/collections/parcels/items?limit=1",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 401  # fmt: skip


def test_a_role_change_applies_on_the_next_request(client, db):
    store.add_user(db, "rosa", [Grant("viewer")])
    headers = {"Authorization": f"Bearer {store.create_token(db, 'rosa')}", **MERGE}
    fid = a_parcel(client)
    body = {"properties": {"note": "seen"}}
    assert client.patch(f"/ogc/collections/parcels/items/{fid}", json=body, headers=headers).status_code == 403
    with heard(client.app):
        store.change_roles(db, "rosa", [Grant("planner", CODE)])
    assert client.patch(f"/ogc/collections/parcels/items/{fid}", json=body, headers=headers).status_code == 200
    with heard(client.app):
        store.change_roles(db, "rosa", [Grant("planner", CODE)], revoke=True)
    assert client.patch(f"/ogc/collections/parcels/items/{fid}", json=body, headers=headers).status_code == 403


def test_logout_ends_the_session(client):
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 303
    csrf = client.get("/auth/me").json()["csrf"]
    stolen = client.cookies.get(COOKIE)
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/auth/me").json()["user"] is None
    client.cookies.set(COOKIE, stolen)
    assert client.get("/auth/me").json()["user"] is None, "the server forgot the session, not only the browser"
    assert client.get("/ogc/collections/parcels/items").status_code == 401


def test_anonymous_clients_read_public_layers_only(client, db):
    listed = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert listed == {"neighbourhoods", "streets", "service_points"}
    assert client.get("/ogc/collections/streets/items?limit=1").status_code == 200
    for path in ("/ogc/collections/parcels/items", "/ogc/collections/parcels/tiles/WebMercatorQuad/16/0/0",
                 "/interventions", "/tasks", "/api/history/parcels/1"):  # fmt: skip
        assert client.get(path).status_code == 401, path
    exported = client.get("/exports?layers=streets,parcels&format=geojson")
    assert exported.status_code in (200, 401)
    made_public = client.patch("/layers/parcels", json={"public": True}, headers=ADMIN_HEADERS)
    assert made_public.status_code == 200
    assert client.get("/ogc/collections/parcels/items?limit=1").status_code == 200
    assert "parcels" in {c["id"] for c in client.get("/ogc/collections").json()["collections"]}


def test_a_scoped_user_sees_only_their_neighbourhoods_in_lists_and_counts(client, db):
    db.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES ('B', 'North', "
               "'SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.18)))')")  # fmt: skip
    db.execute("INSERT INTO parcels (land_use, geom) VALUES ('residential', "
               "'SRID=4326;MULTIPOLYGON(((24.965 60.183, 24.966 60.183, 24.966 60.184, 24.965 60.183)))')")  # fmt: skip
    store.add_user(db, "nora", [Grant("viewer", "B")])
    nora = {"Authorization": f"Bearer {store.create_token(db, 'nora')}"}
    everyone = client.get("/ogc/collections/parcels/items?limit=1", headers=ADMIN_HEADERS).json()["numberMatched"]
    hers = client.get("/ogc/collections/parcels/items?limit=1", headers=nora).json()["numberMatched"]
    assert hers == 1 and everyone > 1


def test_the_first_start_makes_one_admin_and_shows_the_password_once(empty_db_url, pg_server, db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM mahalle.users")
    password = ensure_first_admin(Settings(database_url=db_url), db_url)
    assert password and len(password) >= 12
    assert ensure_first_admin(Settings(database_url=db_url), db_url) is None, "only once"
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert store.check_login(conn, "admin", password)
        stored = conn.execute("SELECT password_hash FROM mahalle.users WHERE name = 'admin'").fetchone()[0]
    assert stored.startswith("$argon2id$") and password not in stored


def test_the_admin_page_is_for_admins(client, db):
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=/admin"
    store.add_user(db, "pat", [Grant("planner")], password="a-long-enough-password")
    assert login(client, "pat", "a-long-enough-password").status_code == 303
    assert client.get("/admin").status_code == 403
    client.cookies.clear()
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 303
    page = client.get("/admin")
    assert page.status_code == 200 and "pat" in page.text and "login" in page.text


def _import(client: TestClient, headers: dict[str, str], x: float, y: float) -> dict[str, Any]:
    import json
    import time

    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
             "properties": {"category": "waste", "captured_at": "2026-11-30T10:00:00Z"}}  # fmt: skip
    body = json.dumps({"type": "FeatureCollection", "features": [point]})
    started = client.post("/imports", files={"file": ("seen.geojson", body, "application/geo+json")},
                          data={"layer": "observations"}, headers=headers)  # fmt: skip
    assert started.status_code == 202, started.text
    for _ in range(200):
        job = client.get(started.headers["location"], headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("the import did not end")


def test_an_import_runs_with_the_rights_of_whoever_started_it(client, db):
    db.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES ('B', 'North', "
               "'SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.18)))')")  # fmt: skip
    store.add_user(db, "ines", [Grant("planner", CODE)])
    headers = {"Authorization": f"Bearer {store.create_token(db, 'ines')}"}
    inside = _import(client, headers, 24.945, 60.17)
    assert inside["status"] == "succeeded", inside
    assert db.execute("SELECT created_by FROM observations ORDER BY id DESC LIMIT 1").fetchone()[0] == "ines"
    outside = _import(client, headers, 24.965, 60.183)
    assert outside["status"] == "failed" and "B" in outside["message"], outside
    assert db.execute("SELECT count(*) FROM observations WHERE neighbourhood_id = "
                      "(SELECT id FROM neighbourhoods WHERE code = 'B')").fetchone()[0] == 0  # fmt: skip
    others = client.get(f"/imports/{inside['id']}", headers=ADMIN_HEADERS)
    assert others.status_code == 200, "an admin follows any import"
    store.add_user(db, "olga", [Grant("planner", CODE)])
    olga = {"Authorization": f"Bearer {store.create_token(db, 'olga')}"}
    assert client.get(f"/imports/{inside['id']}", headers=olga).status_code == 404, "not another planner's"
