"""Read OpenStreetMap data (PBF or .osm XML) into rows for several Mahalle layers in one pass.

The default OSM → Mahalle mapping is declarative: value tables (dicts) and ordered tag rules (``Rule``
tuples, first match wins) that an importer can show to planners. Tag values the mapping has no entry
for are counted in ``OsmReadResult.unmapped`` ("streets surface=woodchips"), so a report can say what
was left out and where the tables should grow. Values the mapping knows and deliberately drops (e.g.
``highway=platform``) are not counted.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import osmium
import osmium.filter
import osmium.geom
import shapely

from layers.catalogue import core_catalogue

Tags = dict[str, str]
Attributes = dict[str, Any]


class Rule(NamedTuple):
    """``key=value`` (value ``*`` matches any) gives ``result``; ``also`` is a second tag that must match."""

    key: str
    value: str
    result: str
    also: tuple[str, str] | None = None


# --- streets (ways with highway=*) ------------------------------------------------------------------

STREET_CLASS = {
    "motorway": "primary",
    "motorway_link": "primary",
    "trunk": "primary",
    "trunk_link": "primary",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "secondary",
    "tertiary_link": "secondary",
    "residential": "local",
    "unclassified": "local",
    "living_street": "local",
    "road": "local",
    "service": "service",
    "pedestrian": "pedestrian",
    "footway": "pedestrian",
    "path": "pedestrian",
    "steps": "pedestrian",
    "cycleway": "pedestrian",
    "track": "pedestrian",
    "bridleway": "pedestrian",
}
# highway=service is refined by its service=* value.
SERVICE_CLASS = {"alley": "alley"}
# Known highway values that are not streets to plan (indoor, not built, or not a way people walk along).
STREET_SKIP = frozenset({"platform", "corridor", "proposed", "construction", "raceway", "elevator", "bus_stop"})
SURFACE = {
    "asphalt": "asphalt",
    "concrete": "concrete",
    "concrete:plates": "concrete",
    "concrete:lanes": "concrete",
    "paving_stones": "paving_stones",
    "sett": "paving_stones",
    "cobblestone": "paving_stones",
    "unhewn_cobblestone": "paving_stones",
    "bricks": "paving_stones",
    "paved": "paved",
    "gravel": "gravel",
    "fine_gravel": "gravel",
    "compacted": "gravel",
    "pebblestone": "gravel",
    "dirt": "earth",
    "earth": "earth",
    "ground": "earth",
    "grass": "earth",
    "mud": "earth",
    "sand": "earth",
    "unpaved": "earth",
}
LIT = {
    "yes": "lit",
    "24/7": "lit",
    "automatic": "lit",
    "sunset-sunrise": "lit",
    "dusk-dawn": "lit",
    "limited": "partial",
    "interval": "partial",
    "no": "unlit",
    "disused": "unlit",
}
# "separate" means the sidewalk is its own way: this way says nothing about it.
SIDEWALK = {
    "both": "both",
    "left": "one_side",
    "right": "one_side",
    "no": "none",
    "none": "none",
    "separate": "unknown",
}
# sidewalk:both uses yes/no/separate; turn it into a plain sidewalk=* value.
SIDEWALK_BOTH = {"yes": "both"}
NAME_LATIN_KEYS = ("name:en", "int_name", "name:latin")
_METRES = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:m|metres?|meters?)?\s*$")

# --- service points (nodes, and areas as a point on their surface) ----------------------------------

SERVICE_RULES: tuple[Rule, ...] = (
    Rule("amenity", "place_of_worship", "mosque", also=("religion", "muslim")),
    Rule("amenity", "place_of_worship", "place_of_worship"),
    *(Rule("amenity", v, "school") for v in ("school", "college", "university")),
    *(Rule("amenity", v, "kindergarten") for v in ("kindergarten", "childcare")),
    Rule("amenity", "hospital", "hospital"),
    Rule("healthcare", "hospital", "hospital"),
    Rule("amenity", "pharmacy", "pharmacy"),
    Rule("healthcare", "pharmacy", "pharmacy"),
    *(Rule("amenity", v, "clinic") for v in ("clinic", "doctors", "dentist")),
    Rule("healthcare", "*", "clinic"),
    Rule("amenity", "social_facility", "charity"),
    Rule("amenity", "charity", "charity"),
    Rule("office", "charity", "charity"),
    *(Rule("office", v, "ngo") for v in ("ngo", "association")),
    Rule("amenity", "library", "library"),
    *(Rule("leisure", v, "sports") for v in ("sports_centre", "pitch", "fitness_centre", "stadium", "sports_hall")),
    *(Rule("amenity", v, "community_centre") for v in ("community_centre", "social_centre", "arts_centre")),
    Rule("amenity", "police", "police"),
    Rule("amenity", "fire_station", "fire_station"),
    Rule("highway", "bus_stop", "bus_stop"),
    *(Rule("public_transport", v, "bus_stop", also=("bus", "yes")) for v in ("platform", "stop_position")),
    Rule("amenity", "marketplace", "market"),
    Rule("shop", "*", "market"),
    Rule("amenity", "bank", "bank"),
    *(Rule("amenity", v, "government") for v in ("townhall", "courthouse", "post_office")),
    Rule("office", "government", "government"),
)
# An object with one of these keys but no rule is a skipped kind of place (counted as unmapped).
SERVICE_KEYS = ("amenity", "shop", "healthcare", "office", "leisure", "public_transport")
CONTACT_KEYS = ("phone", "contact:phone", "website", "contact:website")

# --- parcels (areas) --------------------------------------------------------------------------------

BUILDING_LAND_USE = {
    **dict.fromkeys(("residential", "apartments", "house", "detached", "terrace", "dormitory"), "residential"),
    **dict.fromkeys(("commercial", "retail", "office", "hotel", "kiosk", "supermarket"), "commercial"),
    **dict.fromkeys(("industrial", "warehouse"), "industrial"),
    **dict.fromkeys(("church", "mosque", "cathedral", "chapel", "synagogue", "temple", "religious"), "religious"),
    **dict.fromkeys(
        (
            "school",
            "university",
            "college",
            "kindergarten",
            "hospital",
            "public",
            "civic",
            "government",
            "train_station",
            "fire_station",
        ),
        "public",
    ),
}
# building=yes (or a value above does not list) says nothing about use; what is inside may.
BUILDING_USE_HINTS: tuple[Rule, ...] = (
    Rule("amenity", "place_of_worship", "religious"),
    *(
        Rule("amenity", v, "public")
        for v in (
            "school",
            "college",
            "university",
            "kindergarten",
            "hospital",
            "clinic",
            "library",
            "townhall",
            "courthouse",
            "police",
            "fire_station",
            "post_office",
            "community_centre",
        )
    ),
    Rule("office", "government", "public"),
    *(Rule("amenity", v, "commercial") for v in ("marketplace", "bank", "restaurant", "cafe", "pharmacy")),
    Rule("shop", "*", "commercial"),
)
BUILDING_STATUS = {"construction": "under_construction", "ruins": "ruined"}
LANDUSE_LAND_USE = {
    "residential": "residential",
    "commercial": "commercial",
    "retail": "commercial",
    "industrial": "industrial",
    "religious": "religious",
    "grass": "park",
    "recreation_ground": "park",
    "village_green": "park",
}
LEISURE_LAND_USE = {"park": "park", "garden": "park", "playground": "park"}

# --- blighted plots (areas) -------------------------------------------------------------------------

BLIGHT_RULES: tuple[Rule, ...] = (
    Rule("landuse", "brownfield", "vacant_lot"),
    Rule("landuse", "landfill", "dumping_site"),
    Rule("building", "ruins", "ruined_building"),
    Rule("ruins", "yes", "ruined_building"),
    Rule("abandoned", "yes", "ruined_building"),
    Rule("disused:building", "*", "ruined_building"),
    Rule("hazard", "*", "hazard"),
)

# --- workshops (nodes, and areas as a point on their surface) ---------------------------------------

WORKSHOP_RULES: tuple[Rule, ...] = (
    Rule("industrial", "scrap_yard", "scrap"),
    Rule("amenity", "scrap_yard", "scrap"),
    Rule("amenity", "recycling", "recycling", also=("recycling_type", "centre")),
    *(Rule("craft", v, "metal") for v in ("metal_construction", "blacksmith", "welder")),
    Rule("shop", "car_repair", "auto_repair"),
    Rule("craft", "car_repair", "auto_repair"),
    Rule("craft", "carpenter", "carpentry"),
    Rule("craft", "tannery", "tannery"),
)
# Scrap yards pollute by their nature; for the others it takes a survey to say.
POLLUTING_KINDS = frozenset({"scrap"})

# --- assets (nodes) ---------------------------------------------------------------------------------

ASSET_RULES: tuple[Rule, ...] = (
    Rule("highway", "street_lamp", "street_light"),
    Rule("natural", "tree", "tree"),
    Rule("traffic_sign", "*", "traffic_sign"),
    Rule("highway", "stop", "traffic_sign"),
    Rule("highway", "give_way", "traffic_sign"),
    *(Rule("traffic_calming", v, "speed_bump") for v in ("bump", "hump", "table", "cushion")),
    Rule("amenity", "bench", "bench"),
    Rule("amenity", "waste_basket", "bin"),
    Rule("amenity", "drinking_water", "water_point"),
    Rule("amenity", "water_point", "water_point"),
)

# --- neighbourhoods (areas) -------------------------------------------------------------------------

NEIGHBOURHOOD_RULES: tuple[Rule, ...] = (
    *(Rule("boundary", "administrative", "neighbourhood", also=("admin_level", v)) for v in ("9", "10")),
    *(Rule("place", v, "neighbourhood") for v in ("neighbourhood", "suburb", "quarter")),
)
CITY_KEYS = ("is_in:city", "addr:city")


# --- output -----------------------------------------------------------------------------------------


@dataclass
class SourceRow:
    layer: str  # catalogue layer name
    source_id: str  # "node/123", "way/456", "relation/789"; areas carry their original way/relation
    attributes: dict[str, Any]  # only catalogue attributes of the layer, with values valid for it
    geometry: shapely.Geometry  # EPSG:4326 lon/lat, of the layer's geometry type


@dataclass
class OsmReadResult:
    rows: dict[str, list[SourceRow]]  # by layer
    unmapped: Counter[str]  # "<layer> <key>=<value>": tag values the mapping has no entry for
    bounds: tuple[float, float, float, float] | None  # of all rows read


# --- shared helpers ---------------------------------------------------------------------------------


def _match(rules: Iterable[Rule], tags: Tags) -> Rule | None:
    for rule in rules:
        value = tags.get(rule.key)
        if value is None or rule.value not in ("*", value):
            continue
        if rule.also is None or tags.get(rule.also[0]) == rule.also[1]:
            return rule
    return None


def _first(tags: Tags, keys: Iterable[str]) -> str | None:
    return next((tags[k] for k in keys if k in tags), None)


def _lookup(layer: str, key: str, value: str | None, table: dict[str, str], unmapped: Counter[str]) -> str:
    """Map a tag value through ``table``; missing values are ``unknown``, unknown ones are counted too."""
    if value is None:
        return "unknown"
    if value not in table:
        unmapped[f"{layer} {key}={value}"] += 1
    return table.get(value, "unknown")


def _names(tags: Tags) -> Attributes:
    return {"name": tags.get("name"), "name_latin": _first(tags, NAME_LATIN_KEYS)}


def _number(
    layer: str, attribute: str, key: str, tags: Tags, parse: Callable[[str], float | None], unmapped: Counter[str]
) -> float | None:
    """The tag parsed into the attribute's range (width, floors); anything else is dropped and counted."""
    text = tags.get(key)
    if text is None:
        return None
    value = parse(text)
    spec = _CATALOGUE[layer].attribute(attribute)
    low = -math.inf if spec.minimum is None else spec.minimum
    high = math.inf if spec.maximum is None else spec.maximum
    if value is None or not low <= value <= high:
        unmapped[f"{layer} {key}={text}"] += 1
        return None
    return value


