"""OGC API – Features Part 4 on the real database: create, replace, update, delete, with ETags."""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.auth import ADMIN_HEADERS

GEOJSON = {"Content-Type": "application/geo+json"}
PATCH = {"Content-Type": "application/merge-patch+json"}
WELL = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9412345, 60.1712345]},
        "properties": {"kind": "scrap", "name": "Yard", "polluting": True, "pollutants": ["smoke"]}}  # fmt: skip


def create(client, body=WELL, cid="workshops", headers=GEOJSON):
    response = client.post(f"/ogc/collections/{cid}/items", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def history(conn, layer, fid):
    return conn.execute("SELECT operation, version, actor FROM mahalle.history WHERE layer = %s AND feature_id = %s "
                        "ORDER BY id", (layer, fid)).fetchall()  # fmt: skip


def test_create_read_replace_patch_delete_with_etags(client, demo_conn):
    created = create(client)
    location = created.headers["Location"]
    assert location.startswith("http://testserver/ogc/collections/workshops/items/")
    fid = int(location.rsplit("/", 1)[1])
    assert created.headers["ETag"] == '"1"'
    got = client.get(f"/ogc/collections/workshops/items/{fid}")
    assert got.json()["geometry"]["coordinates"] == [24.9412345, 60.1712345]
    assert got.json()["properties"]["neighbourhood_id"] is not None  # derived from the location
    assert got.headers["ETag"] == '"1"'

    body = {**WELL, "properties": {"kind": "metal", "polluting": False}}
    put = client.put(f"/ogc/collections/workshops/items/{fid}", json=body, headers={**GEOJSON, "If-Match": '"1"'})
    assert put.status_code == 200 and put.headers["ETag"] == '"2"'
    props = put.json()["properties"]
    assert (props["kind"], props["name"], props["pollutants"], props["status"]) == ("metal", None, None, "active")

    patch = client.patch(f"/ogc/collections/workshops/items/{fid}", json={"properties": {"name": "Metal shop",
                         "employees": 3}}, headers={**PATCH, "If-Match": '"2"'})  # fmt: skip
    assert patch.status_code == 200 and patch.headers["ETag"] == '"3"'
    assert patch.json()["properties"]["kind"] == "metal" and patch.json()["properties"]["employees"] == 3
    cleared = client.patch(f"/ogc/collections/workshops/items/{fid}", json={"properties": {"employees": None}},
                           headers=PATCH)  # fmt: skip
    assert cleared.json()["properties"]["employees"] is None

    stale = client.delete(f"/ogc/collections/workshops/items/{fid}", headers={"If-Match": '"2"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"4"'
    assert client.delete(f"/ogc/collections/workshops/items/{fid}", headers={"If-Match": '"4"'}).status_code == 204
    assert client.get(f"/ogc/collections/workshops/items/{fid}").status_code == 404
    assert [op for op, _, _ in history(demo_conn, "workshops", fid)] == [
        "INSERT",
        "UPDATE",
        "UPDATE",
        "UPDATE",
        "DELETE",
    ]
    assert {actor for _, _, actor in history(demo_conn, "workshops", fid)} == {"admin"}  # the token's user


def test_missing_features_and_methods(client):
    assert client.put("/ogc/collections/workshops/items/99999", json=WELL, headers=GEOJSON).status_code == 404
    assert client.patch("/ogc/collections/workshops/items/99999", json={}, headers=PATCH).status_code == 404
    assert client.delete("/ogc/collections/workshops/items/99999").status_code == 404
    put = client.put("/ogc/collections/workshops/items/99999", json=WELL, headers={**GEOJSON, "If-Match": '"1"'})
    assert put.status_code == 412  # a conditional write never creates
    options = client.options("/ogc/collections/workshops/items")
    assert options.status_code == 200 and "POST" in options.headers["Allow"]
    fid = create(client).headers["Location"].rsplit("/", 1)[1]
    allow = client.options(f"/ogc/collections/workshops/items/{fid}").headers["Allow"]
    assert {"PUT", "PATCH", "DELETE"} <= {m.strip() for m in allow.split(",")}


def test_two_patches_with_the_same_etag_one_wins(client, demo_conn):
    fid = create(client).headers["Location"].rsplit("/", 1)[1]

    def rename(name):
        return client.patch(f"/ogc/collections/workshops/items/{fid}", json={"properties": {"name": name}},
                            headers={**PATCH, "If-Match": '"1"'}).status_code  # fmt: skip

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(rename, ["A", "B"]))
    assert statuses == [200, 412]
    assert [op for op, _, _ in history(demo_conn, "workshops", int(fid))] == ["INSERT", "UPDATE"]


def test_client_uuid_makes_a_retried_post_safe(client, demo_conn):
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.945, 60.17]},
            "properties": {"uid": "0f8fad5b-d9cb-469f-a165-70867728950e", "category": "waste",
                           "captured_at": "2026-11-20T10:15:00Z", "note": "Rubble on the corner"}}  # fmt: skip
    first = create(client, body, "observations")
    again = client.post("/ogc/collections/observations/items", json=body, headers=GEOJSON)
    assert again.status_code == 200 and again.headers["Location"] == first.headers["Location"]
    assert demo_conn.execute("SELECT count(*) FROM observations").fetchone()[0] == 1


