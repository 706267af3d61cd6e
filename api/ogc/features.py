"""OGC API – Features routes: landing page, conformance, collections, items and item, reads and writes.

Handlers are thin: they parse and check the request, call ``gis.features`` (reads) or ``layers.edit``
(writes inside an attributed transaction) and shape the response.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import permit, principal_of
from api.deps import IfMatch, etag, get_actor, get_catalogue, get_conn, get_crs, get_settings, json_body
from api.ogc import collections as coll
from api.ogc.media import GEOJSON, HTML, JSON, MERGE_PATCH, OPENAPI, base, link, self_and_alternates, wants_html
from api.ogc.params import item_query
from api.schemas import request_body
from api.schemas.geojson import FeatureIn, FeaturePatch
from core.crs import STORAGE, ApiCRS, parse_crs
from core.db import attributed
from core.errors import MahalleError, NotFound
from core.settings import Settings
from gis.features import current_version, get_item, query_items
from layers import edit
from layers.catalogue import Catalogue
from layers.spec import Layer, text_in
from web.templates import render

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
Crs = Annotated[tuple[str, ...], Depends(get_crs)]  # the CRS URIs offered
# Who may do what (api/auth.py); which features a user sees and may change is row-level security's business.
READ_ANY = [Depends(permit("read"))]
READ = [Depends(permit("read", layer_param="cid"))]
CREATE = [Depends(permit("create", layer_param="cid"))]
EDIT = [Depends(permit("edit", layer_param="cid"))]
DELETE = [Depends(permit("delete", layer_param="cid"))]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",  # api/ogc/schema.py
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/core-roles-features",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/returnables-and-receivables",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
WRITE_METHODS = "GET, PUT, PATCH, DELETE, OPTIONS"


def readable(request: Request, catalogue: Catalogue) -> list[Layer]:
    """The spatial layers the request may read: every one for a user (row-level security narrows their
    features), the public ones for an anonymous client."""
    anonymous = not principal_of(request).authenticated
    return [layer for layer in catalogue.spatial() if not anonymous or layer.name in catalogue.public]


def spatial_layer(catalogue: Catalogue, cid: str) -> Layer:
    if cid not in catalogue or not catalogue[cid].has_geometry:
        raise NotFound(f"There is no collection named {cid!r}.")
    return catalogue[cid]


def page(request: Request, title: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(render("ogc.html", title=title, base=base(request), **context))


def json_or_html(request: Request, body: dict[str, Any], title: str, media: str = JSON, **html: Any) -> Response:
    if wants_html(request):
        return page(request, title, links=body.get("links", []), document=body, **html)
    return JSONResponse(body, media_type=media)


@router.get("", summary="Landing page")
def landing(request: Request) -> Response:
    root = base(request)
    body = {
        "title": "Mahalle",
        "description": "Neighbourhood regeneration layers: parcels, streets, derelict plots, workshops, "
        "service points, street assets, interventions and field observations.",
        "links": [
            *self_and_alternates(request, "", JSON),
            link(f"{root}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{root}/api?f=html", "service-doc", HTML, "The API documentation"),
            link(f"{root}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{root}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON),
            link(f"{root}/collections", "data", JSON, "Collections"),
            link(f"{root}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON),
            link(
                f"{root}/tileMatrixSets",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                JSON,
                "Tile matrix sets",
            ),  # fmt: skip
        ],
    }
    return json_or_html(request, body, "Mahalle OGC API")


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request) -> Response:
    body = {"conformsTo": CONFORMANCE, "links": self_and_alternates(request, "/conformance", JSON)}
    return json_or_html(request, body, "Conformance")


@router.get("/collections", dependencies=READ_ANY, summary="The collections (one per spatial layer)")
def collections(request: Request, conn: Conn, catalogue: Cat, crs: Crs) -> Response:
    body = {
        "links": self_and_alternates(request, "/collections", JSON),
        "collections": [coll.describe(request, conn, layer, crs) for layer in readable(request, catalogue)],
        "crs": list(crs),
    }
    return json_or_html(request, body, "Collections", collections=body["collections"])


@router.get("/collections/{cid}", dependencies=READ, summary="One collection")
def collection(cid: str, request: Request, conn: Conn, catalogue: Cat, crs: Crs) -> Response:
    layer = spatial_layer(catalogue, cid)
    body = coll.describe(request, conn, layer, crs)
    if wants_html(request):
        return page(request, body["title"], links=body["links"], document=body, collections=[body])
    return JSONResponse(body)


@router.get(
    "/collections/{cid}/queryables",
    dependencies=READ,
    summary="Queryable properties (JSON Schema)",
)
def queryables(cid: str, request: Request, catalogue: Cat) -> Response:
    body = coll.queryables(request, spatial_layer(catalogue, cid))
    if wants_html(request):
        return page(request, f"Queryables of {cid}", document=body)
    return JSONResponse(body, media_type="application/schema+json")


@router.options(
    "/collections/{cid}/items",
    dependencies=READ,
    summary="What may be done with the items",
)
def items_options(cid: str, catalogue: Cat) -> Response:
    spatial_layer(catalogue, cid)
    return Response(status_code=200, headers={"Allow": "GET, POST, OPTIONS"})


@router.get(
    "/collections/{cid}/items",
    dependencies=READ,
    summary="Features of a collection",
)
def items(cid: str, request: Request, conn: Conn, catalogue: Cat, crs: Crs,
          settings: Annotated[Settings, Depends(get_settings)]) -> Response:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    html = wants_html(request, ("geojson", "json"))
    q = item_query(layer, request.query_params, crs, settings.default_items, settings.max_items)
    features, matched, returned = query_items(conn, q)
    links = _item_links(request, cid, q.offset, q.limit, returned, matched)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    headers = {"Content-Crs": f"<{q.crs.uri}>"}
    if html:
        rows = json.loads(f"[{features}]")
        title = text_in(layer.title, coll.language(request))
        return page(request, f"{title}: features", links=links, features=rows, layer=layer, matched=matched)
    envelope = json.dumps({"numberMatched": matched, "numberReturned": returned, "timeStamp": stamp, "links": links})
    body = f'{{"type":"FeatureCollection","features":[{features}],{envelope[1:]}'
    return Response(body, media_type=GEOJSON, headers=headers)


def _item_links(request: Request, cid: str, offset: int, limit: int, returned: int, matched: int) -> list[dict]:
    path = f"/collections/{cid}/items"
    links = [*self_and_alternates(request, path, GEOJSON, "geojson"),
             link(f"{base(request)}/collections/{cid}", "collection", JSON, "The collection")]  # fmt: skip
    params = {k: v for k, v in request.query_params.items() if k not in ("offset",)}
    params.setdefault("f", "html" if wants_html(request, ("geojson", "json")) else "geojson")
    kind = HTML if params["f"] == "html" else GEOJSON
    if offset + returned < matched:
        href = f"{base(request)}{path}?{urlencode({**params, 'offset': offset + limit})}"
        links.append(link(href, "next", kind, "Next page"))
    if offset > 0:
        href = f"{base(request)}{path}?{urlencode({**params, 'offset': max(offset - limit, 0)})}"
        links.append(link(href, "prev", kind, "Previous page"))
    return links


@router.options(
    "/collections/{cid}/items/{fid}",
    dependencies=READ,
    summary="What may be done with a feature",
)
def item_options(cid: str, fid: str, conn: Conn, catalogue: Cat) -> Response:
    layer = spatial_layer(catalogue, cid)
    if current_version(conn, layer, _feature_id(layer, fid)) is None:
        raise NotFound(f"{cid} has no feature {fid}.")
    return Response(status_code=200, headers={"Allow": WRITE_METHODS})


@router.get("/collections/{cid}/items/{fid}", dependencies=READ, summary="One feature")
def item(cid: str, fid: str, request: Request, conn: Conn, catalogue: Cat, offered: Crs) -> Response:
    layer = spatial_layer(catalogue, cid)
    html = wants_html(request, ("geojson", "json"))
    crs = parse_crs(request.query_params.get("crs"), offered)
    unknown = set(request.query_params) - {"f", "crs", "lang"}
    if unknown:
        raise MahalleError(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    feature, version = get_item(conn, layer, _feature_id(layer, fid), crs)
    headers = {"ETag": etag(version), "Content-Crs": f"<{crs.uri}>"}
    root = f"{base(request)}/collections/{cid}"
    links = [*self_and_alternates(request, f"/collections/{cid}/items/{fid}", GEOJSON, "geojson"),
             link(root, "collection", JSON, "The collection")]  # fmt: skip
    if html:
        return page(request, f"{cid} {fid}", links=links, features=[json.loads(feature)], layer=layer,
                    headers=headers)  # fmt: skip
    return Response(f'{feature[:-1]},"links":{json.dumps(links)}}}', media_type=GEOJSON, headers=headers)


def _feature_id(layer: Layer, fid: str) -> int:
    if not (fid.isascii() and fid.isdigit()) or len(fid) > 18:  # "²".isdigit() is true, int("²") fails
        raise NotFound(f"{layer.name} has no feature {fid!r}.")
    return int(fid)


def content_crs(request: Request, offered: tuple[str, ...]) -> ApiCRS:
    header = request.headers.get("content-crs")
    return parse_crs(header.strip("<> "), offered) if header else STORAGE


Actor = Annotated[str, Depends(get_actor)]
FeatureBody = Annotated[Any, Depends(json_body(GEOJSON, JSON))]
PatchBody = Annotated[Any, Depends(json_body(MERGE_PATCH, JSON, GEOJSON))]


@router.post(
    "/collections/{cid}/items",
    dependencies=CREATE,
    status_code=201,
    summary="Add a feature",
    openapi_extra=request_body(FeatureIn, GEOJSON, JSON),
)
def create_item(cid: str, body: FeatureBody, request: Request, conn: Conn, catalogue: Cat, actor: Actor,
                offered: Crs) -> Response:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    data = edit.parse_feature(layer, body)
    crs = content_crs(request, offered)
    with attributed(conn, actor):
        fid, version, created = edit.create(conn, layer, data, crs)
    feature, _ = get_item(conn, layer, fid)
    location = f"{base(request)}/collections/{cid}/items/{fid}"
    headers = {"Location": location, "ETag": etag(version), "Content-Crs": f"<{STORAGE.uri}>"}
    return Response(feature, status_code=201 if created else 200, media_type=GEOJSON, headers=headers)


@router.put(
    "/collections/{cid}/items/{fid}",
    dependencies=EDIT,
    summary="Replace a feature",
    openapi_extra=request_body(FeatureIn, GEOJSON, JSON),
)
def replace_item(cid: str, fid: str, body: FeatureBody, request: Request, conn: Conn, catalogue: Cat, actor: Actor,
                 offered: Crs, expected: IfMatch) -> Response:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    feature_id = _feature_id(layer, fid)
    if isinstance(body, dict) and body.get("id") is not None and str(body["id"]) != fid:
        raise MahalleError(f"the body is feature {body['id']!r} but the URL names feature {fid}")
    data = edit.parse_feature(layer, body)
    return _write(conn, layer, feature_id, data, expected, content_crs(request, offered), actor, whole=True)


@router.patch(
    "/collections/{cid}/items/{fid}",
    dependencies=EDIT,
    summary="Change some properties of a feature (JSON merge patch)",
    openapi_extra=request_body(FeaturePatch, MERGE_PATCH, JSON, GEOJSON),
)
def patch_item(cid: str, fid: str, body: PatchBody, request: Request, conn: Conn, catalogue: Cat, actor: Actor,
               offered: Crs, expected: IfMatch) -> Response:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    feature_id = _feature_id(layer, fid)
    if isinstance(body, dict) and "id" in body and str(body["id"]) != fid:
        raise MahalleError("the id of a feature cannot be changed")
    data = edit.parse_feature(layer, body, patch=True)
    return _write(conn, layer, feature_id, data, expected, content_crs(request, offered), actor, whole=False)


def _write(conn: psycopg.Connection, layer: Layer, fid: int, data: edit.FeatureInput, expected: int | str | None,
           crs: ApiCRS, actor: str, *, whole: bool) -> Response:  # fmt: skip
    """A PUT (``whole``) or PATCH answered with the feature as written: the write and the read of the feature in two
    round trips (``edit.write_and_read``), the body the version its ETag names."""
    version, got = edit.write_and_read(
        conn, actor, layer, fid, data, expected, crs, lambda: get_item(conn, layer, fid), whole=whole
    )
    feature = got[0] if got is not None else get_item(conn, layer, fid)[0]  # unreadable: NotFound, as before
    return Response(feature, media_type=GEOJSON, headers={"ETag": etag(version)})


@router.delete(
    "/collections/{cid}/items/{fid}",
    dependencies=DELETE,
    status_code=204,
    summary="Delete a feature",
)
def delete_item(cid: str, fid: str, conn: Conn, catalogue: Cat, actor: Actor, expected: IfMatch) -> Response:
    layer = spatial_layer(catalogue, cid)
    feature_id = _feature_id(layer, fid)
    with attributed(conn, actor):
        edit.delete(conn, layer, feature_id, expected)
    return Response(status_code=204)
