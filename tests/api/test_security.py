"""Browser-facing safety on the real app and database: the Host allow-list, the Origin check on writes,
the security headers of every response and the Content-Security-Policy of every HTML page, /docs offline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS

GEOJSON = {"Content-Type": "application/geo+json"}
WELL = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9412345, 60.1712345]},
        "properties": {"kind": "scrap", "name": "Yard"}}  # fmt: skip
ITEMS = "/ogc/collections/workshops/items"
CODE = "HKI-CENTRE"


def make(url: str, base_url: str = "http://testserver", **settings: object) -> TestClient:
    app = create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url))
    return TestClient(app, base_url=base_url, headers=ADMIN_HEADERS)


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    with make(demo_db_url) as c:
        yield c


@pytest.fixture
def demo_conn(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as c:
        yield c


def workshops(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM workshops").fetchone()[0]


def assert_problem(response, status: int, title: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] == title and body["type"] == "about:blank"
    return body


# Host allow-list ------------------------------------------------------------------------------------


def test_default_hosts_are_the_bind_address_and_loopback_names():
    settings = Settings(allowed_hosts=None, host="10.1.2.3")
    assert settings.host_allow_list == ["10.1.2.3", "localhost", "127.0.0.1", "[::1]"]
    assert "testserver" not in Settings(allowed_hosts=None).host_allow_list


def test_allowed_hosts_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAHALLE_ALLOWED_HOSTS", "maps.example.org, *.office.example.org")
    monkeypatch.setenv("MAHALLE_ALLOWED_ORIGINS", '["https://planner.example.org"]')
    settings = Settings()
    assert settings.host_allow_list == ["maps.example.org", "*.office.example.org"]
    assert settings.allowed_origins == ["https://planner.example.org"]


def test_default_allow_list_answers_loopback_and_refuses_other_hosts(db_url):
    with make(db_url, base_url="http://localhost:8000", allowed_hosts=None) as c:
        assert c.get("/health").status_code == 200
        for host in ("127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "127.0.0.1"):
            assert c.get("/health", headers={"Host": host}).status_code == 200, host
        for host in ("testserver", "evil.example", "localhost.evil.example:8000", "127.0.0.2", ""):
            body = assert_problem(c.get("/health", headers={"Host": host}), 400, "Unknown host")
            assert "MAHALLE_ALLOWED_HOSTS" in body["detail"]
        refused = c.get("/", headers={"Host": "evil.example"})
        assert refused.headers["x-content-type-options"] == "nosniff"  # the refusal has the headers too


def test_wildcards_in_the_allow_list(db_url):
    with make(db_url, base_url="http://maps.example.org", allowed_hosts=["*.office.example.org"]) as c:
        assert c.get("/health", headers={"Host": "a.office.example.org"}).status_code == 200
        assert c.get("/health", headers={"Host": "a.b.office.example.org:8443"}).status_code == 200
        assert c.get("/health", headers={"Host": "office.example.org"}).status_code == 400
        assert c.get("/health", headers={"Host": "evil-office.example.org"}).status_code == 400
    with make(db_url, base_url="http://anything.example", allowed_hosts=["*"]) as c:
        assert c.get("/health").status_code == 200


# Origin check on unsafe methods ---------------------------------------------------------------------


def test_a_page_of_another_origin_cannot_write(client, demo_conn):
    before = workshops(demo_conn)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Origin": "http://testserver:8080"},
        {"Origin": "null"},  # sandboxed frames, file: pages
        {"Referer": "https://evil.example/attack.html"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = client.post(ITEMS, json=WELL, headers={**GEOJSON, **headers})
        body = assert_problem(response, 403, "Cross-origin request refused")
        assert "MAHALLE_ALLOWED_ORIGINS" in body["detail"], headers
    assert workshops(demo_conn) == before  # nothing was written

    fid = client.post(ITEMS, json=WELL, headers=GEOJSON).headers["Location"].rsplit("/", 1)[1]
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, f"{ITEMS}/{fid}", json=WELL, headers={**GEOJSON, "Origin": "https://x.org"})
        assert response.status_code == 403, method
    assert client.get(f"{ITEMS}/{fid}").status_code == 200  # still there
    # Reading is not a cross-site risk the server must refuse.
    assert client.get(f"{ITEMS}/{fid}", headers={"Origin": "https://evil.example"}).status_code == 200


def test_the_own_origin_and_clients_without_origin_may_write(client, demo_conn):
    before = workshops(demo_conn)
    own = {"Origin": "http://testserver", "Referer": "http://testserver/", "Sec-Fetch-Site": "same-origin"}
    assert client.post(ITEMS, json=WELL, headers={**GEOJSON, **own}).status_code == 201
    assert client.post(ITEMS, json=WELL, headers={**GEOJSON, "Origin": "HTTP://TESTSERVER:80"}).status_code == 201
    assert client.post(ITEMS, json=WELL, headers={**GEOJSON, "Referer": "http://testserver/?f=html"}).status_code == 201
    assert client.post(ITEMS, json=WELL, headers=GEOJSON).status_code == 201  # curl, QGIS, GDAL: no Origin
    assert workshops(demo_conn) == before + 4


def test_allowed_origins_may_write(demo_db_url, demo_conn):
    with make(demo_db_url, allowed_origins=["https://planner.example.org:443"]) as c:
        ok = c.post(ITEMS, json=WELL, headers={**GEOJSON, "Origin": "https://planner.example.org"})
        assert ok.status_code == 201
        assert c.post(ITEMS, json=WELL, headers={**GEOJSON, "Origin": "https://other.example.org"}).status_code == 403


# Headers --------------------------------------------------------------------------------------------


def script_src(csp: str) -> str:
    return next(d for d in csp.split(";") if d.strip().startswith("script-src")).strip()


def test_every_response_has_nosniff_and_a_referrer_policy(client):
    for path in ("/health", "/layers", "/ogc/collections", "/static/js/app.js", "/layers/nope"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
        assert "content-security-policy" not in response.headers or path == "/"  # only pages: not the worker


@pytest.mark.parametrize(
    "path",
    ["/", "/ogc/collections?f=html", "/ogc/collections/workshops/items?f=html", "/ogc?f=html", "/docs",
     f"/reports/achievement?neighbourhood={CODE}&from=2020-01-01&to=2030-12-31"],
)  # fmt: skip
def test_every_html_page_has_a_policy_without_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    scripts = script_src(csp)
    assert scripts.startswith("script-src 'self'") and "unsafe-inline" not in scripts and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp or "frame-ancestors 'self'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    nonce = re.search(r"'nonce-([^']+)'", scripts)
    for tag in re.findall(r"<script\b[^>]*>", response.text):
        if "src=" not in tag:  # an inline script runs only with this response's nonce
            assert nonce and f'nonce="{nonce.group(1)}"' in tag, tag


def test_the_report_map_scripts_carry_a_fresh_nonce_per_response(client):
    url = f"/reports/achievement?neighbourhood={CODE}&from=2020-01-01&to=2030-12-31"
    first, second = client.get(url), client.get(url)
    nonces = [re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16
    inline = re.findall(r"<script\b([^>]*)>", first.text)
    assert len(inline) >= 3 and all(f'nonce="{nonces[0]}"' in attrs for attrs in inline)
    assert "<script>" not in first.text


def test_docs_are_served_from_local_files(client):
    page = client.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in refs and "/static/js/docs.js" in refs
    assert all(ref.startswith("/") for ref in refs), refs  # no CDN
    assert 'data-openapi-url="/openapi.json"' in page.text
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/openapi.json").json()["info"]["title"] == "Mahalle"
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN page is off