def test_geometry_in_other_crs(client):
    body = {**WELL, "geometry": {"type": "Point", "coordinates": [60.1712345, 24.9412345]}}
    response = client.post(
        "/ogc/collections/workshops/items",
        json=body,
        headers={**GEOJSON, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"},
    )
    assert response.status_code == 201
    assert response.json()["geometry"]["coordinates"] == [24.9412345, 60.1712345]
    utm = {**WELL, "geometry": {"type": "Point", "coordinates": [385000.0, 6672000.0]}}
    response = client.post(
        "/ogc/collections/workshops/items",
        json=utm,
        headers={**GEOJSON, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/32635>"},
    )
    assert response.status_code == 201
    lon, lat = response.json()["geometry"]["coordinates"]
    assert 24.9 < lon < 25.0 and 60.1 < lat < 60.2
    bad = client.post(
        "/ogc/collections/workshops/items",
        json=WELL,
        headers={**GEOJSON, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/2100>"},
    )
    assert bad.status_code == 400


SQUARE = [[[24.94, 60.17], [24.941, 60.17], [24.941, 60.1705], [24.94, 60.1705], [24.94, 60.17]]]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({**WELL, "geometry": {"type": "Polygon", "coordinates": SQUARE}}, 422, "a polygon does not fit"),
        ({**WELL, "geometry": {"type": "Point", "coordinates": [200, 60]}}, 422, "longitude -180..180"),
        ({**WELL, "geometry": {"type": "Point", "coordinates": ["24.9", "60.1"]}}, 422, "finite numbers"),
        ({**WELL, "geometry": {"type": "Point", "coordinates": [24.9, 60.1, 5]}}, 422, "Z or M values"),
        ({**WELL, "geometry": {"type": "GeometryCollection", "geometries": []}}, 422, "GeometryCollection"),
        ({**WELL, "geometry": None}, 422, "need a geometry"),
        ({**WELL, "properties": {"kind": "bakery"}}, 422, "kind 'bakery' is not one of"),
        ({**WELL, "properties": {"kind": "scrap", "employees": "many"}}, 422, "employees must be a number"),
        ({**WELL, "properties": {"kind": "scrap", "colour": "red"}}, 422, "has no property 'colour'"),
        ({**WELL, "properties": {"name": "no kind"}}, 422, "kind is required"),
        ({"geometry": WELL["geometry"], "properties": {}}, 422, "GeoJSON Feature"),
        ([1, 2], 422, "GeoJSON Feature"),
    ],
)
def test_bad_features_are_refused_and_nothing_is_written(client, demo_conn, body, status, fragment):
    before = demo_conn.execute("SELECT count(*) FROM workshops").fetchone()[0]
    response = client.post("/ogc/collections/workshops/items", json=body, headers=GEOJSON)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert demo_conn.execute("SELECT count(*) FROM workshops").fetchone()[0] == before


def test_invalid_polygon_names_the_reason(client):
    bowtie = {"type": "Feature", "properties": {"kind": "vacant_lot"},
              "geometry": {"type": "Polygon", "coordinates": [[[24.94, 60.17], [24.941, 60.1705], [24.941, 60.17],
                                                               [24.94, 60.1705], [24.94, 60.17]]]}}  # fmt: skip
    response = client.post("/ogc/collections/blighted_plots/items", json=bowtie, headers=GEOJSON)
    assert response.status_code == 422
    assert "Self-intersection" in response.json()["detail"]


def test_body_format_and_size(client, demo_db_url):
    raw = b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 60]}, "properties": {}}'
    assert client.post("/ogc/collections/workshops/items", content=raw, headers=GEOJSON).status_code == 400
    assert client.post("/ogc/collections/workshops/items", content=b"{not json", headers=GEOJSON).status_code == 400
    assert client.post("/ogc/collections/workshops/items", json=WELL, headers={"Content-Type": "text/plain"}
                       ).status_code == 415  # fmt: skip
    big = b'{"type": "Feature", "properties": {"note": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    from fastapi.testclient import TestClient

    from tests.api.ogc.conftest import make_app

    with TestClient(make_app(demo_db_url, max_body_mb=1), headers=ADMIN_HEADERS) as small:
        assert small.post("/ogc/collections/workshops/items", content=big, headers=GEOJSON).status_code == 413


