"""Bad input never gets a 500: every route of the app, walked with hostile path values, query values and
bodies on a copy of the demo database; every 4xx is a problem-details document. Then the cases issue 13
names one by one: huge offsets and ids, lone surrogates and NUL in text, CQL2 filters thousands of terms
long or deep, huge bbox numbers, unknown body members."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ogc.params import ITEM_PARAMS
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import ADMIN_HEADERS

# Already percent-encoded, so they reach the server byte for byte: NUL, a lone surrogate in (CESU) UTF-8,
# a superscript digit (str.isdigit() says yes, int() says no), numbers past bigint, a long value, traversal.
HOSTILE_PATH = ["9" * 40, str(2**63), "-1", "0", "%00", "a%00b", "x" * 3000, "..%2F..%2Fetc%2Fpasswd", "%2E%2E",
                "%ED%A0%80", "%C2%B2", "1e3", "%20", "%27%20OR%201%3D1%20--"]  # fmt: skip
HOSTILE_QUERY = ["9" * 40, str(2**63), "-1", "%00", "a%00b", "x" * 3000, "%ED%A0%80", "%C2%B2", "1e400", "nan",
                 "-inf", "9999-12-31", "0001-01-01", "%27%20OR%201%3D1%20--", "", "%5B%5D", "1,2,3,1e999"]  # fmt: skip
# JSON values replacing each member of a valid body in turn (json.dumps writes the surrogate as \ud800).
HOSTILE_VALUES: list[Any] = ["a\x00b", "a\ud800b", "x" * 100_000, 10**30, 2**63, -(2**63) - 1, -1, 1e308, 1.5, True,
                             None, [], {}, "9999-99-99", "../../etc/passwd"]  # fmt: skip
HOSTILE_BODIES = [b"", b"null", b"[]", b'"x"', b"{}", b'{"zzz": 1}', b"[" * 100_000 + b"]" * 100_000, b"{",
                  b'{"title": "\\ud800"}', b'{"title": "a\\u0000b"}', b'{"\\ud800": 1}', b'{"x": 1e400}',
                  b'{"x": NaN}', b"\xff\xfe\x00", b'{"x": ' + b"9" * 5000 + b"}"]  # fmt: skip
POLYGON = {"type": "Polygon", "coordinates": [[[24.93, 60.165], [24.94, 60.165], [24.94, 60.17], [24.93, 60.165]]]}
STALE = {"If-Match": '"999999999"'}  # conditional writes in the path and query walks change nothing


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=demo_db_url, load_demo=False, max_body_mb=1)
    app = create_app(settings, database=Database(demo_db_url))
    with TestClient(
        app, raise_server_exceptions=False, headers=ADMIN_HEADERS
    ) as c:  # a 500 is an answer to report, not an exception
        yield c


@pytest.fixture
def ids(demo_db_url: str) -> dict[str, int]:
    with psycopg.connect(demo_db_url) as conn:
        one = {t: conn.execute(f"SELECT min(id) FROM {t}").fetchone()[0] for t in ("streets", "interventions", "tasks")}
    assert all(one.values()), one
    return one


def routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path template, OpenAPI operation) of the app: the documented ones with their operation,
    the others (web files, the page itself) with an empty one. HEAD and OPTIONS of GET routes are skipped."""
    app = client.app
    try:  # FastAPI >= 0.160 includes routers lazily
        from fastapi.routing import iter_route_contexts

        found = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        found = [(r.path, getattr(r, "methods", None)) for r in app.routes]
    document = client.get("/openapi.json").json()["paths"]
    out = []
    for path, methods in found:
        for method in sorted(methods or ()):
            if method == "HEAD":
                continue
            out.append((method, path, document.get(path, {}).get(method.lower(), {})))
    assert len(out) > 60, out  # the walk cannot pass by walking nothing
    return out


def valid_path_values(ids: dict[str, int]) -> dict[str, str]:
    return {"layer": "streets", "cid": "streets", "name": "streets", "fid": str(ids["streets"]),
            "iid": str(ids["interventions"]), "tid": str(ids["tasks"]), "job_id": str(UUID(int=7)),
            "tms": "WebMercatorQuad", "z": "15", "y": "9483", "x": "18651", "lang": "en", "package": "leaflet",
            "path": "leaflet.js", "oid": "1", "change_id": "1", "uid": str(UUID(int=11)), "aid": "1",
            "code": "HKI",
            "kind": "people_reached", "category": "school", "attribute": "surface", "value": "cobbles",
            "rule": "max_length"}  # fmt: skip


