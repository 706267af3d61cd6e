"""Who may write what: every unsafe route of the API × every role (admin, planner of neighbourhood A, field worker
of A, viewer, anonymous), with the target in neighbourhood A, plus writing in neighbourhood B and moving a
geometry from A into B. Allowed → 2xx, forbidden → 403, anonymous → 401. A route missing here fails
``test_the_matrix_covers_every_write_route``, so a new write route cannot ship without its row."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS, token_for

ROLES = ("admin", "planner", "field", "viewer", "anonymous")
B = "B-NORTH"
B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
MERGE = {"Content-Type": "application/merge-patch+json"}


@dataclass
class World:
    """The demo database with a second neighbourhood B, a client, and one set of headers per role."""

    conn: psycopg.Connection
    client: TestClient
    headers: dict[str, dict[str, str]]

    def one(self, query: str, *args: Any) -> Any:
        return self.conn.execute(query, args).fetchone()[0]

    def parcel(self, where: str = "A") -> int:
        """A new parcel in A (inside the demo neighbourhood) or in B."""
        x, y = (24.945, 60.170) if where == "A" else (24.965, 60.185)
        ring = f"{x} {y}, {x + 0.0002} {y}, {x + 0.0002} {y + 0.0001}, {x} {y}"
        return self.one(
            "INSERT INTO parcels (land_use, geom) VALUES ('residential', %s) RETURNING id",
            f"SRID=4326;MULTIPOLYGON((({ring})))",
        )

    def asset(self) -> int:
        return self.one("INSERT INTO assets (kind, geom) VALUES ('street_light', 'SRID=4326;POINT(24.945 60.17)') "
                        "RETURNING id")  # fmt: skip

    def intervention(self) -> int:
        street = self.one("SELECT min(id) FROM streets WHERE neighbourhood_id = %s", self.nid(CODE))
        body = {
            "properties": {"title": "Pave", "kind": "paving"},
            "geometry": json.loads(
                self.one(
                    "SELECT ST_AsGeoJSON(ST_Buffer(geom::geography, 3)::geometry) FROM streets WHERE id = %s", street
                )
            ),  # fmt: skip
            "targets": [{"layer": "streets", "feature_id": street}],
        }
        created = self.client.post("/interventions", json=body, headers=ADMIN_HEADERS)
        assert created.status_code == 201, created.text
        return created.json()["id"]

    def task(self) -> int:
        body = {"title": "Elect alley representatives", "domain": "social", "neighbourhood_id": self.nid(CODE)}
        created = self.client.post("/tasks", json=body, headers=ADMIN_HEADERS)
        assert created.status_code == 201, created.text
        return created.json()["id"]

    def nid(self, code: str) -> int:
        return self.one("SELECT id FROM neighbourhoods WHERE code = %s", code)


@pytest.fixture
def world(demo_db_url: str, tmp_path) -> Iterator[World]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO neighbourhoods (code, name, geom) VALUES (%s, 'North', %s)", (B, B_POLYGON))
        a = Grant("planner", CODE)
        headers = {
            "admin": ADMIN_HEADERS,
            "planner": token_for(conn, "pia", a),
            "field": token_for(conn, "fred", Grant("field", CODE)),
            "viewer": token_for(conn, "vic", Grant("viewer")),
            "anonymous": {},
        }
        settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
        app = create_app(settings, database=Database(demo_db_url))
        with TestClient(app) as client:
            yield World(conn, client, headers)


def feature(x: float, y: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props}


def square(x: float, y: float) -> dict[str, Any]:
    ring = [[x, y], [x + 0.0002, y], [x + 0.0002, y + 0.0001], [x, y]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


# A request per case: (method, path, keyword arguments of the TestClient call), made fresh for each role.
Request = tuple[str, str, dict[str, Any]]
ALL = {"admin": 2, "planner": 2, "field": 2, "viewer": 2, "anonymous": 401}
EDITORS = {"admin": 2, "planner": 2, "field": 403, "viewer": 403, "anonymous": 401}
ADMINS = {"admin": 2, "planner": 403, "field": 403, "viewer": 403, "anonymous": 401}
FIELD = {"admin": 2, "planner": 2, "field": 2, "viewer": 403, "anonymous": 401}
NOBODY_SCOPED = {"admin": 2, "planner": 403, "field": 403, "viewer": 403, "anonymous": 401}


def _custom_layer(w: World) -> str:
    name = f"wells_{w.one('SELECT count(*) FROM mahalle.layer_registry')}"  # a new one for each role
    body = {"name": name, "geometry_type": "Point", "attributes": [{"name": "depth", "type": "number"}]}
    created = w.client.post("/layers", json=body, headers=ADMIN_HEADERS)
    assert created.status_code == 201, created.text
    return name


CASES: dict[str, tuple[tuple[str, str], Callable[[World], Request], dict[str, int]]] = {
    "create a parcel in A": (
        ("POST", "/ogc/collections/{cid}/items"),
        lambda w: (
            "POST",
            "/ogc/collections/parcels/items",
            {
                "json": {
                    "type": "Feature",
                    "geometry": square(24.945, 60.171),
                    "properties": {"land_use": "residential"},
                }
            },
        ),
        EDITORS,
    ),
    "create a parcel in B": (
        ("POST", "/ogc/collections/{cid}/items"),
        lambda w: (
            "POST",
            "/ogc/collections/parcels/items",
            {
                "json": {
                    "type": "Feature",
                    "geometry": square(24.965, 60.185),
                    "properties": {"land_use": "residential"},
                }
            },
        ),
        NOBODY_SCOPED,
    ),
    "create an observation in A": (
        ("POST", "/ogc/collections/{cid}/items"),
        lambda w: (
            "POST",
            "/ogc/collections/observations/items",
            {"json": feature(24.945, 60.17, category="waste", captured_at="2026-11-30T10:00:00Z")},
        ),
        FIELD,
    ),
    "replace a parcel in A": (
        ("PUT", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PUT",
            f"/ogc/collections/parcels/items/{w.parcel()}",
            {
                "json": {
                    "type": "Feature",
                    "geometry": square(24.945, 60.1702),
                    "properties": {"land_use": "commercial"},
                }
            },
        ),
        EDITORS,
    ),
    "patch a parcel in A": (
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PATCH",
            f"/ogc/collections/parcels/items/{w.parcel()}",
            {"json": {"properties": {"note": "checked"}}, "headers": MERGE},
        ),
        EDITORS,
    ),
    "patch a parcel in B": (
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PATCH",
            f"/ogc/collections/parcels/items/{w.parcel('B')}",
            {"json": {"properties": {"note": "checked"}}, "headers": MERGE},
        ),
        {**NOBODY_SCOPED, "planner": 404},
    ),  # B's parcels are not even visible to A's planner
    "move a parcel from A into B": (
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PATCH",
            f"/ogc/collections/parcels/items/{w.parcel()}",
            {"json": {"geometry": square(24.965, 60.185)}, "headers": MERGE},
        ),
        NOBODY_SCOPED,
    ),
    "set an asset's condition in A": (
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PATCH",
            f"/ogc/collections/assets/items/{w.asset()}",
            {"json": {"properties": {"condition": "broken"}}, "headers": MERGE},
        ),
        FIELD,
    ),
    "change an asset's kind in A": (
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "PATCH",
            f"/ogc/collections/assets/items/{w.asset()}",
            {"json": {"properties": {"kind": "bench"}}, "headers": MERGE},
        ),
        EDITORS,
    ),
    "delete a parcel in A": (
        ("DELETE", "/ogc/collections/{cid}/items/{fid}"),
        lambda w: (
            "DELETE",
            f"/ogc/collections/parcels/items/{w.parcel()}",
            {},
        ),
        EDITORS,
    ),
    "restore a parcel in A": (
        ("POST", "/api/history/{layer}/{fid}/restore"),
        lambda w: (
            "POST",
            f"/api/history/parcels/{w.parcel()}/restore?version=1",
            {},
        ),
        EDITORS,
    ),
    "create a custom layer": (
        ("POST", "/layers"),
        lambda w: (
            "POST",
            "/layers",
            {"json": {"name": "kiosks", "geometry_type": "Point", "attributes": []}},
        ),
        ADMINS,
    ),
    "make a layer public": (
        ("PATCH", "/layers/{name}"),
        lambda w: (
            "PATCH",
            "/layers/parcels",
            {"json": {"public": True}},
        ),
        ADMINS,
    ),
    "drop a custom layer": (
        ("DELETE", "/layers/{name}"),
        lambda w: (
            "DELETE",
            f"/layers/{_custom_layer(w)}",
            {},
        ),
        ADMINS,
    ),
    "propose an intervention": (
        ("POST", "/interventions"),
        lambda w: (
            "POST",
            "/interventions",
            {
                "json": {
                    "properties": {"title": "Light the alley", "kind": "lighting"},
                    "geometry": {"type": "Point", "coordinates": [24.945, 60.17]},
                }
            },
        ),
        EDITORS,
    ),
    "patch an intervention": (
        ("PATCH", "/interventions/{iid}"),
        lambda w: (
            "PATCH",
            f"/interventions/{w.intervention()}",
            {"json": {"properties": {"contractor": "Kivi"}}},
        ),
        EDITORS,
    ),
    "delete an intervention": (
        ("DELETE", "/interventions/{iid}"),
        lambda w: (
            "DELETE",
            f"/interventions/{w.intervention()}?cascade=true",
            {},
        ),
        EDITORS,
    ),
    "approve an intervention": (
        ("POST", "/interventions/{iid}/transition"),
        lambda w: (
            "POST",
            f"/interventions/{w.intervention()}/transition",
            {"json": {"to": "approved"}},
        ),
        EDITORS,
    ),
    "add a target": (
        ("POST", "/interventions/{iid}/targets"),
        lambda w: (
            "POST",
            f"/interventions/{w.intervention()}/targets",
            {
                "json": {
                    "layer": "streets",
                    "feature_id": w.one("SELECT max(id) FROM streets WHERE neighbourhood_id = %s", w.nid(CODE)),
                }
            },
        ),
        EDITORS,
    ),
    "remove a target": (("DELETE", "/interventions/{iid}/targets/{layer}/{fid}"), lambda w: _remove_target(w), EDITORS),
    "create a task": (
        ("POST", "/tasks"),
        lambda w: (
            "POST",
            "/tasks",
            {"json": {"title": "Open a fund", "domain": "economic", "neighbourhood_id": w.nid(CODE)}},
        ),
        EDITORS,
    ),
    "patch a task": (
        ("PATCH", "/tasks/{tid}"),
        lambda w: (
            "PATCH",
            f"/tasks/{w.task()}",
            {"json": {"status": "in_progress"}},
        ),
        EDITORS,
    ),
    "delete a task": (("DELETE", "/tasks/{tid}"), lambda w: ("DELETE", f"/tasks/{w.task()}", {}), EDITORS),
    "link a task": (
        ("POST", "/tasks/{tid}/links"),
        lambda w: (
            "POST",
            f"/tasks/{w.task()}/links",
            {"json": {"layer": "parcels", "feature_id": w.parcel()}},
        ),
        EDITORS,
    ),
    "unlink a task": (("DELETE", "/tasks/{tid}/links/{layer}/{fid}"), lambda w: _unlink(w), EDITORS),
    "log a task update": (
        ("POST", "/tasks/{tid}/updates"),
        lambda w: (
            "POST",
            f"/tasks/{w.task()}/updates",
            {"json": {"note": "64 representatives elected"}},
        ),
        EDITORS,
    ),
    "set a task's target": (
        ("PUT", "/tasks/{tid}/targets/{kind}"),
        lambda w: ("PUT", f"/tasks/{w.task()}/targets/people_reached", {"json": {"target": 64}}),
        EDITORS,
    ),
    "remove a task's target": (("DELETE", "/tasks/{tid}/targets/{kind}"), lambda w: _untarget(w), EDITORS),
    "record an output of a task in A": (
        ("POST", "/ogc/collections/{cid}/items"),
        lambda w: (
            "POST",
            "/ogc/collections/outputs/items",
            {
                "json": {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"kind": "outreach_visits", "quantity": 3, "date": "2026-11-30", "task_id": w.task()},
                }
            },  # fmt: skip
        ),
        FIELD,  # field workers count their outreach
    ),
    "indicators of a drawn area": (
        ("POST", "/indicators"),
        lambda w: (
            "POST",
            "/indicators",
            {
                "json": {
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[24.94, 60.165], [24.95, 60.165], [24.95, 60.175], [24.94, 60.165]]],
                    }
                }
            },
        ),
        ALL,
    ),
    "upload an import": (
        ("POST", "/imports"),
        lambda w: (
            "POST",
            "/imports",
            {
                "files": {
                    "file": (
                        "points.geojson",
                        json.dumps(
                            {
                                "type": "FeatureCollection",
                                "features": [
                                    feature(24.945, 60.17, category="waste", captured_at="2026-11-30T10:00:00Z")
                                ],
                            }
                        ),
                        "application/geo+json",
                    )
                },
                "data": {"layer": "observations"},
            },
        ),
        {"admin": 2, "planner": 2, "field": 403, "viewer": 403, "anonymous": 401},
    ),
    "preview an import": (
        ("POST", "/imports/preview"),
        lambda w: (
            "POST",
            "/imports/preview",
            {
                "files": {
                    "file": (
                        "p.geojson",
                        json.dumps(
                            {"type": "FeatureCollection", "features": [feature(24.945, 60.17, category="waste")]}
                        ),
                        "application/geo+json",
                    )
                },
                "data": {"layer": "observations"},
            },
        ),  # fmt: skip
        {"admin": 200, "planner": 200, "field": 403, "viewer": 403, "anonymous": 401},
    ),
    "sync an observation in A": (
        ("POST", "/field/sync"),
        lambda w: ("POST", "/field/sync", {"json": {"changes": [_observation_change()]}}),
        ALL,  # the route is every user's; each change is then the database's business (tests/api/test_field.py)
    ),
    "announce a photo of a parcel in A": (
        ("POST", "/field/uploads"),
        lambda w: ("POST", "/field/uploads", {"json": _photo(layer="parcels", feature_id=w.parcel())}),
        FIELD,
    ),
    "send a piece of a photo nobody announced": (
        ("PUT", "/field/uploads/{uid}"),
        lambda w: ("PUT", f"/field/uploads/{uuid.uuid4()}", {"content": b"x"}),
        {"admin": 404, "planner": 404, "field": 404, "viewer": 404, "anonymous": 401},
    ),
    "attach a photo to a parcel in A": (
        ("POST", "/attachments"),
        lambda w: (
            "POST",
            "/attachments",
            {
                "files": {"file": ("p.png", _png(), "image/png")},
                "data": {"layer": "parcels", "feature_id": str(w.parcel())},
            },
        ),
        FIELD,
    ),  # fmt: skip
    "remove a photo of a parcel in A": (("DELETE", "/attachments/{aid}"), lambda w: _attachment(w), EDITORS),
    "reject an observation in A": (
        ("POST", "/review/observations/{oid}"),
        lambda w: (
            "POST",
            f"/review/observations/{_new_observation(w)}",
            {"json": {"action": "reject", "reason": "duplicate"}},
        ),
        EDITORS,
    ),  # fmt: skip
    "settle a conflict in A": (
        ("POST", "/review/conflicts/{change_id}"),
        lambda w: ("POST", f"/review/conflicts/{_conflict(w)}", {"json": {"keep": "server"}}),
        EDITORS,
    ),
    "check in a GeoPackage of A": (("POST", "/field/checkin"), lambda w: _checkin(w), FIELD),
    "create my token": (("POST", "/auth/tokens"), lambda w: ("POST", "/auth/tokens", {"json": {"label": "QGIS"}}), ALL),
    "revoke my token": (("DELETE", "/auth/tokens/{prefix}"), lambda w: _my_token(w), ALL),
    "log out": (("POST", "/auth/logout"), lambda w: ("POST", "/auth/logout", {}), ALL),
    "log in": (
        ("POST", "/auth/login"),
        lambda w: (
            "POST",
            "/auth/login",
            {"json": {"name": "nobody", "password": "not the password"}},
        ),
        {role: 401 for role in ROLES},
    ),  # open to all: a wrong password is 401 whoever asks
    "define a group of neighbourhoods": (
        ("PUT", "/neighbourhood-groups/{code}"),
        lambda w: ("PUT", "/neighbourhood-groups/HKI", {"json": {"name": "Helsinki", "neighbourhoods": [CODE, B]}}),
        ADMINS,
    ),
    "remove a group of neighbourhoods": (
        ("DELETE", "/neighbourhood-groups/{code}"),
        lambda w: _group(w),
        ADMINS,
    ),
    "set a coverage distance": (
        ("PUT", "/coverage-rules/{category}"),
        lambda w: ("PUT", "/coverage-rules/school", {"json": {"distance_m": 450}}),
        ADMINS,
    ),
    "remove a coverage distance": (("DELETE", "/coverage-rules/{category}"), lambda w: _coverage_rule(w), ADMINS),
    "set a plausibility rule": (
        ("PUT", "/plausibility-rules/{layer}/{rule}"),
        lambda w: ("PUT", "/plausibility-rules/streets/max_length", {"json": {"value": 2500}}),
        ADMINS,
    ),
    "remove a plausibility rule": (
        ("DELETE", "/plausibility-rules/{layer}/{rule}"),
        lambda w: _plausibility_rule(w),
        ADMINS,
    ),
    "add or translate a value-list entry": (
        ("PUT", "/vocabularies/{layer}/{attribute}/{value}"),
        lambda w: ("PUT", "/vocabularies/interventions/kind/traffic_signs", {"json": {"label": {"en": "Signs"}}}),
        ADMINS,
    ),
    "remove a value-list entry": (
        ("DELETE", "/vocabularies/{layer}/{attribute}/{value}"),
        lambda w: _vocabulary_entry(w),
        ADMINS,
    ),
}


def _vocabulary_entry(w: World) -> Request:
    made = w.client.put("/vocabularies/interventions/kind/road_works", json={"label": {"en": "Road works"}},
                        headers=ADMIN_HEADERS)  # fmt: skip
    assert made.status_code in (200, 201), made.text
    return "DELETE", "/vocabularies/interventions/kind/road_works", {}


def _group(w: World) -> Request:
    body = {"name": "G1", "neighbourhoods": [CODE]}
    made = w.client.put("/neighbourhood-groups/G1", json=body, headers=ADMIN_HEADERS)
    assert made.status_code in (200, 201), made.text
    return "DELETE", "/neighbourhood-groups/G1", {}


def _observation_change() -> dict[str, Any]:
    return {"uid": str(uuid.uuid4()), "op": "create", "layer": "observations",
            **feature(24.945, 60.17, category="waste", captured_at="2026-11-30T10:00:00Z")}  # fmt: skip


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _photo(**where: Any) -> dict[str, Any]:
    data = _png()
    return {"uid": str(uuid.uuid4()), "filename": "p.png", "media_type": "image/png", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **where}  # fmt: skip


def _attachment(w: World) -> Request:
    added = w.client.post("/attachments", files={"file": ("p.png", _png(), "image/png")},
                          data={"layer": "parcels", "feature_id": str(w.parcel())}, headers=ADMIN_HEADERS)  # fmt: skip
    assert added.status_code == 201, added.text
    return "DELETE", f"/attachments/{added.json()['id']}", {}


def _new_observation(w: World) -> int:
    return w.one("INSERT INTO observations (category, captured_at, geom) "
                 "VALUES ('waste', now(), 'SRID=4326;POINT(24.945 60.17)') RETURNING id")  # fmt: skip


def _conflict(w: World) -> int:
    pid = w.parcel()
    w.conn.execute("UPDATE parcels SET land_use = 'commercial' WHERE id = %s", [pid])
    change = {"uid": str(uuid.uuid4()), "op": "update", "layer": "parcels", "id": pid, "base_version": 1,
              "properties": {"land_use": "vacant"}}  # fmt: skip
    sent = w.client.post("/field/sync", json={"changes": [change]}, headers=ADMIN_HEADERS)
    (result,) = sent.json()["results"]
    assert result["status"] == "conflict", result
    return result["conflict_id"]


def _checkin(w: World) -> Request:
    got = w.client.get("/field/checkout", params={"neighbourhood": CODE, "layers": "workshops"}, headers=ADMIN_HEADERS)
    assert got.status_code == 200, got.text
    return "POST", "/field/checkin", {"content": got.content}


def _remove_target(w: World) -> Request:
    iid = w.intervention()
    street = w.one("SELECT feature_id FROM intervention_targets WHERE intervention_id = %s", iid)
    return "DELETE", f"/interventions/{iid}/targets/streets/{street}", {}


def _unlink(w: World) -> Request:
    tid, pid = w.task(), w.parcel()
    linked = w.client.post(f"/tasks/{tid}/links", json={"layer": "parcels", "feature_id": pid}, headers=ADMIN_HEADERS)
    assert linked.status_code == 201, linked.text
    return "DELETE", f"/tasks/{tid}/links/parcels/{pid}", {}


def _untarget(w: World) -> Request:
    tid = w.task()
    planned = w.client.put(f"/tasks/{tid}/targets/hires", json={"target": 16}, headers=ADMIN_HEADERS)
    assert planned.status_code == 200, planned.text
    return "DELETE", f"/tasks/{tid}/targets/hires", {}


def _coverage_rule(w: World) -> Request:
    made = w.client.put("/coverage-rules/library", json={"distance_m": 800}, headers=ADMIN_HEADERS)
    assert made.status_code in (200, 201), made.text
    return "DELETE", "/coverage-rules/library", {}


def _plausibility_rule(w: World) -> Request:
    made = w.client.put("/plausibility-rules/parcels/max_area", json={"value": 80000}, headers=ADMIN_HEADERS)
    assert made.status_code in (200, 201), made.text
    return "DELETE", "/plausibility-rules/parcels/max_area", {}


def _my_token(w: World) -> Request:
    return "DELETE", "/auth/tokens/{mine}", {}


def api_routes() -> Iterator[APIRoute]:
    """Every route of the app (FastAPI keeps included routers' routes inside them)."""
    app = create_app(Settings(database_url="postgresql:///unused", load_demo=False), database=Database("unused"))

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)

    return walk(app.routes)


