"""The OSM reader against the real Helsinki demo extract and a small hand-written .osm file."""

import re
from pathlib import Path

import osmium
import pytest
import shapely

from importers import osm
from importers.demo import DEMO_PBF as DEMO
from importers.osm import OsmReadResult, SourceRow, read_osm
from layers.catalogue import core_catalogue

CATALOGUE = core_catalogue()


@pytest.fixture(scope="module")
def demo() -> OsmReadResult:
    return read_osm(DEMO)


def all_rows(result: OsmReadResult) -> list[SourceRow]:
    return [row for rows in result.rows.values() for row in rows]


def by_id(result: OsmReadResult, layer: str, source_id: str) -> SourceRow:
    matches = [row for row in result.rows[layer] if row.source_id == source_id]
    assert len(matches) == 1, f"{layer} {source_id}: {len(matches)} rows"
    return matches[0]


def value_problem(layer_name: str, name: str, value: object) -> str | None:
    """Why ``value`` is not valid for the attribute, or None."""
    attr = CATALOGUE[layer_name].attribute(name)
    if attr.type == "choice":
        return None if value in attr.values else f"{value!r} not in {attr.values}"
    if attr.type == "choices":
        ok = isinstance(value, list) and set(value) <= set(attr.values)
        return None if ok else f"{value!r} not a list of {attr.values}"
    if attr.type == "text":
        ok = isinstance(value, str) and value and (attr.max_length is None or len(value) <= attr.max_length)
        return None if ok else f"bad text {value!r}"
    if attr.type == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a boolean"
    if attr.type in ("integer", "number"):
        kinds = (int,) if attr.type == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"{value!r} is not a {attr.type}"
        low = float("-inf") if attr.minimum is None else attr.minimum
        high = float("inf") if attr.maximum is None else attr.maximum
        return None if low <= value <= high else f"{value!r} outside {low}..{high}"
    return f"the reader should not fill {attr.type} attributes"


def test_demo_counts_are_plausible(demo: OsmReadResult) -> None:
    counts = {layer: len(rows) for layer, rows in demo.rows.items()}
    assert set(counts) == set(osm.LAYERS)
    assert counts["streets"] > 500
    assert counts["parcels"] > 400
    categories = [row.attributes["category"] for row in demo.rows["service_points"]]
    assert categories.count("market") > 100
    assert {"pharmacy", "bank", "bus_stop", "clinic", "library", "school"} <= set(categories)
    kinds = [row.attributes["kind"] for row in demo.rows["assets"]]
    assert len(kinds) > 1000
    assert kinds.count("street_light") > 300
    assert kinds.count("tree") > 300


def test_demo_attributes_are_valid_for_the_catalogue(demo: OsmReadResult) -> None:
    problems = []
    for row in all_rows(demo):
        layer = CATALOGUE[row.layer]
        missing = {a.name for a in layer.attributes if a.required} - set(row.attributes)
        if missing:
            problems.append(f"{row.source_id} {row.layer} lacks {missing}")
        for name, value in row.attributes.items():
            if name not in layer.attribute_names:
                problems.append(f"{row.source_id} {row.layer} has no attribute {name}")
            elif problem := value_problem(row.layer, name, value):
                problems.append(f"{row.source_id} {row.layer}.{name}: {problem}")
    assert problems == []


def test_demo_geometries_match_layers_and_lie_in_the_file(demo: OsmReadResult) -> None:
    box = osmium.FileProcessor(str(DEMO)).header.box()
    xmin, ymin, xmax, ymax = box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat
    rows = all_rows(demo)
    for row in rows:
        assert row.geometry.geom_type == CATALOGUE[row.layer].geometry_type, row.source_id
        assert not row.geometry.is_empty, row.source_id
    coords = shapely.get_coordinates([row.geometry for row in rows])
    assert (coords[:, 0] >= xmin).all() and (coords[:, 0] <= xmax).all()
    assert (coords[:, 1] >= ymin).all() and (coords[:, 1] <= ymax).all()
    assert demo.bounds == pytest.approx(tuple(shapely.total_bounds([row.geometry for row in rows])))


def test_demo_source_ids_are_osm_references(demo: OsmReadResult) -> None:
    pattern = re.compile(r"^(node|way|relation)/\d+$")
    assert all(pattern.match(row.source_id) for row in all_rows(demo))
    for layer in ("streets", "parcels", "assets"):
        ids = [row.source_id for row in demo.rows[layer]]
        assert len(ids) == len(set(ids)), layer
    assert {row.source_id.split("/")[0] for row in demo.rows["parcels"]} == {"way", "relation"}


