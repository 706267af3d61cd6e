"""Single-feature edits made cheaper without changing an answer (issue 19): the rights functions of migration 0017
answer as those before them, ``permit`` keeps the database's "allowed nowhere" per roles held (a change of roles is
asked again), and a PATCH reaches the database in two round trips with the rules, history and versions as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import pq

from api.app import create_app
from api.identity import store
from api.identity.principal import RoleGrant
from api.identity.store import Grant
from api.runtime import Database
from core.crs import STORAGE
from core.errors import PreconditionFailed, ReadOnlyProperties, RuleViolation
from core.settings import Settings
from gis.features import get_item
from importers.demo import CODE
from layers import edit, migrate
from layers.catalogue import load_catalogue
from tests.auth import ADMIN_HEADERS, heard, token_for
from tests.pgtrace import round_trips

MERGE = {"Content-Type": "application/merge-patch+json"}
ACTIONS = ("read", "create", "edit", "delete", "field", "attach")
LAYERS = ("parcels", "neighbourhoods", "assets", "observations", "streets", "interventions", "visits", "nothing")
GRANTS = [
    None,  # the server itself
    {"user": None, "roles": {}},
    {"user": "a", "roles": {"admin": None}},
    {"user": "a", "roles": {"admin": [1, 2]}},
    {"user": "p", "roles": {"planner": [3, 1, 2]}},
    {"user": "p", "roles": {"planner": None, "viewer": [4]}},
    {"user": "f", "roles": {"field": [7], "viewer": [8, 9]}},
    {"user": "m", "roles": {"viewer": [5], "planner": [6], "field": [2, 1], "admin": [9]}},
    {"user": "v", "roles": {"viewer": None}},
    {"user": "x", "roles": {"superhero": None, "viewer": []}},
    {"user": "x", "roles": "not an object"},
]


def _answers(url: str) -> dict[tuple[str, str, str], Any]:
    """mahalle.scope and mahalle.role_allows for every grant × action × layer, and person_login."""
    out: dict[tuple[str, str, str], Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        out["person_login", "", ""] = conn.execute("SELECT mahalle.person_login()").fetchone()[0]
        for role in ("admin", "planner", "field", "viewer", "other"):
            for action in ACTIONS:
                for layer in LAYERS:
                    got = conn.execute("SELECT mahalle.role_allows(%s, %s, %s)", (role, action, layer)).fetchone()[0]
                    out[f"allows {role}", action, layer] = got
        for g in GRANTS:
            conn.execute("SELECT set_config('mahalle.grants', %s, false)", (json.dumps(g) if g is not None else "",))
            for action in ACTIONS:
                for layer in LAYERS:
                    got = conn.execute("SELECT mahalle.scope(%s, %s)", (action, layer)).fetchone()[0]
                    out[json.dumps(g), action, layer] = got
    return out


def test_rights_functions_answer_as_before(empty_db_url: str):
    """Migration 0017's person_login, role_allows and scope give exactly (and in the same order) what 0016's did,
    for the server, anonymous users, every kind of role, roles held everywhere or in some neighbourhoods, mixed and
    malformed grants, a public layer and a layer whose field workers may change some attributes."""
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("UPDATE mahalle.layer_registry SET public = true WHERE name = 'streets'")
        kinds = conn.execute(
            "SELECT p.proname, l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
            "WHERE p.pronamespace = 'mahalle'::regnamespace "
            "AND p.proname IN ('person_login', 'role_allows', 'scope') ORDER BY 1"
        ).fetchall()
    assert kinds == [("person_login", "plpgsql"), ("role_allows", "plpgsql"), ("scope", "plpgsql")]
    now = _answers(empty_db_url)
    migrate.downgrade(empty_db_url, "0016")
    before = _answers(empty_db_url)
    migrate.upgrade(empty_db_url)
    assert now == before
    assert now[json.dumps(GRANTS[4]), "edit", "parcels"] == [3, 1, 2]  # the matrix is not all NULLs
    assert now[json.dumps(GRANTS[6]), "field", "assets"] == [7]
    assert now[json.dumps(GRANTS[6]), "field", "parcels"] == []


# --- permit: "allowed nowhere" kept per roles held -----------------------------------------------------------


@pytest.fixture
def client(demo_db_url: str, tmp_path) -> Iterator[tuple[TestClient, psycopg.Connection]]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
        with TestClient(create_app(settings, database=Database(demo_db_url))) as c:
            yield c, conn


def _parcel(conn: psycopg.Connection) -> int:
    ring = "24.945 60.17, 24.9452 60.17, 24.9452 60.1701, 24.945 60.17"
    return conn.execute(
        "INSERT INTO parcels (land_use, geom) VALUES ('residential', %s) RETURNING id",
        (f"SRID=4326;MULTIPOLYGON((({ring})))",),
    ).fetchone()[0]


def _patch(c: TestClient, fid: int, headers: dict[str, str], note: str) -> Any:
    etag = c.get(f"/ogc/collections/parcels/items/{fid}", headers=headers).headers.get("etag", "*")
    body = {"properties": {"note": note}}
    return c.patch(f"/ogc/collections/parcels/items/{fid}", json=body, headers={**headers, **MERGE, "If-Match": etag})


def test_a_kept_refusal_follows_the_users_roles(client: tuple[TestClient, psycopg.Connection]):
    """A viewer's PATCH is refused before any work, again from memory; once they are made a planner of the
    neighbourhood the same token may edit (their roles are another key), and when the role is taken away they are
    refused again."""
    c, conn = client
    fid = _parcel(conn)
    vic = token_for(conn, "vic", Grant("viewer"))
    for _ in range(2):
        refused = _patch(c, fid, vic, "not mine")
        assert refused.status_code == 403, refused.text
        assert "do not allow you to change parcels anywhere" in refused.json()["detail"]
    catalogue = c.app.state.metadata.cached("catalogue")
    if c.app.state.metadata.listening:  # the catalogue (and with it what permit keeps) is held in memory
        assert ("edit", (RoleGrant("viewer", None),)) in catalogue["parcels"].memo["permit refusals"]
    with heard(c.app):
        store.change_roles(conn, "vic", [Grant("planner", CODE)])
    allowed = _patch(c, fid, vic, "now mine")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["properties"]["note"] == "now mine"
    with heard(c.app):
        store.change_roles(conn, "vic", [Grant("planner", CODE)], revoke=True)
    assert _patch(c, fid, vic, "not mine again").status_code == 403
    assert conn.execute("SELECT note FROM parcels WHERE id = %s", (fid,)).fetchone()[0] == "now mine"


def test_patch_answers_the_version_it_wrote(client: tuple[TestClient, psycopg.Connection]):
    """The pipelined PATCH: the body is the feature as written (its version is the ETag's), one history row and one
    version per PATCH, a stale If-Match is 412 naming the current version, a broken rule is refused with the
    database's message and leaves nothing behind, and a planner of another neighbourhood cannot see the feature."""
    c, conn = client
    fid = _parcel(conn)
    history = "SELECT count(*) FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s"
    before = conn.execute(history, (fid,)).fetchone()[0]
    done = _patch(c, fid, ADMIN_HEADERS, "first")
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == f'"{done.json()["properties"]["version"]}"'
    assert done.json()["properties"]["note"] == "first"
    assert conn.execute(history, (fid,)).fetchone()[0] == before + 1
    path = f"/ogc/collections/parcels/items/{fid}"
    stale = c.patch(path, json={"properties": {"note": "late"}}, headers={**ADMIN_HEADERS, **MERGE, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    broken = c.patch(path, json={"properties": {"land_use": "moon base"}},
                     headers={**ADMIN_HEADERS, **MERGE, "If-Match": done.headers["etag"]})  # fmt: skip
    assert broken.status_code in (400, 422), broken.text
    assert conn.execute(history, (fid,)).fetchone()[0] == before + 1
    conn.execute(
        "INSERT INTO neighbourhoods (code, name, geom) VALUES ('B-NORTH', 'North', "
        "'SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))')"
    )
    other = token_for(conn, "bob", Grant("planner", "B-NORTH"))
    hidden = c.patch(path, json={"properties": {"note": "x"}}, headers={**other, **MERGE, "If-Match": "*"})
    assert hidden.status_code in (404, 412), hidden.text
    assert conn.execute("SELECT note FROM parcels WHERE id = %s", (fid,)).fetchone()[0] == "first"


# --- round trips --------------------------------------------------------------------------------------------


def test_a_patch_takes_two_round_trips(db_url: str, tmp_path: Path):
    """BEGIN, the actor, the UPDATE and the read-back in one round trip, the COMMIT in the other (five before); the
    history names the actor, the rules still speak (a refusal raises as in an attributed transaction and leaves
    nothing behind), the version check still holds, and the connection is left outside any transaction."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        layer = load_catalogue(conn)["parcels"]
        fid = _parcel(conn)
        version = conn.execute("SELECT version FROM parcels WHERE id = %s", (fid,)).fetchone()[0]

        def write(properties: dict[str, Any], expected: int) -> tuple[int, Any]:
            data = edit.parse_feature(layer, {"properties": properties}, patch=True)
            return edit.write_and_read(
                conn, "tester", layer, fid, data, expected, STORAGE, lambda: get_item(conn, layer, fid)
            )

        for i in range(
            6
        ):  # past psycopg's prepare threshold: the statements as a server that has run a while sends them
            version = write({"note": f"warm {i}"}, version)[0]
        (written, got), waits = round_trips(conn, lambda: write({"note": "piped"}, version), tmp_path / "trace")
        assert waits == 2
        assert written == version + 1 and got is not None and got[1] == written
        assert json.loads(got[0])["properties"]["note"] == "piped"
        with pytest.raises(PreconditionFailed):
            write({"note": "stale"}, version)
        with pytest.raises(RuleViolation):
            write({"land_use": "moon base"}, written)
        with pytest.raises(ReadOnlyProperties):
            write({"note": "sneaky", "version": written + 5}, written)
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute("SELECT version, note FROM parcels WHERE id = %s", (fid,)).fetchone() == (written, "piped")
        actors = conn.execute(
            "SELECT actor, version FROM mahalle.history WHERE layer = 'parcels' AND feature_id = %s ORDER BY id DESC",
            (fid,),
        ).fetchall()
        assert actors[0] == ("tester", written) and len([a for a in actors if a[0] == "tester"]) == 7
