"""Named groups of neighbourhoods over the API, and roll-ups on /indicators and /reports/achievement: admins write
groups (others get 403, and a person's own database login is refused by the database); a group's report is the
comma list's; Jalali periods; unknown codes are named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from api.app import create_app
from api.identity import db_login, store
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS, token_for

B = "B-NORTH"
B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
WRITES = ("INSERT INTO neighbourhood_groups (code, name) VALUES ('MINE', 'Mine')",
          "DELETE FROM neighbourhood_group_members", "UPDATE neighbourhood_groups SET name = 'x'")  # fmt: skip
PERIOD = {"from": "2026-01-01", "to": "2026-12-31", "format": "json"}


@pytest.fixture
def db(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO neighbourhoods (code, name, population, geom) VALUES (%s, 'North', 1000, %s)",
                     (B, B_POLYGON))  # fmt: skip
        conn.execute(
            "INSERT INTO streets (name, geom) VALUES ('N1', 'SRID=4326;LINESTRING(24.961 60.181, 24.965 60.181)')"
        )
        yield conn


@pytest.fixture
def client(demo_db_url: str, db, tmp_path) -> Iterator[TestClient]:
    settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
    with TestClient(create_app(settings, database=Database(demo_db_url)), headers=ADMIN_HEADERS) as c:
        yield c


def test_admins_define_groups_and_everyone_reads_them(client, db):
    body = {"name": "City of Helsinki", "kind": "municipality", "neighbourhoods": [CODE, B]}
    made = client.put("/neighbourhood-groups/HKI", json=body)
    assert made.status_code == 201, made.text
    assert made.json() | {"created_at": None} == {"code": "HKI", "name": "City of Helsinki", "kind": "municipality",
                                                  "neighbourhoods": [B, CODE], "created_at": None,
                                                  "created_by": "admin"}  # fmt: skip
    again = client.put("/neighbourhood-groups/HKI", json={"name": "Helsinki", "neighbourhoods": [B]})
    assert again.status_code == 200 and again.json()["neighbourhoods"] == [B] and again.json()["kind"] == "programme"
    viewer = token_for(db, "vic", store.Grant("viewer"))
    listed = client.get("/neighbourhood-groups", headers=viewer)
    assert listed.status_code == 200 and [g["code"] for g in listed.json()] == ["HKI"]
    assert client.get("/neighbourhood-groups/HKI", headers=viewer).json()["name"] == "Helsinki"
    unknown = client.put("/neighbourhood-groups/X", json={"name": "X", "neighbourhoods": [CODE, "NOPE"]})
    assert unknown.status_code == 422 and "'NOPE'" in unknown.json()["detail"]
    assert unknown.json()["property"] == "neighbourhoods"
    assert client.get("/neighbourhood-groups/X").status_code == 404  # nothing half-made
    assert client.put("/neighbourhood-groups/HKI", json={"name": "", "neighbourhoods": []}).status_code == 422
    assert client.put("/neighbourhood-groups/-bad-", json={"name": "x"}).status_code in (400, 422)
    assert client.delete("/neighbourhood-groups/HKI").status_code == 204
    assert client.delete("/neighbourhood-groups/HKI").status_code == 404
    assert db.execute("SELECT count(*) FROM neighbourhood_group_members").fetchone()[0] == 0


def test_only_admins_may_write_groups_even_through_sql(client, db, pg_server, demo_db_url):
    planner = token_for(db, "pia", store.Grant("planner", CODE))
    refused = client.put("/neighbourhood-groups/HKI", json={"name": "Mine", "neighbourhoods": [CODE]}, headers=planner)
    assert refused.status_code == 403 and "administrator" in refused.json()["detail"]
    assert client.put("/neighbourhood-groups/HKI", json={"name": "H", "neighbourhoods": [CODE]}).status_code == 201
    assert client.delete("/neighbourhood-groups/HKI", headers=planner).status_code == 403
    # the planner's own database login (as QGIS would connect): the database refuses too
    admin_url = pg_server.admin(conninfo_to_dict(demo_db_url)["dbname"])
    name = f"pia-{uuid.uuid4().hex[:8]}"
    store.add_user(db, name, [store.Grant("planner", CODE)])
    with psycopg.connect(admin_url, autocommit=True) as admin:
        login, password = db_login.ensure_login(db, admin, name)
        try:
            url = db_login.connection_url(Database(demo_db_url), login, password)
            with psycopg.connect(url, autocommit=True) as own:
                for statement in WRITES:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="administrator"):
                        own.execute(statement)
        finally:
            db_login.drop_login(admin, login)
    assert db.execute("SELECT name FROM neighbourhood_groups").fetchall() == [("H",)]


def test_roll_ups_on_the_api(client):
    made = client.put("/neighbourhood-groups/HKI", json={"name": "Helsinki", "neighbourhoods": [CODE, B]})
    assert made.status_code == 201
    one = {c: client.get("/indicators", params={"neighbourhood": c}).json() for c in (CODE, B)}
    both = client.get("/indicators", params={"neighbourhood": f"{CODE},{B}"})
    assert both.status_code == 200, both.text
    assert both.json()["streets"]["count"] == one[CODE]["streets"]["count"] + one[B]["streets"]["count"]
    grouped = client.get("/indicators", params={"group": "HKI"}).json()
    assert grouped["streets"] == both.json()["streets"] and grouped["scope"]["group"] == "HKI"
    by_list = client.get("/reports/achievement", params={**PERIOD, "neighbourhood": f"{B},{CODE}"}).json()
    by_group = client.get("/reports/achievement", params={**PERIOD, "group": "HKI"}).json()
    ignore = ("neighbourhood", "group", "generated_on")
    assert {k: v for k, v in by_group.items() if k not in ignore} == {
        k: v for k, v in by_list.items() if k not in ignore
    }
    jalali = {"from": "1404-10-11", "to": "1405-10-10", "calendar": "jalali", "format": "json", "group": "HKI"}
    assert client.get("/reports/achievement", params=jalali).json() == by_group
    page = client.get("/reports/achievement", params={**PERIOD, "group": "HKI", "format": "html", "lang": "ar",
                                                      "digits": "latn"})  # fmt: skip
    assert page.status_code == 200 and '<html lang="ar-u-nu-latn" dir="rtl">' in page.text


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"neighbourhood": f"{CODE},NOPE"}, 404, "'NOPE'"),
        ({"group": "NOPE"}, 404, "'NOPE'"),
        ({}, 422, "neighbourhood"),
        ({"neighbourhood": CODE, "group": "HKI"}, 422, "either"),
        ({"neighbourhood": CODE, "calendar": "jalali", "to": "1405-12-31"}, 422, "jalali"),
        ({"neighbourhood": CODE, "from": "2026-02-30"}, 422, "from"),
        ({"neighbourhood": CODE, "digits": "roman"}, 400, "digits"),
    ],
)
def test_bad_scopes_and_periods_are_named(client, params, status, words):
    answer = client.get("/reports/achievement", params={**PERIOD, **params})
    assert answer.status_code == status, answer.text
    assert words in answer.text and answer.headers["content-type"].startswith("application/problem+json")