def test_demo_known_objects(demo: OsmReadResult) -> None:
    # Mikonkatu: highway=unclassified, surface=sett, lit=yes.
    mikonkatu = by_id(demo, "streets", "way/14472965")
    assert mikonkatu.attributes == {
        "name": "Mikonkatu",
        "street_class": "local",
        "surface": "paving_stones",
        "lighting": "lit",
        "sidewalk": "unknown",
    }
    # shop=car_repair is a workshop (and, being a shop, also a service point).
    garage = by_id(demo, "workshops", "node/5779372562")
    assert garage.attributes["kind"] == "auto_repair"
    assert garage.attributes["polluting"] is False
    assert by_id(demo, "service_points", "node/5779372562").attributes["category"] == "market"
    pharmacies = [row for row in demo.rows["service_points"] if row.attributes["category"] == "pharmacy"]
    assert all(row.attributes["services"] == "pharmacy" for row in pharmacies)


def test_demo_unmapped_counts_what_was_left_out(demo: OsmReadResult) -> None:
    assert demo.unmapped["service_points amenity=restaurant"] > 100
    assert demo.unmapped["streets surface=stone"] > 0
    assert not any(row.attributes.get("services") == "restaurant" for row in demo.rows["service_points"])
    assert all(key.split(" ", 1)[0] in osm.LAYERS for key in demo.unmapped)


def test_demo_has_no_complete_neighbourhood_boundaries(demo: OsmReadResult) -> None:
    # The extract is clipped: its admin_level 9/10 relations (Kamppi, Kluuvi …) cannot be assembled.
    assert demo.rows["neighbourhoods"] == []


def test_layers_argument_limits_the_read(demo: OsmReadResult) -> None:
    streets = read_osm(DEMO, layers=["streets"])
    assert list(streets.rows) == ["streets"]
    assert len(streets.rows["streets"]) == len(demo.rows["streets"])
    assert streets.unmapped and all(key.startswith("streets ") for key in streets.unmapped)
    with pytest.raises(ValueError, match="tasks"):
        read_osm(DEMO, layers=["tasks"])


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="mahalle-test">
  <node id="1" version="1" lat="35.6600" lon="51.4000">
    <tag k="industrial" v="scrap_yard"/><tag k="name" v="Yard"/>
  </node>
  <node id="2" version="1" lat="35.6601" lon="51.4001"><tag k="highway" v="street_lamp"/></node>
  <node id="3" version="1" lat="35.6602" lon="51.4002"><tag k="amenity" v="restaurant"/></node>
  <node id="11" version="1" lat="35.6610" lon="51.4010"/>
  <node id="12" version="1" lat="35.6610" lon="51.4020"/>
  <node id="13" version="1" lat="35.6620" lon="51.4020"/>
  <node id="21" version="1" lat="35.6630" lon="51.4030"/>
  <node id="22" version="1" lat="35.6630" lon="51.4040"/>
  <node id="23" version="1" lat="35.6640" lon="51.4040"/>
  <node id="24" version="1" lat="35.6640" lon="51.4030"/>
  <way id="100" version="1">
    <nd ref="11"/><nd ref="12"/><nd ref="13"/>
    <tag k="highway" v="residential"/><tag k="surface" v="earth"/><tag k="lit" v="no"/>
    <tag k="width" v="4 m"/><tag k="name" v="Kuche"/>
  </way>
  <way id="101" version="1">
    <nd ref="13"/><nd ref="11"/>
    <tag k="highway" v="service"/><tag k="service" v="alley"/><tag k="surface" v="woodchips"/>
    <tag k="lit" v="24/7"/><tag k="sidewalk:both" v="no"/><tag k="width" v="wide"/>
  </way>
  <way id="200" version="1">
    <nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/>
    <tag k="building" v="mosque"/><tag k="amenity" v="place_of_worship"/><tag k="religion" v="muslim"/>
    <tag k="name" v="Masjid"/><tag k="name:en" v="Mosque"/><tag k="building:levels" v="2"/>
    <tag k="addr:street" v="Kuche"/><tag k="addr:housenumber" v="7"/>
  </way>
