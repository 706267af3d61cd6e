"""Feature schemas for clients (OGC API – Features Part 5, and ``describedby`` for GDAL), from the catalogue.

The schema tests go through the test client; the GDAL ones serve the app live (as test_clients.py does) and read
it with GDAL's OAPIF driver twice: the system's ``ogrinfo`` and pyogrio's own GDAL, which are different versions.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pyogrio
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.api.ogc.conftest import make_app
from tests.auth import ADMIN_HEADERS, ADMIN_TOKEN

SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
SCHEMA_JSON = "application/schema+json"
PART5 = "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas"
AS_ADMIN = ("--config", "GDAL_HTTP_HEADERS", f"Authorization: {ADMIN_HEADERS['Authorization']}")


def _link(collection: dict, rel: str) -> dict:
    found = [item for item in collection["links"] if item["rel"].lower() == rel.lower()]  # RFC 8288: no case
    assert len(found) == 1, f"{collection['id']} has {len(found)} links with rel {rel!r}"
    return found[0]


def test_collections_link_their_schemas_and_conformance_declares_part_5(client):
    collection = client.get("/ogc/collections/parcels").json()
    part5, described = _link(collection, SCHEMA_REL), _link(collection, "describedby")
    assert part5["type"] == described["type"] == SCHEMA_JSON
    assert part5["href"].endswith("/ogc/collections/parcels/schema")
    assert described["rel"] == "describedBy"  # GDAL 3.6 compares it case-sensitively, as its first writers spelt it
    for href in (part5["href"], described["href"]):
        response = client.get(href)
        assert response.status_code == 200 and response.headers["content-type"].startswith(SCHEMA_JSON)
    assert PART5 in client.get("/ogc/conformance").json()["conformsTo"]
    listed = next(c for c in client.get("/ogc/collections").json()["collections"] if c["id"] == "parcels")
    assert listed["links"] == collection["links"]


def test_part_5_schema_types_roles_enum_required_and_read_only(client, demo_conn):
    schema = client.get("/ogc/collections/parcels/schema").json()
    Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert props["id"] == {"type": "integer", "title": "Feature id", "x-ogc-role": "id", "readOnly": True,
                           "x-ogc-propertySeq": 1}  # fmt: skip
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["geometry"]["format"] == "geometry-multipolygon"
    floors = props["floors"]
    assert (floors["type"], floors["minimum"], floors["maximum"], floors["title"]) == ("integer", 0, 200, "Floors")
    assert props["address"]["maxLength"] == 300 and props["address"]["type"] == "string"
    assert props["area_m2"]["type"] == "number" and props["area_m2"]["readOnly"] is True
    assert props["updated_at"] == {**props["updated_at"], "type": "string", "format": "date-time", "readOnly": True,
                                   "x-ogc-role": "primary-instant"}  # fmt: skip
    for system in ("version", "created_at", "created_by", "updated_by"):
        assert props[system]["readOnly"] is True, system
    for writable in ("uid", "neighbourhood_id", "source", "source_id", "floors", "permit"):
        assert "readOnly" not in props[writable], writable
    assert props["neighbourhood_id"]["x-ogc-collectionId"] == "neighbourhoods"
    # The value list as the database keeps it (mahalle.vocabulary), not a copy of the catalogue module.
    permit = [v for (v,) in demo_conn.execute("SELECT value FROM mahalle.vocabulary WHERE layer = 'parcels' "
                                              "AND attribute = 'permit' ORDER BY position")]  # fmt: skip
    assert props["permit"]["enum"] == permit and len(permit) > 1
    assert {"permit", "geometry"} <= set(schema["required"]) and "floors" not in schema["required"]
    assert [p["x-ogc-propertySeq"] for p in props.values()] == list(range(1, len(props) + 1))
    capacity = client.get("/ogc/collections/service_points/schema").json()["properties"]["capacity"]
    assert capacity["x-ogc-unit"] == "people/week" and "x-unit" not in capacity


def test_schema_lists_exactly_what_a_feature_carries_and_features_conform(client):
    checked = []
    for cid in [c["id"] for c in client.get("/ogc/collections").json()["collections"]]:
        part5 = client.get(f"/ogc/collections/{cid}/schema").json()
        described = client.get(f"/ogc/collections/{cid}/schema/geojson").json()
        validator = Draft202012Validator(described, format_checker=Draft202012Validator.FORMAT_CHECKER)
        features = client.get(f"/ogc/collections/{cid}/items?limit=20").json()["features"]
        checked += [cid] if features else []
        for feature in features:
            assert set(part5["properties"]) == {"id", "geometry", *feature["properties"]}, cid
            # Properties outside ``required`` may be null (docs/api.md): the schema types the values they have.
            feature = {**feature, "properties": {k: v for k, v in feature["properties"].items() if v is not None}}
            errors = [e.message for e in validator.iter_errors(feature)]
            assert not errors, (cid, feature["id"], errors)
        assert set(described["properties"]["properties"]["properties"]) == set(part5["properties"]) - {"id", "geometry"}
    assert {"parcels", "streets", "assets", "interventions", "neighbourhoods"} <= set(checked)


def test_the_schema_rejects_what_the_catalogue_forbids(client):
    validator = Draft202012Validator(client.get("/ogc/collections/parcels/schema/geojson").json())
    feature = client.get("/ogc/collections/parcels/items?limit=1").json()["features"][0]
    bad = {**feature["properties"], "floors": 201, "permit": "bribed", "address": "x" * 301}
    errors = {e.path[-1] for e in validator.iter_errors({**feature, "properties": bad})}
    assert {"floors", "permit", "address"} <= errors


def test_titles_follow_the_language(client):
    fa = client.get("/ogc/collections/parcels/schema?lang=fa").json()
    assert fa["properties"]["floors"]["title"] == "تعداد طبقات"
    assert client.get("/ogc/collections/parcels/schema", headers={"Accept-Language": "fr"}).json()["properties"][
        "floors"
    ]["title"] == "Nombre d'étages"  # fmt: skip
    assert "<html" in client.get("/ogc/collections/parcels/schema?f=html").text.lower()


def test_a_schema_is_answered_as_its_collection_is(client, demo_db_url):
    assert client.get("/ogc/collections/nowhere/schema").status_code == 404
    assert client.get("/ogc/collections/nowhere/schema/geojson").status_code == 404
    with TestClient(make_app(demo_db_url)) as anonymous:
        for cid in ("parcels", "streets"):  # private, public
            expected = anonymous.get(f"/ogc/collections/{cid}").status_code
            assert expected == (401 if cid == "parcels" else 200)
            for path in ("schema", "schema/geojson"):
                assert anonymous.get(f"/ogc/collections/{cid}/{path}").status_code == expected, (cid, path)


@pytest.fixture
def pyogrio_as_admin() -> Iterator[None]:
    """pyogrio's GDAL (3.12) sends the admin's token; its HEADERS override GDAL_HTTP_HEADERS, so a bearer."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": ADMIN_TOKEN})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def _pyogrio_types(live_server: str, layer: str, ignore_schema: bool = False) -> dict[str, str]:
    """Field name → dtype as pyogrio's own GDAL types the layer (``IGNORE_SCHEMA``: from the first page only)."""
    info = pyogrio.read_info(f"OAPIF:{live_server}/ogc", layer=layer, IGNORE_SCHEMA="YES" if ignore_schema else "NO")
    return dict(zip(info["fields"], info["dtypes"], strict=True))


