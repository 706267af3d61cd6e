"""``GET /``: the web app (map, editing, table, planning, board, dashboard) in one page.

The page's shell is rendered here (autoescaped), the rest is built in the browser from ``/layers`` and
the APIs. A Content-Security-Policy keeps every request on this host (plus the configured basemap).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import psycopg
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from api.auth import permit
from api.deps import get_conn, get_settings
from core import i18n
from core.settings import Settings
from layers.neighbourhoods import listing
from web.templates import render

router = APIRouter(include_in_schema=False)
# The language list: one per catalogue in core/i18n/ (name, text direction, the browser's Intl locale).
LANGUAGES = tuple(i18n.CATALOGUES.values())


def content_security_policy(basemap_url: str | None) -> str:
    """Scripts, styles, data and workers from this host only; images also from the basemap's host."""
    tiles = ""
    parts = urlsplit(basemap_url or "")
    if parts.netloc:  # a basemap on this host needs nothing more than 'self'
        tiles = f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tiles}; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
    )


@router.get("/", dependencies=[Depends(permit("open"))], response_class=HTMLResponse)
def home(
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> HTMLResponse:
    # The neighbourhoods are in the page itself (escaped) so the map can open on them at once.
    neighbourhoods = listing(conn)
    page = render("index.html", neighbourhoods=neighbourhoods, basemap_url=settings.basemap_url or "",
                  languages=LANGUAGES)  # fmt: skip
    return HTMLResponse(page, headers={"Content-Security-Policy": content_security_policy(settings.basemap_url)})