</osm>
"""


def test_small_xml_file_gives_exactly_the_expected_rows(tmp_path: Path) -> None:
    path = tmp_path / "small.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    result = read_osm(path)
    got = {layer: [(row.source_id, row.attributes) for row in rows] for layer, rows in result.rows.items()}
    assert got == {
        "service_points": [
            (
                "way/200",
                {
                    "name": "Masjid",
                    "name_latin": "Mosque",
                    "category": "mosque",
                    "services": "place of worship",
                },
            )
        ],
        "workshops": [
            (
                "node/1",
                {
                    "name": "Yard",
                    "kind": "scrap",
                    "polluting": True,
                    "licence": "unknown",
                    "status": "active",
                },
            )
        ],
        "assets": [("node/2", {"kind": "street_light", "condition": "unknown"})],
        "streets": [
            (
                "way/100",
                {
                    "name": "Kuche",
                    "street_class": "local",
                    "width_m": 4.0,
                    "surface": "earth",
                    "lighting": "unlit",
                    "sidewalk": "unknown",
                },
            ),
            ("way/101", {"street_class": "alley", "surface": "unknown", "lighting": "lit", "sidewalk": "none"}),
        ],
        "parcels": [
            (
                "way/200",
                {
                    "land_use": "religious",
                    "tenure": "unknown",
                    "building_status": "unknown",
                    "permit": "unknown",
                    "floors": 2,
                    "address": "Kuche 7",
                },
            )
        ],
        "blighted_plots": [],
        "neighbourhoods": [],
    }
    assert result.unmapped == {
        "service_points amenity=restaurant": 1,
        "streets surface=woodchips": 1,
        "streets width=wide": 1,
    }
    street = result.rows["streets"][0].geometry
    assert street.equals(shapely.MultiLineString([[(51.401, 35.661), (51.402, 35.661), (51.402, 35.662)]]))
    assert result.rows["workshops"][0].geometry.equals(shapely.Point(51.4, 35.66))
    mosque_point = result.rows["service_points"][0].geometry
    parcel = result.rows["parcels"][0].geometry
    assert parcel.geom_type == "MultiPolygon" and parcel.area == pytest.approx(0.001 * 0.001)
    assert parcel.contains(mosque_point)
    assert result.bounds == pytest.approx((51.4, 35.66, 51.404, 35.664))


@pytest.mark.parametrize(
    "text, metres", [("5", 5.0), ("5.5 m", 5.5), ("5,5", 5.5), ("12m", 12.0), ("3'", None), ("", None), ("5;6", None)]
)
def test_width_parsing(text: str, metres: float | None) -> None:
    assert osm._metres(text) == metres


def test_clipped_way_keeps_the_parts_inside_the_extract(tmp_path: Path) -> None:
    # Node 2 is missing, as in an extract cut at its bounding box.
    path = tmp_path / "clipped.osm"
    path.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" version="1" lat="1.0" lon="1.0"/><node id="3" version="1" lat="1.0" lon="1.2"/>
  <node id="4" version="1" lat="1.0" lon="1.3"/><node id="6" version="1" lat="1.0" lon="1.5"/>
  <way id="7" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="footway"/></way>
</osm>
""",
        encoding="utf-8",
    )
    (row,) = read_osm(path).rows["streets"]
    assert row.geometry.equals(shapely.MultiLineString([[(1.2, 1.0), (1.3, 1.0)]]))


def test_mapping_tables_only_use_catalogue_values() -> None:
    def values(layer: str, attribute: str) -> set[str]:
        return set(CATALOGUE[layer].attribute(attribute).values)

    tables = [
        ("streets", "street_class", [*osm.STREET_CLASS.values(), *osm.SERVICE_CLASS.values()]),
        ("streets", "surface", osm.SURFACE.values()),
        ("streets", "lighting", osm.LIT.values()),
        ("streets", "sidewalk", [osm.SIDEWALK[v] for v in osm.SIDEWALK_BOTH.values()]),
        ("streets", "sidewalk", osm.SIDEWALK.values()),
        ("service_points", "category", [rule.result for rule in osm.SERVICE_RULES]),
        (
            "parcels",
            "land_use",
            [
                *osm.BUILDING_LAND_USE.values(),
                *osm.LANDUSE_LAND_USE.values(),
                *osm.LEISURE_LAND_USE.values(),
                *(r.result for r in osm.BUILDING_USE_HINTS),
            ],
        ),
        ("parcels", "building_status", osm.BUILDING_STATUS.values()),
        ("blighted_plots", "kind", [rule.result for rule in osm.BLIGHT_RULES]),
        ("workshops", "kind", [*(rule.result for rule in osm.WORKSHOP_RULES), *osm.POLLUTING_KINDS]),
        ("assets", "kind", [rule.result for rule in osm.ASSET_RULES]),
    ]
    for layer, attribute, used in tables:
        assert set(used) <= values(layer, attribute), (layer, attribute)
    assert not set(osm.STREET_CLASS) & osm.STREET_SKIP