def path_params(template: str) -> list[str]:
    return re.findall(r"{(\w+)(?::path)?}", template)


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)(?::path)?}", lambda m: values[m.group(1)], template)


def query_params(method: str, template: str, operation: dict[str, Any]) -> list[str]:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    if template == "/ogc/collections/{cid}/items" and method == "GET":  # read from the query string itself
        names += sorted(ITEM_PARAMS | {"name", "width_m", "updated_at", "uid"})
    return names


REQUIRED_QUERY = {"/indicators": {"neighbourhood": CODE},
                  "/reports/achievement": {"neighbourhood": CODE, "from": "2026-01-01", "to": "2026-12-31",
                                           "format": "json"},
                  "/exports": {"format": "geojson", "layers": "neighbourhoods"},
                  "/search": {"q": "yard"}}  # fmt: skip


class Findings:
    """Every answer that breaks the rule, so one run reports them all."""

    def __init__(self) -> None:
        self.bad: list[str] = []
        self.count = 0

    def check(self, response: Any, what: str) -> None:
        self.count += 1
        status = response.status_code
        if status >= 500:
            self.bad.append(f"{status} {what}: {response.text[:200]}")
        elif status >= 400:
            ctype = response.headers.get("content-type", "")
            body = response.json() if ctype.startswith("application/problem+json") else None
            if not (isinstance(body, dict) and body.get("status") == status and isinstance(body.get("title"), str)):
                self.bad.append(f"{status} {what}: not problem details ({ctype}): {response.text[:200]}")

    def assert_none(self) -> None:
        assert not self.bad, f"{len(self.bad)} of {self.count} answers break the rule:\n" + "\n".join(self.bad[:40])


def short(url: str) -> str:
    return url if len(url) < 160 else url[:157] + "…"


def test_every_path_parameter_with_hostile_values(client, ids):
    findings, valid = Findings(), valid_path_values(ids)
    for method, template, _ in routes(client):
        for name in path_params(template):
            for value in HOSTILE_PATH:
                url = fill(template, {**valid, name: value})
                response = client.request(method, url, headers=STALE)
                findings.check(response, f"{method} {short(url)}")
    findings.assert_none()
    assert findings.count > 500


def test_every_query_parameter_with_hostile_values(client, ids):
    findings, valid = Findings(), valid_path_values(ids)
    for method, template, operation in routes(client):
        required = REQUIRED_QUERY.get(template, {}) if method == "GET" else {}
        for name in query_params(method, template, operation):
            for value in HOSTILE_QUERY:
                query = "&".join(f"{k}={quote(v)}" for k, v in {**required, name: ""}.items() if k != name)
                url = f"{fill(template, valid)}?{query}{'&' if query else ''}{quote(name)}={value}"
                response = client.request(method, url, headers=STALE)
                findings.check(response, f"{method} {short(url)}")
    findings.assert_none()
    assert findings.count > 500


