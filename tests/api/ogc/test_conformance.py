"""The OGC API – Features rules, checked over every collection of the demo."""

from __future__ import annotations

from tests.api.ogc import conformance as ogc


def test_landing_openapi_and_conformance(client):
    landing = ogc.check_landing(client)
    doc = ogc.check_openapi(client, landing)
    ogc.check_conformance(client)
    for path in ("/collections/streets/items", "/collections/streets/items/{featureId}", "/collections"):
        assert path in doc["paths"], f"{path} is not in the OpenAPI document"
    declared = {p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1]
                for p in doc["paths"]["/collections/streets/items"]["get"]["parameters"]}  # fmt: skip
    assert {"bbox", "limit", "datetime", "crs", "filter", "surface", "lighting"} <= declared


def test_collections_match_their_own_documents(client):
    ids = {c["id"] for c in ogc.check_collections(client)}
    assert {"parcels", "streets", "blighted_plots", "workshops", "service_points", "assets", "interventions",
            "observations", "outputs", "visits", "referrals", "needs", "neighbourhoods"} == ids  # fmt: skip


def test_paging_returns_every_feature_exactly_once(client, demo_conn):
    total = demo_conn.execute("SELECT count(*) FROM service_points WHERE category = 'market'").fetchone()[0]
    ids, matched = ogc.walk_pages(client, "/ogc/collections/service_points/items?category=market&limit=97")
    assert matched == total == len(ids) == len(set(ids))
    assert total > 97 * 3  # several pages were walked


def test_every_collection_pages_and_features_have_links(client):
    for cid in ("parcels", "streets", "workshops", "interventions", "neighbourhoods"):
        body = client.get(f"/ogc/collections/{cid}/items?limit=2").json()
        ogc.check_items_page(body)
        ogc.check_feature(client, "/ogc", cid, body["features"][0]["id"])


def test_error_codes(client):
    ogc.check_errors(client, "/ogc", "streets")
