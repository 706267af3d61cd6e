"""The schema of a collection's features, for clients that type their fields from it.

Two documents, both built from the layer catalogue (never a hand-written attribute list):

- ``/collections/{id}/schema``: OGC API – Features Part 5 (Schemas), the logical schema of a feature, one flat
  object whose properties carry ``x-ogc-role`` (id, primary-geometry, primary-instant, reference),
  ``x-ogc-propertySeq``, ``readOnly`` for what the database maintains, ``enum`` for value lists, and the
  catalogue's bounds. Linked with the Part 5 rel ``…/rel/ogc/1.0/schema`` (QGIS reads it).
- ``/collections/{id}/schema/geojson``: the same properties as a JSON Schema of the GeoJSON Feature the items
  return (``properties`` nested), linked with ``rel=describedBy``. GDAL's OAPIF driver reads that link (3.6 matches
  the rel case-sensitively in that spelling, 3.12 in any case; RFC 8288 rels ignore case) and types its fields from
  the ``properties`` member of the described object; without it GDAL guesses from the first page, so an attribute
  that is null there becomes a String and a whole-valued cost an Integer (tests/api/ogc/test_schema.py).

Both use one ``type`` per property: GDAL reads nothing else. A property outside ``required`` may also be null.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.ogc import collections as coll
from api.ogc.features import READ, Cat, page, spatial_layer
from api.ogc.media import base, wants_html
from layers.spec import WRITABLE_SYSTEM, Attribute, Layer, text_in

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _constraints(attr: Attribute, lang: str) -> dict[str, Any]:
    """What the catalogue says about an attribute's values beyond its type."""
    out: dict[str, Any] = {}
    if attr.help:
        out["description"] = text_in(attr.help, lang)
    if attr.max_length is not None:
        out["maxLength"] = attr.max_length
    if attr.minimum is not None:
        out["minimum"] = attr.minimum
    if attr.maximum is not None:
        out["maximum"] = attr.maximum
    if attr.default is not None:
        out["default"] = attr.default
    if attr.unit:
        out["x-ogc-unit"] = attr.unit
    if attr.type == "reference":
        out["x-ogc-role"] = "reference"
        out["x-ogc-collectionId"] = attr.references
    return out


def _attribute_schemas(layer: Layer, lang: str) -> dict[str, dict[str, Any]]:
    """Every property of a feature but the id and the geometry, in the order the catalogue gives them."""
    attributes = {a.name: a for a in layer.attributes}
    props: dict[str, dict[str, Any]] = {}
    for name, kind in layer.property_types().items():
        schema = coll.property_schema(layer, name, kind, lang)
        if name in attributes:
            schema.pop("x-unit", None)  # the queryables' name for it; Part 5 says x-ogc-unit
            schema.update(_constraints(attributes[name], lang))
        elif name not in WRITABLE_SYSTEM:
            schema["readOnly"] = True  # the database maintains it (version, created_at, area_m2, …)
        if name == "uid":
            schema["format"] = "uuid"
        if name == "neighbourhood_id":
            schema.update({"x-ogc-role": "reference", "x-ogc-collectionId": "neighbourhoods"})
        if name == layer.time_column:
            schema["x-ogc-role"] = "primary-instant"
        props[name] = schema
    return props


def _required(layer: Layer) -> list[str]:
    return [a.name for a in layer.attributes if a.required]


def feature_schema(request: Request, layer: Layer) -> dict[str, Any]:
    """Part 5: the logical schema of a feature (its returnables and receivables)."""
    lang = coll.language(request)
    props: dict[str, dict[str, Any]] = {
        "id": {"type": "integer", "title": "Feature id", "x-ogc-role": "id", "readOnly": True}
    }
    if layer.has_geometry:
        props["geometry"] = {"format": coll.GEOMETRY_FORMATS[layer.geometry_type], "x-ogc-role": "primary-geometry"}
    props.update(_attribute_schemas(layer, lang))
    for seq, schema in enumerate(props.values(), start=1):
        schema["x-ogc-propertySeq"] = seq
    required = _required(layer) + (["geometry"] if layer.has_geometry and layer.geometry_required else [])
    return {
        "$schema": DRAFT,
        "$id": f"{base(request)}/collections/{layer.name}/schema",
        "type": "object",
        "title": text_in(layer.title, lang),
        "description": text_in(layer.description, lang),
        "properties": props,
        "required": required,
    }


def geojson_schema(request: Request, layer: Layer) -> dict[str, Any]:
    """The GeoJSON Feature the items return, with the catalogue's properties (GDAL's ``describedby``)."""
    lang = coll.language(request)
    geometry: dict[str, Any] = {
        "type": "object" if layer.geometry_required else ["object", "null"],
        "format": coll.GEOMETRY_FORMATS[layer.geometry_type or "Geometry"],
    }
    return {
        "$schema": DRAFT,
        "$id": f"{base(request)}/collections/{layer.name}/schema/geojson",
        "title": text_in(layer.title, lang),
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": geometry,
            "properties": {
                "type": "object",
                "properties": _attribute_schemas(layer, lang),
                "required": _required(layer),
            },
        },
    }


def _answer(request: Request, body: dict[str, Any], title: str) -> Response:
    if wants_html(request):
        return page(request, title, document=body)
    return JSONResponse(body, media_type=coll.SCHEMA_JSON)


@router.get("/collections/{cid}/schema", dependencies=READ, summary="Schema of the features (Part 5)")
def schema(cid: str, request: Request, catalogue: Cat) -> Response:
    return _answer(request, feature_schema(request, spatial_layer(catalogue, cid)), f"Schema of {cid}")


@router.get("/collections/{cid}/schema/geojson", dependencies=READ, summary="JSON Schema of the GeoJSON features")
def schema_geojson(cid: str, request: Request, catalogue: Cat) -> Response:
    return _answer(request, geojson_schema(request, spatial_layer(catalogue, cid)), f"GeoJSON schema of {cid}")