def _metres(text: str) -> float | None:
    match = _METRES.match(text)
    return float(match.group(1).replace(",", ".")) if match else None


def _whole(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


# --- readers: tags → attributes, or None when the object is not for the layer -----------------------


def _sidewalk_value(tags: Tags) -> str | None:
    """The plain sidewalk=* value, or one derived from sidewalk:both/left/right."""
    if "sidewalk" in tags:
        return tags["sidewalk"]
    if "sidewalk:both" in tags:
        return SIDEWALK_BOTH.get(tags["sidewalk:both"], tags["sidewalk:both"])
    sides = (tags.get("sidewalk:left"), tags.get("sidewalk:right"))
    if sides == ("yes", "yes"):
        return "both"
    if "yes" in sides:
        return "left"  # one side; which one does not matter here
    return "no" if sides == ("no", "no") else None


def _street(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    highway = tags.get("highway")
    if highway is None or highway in STREET_SKIP or tags.get("area") == "yes":
        return None
    if highway not in STREET_CLASS:
        unmapped[f"streets highway={highway}"] += 1
        return None
    street_class = STREET_CLASS[highway]
    if highway == "service":
        street_class = SERVICE_CLASS.get(tags.get("service", ""), street_class)
    return {
        **_names(tags),
        "street_class": street_class,
        "width_m": _number("streets", "width_m", "width", tags, _metres, unmapped),
        "surface": _lookup("streets", "surface", tags.get("surface"), SURFACE, unmapped),
        "lighting": _lookup("streets", "lit", tags.get("lit"), LIT, unmapped),
        "sidewalk": _lookup("streets", "sidewalk", _sidewalk_value(tags), SIDEWALK, unmapped),
    }


def _service_point(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    rule = _match(SERVICE_RULES, tags)
    if rule is None:
        key = next((k for k in SERVICE_KEYS if k in tags), None)
        if key is not None:
            unmapped[f"service_points {key}={tags[key]}"] += 1
        return None
    kind = tags[rule.key] if tags[rule.key] != "yes" else rule.key  # "dentist", "supermarket", "shop"
    return {
        **_names(tags),
        "category": rule.result,
        "provider": tags.get("operator"),
        "services": kind.replace("_", " "),
        "contact": _first(tags, CONTACT_KEYS),
        "opening_hours": tags.get("opening_hours"),
    }


def _building_use(tags: Tags, unmapped: Counter[str]) -> str:
    building = tags["building"]
    if building in BUILDING_LAND_USE:
        return BUILDING_LAND_USE[building]
    hint = _match(BUILDING_USE_HINTS, tags)
    if hint is not None:
        return hint.result
    if building != "yes" and building not in BUILDING_STATUS:
        unmapped[f"parcels building={building}"] += 1
    return "unknown"


def _parcel(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    if tags.get("building", "no") != "no":
        land_use = _building_use(tags, unmapped)
        status = BUILDING_STATUS.get(tags["building"], "unknown")
    elif tags.get("landuse") in LANDUSE_LAND_USE or tags.get("leisure") in LEISURE_LAND_USE:
        land_use = LANDUSE_LAND_USE.get(tags.get("landuse", "")) or LEISURE_LAND_USE[tags["leisure"]]
        status = "unknown"
    else:
        # brownfield and landfill are known: they are blighted plots, not parcels.
        if "landuse" in tags and _match(BLIGHT_RULES, {"landuse": tags["landuse"]}) is None:
            unmapped[f"parcels landuse={tags['landuse']}"] += 1
        return None
    street = tags.get("addr:street")
    return {
        "parcel_code": tags.get("ref"),
        "land_use": land_use,
        "tenure": "unknown",
        "building_status": status,
        "permit": "unknown",
        "floors": _number("parcels", "floors", "building:levels", tags, _whole, unmapped),
        "address": " ".join(filter(None, (street, tags.get("addr:housenumber")))) if street else None,
    }


def _blighted_plot(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    rule = _match(BLIGHT_RULES, tags)
    if rule is None:
        return None
    return {"kind": rule.result, "hazard_level": "medium", "status": "identified"}


def _workshop(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    rule = _match(WORKSHOP_RULES, tags)
    if rule is None:
        if "craft" in tags:
            unmapped[f"workshops craft={tags['craft']}"] += 1
        return None
    polluting = rule.result in POLLUTING_KINDS
    return {
        "name": tags.get("name"),
        "kind": rule.result,
        "polluting": polluting,
        "licence": "unknown",
        "status": "active",
    }


def _asset(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    rule = _match(ASSET_RULES, tags)
    return None if rule is None else {"kind": rule.result, "condition": "unknown"}


def _code(text: str) -> str:
    """KALLIO from "Kallio", ETELAINEN-SUURPIIRI from "Eteläinen suurpiiri"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-")[:40]


def _neighbourhood(tags: Tags, unmapped: Counter[str]) -> Attributes | None:
    if _match(NEIGHBOURHOOD_RULES, tags) is None:
        return None
    code = _code(tags.get("ref") or tags.get("name", ""))
    if not code or "name" not in tags:  # both are required by the layer
        unmapped["neighbourhoods name=missing"] += 1
        return None
    return {**_names(tags), "code": code, "city": _first(tags, CITY_KEYS)}


Reader = Callable[[Tags, Counter[str]], Attributes | None]

# Which readers see which OSM objects: nodes become points, ways lines, areas (closed ways and
# multipolygons) polygons, or a point on their surface for the point layers.
READERS: dict[str, dict[str, Reader]] = {
    "n": {"service_points": _service_point, "workshops": _workshop, "assets": _asset},
    "w": {"streets": _street},
    "a": {
        "service_points": _service_point,
        "workshops": _workshop,
        "parcels": _parcel,
        "blighted_plots": _blighted_plot,
        "neighbourhoods": _neighbourhood,
    },
}
LAYERS: tuple[str, ...] = tuple(dict.fromkeys(name for table in READERS.values() for name in table))

_CATALOGUE = core_catalogue()
OSM_TYPES = {"n": "node", "w": "way", "r": "relation"}


# --- geometry and rows ------------------------------------------------------------------------------


def _way_lines(way: osmium.osm.Way, wkb: osmium.geom.WKBFactory) -> shapely.Geometry | None:
    try:
        return shapely.MultiLineString([shapely.from_wkb(wkb.create_linestring(way))])
    except (osmium.InvalidLocationError, RuntimeError):
        pass
    # An extract clipped at its bounding box lacks the nodes outside it: keep the runs inside.
    runs: list[list[tuple[float, float]]] = [[]]
    for node in way.nodes:
        if not node.location.valid():
            runs.append([])
        elif not runs[-1] or runs[-1][-1] != (node.lon, node.lat):
            runs[-1].append((node.lon, node.lat))
    lines = [run for run in runs if len(run) >= 2]
    return shapely.MultiLineString(lines) if lines else None


def _shape(obj: osmium.osm.OSMObject, wkb: osmium.geom.WKBFactory) -> shapely.Geometry | None:
    kind = obj.type_str()
    if kind == "n":
        return shapely.from_wkb(wkb.create_point(obj)) if obj.location.valid() else None
    if kind == "w":
        return _way_lines(obj, wkb)
    try:
        return shapely.from_wkb(wkb.create_multipolygon(obj))
    except RuntimeError:
        return None


def _source_id(obj: osmium.osm.OSMObject) -> str:
    if obj.type_str() == "a":
        return f"{'way' if obj.from_way() else 'relation'}/{obj.orig_id()}"
    return f"{OSM_TYPES[obj.type_str()]}/{obj.id}"


def _fit(layer: str, shape: shapely.Geometry) -> shapely.Geometry:
    """Areas read into a point layer become a point inside them."""
    if _CATALOGUE[layer].geometry_type == "Point" and shape.geom_type != "Point":
        return shapely.point_on_surface(shape)
    return shape


def _finish(layer: str, attributes: Attributes) -> Attributes:
    """Drop empty values and cut texts to the catalogue's maximum length."""
    out = {}
    for name, value in attributes.items():
        if value is None or value == "":
            continue
        limit = _CATALOGUE[layer].attribute(name).max_length
        out[name] = value[:limit] if isinstance(value, str) and limit else value
    return out


def _rows(
    obj: osmium.osm.OSMObject, readers: dict[str, Reader], wkb: osmium.geom.WKBFactory, unmapped: Counter[str]
) -> list[SourceRow]:
    tags = dict(obj.tags)
    found = [(layer, attrs) for layer, read in readers.items() if (attrs := read(tags, unmapped)) is not None]
    if not found:
        return []
    shape = _shape(obj, wkb)
    if shape is None or shape.is_empty:
        unmapped.update(f"{layer} geometry=missing" for layer, _ in found)
        return []
    source_id = _source_id(obj)
    return [SourceRow(layer, source_id, _finish(layer, attrs), _fit(layer, shape)) for layer, attrs in found]


def _wanted(layers: Iterable[str] | None) -> tuple[str, ...]:
    wanted = LAYERS if layers is None else tuple(dict.fromkeys(layers))
    unknown = [name for name in wanted if name not in LAYERS]
    if unknown:
        raise ValueError(f"The OSM reader has no mapping for {', '.join(unknown)}; it reads {', '.join(LAYERS)}.")
    return wanted


def read_osm(path: str | Path, layers: Iterable[str] | None = None) -> OsmReadResult:
    """Read an OSM file (any format pyosmium reads) into rows for ``layers`` (default: all it maps)."""
    wanted = _wanted(layers)
    readers = {kind: {n: r for n, r in table.items() if n in wanted} for kind, table in READERS.items()}
    result = OsmReadResult(rows={name: [] for name in wanted}, unmapped=Counter(), bounds=None)
    wkb = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(osmium.filter.EmptyTagFilter())
    )
    for obj in processor:
        if readers.get(obj.type_str()):
            for row in _rows(obj, readers[obj.type_str()], wkb, result.unmapped):
                result.rows[row.layer].append(row)
    geometries = [row.geometry for rows in result.rows.values() for row in rows]
    if geometries:
        xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geometries))
        result.bounds = (xmin, ymin, xmax, ymax)
    return result