def _unsafe_routes() -> set[tuple[str, str]]:
    return {(m, r.path.removeprefix("/ogc") if r.path.startswith("/ogc/") else r.path)
            for r in api_routes() for m in r.methods if m not in ("GET", "HEAD", "OPTIONS")}  # fmt: skip


def test_the_matrix_covers_every_write_route():
    covered = {(m, p.removeprefix("/ogc")) for (m, p), _, _ in CASES.values()}
    assert _unsafe_routes() - covered == set()


@pytest.mark.parametrize("case", CASES)
def test_role_by_route(world: World, case: str):
    _, make, expected = CASES[case]
    for role in ROLES:
        method, path, kwargs = make(world)
        headers = {**kwargs.pop("headers", {}), **world.headers[role]}
        if "{mine}" in path:  # each role revokes a token of its own (anonymous has none: any prefix)
            mine = world.client.post("/auth/tokens", json={}, headers=world.headers[role])
            path = path.replace("{mine}", mine.json()["prefix"] if mine.status_code == 201 else "nothing")
        answer = world.client.request(method, path, headers=headers, **kwargs)
        want = expected[role]
        got = answer.status_code
        ok = 200 <= got < 300 if want == 2 else got == want
        assert ok, f"{case}: {role} got {got}, expected {'2xx' if want == 2 else want}: {answer.text[:300]}"
        if want == 401:
            assert answer.headers.get("www-authenticate", "").startswith("Bearer")
        if got == 403:
            assert answer.json()["detail"], "a refusal says why"


