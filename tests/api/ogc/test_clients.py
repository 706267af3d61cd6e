"""Real OGC API clients against a live Mahalle: GDAL/OGR's OAPIF driver and OWSLib (Part 4 included).

GDAL sends the admin's API token with ``--config GDAL_HTTP_HEADERS`` (GDAL ≥ 3.6), OWSLib with ``headers=``; an
anonymous GDAL or OWSLib client reads the public layers and is refused the others.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from owslib.ogcapi.features import Features

from tests.auth import ADMIN_HEADERS

AS_ADMIN = ("--config", "GDAL_HTTP_HEADERS", f"Authorization: {ADMIN_HEADERS['Authorization']}")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def ogr(*args: str) -> str:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_lists_every_collection_with_its_geometry_type(live_server):
    listing = ogr("ogrinfo", *AS_ADMIN, "-ro", f"OAPIF:{live_server}/ogc")
    for line in ("parcels (title: Parcels) (Multi Polygon)", "streets (title: Streets) (Multi Line String)",
                 "workshops (title: Workshops) (Point)", "service_points (title: Service points) (Point)",
                 "neighbourhoods (title: Neighbourhoods) (Multi Polygon)"):  # fmt: skip
        assert line in listing
    summary = ogr("ogrinfo", *AS_ADMIN, "-ro", "-so", f"OAPIF:{live_server}/ogc", "streets")
    assert "Feature Count: " in summary
    for field in ("surface: String", "lighting: String", "street_class: String", "length_m: Real"):
        assert field in summary


def test_anonymous_gdal_lists_and_reads_the_public_layers_only(live_server, tmp_path: Path):
    listing = ogr("ogrinfo", "-ro", f"OAPIF:{live_server}/ogc")
    assert "streets (title: Streets) (Multi Line String)" in listing
    assert "parcels" not in listing and "workshops" not in listing
    out = tmp_path / "streets.geojson"
    ogr("ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live_server}/ogc", "streets", "-spat",
        "24.940", "60.165", "24.945", "60.168")  # fmt: skip
    assert json.loads(out.read_text())["features"]
    refused = run("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc/collections/parcels")
    assert refused.returncode != 0 and "401" in refused.stderr, refused.stderr


def test_ogr2ogr_copies_with_bbox_and_cql2_and_counts_match(live_server, demo_conn, tmp_path: Path):
    out = tmp_path / "streets.geojson"
    box = ("24.940", "60.165", "24.945", "60.168")
    ogr("ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live_server}/ogc", "streets", "-spat", *box)
    copied = json.loads(out.read_text())["features"]
    expected = demo_conn.execute("SELECT count(*) FROM streets WHERE ST_Intersects(geom, ST_MakeEnvelope("
                                 "24.940, 60.165, 24.945, 60.168, 4326))").fetchone()[0]  # fmt: skip
    assert len(copied) == expected > 0
    filtered = tmp_path / "asphalt.geojson"
    ogr("ogr2ogr", "-f", "GeoJSON", str(filtered), f"OAPIF:{live_server}/ogc", "streets",
        "-where", "surface = 'asphalt' AND length_m > 100")  # fmt: skip
    got = json.loads(filtered.read_text())["features"]
    expected = demo_conn.execute(
        "SELECT count(*) FROM streets WHERE surface = 'asphalt' AND length_m > 100"
    ).fetchone()[0]
    assert len(got) == expected > 0
    assert {f["properties"]["surface"] for f in got} == {"asphalt"}


def test_anonymous_owslib_reads_a_public_layer_and_is_refused_a_private_one(live_server):
    api = Features(f"{live_server}/ogc")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert "streets" in ids and "parcels" not in ids
    assert api.collection_items("streets", limit=5)["features"]
    with pytest.raises(RuntimeError, match="401"):
        api.collection_items("parcels", limit=5)


def test_owslib_reads_pages_and_edits(live_server, demo_conn):
    api = Features(f"{live_server}/ogc", headers=dict(ADMIN_HEADERS))
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"parcels", "streets", "interventions", "observations"} <= ids
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    page = api.collection_items("service_points", limit=50, category="pharmacy")
    pharmacies = demo_conn.execute("SELECT count(*) FROM service_points WHERE category = 'pharmacy'").fetchone()[0]
    assert page["numberMatched"] == pharmacies and len(page["features"]) == min(50, pharmacies)
    queryables = api.collection_queryables("streets")
    assert "surface" in queryables["properties"]

    api.headers["Content-Type"] = "application/geo+json"
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9431, 60.1689]},
               "properties": {"kind": "street_light", "condition": "good", "note": "owslib"}}  # fmt: skip
    assert api.collection_item_create("assets", json.dumps(feature))
    fid = demo_conn.execute("SELECT id FROM assets WHERE note = 'owslib'").fetchone()[0]
    feature["properties"]["condition"] = "broken"
    assert api.collection_item_update("assets", str(fid), json.dumps(feature))
    assert api.collection_item("assets", str(fid))["properties"]["condition"] == "broken"
    assert api.collection_item_delete("assets", str(fid))
    assert demo_conn.execute("SELECT count(*) FROM assets WHERE id = %s", (fid,)).fetchone()[0] == 0
    ops = demo_conn.execute("SELECT operation FROM mahalle.history WHERE layer = 'assets' AND feature_id = %s "
                            "ORDER BY id", (fid,)).fetchall()  # fmt: skip
    assert [o for (o,) in ops] == ["INSERT", "UPDATE", "DELETE"]
