"""Vector tiles: made in PostGIS, reduced by zoom, fresh after every edit, with ETags."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile

from gis.tiles import DETAIL_ZOOM, TILE_BUDGET
from tests.auth import ADMIN_HEADERS
from tests.gis.test_tiles import SPOT, dense_parcels

TMS = morecantile.tms.get("WebMercatorQuad")


def tile_url(cid: str, lon: float, lat: float, z: int) -> str:
    t = TMS.tile(lon, lat, z)
    return f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"


def decode(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def test_detail_by_zoom(client):
    near = decode(client.get(tile_url("streets", 24.944, 60.168, 16)))["streets"]["features"]
    far = decode(client.get(tile_url("streets", 24.944, 60.168, 12)))["streets"]["features"]
    assert {"surface", "lighting", "street_class", "sidewalk"} <= set(near[0]["properties"])  # nulls are left out
    assert set().union(*(f["properties"] for f in far)) <= {"surface", "name"}
    assert len(far) > len(near)


def test_empty_tile_is_204_and_outside_the_grid_is_404(client):
    assert client.get(tile_url("streets", -60.0, -30.0, 14)).status_code == 204
    assert client.get("/ogc/collections/streets/tiles/WebMercatorQuad/3/9/1").status_code == 404
    assert client.get("/ogc/collections/streets/tiles/WebMercatorQuad/23/0/0").status_code == 400
    assert client.get("/ogc/collections/streets/tiles/WorldCRS84Quad/3/1/1").status_code == 404
    assert client.get("/ogc/collections/tasks/tiles/WebMercatorQuad/3/1/1").status_code == 404


def test_an_edit_shows_in_the_next_tile_and_etags_revalidate(client, demo_conn):
    url = tile_url("workshops", 24.9413, 60.1713, 17)
    first = client.get(url)
    etag = first.headers.get("ETag")
    if etag:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    # What a logged-in user sees is theirs (row-level security): no shared cache may keep it.
    assert first.headers["Cache-Control"] == "private, no-cache" and "Authorization" in first.headers["Vary"]
    demo_conn.execute("INSERT INTO workshops (kind, name, geom) VALUES ('scrap', 'New yard', "
                      "ST_SetSRID(ST_MakePoint(24.9413, 60.1713), 4326))")  # fmt: skip
    second = decode(client.get(url, headers={"If-None-Match": etag or '"none"'}))
    assert any(f["properties"].get("status") == "active" for f in second["workshops"]["features"])


def test_a_cut_tile_says_so(demo_db_url):
    from fastapi.testclient import TestClient

    from tests.api.ogc.conftest import make_app

    with TestClient(make_app(demo_db_url, max_tile_features=10), headers=ADMIN_HEADERS) as small:
        response = small.get(tile_url("parcels", 24.944, 60.168, 14))
        assert response.headers["Mahalle-Tile-Truncated"] == "10"
        assert len(decode(response)["parcels"]["features"]) == 10


def test_a_dense_city_is_light_and_whole_below_the_detail_zoom_and_a_heavy_tile_says_so(client, demo_conn, demo_db_url):
    from fastapi.testclient import TestClient

    from tests.api.ogc.conftest import make_app

    tiny, large = dense_parcels(demo_conn)  # 16,000 tiny parcels and three large ones in one z14 tile
    far = client.get(tile_url("parcels", *SPOT, 12))
    assert len(far.content) < TILE_BUDGET and "Mahalle-Tile-Over-Budget" not in far.headers
    near = client.get(tile_url("parcels", *SPOT, DETAIL_ZOOM))  # every feature, with every attribute: heavy
    assert set(tiny) <= {f["id"] for f in decode(near)["parcels"]["features"]}
    assert int(near.headers["Mahalle-Tile-Over-Budget"]) == len(near.content) > TILE_BUDGET
    assert "Mahalle-Tile-Truncated" not in near.headers and "Mahalle-Tile-Over-Budget" in near.headers[
        "Access-Control-Expose-Headers"]  # fmt: skip
    with TestClient(make_app(demo_db_url, max_tile_features=1000), headers=ADMIN_HEADERS) as small:
        far = small.get(tile_url("parcels", *SPOT, 12))  # never cut: the tiny parcels are merged
        assert "Mahalle-Tile-Truncated" not in far.headers
        assert set(large) <= {f.get("id") for f in decode(far)["parcels"]["features"]}
        near = small.get(tile_url("parcels", *SPOT, DETAIL_ZOOM))  # cut, and the largest features survive
        assert near.headers["Mahalle-Tile-Truncated"] == "1000"
        assert set(large) <= {f["id"] for f in decode(near)["parcels"]["features"]}


def test_tilejson_and_tileset_metadata(client):
    tj = client.get("/ogc/collections/parcels/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tiles"][0].endswith("/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tj["vector_layers"][0]["id"] == "parcels" and "tenure" in tj["vector_layers"][0]["fields"]
    west, south, east, north = tj["bounds"]
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2
    tilesets = client.get("/ogc/collections/parcels/tiles").json()["tilesets"]
    assert tilesets[0]["tileMatrixSetURI"].endswith("WebMercatorQuad")
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) >= 23