def example_bodies(ids: dict[str, int]) -> dict[tuple[str, str], Any]:
    """A valid body for every route that takes JSON (the walk changes one member at a time)."""
    street = {"type": "MultiLineString", "coordinates": [[[24.935, 60.166], [24.936, 60.166]]]}
    target = {"layer": "streets", "feature_id": ids["streets"]}
    return {
        ("POST", "/interventions"): {"properties": {"title": "Pave", "kind": "paving", "planned_cost": 100,
                                                    "planned_start": "2026-01-01"}, "geometry": POLYGON,
                                     "targets": [target]},
        ("PATCH", "/interventions/{iid}"): {"properties": {"contractor": "Kivi", "planned_cost": 5}},
        ("POST", "/interventions/{iid}/transition"): {"to": "approved", "status_reason": "ok"},
        ("POST", "/interventions/{iid}/targets"): target,
        ("POST", "/tasks"): {"title": "Deeds", "domain": "legal", "due_date": "2026-01-31", "progress": 10},
        ("PATCH", "/tasks/{tid}"): {"progress": 30, "assignee": "Amina"},
        ("POST", "/tasks/{tid}/links"): {"layer": "interventions", "feature_id": ids["interventions"], "weight": 1},
        ("POST", "/tasks/{tid}/updates"): {"note": "Registry closed", "status": "blocked", "progress": 5},
        ("PUT", "/tasks/{tid}/targets/{kind}"): {"target": 64, "unit": "people"},
        ("POST", "/indicators"): {"geometry": POLYGON, "as_of": "2026-01-01"},
        ("POST", "/ogc/collections/{cid}/items"): {"type": "Feature", "geometry": street,
                                                   "properties": {"name": "Kuja", "width_m": 4}},
        ("PUT", "/ogc/collections/{cid}/items/{fid}"): {"type": "Feature", "geometry": street,
                                                        "properties": {"name": "Kuja", "width_m": 4}},
        ("PATCH", "/ogc/collections/{cid}/items/{fid}"): {"properties": {"name": "Njia"}},
        ("POST", "/layers"): {"name": "water_points", "title": "Water points", "geometry_type": "Point",
                              "attributes": [{"name": "depth_m", "type": "number", "minimum": 0}]},
        ("PATCH", "/layers/{name}"): {"public": True},
        ("POST", "/field/sync"): {"changes": [{"uid": str(UUID(int=9)), "op": "create", "layer": "streets",
                                               "properties": {"name": "Kuja"}, "geometry": street}]},
        ("POST", "/field/uploads"): {"uid": str(UUID(int=10)), "filename": "a.jpg", "media_type": "image/jpeg",
                                     "size": 100, "sha256": "a" * 64, "layer": "streets",
                                     "feature_id": ids["streets"]},
        ("POST", "/review/observations/{oid}"): {"action": "reject", "reason": "duplicate"},
        ("POST", "/review/conflicts/{change_id}"): {"keep": "server"},
        ("PUT", "/neighbourhood-groups/{code}"): {"name": "Helsinki", "kind": "municipality",
                                                  "neighbourhoods": [CODE]},
        ("PUT", "/coverage-rules/{category}"): {"distance_m": 400},
        ("PUT", "/plausibility-rules/{layer}/{rule}"): {"value": 2500, "enabled": True},
        ("PUT", "/vocabularies/{layer}/{attribute}/{value}"): {"label": {"en": "Cobbles", "fa": "سنگفرش"},
                                                               "color": "#795548", "retired": False},
    }  # fmt: skip


def members(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """The paths of every member of a JSON value (objects' members, the first two items of lists)."""
    items = value.items() if isinstance(value, dict) else enumerate(value[:2]) if isinstance(value, list) else ()
    for key, item in items:
        yield (*path, key)
        yield from members(item, (*path, key))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def test_every_json_body_with_hostile_members(client, ids):
    findings, valid = Findings(), valid_path_values(ids)
    examples = example_bodies(ids)
    json_routes = [(m, t, op) for m, t, op in routes(client) if m in ("POST", "PUT", "PATCH")]
    documented = {
        (m, t) for m, t, op in json_routes if "application/json" in op.get("requestBody", {}).get("content", {})
    }
    assert documented <= set(examples), documented - set(examples)  # a new JSON route needs an example here
    for method, template, _ in json_routes:
        url = fill(template, valid)
        headers = {"Content-Type": "application/json"}
        for raw in HOSTILE_BODIES:
            response = client.request(method, url, content=raw, headers=headers)
            findings.check(response, f"{method} {url} {raw[:60]!r}")
        big = b'{"note": "' + b"x" * (1024 * 1024 + 10) + b'"}'  # past max_body_mb = 1: 413
        response = client.request(method, url, content=big, headers=headers)
        findings.check(response, f"{method} {url} (a body past the limit)")
        if (method, template) in examples and template != "/layers":  # bodies read by api.deps.read_json
            assert response.status_code == 413, (method, url, response.status_code)
        example = examples.get((method, template))
        if example is None:
            continue
        for path in members(example):
            for value in HOSTILE_VALUES:
                body = json.dumps(replaced(example, path, value)).encode()  # \ud800 and \u0000 as escapes
                response = client.request(method, url, content=body, headers=headers)
                findings.check(response, f"{method} {url} {'.'.join(map(str, path))}={str(value)[:30]!r}")
    findings.assert_none()
    assert findings.count > 1000


# --- the cases one by one -----------------------------------------------------------------------------


def problem_of(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize("offset", [str(10**30), str(2**63), "1000000001", "-1", "1.5", "²", "١"])
def test_offsets_are_bounded(client, offset):
    problem = problem_of(client.get(f"/ogc/collections/streets/items?offset={quote(offset)}"), 400)
    assert "offset must be a whole number from 0 to 1000000000" in problem["detail"]


def test_the_largest_offset_and_limit_still_answer(client):
    page = client.get("/ogc/collections/streets/items?offset=1000000000&limit=10000")
    assert page.status_code == 200 and page.json()["features"] == []
    assert "limit must be" in problem_of(client.get(f"/ogc/collections/streets/items?limit={10**30}"), 400)["detail"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"title": "\\ud800", "domain": "legal"}', "title: the text is not valid Unicode"),
        (b'{"title": "a\\u0000b", "domain": "legal"}', "title: text may not contain the NUL character"),
        (b'{"title": "ok", "domain": "legal", "\\udc00": 1}', "not valid Unicode"),
    ],
)
def test_text_that_cannot_be_stored_is_refused_naming_where(client, body, where):
    problem = problem_of(client.post("/tasks", content=body, headers={"Content-Type": "application/json"}), 400)
    assert where in problem["detail"]