def test_id_in_the_body_must_match_the_url(client):
    fid = create(client).headers["Location"].rsplit("/", 1)[1]
    wrong = client.put(f"/ogc/collections/workshops/items/{fid}", json={**WELL, "id": 12345}, headers=GEOJSON)
    assert wrong.status_code == 400
    patch = client.patch(f"/ogc/collections/workshops/items/{fid}", json={"id": 777}, headers=PATCH)
    assert patch.status_code == 400


def test_html_in_attributes_stays_text(client):
    body = {**WELL, "properties": {**WELL["properties"], "name": "<img src=x onerror=alert(1)>"}}
    fid = create(client, body).headers["Location"].rsplit("/", 1)[1]
    assert (
        client.get(f"/ogc/collections/workshops/items/{fid}").json()["properties"]["name"] == body["properties"]["name"]
    )
    html = client.get(f"/ogc/collections/workshops/items/{fid}?f=html").text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_custom_layer_over_http_becomes_a_collection(client):
    definition = {"name": "water_points", "title": "Water points", "geometry_type": "Point",
                  "attributes": [{"name": "state", "type": "choice", "choices": ["working", "broken"],
                                  "required": True}]}  # fmt: skip
    assert client.post("/layers", json=definition).status_code == 201
    ids = [c["id"] for c in client.get("/ogc/collections").json()["collections"]]
    assert "water_points" in ids
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
               "properties": {"state": "broken"}}  # fmt: skip
    assert client.post("/ogc/collections/water_points/items", json=feature, headers=GEOJSON).status_code == 201
    again = client.post("/layers", json=definition)
    assert again.status_code == 422 and "already exists" in again.json()["detail"]


def test_lifecycle_and_dependents_are_conflicts_through_ogc(client, demo_conn):
    iid = demo_conn.execute("SELECT id FROM interventions WHERE status = 'approved' LIMIT 1").fetchone()[0]
    jump = client.patch(f"/ogc/collections/interventions/items/{iid}", json={"properties": {"status": "completed"}},
                        headers=PATCH)  # fmt: skip
    assert jump.status_code == 409 and "approved" in jump.json()["detail"]
    lamp = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.944, 60.168]},
            "properties": {"kind": "street_light", "intervention_id": iid}}  # fmt: skip
    create(client, lamp, "assets")
    refused = client.delete(f"/ogc/collections/interventions/items/{iid}")
    assert refused.status_code == 409 and "cascade" in refused.json()["detail"]
    assert demo_conn.execute("SELECT count(*) FROM interventions WHERE id = %s", (iid,)).fetchone()[0] == 1