def _ogrinfo_types(live_server: str, layer: str, ignore_schema: bool = False) -> dict[str, str]:
    """Field name → OGR type as the system's ogrinfo (GDAL 3.6) types the layer."""
    out = subprocess.run(["ogrinfo", *AS_ADMIN, "-oo", f"IGNORE_SCHEMA={'YES' if ignore_schema else 'NO'}", "-ro",
                          "-so", f"OAPIF:{live_server}/ogc", layer],
                         capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip
    return dict(re.findall(r"^(\w+): ([\w()]+) \(\d+\.\d+\)$", out, re.MULTILINE))


# The first page of the demo leaves these with no value or an ambiguous one: without a schema GDAL types capacity,
# intervention_id and installed_on as String and the costs as Integer.
EXPECTED = {
    "service_points": {"capacity": ("int32", "Integer"), "offers": ("list(str)", "StringList")},
    "assets": {"intervention_id": ("int32", "Integer"), "installed_on": ("datetime64[D]", "Date")},
    "interventions": {"planned_cost": ("float64", "Real"), "actual_end": ("datetime64[D]", "Date")},
    "parcels": {"floors": ("int32", "Integer"), "area_m2": ("float64", "Real"), "permit": ("object", "String")},
}


def test_gdal_types_fields_from_the_schema(live_server, pyogrio_as_admin):
    for layer, fields in EXPECTED.items():
        typed, reported = _pyogrio_types(live_server, layer), _ogrinfo_types(live_server, layer)
        for name, (dtype, ogr_type) in fields.items():
            assert (typed[name], reported[name]) == (dtype, ogr_type), (layer, name, typed, reported)
        assert typed["updated_at"] == "datetime64[ms]" and reported["updated_at"] == "DateTime"
    # The schema is what types them: told to ignore it, both GDALs guess from the first page, and guess wrong.
    assert _pyogrio_types(live_server, "assets", ignore_schema=True)["intervention_id"] == "object"
    assert _ogrinfo_types(live_server, "service_points", ignore_schema=True)["capacity"] == "String"
