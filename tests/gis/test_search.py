"""Search (gis/search.py) on a real PostGIS: what it looks in comes from the catalogue, row-level security keeps
other neighbourhoods' private features out, the typed text is literal (``%``, ``_``), and the answers say where."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from gis.search import MAX_QUERY, label_attribute, search, searched_attributes
from layers.catalogue import load_catalogue
from layers.custom import create_custom_layer, layer_from_definition
from layers.definition import LayerDefinition
from tests.gis.field_samples import NORTH, SOUTH, act_as, make_place


@pytest.fixture
def place(conn) -> dict[str, int]:
    return make_place(conn)


def hits(conn, catalogue, q: str, **kw) -> list[tuple[str, str | None]]:
    return [(h["layer"], h["label"]) for h in search(conn, catalogue, q, **kw)]


def test_a_field_worker_of_the_north_does_not_find_the_souths_workshops(conn, catalogue, place):
    everything = hits(conn, catalogue, "yard", layers=["workshops"])
    assert sorted(label for _, label in everything) == ["Yard A", "Yard B", "Yard C", "Yard D", "Yard E", "Yard S"]
    act_as(conn, "fatma", {"field": [place[NORTH]]})
    found = hits(conn, catalogue, "yard", layers=["workshops"])
    assert sorted(label for _, label in found) == ["Yard A", "Yard B", "Yard C", "Yard D", "Yard E"]
    assert hits(conn, catalogue, "Yard S") == []  # not by name either
    # Streets are public: the south's street is found by anyone.
    assert ("streets", "Border street") in hits(conn, catalogue, "border")


def test_percent_and_underscore_are_literal(conn, catalogue, place):
    conn.execute(
        "INSERT INTO parcels (parcel_code, address, geom) VALUES "
        "('P-1', '100% paved yard', ST_Multi(ST_MakeEnvelope(24.905, 60.161, 24.906, 60.162, 4326))), "
        "('P-2', '1000 paved yard', ST_Multi(ST_MakeEnvelope(24.907, 60.161, 24.908, 60.162, 4326))), "
        "('A_B', 'corner', ST_Multi(ST_MakeEnvelope(24.909, 60.161, 24.910, 60.162, 4326))), "
        "('AXB', 'corner', ST_Multi(ST_MakeEnvelope(24.911, 60.161, 24.912, 60.162, 4326))), "
        "('C\\D', 'corner', ST_Multi(ST_MakeEnvelope(24.913, 60.161, 24.914, 60.162, 4326)))"
    )
    assert hits(conn, catalogue, "100%") == [("parcels", "P-1")]
    assert hits(conn, catalogue, "a_b") == [("parcels", "A_B")]
    assert hits(conn, catalogue, "%") == [("parcels", "P-1")]
    assert hits(conn, catalogue, "_") == [("parcels", "A_B")]
    assert hits(conn, catalogue, "c\\d") == [("parcels", "C\\D")]
    (hit,) = search(conn, catalogue, "100%")
    assert hit["matched"] == {"attribute": "address", "text": "100% paved yard"}


def test_a_hit_says_what_matched_where_it_is_and_its_extent(conn, catalogue, place):
    (workshop,) = search(conn, catalogue, "by the canal")
    assert workshop["layer"] == "workshops" and workshop["label"] == "Yard A"
    assert workshop["matched"] == {"attribute": "note", "text": "by the canal"}
    assert workshop["neighbourhood"]["code"] == NORTH and workshop["neighbourhood"]["name"] == "North quarter"
    assert workshop["point"] == pytest.approx([24.905, 60.165]) and workshop["bbox"] is None
    (street,) = search(conn, catalogue, "North lane")
    assert street["bbox"] == pytest.approx([24.901, 60.168, 24.919, 60.168]) and street["point"] is None
    # The whole text first, then its beginning, then anywhere: the neighbourhood named "South quarter" before
    # the ones that merely contain "quarter".
    assert hits(conn, catalogue, "south quarter", layers=["neighbourhoods"]) == [("neighbourhoods", "South quarter")]
    names = hits(conn, catalogue, "quarter", layers=["neighbourhoods"])
    assert sorted(names) == [("neighbourhoods", "North quarter"), ("neighbourhoods", "South quarter")]
    hood = search(conn, catalogue, SOUTH)[0]
    assert hood["layer"] == "neighbourhoods" and hood["neighbourhood"]["code"] == SOUTH


def test_ids_and_uids_find_their_feature(conn, catalogue, place):
    fid, uid = conn.execute("SELECT id, uid::text FROM workshops WHERE name = 'Yard C'").fetchone()
    by_id = [h for h in search(conn, catalogue, str(fid), limit=50) if h["layer"] == "workshops"]
    assert by_id[0]["id"] == fid and by_id[0]["matched"] == {"attribute": "id", "text": str(fid)}
    (by_uid,) = search(conn, catalogue, uid[:8].upper())
    assert (by_uid["layer"], by_uid["id"], by_uid["matched"]["attribute"]) == ("workshops", fid, "uid")


def test_every_text_attribute_of_the_catalogue_is_searched_including_a_custom_layers(conn, place):
    definition = LayerDefinition.model_validate(
        {
            "name": "water_points",
            "title": "Water points",
            "geometry_type": "Point",
            "attributes": [
                {"name": "caretaker", "type": "text", "max_length": 80},
                {"name": "depth_m", "type": "number"},
            ],
        }
    )
    with conn.transaction():
        create_custom_layer(conn, layer_from_definition(definition))
    catalogue = load_catalogue(conn)
    assert searched_attributes(catalogue["water_points"]) == ["caretaker"]
    assert label_attribute(catalogue["water_points"]) == "caretaker"
    assert searched_attributes(catalogue["parcels"]) == [a.name for a in catalogue["parcels"].attributes
                                                         if a.type == "text"]  # fmt: skip
    conn.execute("INSERT INTO water_points (caretaker, geom) VALUES ('Mama Zawadi', 'SRID=4326;POINT(24.91 60.165)')")
    (hit,) = search(conn, catalogue, "zawadi")
    assert hit["layer"] == "water_points" and hit["label"] == "Mama Zawadi"
    assert hit["neighbourhood"]["code"] == NORTH


def test_bounded_input(conn, catalogue, place):
    with pytest.raises(InvalidInput, match="at most 100 characters"):
        search(conn, catalogue, "x" * (MAX_QUERY + 1))
    with pytest.raises(InvalidInput, match="Type something"):
        search(conn, catalogue, "   ")
    with pytest.raises(InvalidInput, match="no map layer named 'tasks'"):
        search(conn, catalogue, "yard", layers=["tasks"])
    with pytest.raises(InvalidInput, match="limit"):
        search(conn, catalogue, "yard", limit=51)
    assert len(search(conn, catalogue, "yard", limit=2)) == 2
