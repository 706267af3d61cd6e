"""The OpenAPI 3.0 definition of the OGC API (``/ogc/api``), generated from the catalogue.

FastAPI's own document (``/openapi.json``) is OpenAPI 3.1, which the OGC test suite cannot read, and
it cannot describe per-collection query parameters; this one declares every path and parameter the
OGC API answers, with ``limit``'s bounds and ``bbox`` as a non-exploded form array.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import get_catalogue, get_settings
from api.ogc.collections import JSON_SCHEMA_TYPES
from api.ogc.media import GEOJSON, HTML, JSON, MERGE_PATCH, MVT, OPENAPI, base, wants_html
from core import i18n
from core.settings import Settings
from layers.catalogue import Catalogue
from layers.spec import Layer, text_in

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


def _components(settings: Settings) -> dict[str, Any]:
    return {
        "parameters": {
            "f": _param("f", "Response format", {"type": "string", "enum": ["json", "geojson", "html"]}),
            "limit": _param(
                "limit",
                "Features per page",
                {"type": "integer", "minimum": 1, "maximum": settings.max_items, "default": settings.default_items},
                style="form",
                explode=False,
            ),  # fmt: skip
            "offset": _param("offset", "Features to skip (paging)", {"type": "integer", "minimum": 0, "default": 0}),
            "bbox": _param(
                "bbox",
                "Bounding box: minx,miny,maxx,maxy (in bbox-crs; CRS84 by default)",
                {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                style="form",
                explode=False,
            ),  # fmt: skip
            "bbox-crs": _param("bbox-crs", "CRS of bbox (URI)", {"type": "string", "format": "uri"}),
            "crs": _param("crs", "CRS of the response geometries (URI)", {"type": "string", "format": "uri"}),
            "datetime": _param(
                "datetime",
                "Instant or interval (RFC 3339; '..' for open ends)",
                {"type": "string"},
                style="form",
                explode=False,
            ),  # fmt: skip
            "filter": _param("filter", "CQL2 filter expression", {"type": "string"}),
            "filter-lang": _param(
                "filter-lang",
                "Language of filter",
                {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
            ),
            "filter-crs": _param(
                "filter-crs", "CRS of geometries in filter (URI)", {"type": "string", "format": "uri"}
            ),
            "sortby": _param("sortby", "Sort keys: name or -name, comma-separated", {"type": "string"}),
            "as-of": _param(
                "as-of",
                "Read the collection as it was at this instant (Mahalle extension)",
                {"type": "string", "format": "date-time"},
            ),  # fmt: skip
            "lang": _param("lang", "Language of titles", {"type": "string", "enum": list(i18n.LANGUAGES)}),
            "collectionId": {"name": "collectionId", "in": "path", "required": True, "schema": {"type": "string"}},
            "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
            "If-Match": {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "ETag of the version being changed; a stale one gets 412",
            },  # fmt: skip
            "Content-Crs": {
                "name": "Content-Crs",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "CRS of the body's geometry, <URI>",
            },
        },
        "schemas": {
            "Problem": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            },  # fmt: skip
            "Feature": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object", "nullable": True},
                },
            },  # fmt: skip
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _ok(media: str, description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {}, HTML: {}}}, "400": _err("Bad request"),
            "404": _err("Not found")}  # fmt: skip


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": PROBLEM}


def _property_params(layer: Layer) -> list[dict[str, Any]]:
    return [
        _param(
            name,
            f"Features whose {name} equals this value",
            JSON_SCHEMA_TYPES.get(kind, {"type": "string"}) if kind != "choices" else {"type": "string"},
        )  # fmt: skip
        for name, kind in layer.property_types().items()
    ]


def _items_paths(layer: Layer) -> dict[str, Any]:
    query = [_ref(n) for n in ("f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter",
                               "filter-lang", "filter-crs", "sortby", "as-of", "lang")]  # fmt: skip
    body = {"required": True, "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}}}
    item_params = [_ref("featureId")]
    written = {"description": "Written", "headers": {"ETag": {"schema": {"type": "string"}}}}
    failed = {"412": _err("Changed by someone else since the ETag"), "413": _err("Body too large"),
              "415": _err("Wrong media type"), "422": _err("Breaks a rule of the layer")}  # fmt: skip
    title = text_in(layer.title, "en")
    return {
        f"/collections/{layer.name}/items": {
            "get": {"summary": f"{title}: features", "operationId": f"getFeatures_{layer.name}",
                    "parameters": [*query, *_property_params(layer)], "responses": _ok(GEOJSON)},
            "post": {"summary": f"{title}: add a feature", "operationId": f"createFeature_{layer.name}",
                     "parameters": [_ref("Content-Crs")], "requestBody": body,
                     "responses": {"201": {"description": "Created", "headers": {"Location": {"schema": {
                         "type": "string"}}}}, "400": _err("Bad request"), **failed}},
            "options": {"summary": "Allowed methods", "operationId": f"optionsFeatures_{layer.name}",
                        "responses": {"200": {"description": "Allow header"}}},
        },
        f"/collections/{layer.name}/items/{{featureId}}": {
            "get": {"summary": f"{title}: one feature", "operationId": f"getFeature_{layer.name}",
                    "parameters": [*item_params, _ref("f"), _ref("crs"), _ref("lang")], "responses": _ok(GEOJSON)},
            "put": {"summary": f"{title}: replace", "operationId": f"replaceFeature_{layer.name}",
                    "parameters": [*item_params, _ref("If-Match"), _ref("Content-Crs")], "requestBody": body,
                    "responses": {"200": written, "404": _err("Not found"), **failed}},
            "patch": {"summary": f"{title}: update (JSON merge patch)", "operationId": f"updateFeature_{layer.name}",
                      "parameters": [*item_params, _ref("If-Match"), _ref("Content-Crs")],
                      "requestBody": {"required": True, "content": {MERGE_PATCH: {"schema": {"type": "object"}}}},
                      "responses": {"200": written, "404": _err("Not found"), **failed}},
            "delete": {"summary": f"{title}: delete", "operationId": f"deleteFeature_{layer.name}",
                       "parameters": [*item_params, _ref("If-Match")],
                       "responses": {"204": {"description": "Deleted"}, "404": _err("Not found"),
                                     "412": failed["412"]}},
            "options": {"summary": "Allowed methods", "operationId": f"optionsFeature_{layer.name}",
                        "parameters": item_params, "responses": {"200": {"description": "Allow header"}}},
        },
    }  # fmt: skip


def document(request: Request, catalogue: Catalogue, settings: Settings) -> dict[str, Any]:
    cid = [_ref("collectionId")]
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [_ref("f")],
                      "responses": _ok(JSON)}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "parameters": [_ref("f")], "responses": _ok(JSON)}},
        "/api": {"get": {"summary": "This document", "operationId": "getApi",
                         "responses": {"200": {"description": "OK", "content": {OPENAPI: {}}}}}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "parameters": [_ref("f"), _ref("lang")], "responses": _ok(JSON)}},
        "/collections/{collectionId}": {"get": {"summary": "A collection", "operationId": "describeCollection",
                                                "parameters": [*cid, _ref("f"), _ref("lang")],
                                                "responses": _ok(JSON)}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "Queryables", "operationId": "getQueryables", "parameters": [*cid, _ref("f")],
            "responses": _ok("application/schema+json")}},
        "/collections/{collectionId}/schema": {"get": {
            "summary": "Schema of the features (Part 5)", "operationId": "getSchema",
            "parameters": [*cid, _ref("f"), _ref("lang")], "responses": _ok("application/schema+json")}},
        "/collections/{collectionId}/schema/geojson": {"get": {
            "summary": "JSON Schema of the GeoJSON features", "operationId": "getGeoJSONSchema",
            "parameters": [*cid, _ref("f"), _ref("lang")], "responses": _ok("application/schema+json")}},
        "/tileMatrixSets": {"get": {"summary": "Tiling schemes", "operationId": "getTileMatrixSets",
                                    "responses": _ok(JSON)}},
        "/tileMatrixSets/{tileMatrixSetId}": {"get": {
            "summary": "A tiling scheme", "operationId": "getTileMatrixSet",
            "parameters": [{"name": "tileMatrixSetId", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["WebMercatorQuad"]}}], "responses": _ok(JSON)}},
        "/collections/{collectionId}/tiles": {"get": {"summary": "Vector tilesets", "operationId": "getTilesets",
                                                      "parameters": cid, "responses": _ok(JSON)}},
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {"get": {
            "summary": "A vector tile", "operationId": "getTile",
            "parameters": [*cid, *({"name": n, "in": "path", "required": True, "schema": {"type": t}}
                                   for n, t in (("tileMatrixSetId", "string"), ("tileMatrix", "integer"),
                                                ("tileRow", "integer"), ("tileCol", "integer")))],
            "responses": {"200": {"description": "Tile", "content": {MVT: {}}},
                          "204": {"description": "No feature in this tile"}, "404": _err("Outside the grid")}}},
    }  # fmt: skip
    for layer in catalogue.spatial():
        paths.update(_items_paths(layer))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Mahalle OGC API", "version": "0.1.0",
                 "description": "OGC API – Features (parts 1–4) and Tiles over the Mahalle layers."},
        "servers": [{"url": base(request)}],
        "paths": paths,
        "components": _components(settings),
    }  # fmt: skip


@router.get("/api", summary="OpenAPI 3.0 definition of the OGC API")
def api_document(request: Request, catalogue: Annotated[Catalogue, Depends(get_catalogue)],
                 settings: Annotated[Settings, Depends(get_settings)]) -> Response:  # fmt: skip
    if wants_html(request):
        return HTMLResponse('<!doctype html><meta http-equiv="refresh" content="0; url=/docs">'
                            '<a href="/docs">API documentation</a>')  # fmt: skip
    return JSONResponse(document(request, catalogue, settings), media_type=OPENAPI)
