"""How a layer is described as an OGC collection and its queryables (one function each, used everywhere)."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import Request

from api.ogc.media import GEOJSON, HTML, JSON, base, link
from core.crs import CRS84
from gis.features import spatial_extent, temporal_extent
from layers.spec import LANGUAGES, Layer, text_in

WORLD = [-180.0, -90.0, 180.0, 90.0]
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
SCHEMA_JSON = "application/schema+json"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
JSON_SCHEMA_TYPES = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "reference": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "choice": {"type": "string"},
    "choices": {"type": "array", "items": {"type": "string"}},
}
GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "MultiPoint": "geometry-multipoint",
    "MultiLineString": "geometry-multilinestring",
    "MultiPolygon": "geometry-multipolygon",
    "Geometry": "geometry-any",
}


def language(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.headers.get("accept-language", "en")[:2]
    return wanted if wanted in LANGUAGES else "en"


def describe(request: Request, conn: psycopg.Connection, layer: Layer, crs: tuple[str, ...]) -> dict[str, Any]:
    """The collection document; /collections lists exactly these objects."""
    root = f"{base(request)}/collections/{layer.name}"
    lang = language(request)
    return {
        "id": layer.name,
        "title": text_in(layer.title, lang),
        "description": text_in(layer.description, lang),
        "itemType": "feature",
        "extent": {
            "spatial": {"bbox": [spatial_extent(conn, layer) or WORLD], "crs": CRS84},
            "temporal": {"interval": [temporal_extent(conn, layer)], "trs": GREGORIAN},
        },
        "crs": list(crs),
        "storageCrs": CRS84,
        "links": [
            link(f"{root}?f=json", "self", JSON, "This collection"),
            link(f"{root}?f=html", "alternate", HTML, "This collection as HTML"),
            link(f"{root}/items?f=geojson", "items", GEOJSON, "Features as GeoJSON"),
            link(f"{root}/items?f=html", "items", HTML, "Features as HTML"),
            link(
                f"{root}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "Queryable properties",
            ),  # fmt: skip
            link(f"{root}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "Vector tiles"),
            # api/ogc/schema.py: Part 5 for QGIS and the standard; a GeoJSON Feature schema for GDAL, whose 3.6 wants
            # this exact spelling of the (case-insensitive) rel
            link(f"{root}/schema", SCHEMA_REL, SCHEMA_JSON, "Schema of the features (OGC API – Features Part 5)"),
            link(f"{root}/schema/geojson", "describedBy", SCHEMA_JSON, "JSON Schema of the GeoJSON features"),
        ],
    }


def property_schema(layer: Layer, name: str, kind: str, lang: str) -> dict[str, Any]:
    """One property's JSON Schema from the catalogue: type, title in ``lang``, value list, unit. The queryables
    and the feature schemas (api/ogc/schema.py) both start from it."""
    schema: dict[str, Any] = {**JSON_SCHEMA_TYPES[kind]}
    if kind == "choices":
        schema["items"] = {**schema["items"]}  # never share the nested dict of the constant
    attr = next((a for a in layer.attributes if a.name == name), None)
    schema["title"] = text_in(attr.label, lang) if attr else name.replace("_", " ")
    if attr and attr.type == "choice":
        schema["enum"] = list(attr.values)
    if attr and attr.type == "choices":
        schema["items"]["enum"] = list(attr.values)
    if attr and attr.unit:
        schema["x-unit"] = attr.unit
    return schema


def queryables(request: Request, layer: Layer) -> dict[str, Any]:
    """JSON Schema of what ``filter``, ``sortby`` and property equality accept, from the catalogue."""
    lang = language(request)
    props: dict[str, Any] = {
        "id": {"type": "integer", "title": "Feature id"},
    }
    if layer.has_geometry:
        props["geometry"] = {"format": GEOMETRY_FORMATS[layer.geometry_type], "x-ogc-role": "primary-geometry"}
    for name, kind in layer.property_types().items():
        props[name] = property_schema(layer, name, kind, lang)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base(request)}/collections/{layer.name}/queryables",
        "type": "object",
        "title": text_in(layer.title, lang),
        "properties": props,
        "additionalProperties": False,
    }
