"""OGC API – Tiles: vector tilesets for every spatial collection on WebMercatorQuad, plus TileJSON."""

from __future__ import annotations

from typing import Annotated, Any

import morecantile
import psycopg
from fastapi import APIRouter, Depends, Request, Response

from api.auth import permit
from api.deps import get_catalogue, get_conn, get_crs, get_settings
from api.ogc.collections import describe
from api.ogc.features import spatial_layer
from api.ogc.media import JSON, MVT, base, link
from core.errors import MahalleError, NotFound
from core.settings import Settings
from gis import tile_cache
from gis.tiles import MAX_ZOOM, TILE_BUDGET, over_budget, tile, tile_attributes, tile_variant
from layers.catalogue import Catalogue
from layers.spec import Layer, text_in

router = APIRouter(prefix="/ogc", tags=["OGC API – Tiles"])
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
READ = [Depends(permit("read", layer_param="cid"))]  # row-level security decides which features a tile holds
TMS_ID = "WebMercatorQuad"
TMS = morecantile.tms.get(TMS_ID)
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


@router.get("/tileMatrixSets", summary="Tiling schemes")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    href = f"{base(request)}/tileMatrixSets/{TMS_ID}"
    return {"tileMatrixSets": [{"id": TMS_ID, "title": "Google Maps compatible (Web Mercator)", "uri": TMS_URI,
                                "links": [link(href, "self", JSON, TMS_ID)]}]}  # fmt: skip


@router.get("/tileMatrixSets/{tms}", summary="A tiling scheme")
def tile_matrix_set(tms: str) -> Response:
    if tms != TMS_ID:
        raise NotFound(f"There is no tile matrix set {tms!r}; this server offers {TMS_ID}.")
    return Response(TMS.model_dump_json(exclude_none=True, by_alias=True), media_type=JSON)


def _tileset(request: Request, cid: str, title: str) -> dict[str, Any]:
    root = f"{base(request)}/collections/{cid}/tiles/{TMS_ID}"
    return {
        "title": title,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(root, "self", JSON, f"{title} tileset"),
            link(
                f"{base(request)}/tileMatrixSets/{TMS_ID}",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                JSON,
                TMS_ID,
            ),  # fmt: skip
            link(f"{root}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", "item", MVT, "Tiles", templated=True),
            link(f"{root}/tilejson.json", "describedby", JSON, "TileJSON"),
        ],
    }


@router.get(
    "/collections/{cid}/tiles",
    dependencies=READ,
    summary="Vector tilesets of a collection",
)
def tilesets(cid: str, request: Request, catalogue: Cat) -> dict[str, Any]:
    layer = spatial_layer(catalogue, cid)
    return {"tilesets": [_tileset(request, cid, text_in(layer.title, "en"))],
            "links": [link(f"{base(request)}/collections/{cid}/tiles", "self", JSON)]}  # fmt: skip


@router.get(
    "/collections/{cid}/tiles/{tms}",
    dependencies=READ,
    summary="A vector tileset",
)
def tileset(cid: str, tms: str, request: Request, catalogue: Cat) -> dict[str, Any]:
    layer = spatial_layer(catalogue, cid)
    _check_tms(tms)
    return _tileset(request, cid, text_in(layer.title, "en"))


@router.get(
    "/collections/{cid}/tiles/{tms}/tilejson.json",
    dependencies=READ,
    summary="TileJSON for web maps",
)
def tilejson(cid: str, tms: str, request: Request, conn: Conn, catalogue: Cat,
             crs: Annotated[tuple[str, ...], Depends(get_crs)]) -> dict[str, Any]:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    _check_tms(tms)
    bbox = describe(request, conn, layer, crs)["extent"]["spatial"]["bbox"][0]
    fields = {n: layer.attribute(n).type for n in tile_attributes(layer, MAX_ZOOM)}
    return {
        "tilejson": "3.0.0",
        "name": layer.name,
        "tiles": [f"{base(request)}/collections/{cid}/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bbox,
        "vector_layers": [
            {
                "id": layer.name,
                "fields": fields,
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
            }
        ],  # fmt: skip
    }


def _check_tms(tms: str) -> None:
    if tms != TMS_ID:
        raise NotFound(f"There is no tile matrix set {tms!r}; this server offers {TMS_ID}.")


@router.get("/collections/{cid}/tiles/{tms}/{z}/{y}/{x}", dependencies=READ, summary="A Mapbox Vector Tile",
            responses={200: {"content": {MVT: {}}}, 204: {"description": "No feature in this tile"}})  # fmt: skip
def get_tile(cid: str, tms: str, z: int, y: int, x: int, request: Request, conn: Conn, catalogue: Cat,
             settings: Annotated[Settings, Depends(get_settings)]) -> Response:  # fmt: skip
    layer = spatial_layer(catalogue, cid)
    _check_tms(tms)
    if not 0 <= z <= MAX_ZOOM:
        raise MahalleError(f"zoom (tileMatrix) must be 0 to {MAX_ZOOM}, not {z}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"tile {z}/{y}/{x} lies outside the grid")
    data, truncated, etag, cached = _cached_tile(conn, layer, z, x, y, settings)
    headers = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
    if cached is not None:
        headers["X-Tile-Cache"] = cached
    if truncated:
        headers["Mahalle-Tile-Truncated"] = str(settings.max_tile_features)
        headers["Warning"] = f'199 mahalle "tile cut at {settings.max_tile_features} features; zoom in"'
    if over_budget(data):  # every feature is kept (detail zoom), but the tile is heavy to load: zoom in
        headers["Mahalle-Tile-Over-Budget"] = str(len(data))
        headers.setdefault("Warning", f'199 mahalle "tile of {len(data)} bytes, over its {TILE_BUDGET}; zoom in"')
    headers["Access-Control-Expose-Headers"] = "Mahalle-Tile-Truncated, Mahalle-Tile-Over-Budget, X-Tile-Cache"
    if not data:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


def _cached_tile(conn: psycopg.Connection, layer: Layer, z: int, x: int, y: int,
                 settings: Settings) -> tuple[bytes, bool, str, str | None]:  # fmt: skip
    """(bytes, truncated, ETag, "hit"/"miss" or None without a cache). The tile takes no parameter but its
    address, so every request of it may share the reader's scope's kept copy; a parameter that changed the tile
    would have to join the key (tile_variant) or bypass the cache."""
    limit = settings.max_tile_features
    if settings.tile_cache_mb <= 0:
        data, truncated = tile(conn, layer, z, x, y, limit)
        return data, truncated, tile_cache.etag_of(data) or "", None
    variant = tile_variant(layer, z, limit)
    found = tile_cache.lookup(conn, layer.name, z, x, y, variant)
    if found.hit:
        return found.data, found.truncated, found.etag or "", "hit"
    data, truncated = tile(conn, layer, z, x, y, limit)
    tile_cache.keep(conn, layer.name, z, x, y, variant, found.epoch, data, truncated, settings.tile_cache_mb)
    return data, truncated, tile_cache.etag_of(data) or "", "miss"
