"""``/layers``: the layer catalogue as JSON, and custom layer creation."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.auth import permit
from api.deps import get_actor, get_catalogue, get_conn, metadata
from api.schemas.planning import AnyNeighbourhood
from core.db import attributed
from layers import history, planning
from layers.catalogue import Catalogue
from layers.counts import feature_counts
from layers.custom import create_custom_layer, drop_custom_layer, layer_from_definition
from layers.definition import LayerDefinition
from layers.spec import NAME_RE

router = APIRouter(tags=["layers"])


@router.get(
    "/layers",
    dependencies=[Depends(permit("open"))],
    summary="The layer catalogue: every layer with its geometry type and attributes",
)
def list_layers(
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    counts: Annotated[bool, Query(description="Include the number of features per layer")] = False,
) -> list[dict[str, Any]]:
    out = catalogue.to_json()
    for item in out:
        item["public"] = item["name"] in catalogue.public
    if counts:
        numbers = feature_counts(conn, catalogue)
        for item in out:
            item["feature_count"] = numbers[item["name"]]
    return out


@router.get("/layers/{name}", dependencies=[Depends(permit("open"))], summary="One layer of the catalogue")
def get_layer(name: str, catalogue: Annotated[Catalogue, Depends(get_catalogue)]) -> dict[str, Any]:
    return {**catalogue[name].to_json(), "public": name in catalogue.public}


class LayerAccess(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public: StrictBool = Field(description="Whether anyone, logged in or not, may read the layer")


@router.patch(
    "/layers/{name}",
    dependencies=[Depends(permit("admin"))],
    summary="Make a layer public (readable without logging in) or not",
)
def set_layer_access(
    name: str,
    access: LayerAccess,
    request: Request,
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    actor: Annotated[str, Depends(get_actor)],
) -> dict[str, Any]:
    layer = catalogue[name]
    with attributed(conn, actor):
        conn.execute("SELECT mahalle.set_layer_public(%s, %s)", (layer.name, access.public))
    metadata(request).invalidate()
    return {"name": layer.name, "public": access.public}


@router.post(
    "/layers",
    dependencies=[Depends(permit("admin"))],
    status_code=201,
    summary="Create a custom layer; it becomes an OGC API collection",
)
def create_layer(
    definition: Annotated[
        LayerDefinition,
        Body(
            examples=[
                {
                    "name": "water_points",
                    "title": "Water points",
                    "geometry_type": "Point",
                    "attributes": [
                        {"name": "state", "type": "choice", "choices": ["working", "broken"], "required": True},
                        {"name": "depth_m", "type": "number", "minimum": 0, "unit": "m"},
                    ],
                }
            ]
        ),
    ],
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    actor: Annotated[str, Depends(get_actor)],
    request: Request,
    response: Response,
) -> dict[str, Any]:
    layer = layer_from_definition(definition)
    with attributed(conn, actor):
        create_custom_layer(conn, layer)
    metadata(request).invalidate()  # the listener hears it too, but this client's next request must see it
    response.headers["Location"] = f"/layers/{layer.name}"
    return layer.to_json()


@router.delete(
    "/layers/{name}",
    dependencies=[Depends(permit("admin"))],
    status_code=204,
    summary="Drop a custom layer (its history is kept)",
)
def drop_layer(name: str, request: Request, conn: Annotated[psycopg.Connection, Depends(get_conn)]) -> Response:
    with conn.transaction():
        drop_custom_layer(conn, name)
    metadata(request).invalidate()
    return Response(status_code=204)


@router.get(
    "/api/history/deleted",
    dependencies=[Depends(permit("user"))],
    tags=["history"],
    summary="Deleted features that can be brought back: who deleted what, when, and whether you may restore it",
)
def deleted_features(
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    layer: Annotated[
        str | None, Query(max_length=48, pattern=NAME_RE.pattern, description="Only this layer's features")
    ] = None,
    neighbourhood: AnyNeighbourhood = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many, newest delete first")] = 100,
) -> list[dict[str, Any]]:
    layers = [catalogue[layer]] if layer else list(catalogue)
    nid = planning.neighbourhood_id(conn, neighbourhood) if neighbourhood else None
    return history.deleted_features(conn, layers, nid, limit)
