"""``/layers``: the layer catalogue as JSON, and custom layer creation."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query

from api.deps import get_catalogue, get_conn
from layers.catalogue import Catalogue
from layers.counts import feature_counts

router = APIRouter(tags=["layers"])


@router.get("/layers", summary="The layer catalogue: every layer with its geometry type and attributes")
def list_layers(
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    counts: Annotated[bool, Query(description="Include the number of features per layer")] = False,
) -> list[dict[str, Any]]:
    out = catalogue.to_json()
    if counts:
        numbers = feature_counts(conn, catalogue)
        for item in out:
            item["feature_count"] = numbers[item["name"]]
    return out


@router.get("/layers/{name}", summary="One layer of the catalogue")
def get_layer(name: str, catalogue: Annotated[Catalogue, Depends(get_catalogue)]) -> dict[str, Any]:
    return catalogue[name].to_json()
