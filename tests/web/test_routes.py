"""The web app's routes without a browser: page headers, static and vendor files, history, catalogues."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes import web as web_routes
from api.runtime import Database
from core import i18n
from core.settings import Settings
from tests.auth import ADMIN_HEADERS

WEB = Path(web_routes.__file__).resolve().parents[2] / "web"
LANGS = i18n.LANGUAGES  # English first
GEOJSON = {"Content-Type": "application/geo+json"}
PATCH = {"Content-Type": "application/merge-patch+json"}


def make(url: str, **settings: object) -> TestClient:
    app = create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url))
    return TestClient(app, headers=ADMIN_HEADERS)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with make(db_url) as c:
        yield c


def test_the_page_keeps_every_request_on_this_host(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    html = response.text
    assert "OpenStreetMap contributors" in html and 'data-basemap=""' in html
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith(("/", "#")), src  # nothing from another host
    assert "<script>" not in html  # no inline script: the CSP forbids them


def test_a_configured_basemap_is_allowed_for_images_only(db_url):
    with make(db_url, basemap_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png") as c:
        response = c.get("/")
    assert "img-src 'self' data: blob: https://*.tiles.example.org;" in response.headers["Content-Security-Policy"]
    assert 'data-basemap="https://{s}.tiles.example.org/{z}/{x}/{y}.png"' in response.text


def test_front_end_packages_are_served_from_node_modules(client):
    scripts = ("leaflet/leaflet.js", "geoman/leaflet-geoman.min.js", "vectorgrid/Leaflet.VectorGrid.bundled.min.js",
               "chartjs/chart.umd.min.js")  # fmt: skip
    for path in (f"/vendor/{s}" for s in scripts):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"]
    assert client.get("/vendor/leaflet/leaflet.css").headers["content-type"].startswith("text/css")
    assert client.get("/vendor/leaflet/images/marker-icon.png").status_code == 200
    assert client.get("/vendor/lodash/lodash.js").status_code == 404  # only the listed packages
    assert client.get("/vendor/leaflet/..%2F..%2F..%2Fpackage.json").status_code == 404
    assert client.get("/static/..%2F..%2Fapi%2Fapp.py").status_code == 404
    assert client.get("/static/js/app.js").status_code == 200
    assert client.get("/sw.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/manifest.webmanifest").json()["start_url"] == "/"


def test_missing_node_modules_says_how_to_install_them(client, monkeypatch, tmp_path):
    monkeypatch.setattr(web_routes, "NODE_MODULES", tmp_path / "node_modules")
    response = client.get("/vendor/leaflet/leaflet.js")
    assert response.status_code == 503
    assert "make setup" in response.json()["detail"]


def test_history_and_restore_routes(client):
    body = {
        "type": "Feature",
        "properties": {"name": "Old name"},
        "geometry": {"type": "MultiLineString", "coordinates": [[[24.94, 60.17], [24.941, 60.171]]]},
    }
    fid = client.post("/ogc/collections/streets/items", json=body, headers=GEOJSON).json()["id"]
    client.patch(f"/ogc/collections/streets/items/{fid}", json={"properties": {"name": "New name"}},
                 headers={**PATCH, "If-Match": '"1"'})  # fmt: skip
    history = client.get(f"/api/history/streets/{fid}").json()
    assert [(h["version"], h["operation"]) for h in history] == [(1, "INSERT"), (2, "UPDATE")]
    assert history[1]["before"]["name"] == "Old name" and history[1]["after"]["name"] == "New name"
    restored = client.post(f"/api/history/streets/{fid}/restore", params={"version": 1})
    assert restored.status_code == 200 and restored.json() == {"layer": "streets", "id": fid, "version": 3}
    assert client.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["name"] == "Old name"
    client.delete(f"/ogc/collections/streets/items/{fid}")
    assert client.get(f"/ogc/collections/streets/items/{fid}").status_code == 404
    assert client.post(f"/api/history/streets/{fid}/restore").status_code == 200
    assert client.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["name"] == "Old name"
    assert client.get("/api/history/nope/1").status_code == 404
    missing = client.get("/api/history/streets/999999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.post("/api/history/streets/999999/restore").status_code == 404


def catalogue(lang: str) -> dict[str, str]:
    """The web app's strings of a language catalogue (core/i18n/<lang>.json)."""
    return json.loads((i18n.FOLDER / f"{lang}.json").read_text(encoding="utf-8"))["ui"]


def forms(value: str | dict[str, str]) -> list[str]:
    """A string, or the texts of its CLDR plural forms ({"one": …, "other": …}; i18n.js picks one by {n})."""
    return list(value.values()) if isinstance(value, dict) else [value]


def test_every_language_has_every_string():
    keys = set(catalogue("en"))
    for lang in LANGS[1:]:
        strings = catalogue(lang)
        assert set(strings) == keys, lang
        assert all(text.strip() for value in strings.values() for text in forms(value)), lang
        for key, value in strings.items():  # the same placeholders in every language
            english = {p for text in forms(catalogue("en")[key]) for p in re.findall(r"\{\w+\}", text)}
            if isinstance(value, dict):  # a plural form may leave the number out ("شارعان": two streets)
                assert "other" in value, (lang, key)
                assert all(set(re.findall(r"\{\w+\}", text)) <= english for text in forms(value)), (lang, key)
            else:
                assert set(re.findall(r"\{\w+\}", value)) == english, (lang, key)


def test_every_string_the_code_uses_is_in_the_catalogue():
    keys = set(catalogue("en"))
    code = "\n".join(p.read_text(encoding="utf-8") for p in (WEB / "static" / "js").glob("*.js"))
    used = set(re.findall(r'\bt\("([\w.%]+)"', code)) | set(re.findall(r'"((?:board|planner|edit)\.[\w]+)"', code))
    used |= set(re.findall(r'data-i18n[\w-]*="([\w.]+)"', (WEB / "templates" / "index.html").read_text()))
    assert used, "no string found: the pattern is wrong"
    assert used - keys == set()
    shapes = ("marker", "line", "polygon")
    dynamic = {f"edit.draw_{s}" for s in shapes} | {f"planner.draw_{s}" for s in shapes}
    dynamic |= {f"history.{op}" for op in ("insert", "update", "delete")}
    dynamic |= {f"nav.{v}" for v in ("map", "interventions", "board", "dashboard")}
    dynamic |= {f"table.op_{op}" for op in ("eq", "ne", "contains", "gt", "lt")}
    assert set(dynamic) <= keys