def test_nul_and_surrogates_in_feature_writes_and_a_real_emoji_passes(client):
    street = {"type": "MultiLineString", "coordinates": [[[24.935, 60.166], [24.936, 60.166]]]}
    for text in ("a\x00b", "a\ud800b"):
        body = json.dumps({"type": "Feature", "geometry": street, "properties": {"name": text}}).encode()
        response = client.post("/ogc/collections/streets/items", content=body,
                               headers={"Content-Type": "application/geo+json"})  # fmt: skip
        assert "properties.name" in problem_of(response, 400)["detail"]
    body = json.dumps({"type": "Feature", "geometry": street, "properties": {"name": "Kuja 😀"}}).encode()
    created = client.post(
        "/ogc/collections/streets/items", content=body, headers={"Content-Type": "application/geo+json"}
    )
    assert created.status_code == 201 and created.json()["properties"]["name"] == "Kuja 😀"


def test_nul_in_query_values_is_a_400(client):
    for url in (
        "/interventions?neighbourhood=%00",
        "/tasks/board?neighbourhood=a%00",
        "/ogc/collections/streets/items?name=%00",
        f"/indicators?neighbourhood={CODE}%00",
    ):
        problem_of(client.get(url), 400)


def test_long_flat_or_chains_and_deep_nesting_are_bounded(client):
    items = "/ogc/collections/streets/items"
    chain = " OR ".join(["width_m = 1"] * 1000)  # 14,996 characters: balanced, translated, answered
    assert client.get(items, params={"filter": chain, "limit": 1}).status_code == 200
    too_long = " OR ".join(["width_m = 1"] * 3000)
    assert "at most 20,000 are accepted" in problem_of(client.get(items, params={"filter": too_long}), 400)["detail"]
    deep = "NOT (" * 60 + "width_m = 1" + ")" * 60
    assert "nests more than 50 levels" in problem_of(client.get(items, params={"filter": deep}), 400)["detail"]
    assert client.get(items, params={"filter": "NOT (" * 40 + "width_m = 1" + ")" * 40}).status_code == 200
    parens = "(" * 4000 + "width_m = 1" + ")" * 4000  # brackets make no depth
    assert client.get(items, params={"filter": parens, "limit": 1}).status_code == 200
    arithmetic = "width_m" + " + 1" * 2000 + " > 0"
    problem_of(client.get(items, params={"filter": arithmetic}), 400)
    as_json = json.dumps({"op": "or", "args": [{"op": "=", "args": [{"property": "width_m"}, 1]}] * 300})
    assert client.get(items, params={"filter": as_json, "filter-lang": "cql2-json"}).status_code == 200
    nested: Any = {"op": "=", "args": [{"property": "width_m"}, 1]}
    for _ in range(200):
        nested = {"op": "not", "args": [nested]}
    problem_of(client.get(items, params={"filter": json.dumps(nested), "filter-lang": "cql2-json"}), 400)
    deep_json = "[" * 5000 + "]" * 5000
    problem_of(client.get(items, params={"filter": deep_json, "filter-lang": "cql2-json"}), 400)
    surrogate = '{"op": "=", "args": [{"property": "name"}, "\\ud800"]}'
    problem_of(client.get(items, params={"filter": surrogate, "filter-lang": "cql2-json"}), 400)
    exports = client.get("/exports", params={"format": "geojson", "layers": "streets", "filter": too_long})
    problem_of(exports, 400)


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1e300,1e300,1e301,1e301",
        "bbox=-1e400,0,1,1",
        "bbox=0,0,1,nan",
        "bbox=24,60,25,61,1e999,2",
        "bbox=1e30,1e30,1e31,1e31&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F3857",
        "filter=S_INTERSECTS(geom,POINT(1e400 1))",
        "filter=S_DWITHIN(geom,POINT(24 60),1e400,meters)",
        "filter=S_INTERSECTS(geom,BBOX(0,0,1e999,1))",
        f"neighbourhood_id={10**30}",
    ],
)
def test_huge_numbers_are_client_errors(client, query):
    response = client.get(f"/ogc/collections/streets/items?{query}")
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    if response.status_code == 400:
        problem_of(response, 400)


