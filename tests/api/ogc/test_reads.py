"""Reading features: CRS, bbox, datetime, property filters, CQL2, sorting, as-of, formats."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from pyproj import Transformer

from tests.auth import ADMIN_HEADERS
from tests.conftest import as_owner

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def ids(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["features"]}


def sql_ids(conn, where: str, params=()) -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT id FROM streets WHERE {where}", params).fetchall()}


def add_point(conn, lon: float, lat: float, name: str) -> int:
    query = "INSERT INTO workshops (kind, name, geom) VALUES ('metal', %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
    return conn.execute(query + " RETURNING id", (name, lon, lat)).fetchone()[0]


def test_crs_axis_order_and_content_crs(client, demo_conn):
    fid = add_point(demo_conn, 24.9412345, 60.1712345, "P")
    base = f"/ogc/collections/workshops/items/{fid}"
    plain = client.get(base)
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert plain.json()["geometry"]["coordinates"] == [24.9412345, 60.1712345]
    latlon = client.get(f"{base}?crs={EPSG.format(4326)}")
    assert latlon.headers["Content-Crs"] == f"<{EPSG.format(4326)}>"
    assert latlon.json()["geometry"]["coordinates"] == [60.1712345, 24.9412345]
    mercator = client.get(f"{base}?crs={EPSG.format(3857)}").json()["geometry"]["coordinates"]
    expected = Transformer.from_crs(4326, 3857, always_xy=True).transform(24.9412345, 60.1712345)
    assert mercator == pytest.approx(list(expected), abs=0.001)
    collection = client.get("/ogc/collections/workshops").json()
    assert EPSG.format(32635) in collection["crs"]  # Helsinki's UTM zone
    utm = client.get(f"{base}?crs={EPSG.format(32635)}").json()["geometry"]["coordinates"]
    assert 380_000 < utm[0] < 390_000 and 6_670_000 < utm[1] < 6_675_000
    assert client.get(f"{base}?crs={EPSG.format(2100)}").status_code == 400


def test_bbox_in_crs84_epsg4326_and_across_the_antimeridian(client, demo_conn):
    box = (24.940, 60.165, 24.945, 60.168)
    expected = sql_ids(demo_conn, "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", box)
    assert expected
    url = "/ogc/collections/streets/items?limit=10000&bbox="
    assert ids(client, url + ",".join(map(str, box))) == expected
    latlon = f"{box[1]},{box[0]},{box[3]},{box[2]}&bbox-crs={EPSG.format(4326)}"
    assert ids(client, url + latlon) == expected
    # Points half a world away from every neighbourhood: the plausibility rule would refuse them (on purpose).
    demo_conn.execute("UPDATE plausibility_rules SET enabled = false WHERE layer = 'workshops'")
    fiji = add_point(demo_conn, 179.5, 67.0, "east of the line")
    samoa = add_point(demo_conn, -179.5, 68.0, "west of the line")
    add_point(demo_conn, 0, 67.5, "far away")
    assert ids(client, "/ogc/collections/workshops/items?bbox=177,65,-177,70") == {fiji, samoa}


def test_datetime_instants_and_intervals(client, demo_conn):
    old = add_point(demo_conn, 24.94, 60.17, "old")
    with as_owner(demo_conn) as owner:  # moving a row back in time is a DBA's doing
        owner.execute("ALTER TABLE workshops DISABLE TRIGGER a30_stamp")
        owner.execute("UPDATE workshops SET updated_at = '2025-03-01T12:00:00Z' WHERE id = %s", (old,))
        owner.execute("ALTER TABLE workshops ENABLE TRIGGER a30_stamp")
    url = "/ogc/collections/workshops/items?datetime="
    assert ids(client, url + "2025-03-01") == {old}
    assert ids(client, url + "2025-03-01T12:00:00Z") == {old}
    assert ids(client, url + "../2025-12-31") == {old}
    assert old not in ids(client, url + "2026-01-01T00:00:00Z/..")
    assert ids(client, url + "2025-01-01/2025-06-30") == {old}
    for bad in ("../..", "2025-13-01", "2025-06-30/2025-01-01"):
        assert client.get(url + bad).status_code == 400, bad


def test_property_equality_and_sortby(client, demo_conn):
    assert ids(client, "/ogc/collections/streets/items?limit=10000&surface=asphalt&lighting=lit") == sql_ids(
        demo_conn, "surface = 'asphalt' AND lighting = 'lit'")  # fmt: skip
    body = client.get("/ogc/collections/streets/items?limit=5&sortby=-length_m").json()
    lengths = [f["properties"]["length_m"] for f in body["features"]]
    assert lengths == sorted(lengths, reverse=True)
    top = demo_conn.execute("SELECT max(length_m) FROM streets").fetchone()[0]
    assert lengths[0] == pytest.approx(top)
    assert client.get("/ogc/collections/streets/items?width_m=wide").status_code == 400


@pytest.mark.parametrize(
    ("cql", "where"),
    [
        ("surface = 'asphalt' AND length_m > 100", "surface = 'asphalt' AND length_m > 100"),
        (
            "surface IN ('gravel', 'earth') OR lighting = 'unlit'",
            "surface IN ('gravel', 'earth') OR lighting = 'unlit'",
        ),
        ("name LIKE 'Mann%'", "name LIKE 'Mann%%'"),
        ("length_m BETWEEN 50 AND 60", "length_m BETWEEN 50 AND 60"),
        ("width_m IS NULL AND street_class = 'primary'", "width_m IS NULL AND street_class = 'primary'"),
        ("NOT (surface = 'paved')", "surface <> 'paved'"),
        (
            "S_INTERSECTS(geometry, POLYGON((24.94 60.165, 24.945 60.165, 24.945 60.168, 24.94 60.168, 24.94 60.165)))",
            "ST_Intersects(geom, ST_MakeEnvelope(24.94, 60.165, 24.945, 60.168, 4326))",
        ),
        (
            "S_WITHIN(geometry, POLYGON((24.94 60.165, 24.945 60.165, 24.945 60.168, 24.94 60.168, 24.94 60.165)))",
            "ST_Within(geom, ST_MakeEnvelope(24.94, 60.165, 24.945, 60.168, 4326))",
        ),
        (
            "S_DWITHIN(geometry, POINT(24.9425 60.1665), 100, meters)",
            "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(24.9425, 60.1665), 4326)::geography, 100)",
        ),
        ("T_AFTER(updated_at, TIMESTAMP('2000-01-01T00:00:00Z'))", "updated_at > '2000-01-01'"),
    ],
)
def test_cql2_text_matches_the_same_sql(client, demo_conn, cql, where):
    expected = sql_ids(demo_conn, where)
    assert expected, "the case should select something"
    assert ids(client, f"/ogc/collections/streets/items?limit=10000&filter={quote(cql)}") == expected


def test_cql2_json_and_filter_crs(client, demo_conn):
    expr = {"op": "and", "args": [{"op": "=", "args": [{"property": "surface"}, "asphalt"]},
                                  {"op": "s_intersects", "args": [{"property": "geometry"}, {
                                      "type": "Polygon", "coordinates": [[[24.94, 60.165], [24.945, 60.165],
                                      [24.945, 60.168], [24.94, 60.168], [24.94, 60.165]]]}]}]}  # fmt: skip
    expected = sql_ids(demo_conn, "surface = 'asphalt' AND ST_Intersects(geom, ST_MakeEnvelope(24.94, 60.165, "
                       "24.945, 60.168, 4326))")  # fmt: skip
    url = f"/ogc/collections/streets/items?limit=10000&filter-lang=cql2-json&filter={quote(json.dumps(expr))}"
    assert ids(client, url) == expected and expected
    latlon = "S_INTERSECTS(geometry, POLYGON((60.165 24.94, 60.165 24.945, 60.168 24.945, 60.168 24.94, 60.165 24.94)))"
    url = f"/ogc/collections/streets/items?limit=10000&filter={quote(latlon)}&filter-crs={EPSG.format(4326)}"
    assert ids(client, url) == sql_ids(
        demo_conn, "ST_Intersects(geom, ST_MakeEnvelope(24.94, 60.165, 24.945, 60.168, 4326))"
    )
    assert client.get("/ogc/collections/streets/items?filter-lang=cql2-json&filter=%7Bnope").status_code == 400


@pytest.mark.parametrize("evil", ["surface = 'x'; DROP TABLE streets; --", "\"x\"\"--\" = 1", "1=1) OR (1=1",
                                  "surface = 'a' OR id = (SELECT 1)"])  # fmt: skip
def test_injection_attempts_are_400_and_harmless(client, demo_conn, evil):
    before = demo_conn.execute("SELECT count(*) FROM streets").fetchone()[0]
    response = client.get(f"/ogc/collections/streets/items?filter={quote(evil)}")
    assert response.status_code == 400
    assert client.get(f"/ogc/collections/streets/items?sortby={quote('-id;select 1')}").status_code == 400
    assert demo_conn.execute("SELECT count(*) FROM streets").fetchone()[0] == before


def test_as_of_reads_the_past(client, demo_conn):
    fid = add_point(demo_conn, 24.94, 60.17, "before")
    with as_owner(demo_conn) as owner:
        owner.execute("UPDATE mahalle.history SET at = '2026-01-01' WHERE layer = 'workshops' AND feature_id = %s",
                      (fid,))  # fmt: skip
    demo_conn.execute("UPDATE workshops SET name = 'after' WHERE id = %s", (fid,))
    past = client.get("/ogc/collections/workshops/items?as-of=2026-02-01&name=before").json()
    assert [f["id"] for f in past["features"]] == [fid]
    assert client.get("/ogc/collections/workshops/items?as-of=2026-02-01&name=after").json()["features"] == []


def test_html_and_negotiation(client):
    html = client.get("/ogc/collections/streets/items?limit=3", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "Streets" in html.text
    assert client.get("/ogc/collections?f=html").headers["content-type"].startswith("text/html")
    assert client.get("/ogc/collections/streets/items?f=geojson", headers={"Accept": "text/html"}).headers[
        "content-type"] == "application/geo+json"  # fmt: skip
    assert client.get("/ogc/collections?f=xml").status_code == 406


def test_a_query_past_the_statement_timeout_is_503(demo_db_url):
    from fastapi.testclient import TestClient

    from tests.api.ogc.conftest import make_app

    slow = quote("S_DWITHIN(geometry, POINT(24.94 60.17), 5000, meters) AND area_m2 > 0")
    with TestClient(make_app(demo_db_url, statement_timeout_ms=1), headers=ADMIN_HEADERS) as impatient:
        response = impatient.get(f"/ogc/collections/parcels/items?limit=10000&filter={slow}")
    assert response.status_code == 503
    assert "took too long" in response.json()["title"]
