"""``/search``: features found by name, code, address, id or uid across the map's layers, as the user may read them."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request

from api.auth import permit, principal_of
from api.deps import get_catalogue, get_conn
from gis import search as finder
from layers.catalogue import Catalogue

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    dependencies=[Depends(permit("read"))],
    summary="Find features by what their text attributes say (names, codes, addresses), their id or uid",
)
def search(
    request: Request,
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    q: Annotated[
        str,
        Query(
            max_length=1000,  # the raw text: spaces are folded before the limit of MAX_QUERY characters is checked
            pattern=r"^[^\x00]*$",
            description=f"The text to find (at most {finder.MAX_QUERY} characters): part of a name, code or "
            "address, a feature id, or the beginning of a uid. % and _ match themselves.",
        ),
    ],
    layers: Annotated[
        str | None,
        Query(max_length=2000, pattern=r"^[^\x00]*$", description="Only these layers, separated by commas"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=finder.MAX_LIMIT, description="At most this many hits")] = 20,
) -> list[dict[str, Any]]:
    names = [n.strip() for n in layers.split(",") if n.strip()] if layers else None
    if not principal_of(request).authenticated:  # row-level security would hide them too; no need to ask
        readable = [layer.name for layer in catalogue.spatial() if layer.name in catalogue.public]
        names = [n for n in names if n in readable or n not in catalogue] if names else readable
        if not names:
            return []
    return finder.search(conn, catalogue, q, names, limit)
