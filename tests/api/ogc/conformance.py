"""Our own checks of the OGC API – Features rules the OGC test suite asserts (CONFORMANCE.md §1).

Each function takes an HTTP client (the FastAPI test client or httpx) and raises AssertionError with
what is wrong. They are written against the standard, not against Mahalle, so any server could be checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def rels(links: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in links:
        assert {"href", "rel"} <= set(item), f"a link lacks href or rel: {item}"
        out.setdefault(item["rel"], []).append(item)
    return out


def path_of(href: str) -> str:
    parts = urlsplit(href)
    assert parts.scheme in ("http", "https") and parts.netloc, f"link is not absolute: {href}"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def check_landing(client, root: str = "/ogc") -> dict[str, Any]:
    body = client.get(root, headers={"Accept": "application/json"}).json()
    links = rels(body["links"])
    for rel in ("self", "alternate", "service-desc", "conformance", "data"):
        assert rel in links, f"landing page has no {rel!r} link"
    assert any(link.get("type") == OPENAPI for link in links["service-desc"]), "service-desc is not typed OpenAPI 3.0"
    assert "service-doc" in links
    return body


def check_openapi(client, landing: dict[str, Any]) -> dict[str, Any]:
    href = rels(landing["links"])["service-desc"][0]["href"]
    response = client.get(path_of(href), headers={"Accept": OPENAPI})
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.0."), f"service-desc is OpenAPI {doc['openapi']}, the suite reads 3.0"
    params = doc["components"]["parameters"]
    limit = params["limit"]["schema"]
    assert {"minimum", "maximum", "default"} <= set(limit), "limit must declare minimum, maximum and default"
    bbox = params["bbox"]
    assert bbox["in"] == "query" and bbox["style"] == "form" and bbox["explode"] is False
    assert bbox["schema"]["type"] == "array" and bbox["schema"]["minItems"] == 4 and bbox["schema"]["maxItems"] == 6
    assert "datetime" in params
    return doc


def check_conformance(client, root: str = "/ogc") -> list[str]:
    classes = client.get(f"{root}/conformance", headers={"Accept": "application/json"}).json()["conformsTo"]
    assert CORE in classes
    for suffix in ("conf/geojson", "conf/oas30", "ogcapi-features-2/1.0/conf/crs", "features-filter",
                   "create-replace-delete"):  # fmt: skip
        assert any(c.endswith(suffix) or suffix in c for c in classes), f"{suffix} is not declared"
    return classes


def check_collections(client, root: str = "/ogc") -> list[dict[str, Any]]:
    body = client.get(f"{root}/collections", headers={"Accept": "application/json"}).json()
    assert {"self", "alternate"} <= set(rels(body["links"]))
    for c in body["collections"]:
        single = client.get(f"{root}/collections/{c['id']}", headers={"Accept": "application/json"}).json()
        for key in ("id", "title", "description", "extent"):
            assert single.get(key) == c.get(key), f"{c['id']}: {key} differs between /collections and the collection"
        assert c["crs"][0] == CRS84, f"{c['id']}: the crs list must start with CRS84"
        assert c["storageCrs"] in c["crs"]
        items = [link for link in rels(c["links"]).get("items", []) if link.get("type") == "application/geo+json"]
        assert items, f"{c['id']}: no items link typed application/geo+json"
        assert len(c["extent"]["spatial"]["bbox"][0]) in (4, 6)
    return body["collections"]


def check_items_page(body: dict[str, Any]) -> None:
    assert body["type"] == "FeatureCollection"
    assert {"self", "alternate"} <= set(rels(body["links"]))
    datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00"))
    assert body["numberReturned"] == len(body["features"])


def walk_pages(client, first: str) -> tuple[list[Any], int]:
    """Follow ``next`` from ``first``; returns every feature id seen and numberMatched of the first page."""
    ids: list[Any] = []
    url = first
    matched = None
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        check_items_page(body)
        matched = body["numberMatched"] if matched is None else matched
        assert body["numberMatched"] == matched, "numberMatched changed between pages"
        ids += [f["id"] for f in body["features"]]
        nxt = rels(body["links"]).get("next")
        if nxt:
            query = parse_qs(urlsplit(nxt[0]["href"]).query)
            assert "limit" in query or "limit" not in first, "the next link lost the query string"
        url = path_of(nxt[0]["href"]) if nxt else None
    return ids, matched or 0


def check_feature(client, root: str, cid: str, fid: Any) -> dict[str, Any]:
    response = client.get(f"{root}/collections/{cid}/items/{fid}")
    assert response.status_code == 200
    assert response.headers.get("ETag"), "a feature needs an ETag"
    body = response.json()
    assert {"self", "alternate", "collection"} <= set(rels(body["links"]))
    return body


def check_errors(client, root: str, cid: str) -> None:
    expect = {
        f"{root}/collections/no_such_collection": 404,
        f"{root}/collections/{cid}/items/999999999": 404,
        f"{root}/collections/{cid}/items/1%20OR%201=1": 404,
        f"{root}/collections/{cid}/items?limit=unlimited": 400,
        f"{root}/collections/{cid}/items?limit=-1": 400,
        f"{root}/collections/{cid}/items?limit=0": 400,
        f"{root}/collections/{cid}/items?no_such_param=1": 400,
        f"{root}/collections/{cid}/items?bbox=1,2,3": 400,
        f"{root}/collections/{cid}/items?bbox=1,2,3,4,5": 400,
        f"{root}/collections/{cid}/items?bbox=a,b,c,d": 400,
        f"{root}/collections/{cid}/items?datetime=yesterday": 400,
        f"{root}/collections/{cid}/items?crs=http://www.opengis.net/def/crs/EPSG/0/99999": 400,
        f"{root}/collections/{cid}/items?bbox=0,0,1,1&bbox-crs=EPSG:12345": 400,
        f"{root}/collections/{cid}/items?filter=nonsense%20%3D%3D%3D": 400,
        f"{root}/collections/{cid}/items?filter=no_such_property%20%3D%201": 400,
        f"{root}/collections/{cid}/items?sortby=no_such_property": 400,
    }
    for url, status in expect.items():
        response = client.get(url)
        assert response.status_code == status, f"{url}: {response.status_code}, expected {status}"
        assert response.headers["content-type"].startswith("application/problem+json"), url
        detail = response.json().get("detail", "")
        assert "SELECT" not in detail and "Traceback" not in detail, f"{url} leaks internals: {detail}"
