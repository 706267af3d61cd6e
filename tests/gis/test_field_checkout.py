"""``gis.field_checkout``: a neighbourhood's layers as a GeoPackage for QField/Mergin/QGIS, read back with GDAL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from core.errors import InvalidInput, NotFound
from gis.export import ExportError
from gis.field_checkout import BASELINE_TABLE, CHECKOUT_TABLE, checkout, read_rows
from layers.catalogue import UnknownLayer
from tests.gis.field_samples import LAYERS, NORTH, SOUTH, act_as, file_rows, gdal, make_place


@pytest.fixture
def place(conn) -> dict[str, int]:
    return make_place(conn)


def test_the_checkout_holds_the_neighbourhood_with_uids_versions_domains_and_styles(conn, catalogue, place, tmp_path):
    conn.execute("UPDATE workshops SET employees = 5 WHERE name = 'Yard A'")  # version 2 on the server
    out = tmp_path / "north.gpkg"
    report = checkout(conn, catalogue, NORTH, LAYERS, out, user="amina", server_url="https://mahalle.example")

    # The features inside the neighbourhood, and the street that crosses into it from the south.
    assert report.layers == {"workshops": 5, "streets": 2}
    assert sorted(r[0] for r in file_rows(out, "SELECT name FROM workshops")) == [f"Yard {c}" for c in "ABCDE"]
    assert sorted(r[0] for r in file_rows(out, "SELECT name FROM streets")) == ["Border street", "North lane"]
    on_server = {str(u): v for u, v in conn.execute("SELECT uid, version FROM workshops WHERE name <> 'Yard S'")}
    assert dict(file_rows(out, "SELECT uid, version FROM workshops")) == on_server
    assert on_server[str(conn.execute("SELECT uid FROM workshops WHERE name = 'Yard A'").fetchone()[0])] == 2
    # Attributes with their types, as GDAL sees them: value lists with their coded domains.
    info = gdal("ogrinfo", "-so", out, "workshops")
    assert "kind: String (0.0), domain name=workshops_kind" in info
    assert "status: String (0.0), domain name=workshops_status" in info
    assert "polluting: Integer(Boolean)" in info and "employees: Integer64" in info
    assert "domain name" not in next(line for line in info.splitlines() if line.startswith("name:"))
    domain = gdal("ogrinfo", out, "-fielddomain", "workshops_status")
    assert "Type: coded" in domain and "sealed: Sealed" in domain and "relocated: Relocated" in domain
    assert "surface: String (0.0), domain name=streets_surface" in gdal("ogrinfo", "-so", out, "streets")

    (row,) = file_rows(out, f"SELECT checkout_id, neighbourhood, layers, created_by, server_url FROM {CHECKOUT_TABLE}")
    assert uuid.UUID(row[0]) == report.id
    assert row[1:] == (NORTH, json.dumps(LAYERS), "amina", "https://mahalle.example")
    # The baseline: every row's uid, version and the hash of the row as the file holds it.
    baseline = {(layer, uid): (version, sha) for layer, uid, version, sha in
                file_rows(out, f"SELECT layer, uid, version, sha256 FROM {BASELINE_TABLE}")}  # fmt: skip
    assert len(baseline) == 7
    attributes = [a.name for a in catalogue["workshops"].attributes]
    for r in read_rows(out, "workshops", attributes):
        assert baseline["workshops", r.uid] == (r.version, r.sha256)


def test_the_styles_carry_symbols_and_a_form(conn, catalogue, place, tmp_path):
    out = tmp_path / "north.gpkg"
    checkout(conn, catalogue, NORTH, ["workshops"], out, user=None, lang="fa")
    ((qml, default),) = file_rows(
        out, "SELECT styleQML, useAsDefault FROM layer_styles WHERE f_table_name = 'workshops'"
    )
    assert default == 1
    assert 'renderer-v2 type="categorizedSymbol" attr="status"' in qml  # the export's symbology
    assert '<editWidget type="ValueMap">' in qml and 'name="پلمب‌شده" value="sealed"' in qml  # labels in Persian
    assert '<field name="uid" editable="0" />' in qml and '<field name="version" editable="0" />' in qml
    assert '<field name="status" editable="0" />' not in qml  # the server edits everything
    assert '<default field="uid" expression="uuid(\'WithoutBraces\')"' in qml


def test_a_field_worker_gets_what_they_may_read_and_a_form_that_follows_their_rights(conn, catalogue, place, tmp_path):
    south = conn.execute("SELECT neighbourhood_id FROM parcels WHERE parcel_code = 'P-BORDER'").fetchone()[0]
    assert south == place[SOUTH]  # it crosses into the north, but lies in the south
    layers = [*LAYERS, "parcels"]
    assert checkout(conn, catalogue, NORTH, layers, tmp_path / "all.gpkg", user=None).layers["parcels"] == 2
    act_as(conn, "farid", {"field": [place[NORTH]]})
    out = tmp_path / "north.gpkg"
    report = checkout(conn, catalogue, NORTH, layers, out, user="farid")
    # The south's parcel is not theirs to read; streets are public.
    assert report.layers == {"workshops": 5, "streets": 2, "parcels": 1}
    ((qml,),) = file_rows(out, "SELECT styleQML FROM layer_styles WHERE f_table_name = 'streets'")
    assert '<field name="surface" editable="0" />' in qml  # a field worker changes no street
    ((qml,),) = file_rows(out, "SELECT styleQML FROM layer_styles WHERE f_table_name = 'workshops'")
    assert '<field name="name" editable="0" />' in qml and '<field name="kind" editable="0" />' in qml
    assert '<field name="status" editable="0" />' not in qml  # what a field worker may change
    # Boundaries are public; the south's workshops are not theirs: an empty table, still ready for QField.
    south_file = tmp_path / "south.gpkg"
    assert checkout(conn, catalogue, SOUTH, LAYERS, south_file, user="farid").layers == {"workshops": 0, "streets": 1}
    assert "Feature Count: 0" in gdal("ogrinfo", "-so", south_file, "workshops")


@pytest.mark.parametrize(
    ("code", "layers", "lang", "error", "message"),
    [
        ("NOWHERE", None, "en", NotFound, "no neighbourhood 'NOWHERE'"),
        (NORTH, ["trees"], "en", UnknownLayer, "trees"),
        (NORTH, ["tasks"], "en", ExportError, "tasks has no geometry"),
        (NORTH, ["workshops"], "xx", InvalidInput, "no language 'xx'"),
    ],
)
def test_what_cannot_be_checked_out(conn, catalogue, place, tmp_path: Path, code, layers, lang, error, message):
    out = tmp_path / "x.gpkg"
    with pytest.raises(error, match=message):
        checkout(conn, catalogue, code, layers, out, user=None, lang=lang)
    assert not out.exists()


def test_every_spatial_layer_by_default(conn, catalogue, place, tmp_path):
    report = checkout(conn, catalogue, NORTH, None, tmp_path / "all.gpkg", user=None)
    assert "neighbourhoods" not in report.layers and "tasks" not in report.layers
    assert {"workshops", "streets", "parcels", "assets", "service_points"} <= set(report.layers)
    assert report.layers["workshops"] == 5
