"""``GET /``: a start page listing the layers (the full web app comes with web/)."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.deps import get_catalogue, get_conn
from layers.catalogue import Catalogue
from layers.counts import feature_counts
from web.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
) -> HTMLResponse:
    counts = feature_counts(conn, catalogue)
    neighbourhoods = conn.execute(
        "SELECT code, name, city, round((area_m2 / 10000.0)::numeric, 1) FROM public.neighbourhoods ORDER BY code"
    ).fetchall()
    return HTMLResponse(render("index.html", layers=list(catalogue), counts=counts, neighbourhoods=neighbourhoods))