@pytest.mark.parametrize("iid", [str(10**30), str(2**63), "abc", "1.5", "-1", "0"])
def test_ids_that_are_not_ids_are_400(client, iid):
    problem_of(client.get(f"/interventions/{iid}"), 400)
    problem_of(client.get(f"/tasks/{iid}"), 400)


# --- request schemas ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/tasks", {"title": "t", "domain": "legal", "colour": "red"}, "colour"),
        ("POST", "/tasks", {"title": "t", "domain": "legal", "progress": "ten"}, "progress"),
        ("POST", "/tasks", {"title": "t", "domain": "legal", "progress": 101}, "progress"),
        ("POST", "/tasks", {"title": "t" * 301, "domain": "legal"}, "title"),
        ("POST", "/tasks", {"domain": "legal"}, "title"),
        ("POST", "/interventions/{iid}/transition", {"to": "approved", "colour": 1}, "colour"),
        ("POST", "/interventions/{iid}/transition", {"to": "flying"}, "to"),
        ("POST", "/interventions/{iid}/transition", {"status_reason": "x"}, "to"),
        ("POST", "/interventions/{iid}/targets", {"layer": "streets", "feature_id": "7"}, "feature_id"),
        ("POST", "/interventions/{iid}/targets", {"targets": [{"layer": "x"}] * 1001}, "targets"),
        ("POST", "/tasks/{tid}/updates", {"note": 5}, "note"),
        ("POST", "/tasks/{tid}/updates", {"note": "x", "mood": "bad"}, "mood"),
        ("POST", "/tasks/{tid}/links", {"layer": "streets", "feature_id": 1, "weight": "heavy"}, "weight"),
        ("PATCH", "/interventions/{iid}", {"properties": {"planned_cost": True}}, "planned_cost"),
        ("PATCH", "/interventions/{iid}", {"properties": {}, "links": []}, "links"),
        ("POST", "/indicators", {"geometry": POLYGON, "as_of": 20260101}, "as_of"),
        ("POST", "/indicators", {"geometry": POLYGON, "area": 1}, "area"),
        ("PUT", "/neighbourhood-groups/HKI", {"name": "H", "kind": "city"}, "kind"),
        ("PUT", "/coverage-rules/school", {"distance_m": "far"}, "distance_m"),
        ("PUT", "/plausibility-rules/streets/max_length", {"value": "far"}, "value"),
    ],
)
def test_bodies_breaking_their_schema_are_422_naming_the_property(client, ids, method, url, body, field):
    response = client.request(method, url.format(iid=ids["interventions"], tid=ids["tasks"]), json=body)
    problem = problem_of(response, 422)
    assert problem["property"] == field, problem
    if field == "colour" and url == "/tasks":
        assert problem["detail"] == "tasks has no property 'colour'"


def test_every_planning_body_is_documented_and_closed(client):
    document = client.get("/openapi.json").json()
    writes = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()
              if "planning" in op.get("tags", []) and method in ("post", "put", "patch")]  # fmt: skip
    assert len(writes) == 10
    for path, method, op in writes:
        content = op["requestBody"]["content"]
        assert set(content) == {"application/json", "application/geo+json", "application/merge-patch+json"}
        schema = content["application/json"]["schema"]
        assert "$ref" not in json.dumps(schema), (path, method)
        closed = schema.get("additionalProperties") is False or all(
            branch.get("additionalProperties") is False for branch in schema.get("oneOf", [])
        )
        assert closed, (path, method)
        problem = op["responses"]["422"]["content"]["application/problem+json"]["schema"]
        assert problem["required"] == ["title", "status"]