def test_refusals_leave_the_database_as_it_was(world: World):
    pid = world.parcel()
    before = world.one("SELECT version FROM parcels WHERE id = %s", pid)
    history = world.one("SELECT count(*) FROM mahalle.history")
    moved = world.client.patch(f"/ogc/collections/parcels/items/{pid}", json={"geometry": square(24.965, 60.185)},
                               headers={**MERGE, **world.headers["planner"]})  # fmt: skip
    assert moved.status_code == 403
    assert "B-NORTH" in moved.json()["detail"] and "planner in HKI" in moved.json()["detail"]
    assert world.one("SELECT version FROM parcels WHERE id = %s", pid) == before
    assert world.one("SELECT count(*) FROM mahalle.history") == history


# Routes that serve only fixed documents and files (no row of any layer, no user data): no permission needed.
DOCUMENTS = {
    "/docs", "/static/{path:path}", "/i18n/{lang}.json", "/sw.js", "/vendor/{package}/{path:path}", "/health",
    "/ogc", "/ogc/conformance", "/ogc/tileMatrixSets", "/ogc/tileMatrixSets/{tms}", "/ogc/api",
}  # fmt: skip


def test_every_data_route_declares_its_permission():
    """The one enforcement point: every route that touches data has ``api.auth.permit`` among its dependencies."""

    def permits(dependant: Any) -> list[str]:
        found = [getattr(d.call, "permit_action", None) for d in dependant.dependencies]
        return [a for a in found if a] + [a for d in dependant.dependencies for a in permits(d)]

    unguarded = {r.path for r in api_routes() if not permits(r.dependant)}
    assert unguarded == DOCUMENTS
