"""The web app's files, the field mode's page, the service worker and the history routes the app uses.

Front-end packages come from the repository's ``node_modules`` (installed by ``make setup`` from
package.json) and are served by the app itself under ``/vendor/…``: nothing is loaded from a CDN.
Only the dist folders listed in ``VENDOR`` are reachable, read-only. The service worker (``/sw.js``) is built
with Workbox by ``scripts/build-sw.mjs`` (``make setup``) into ``web/build/``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Response
from fastapi import Path as InPath
from fastapi.responses import FileResponse, HTMLResponse

import web
from api.auth import permit
from api.deps import get_actor, get_catalogue, get_conn
from api.problems import problem
from core import i18n
from core.db import attributed
from core.errors import NotFound
from layers import history
from layers.catalogue import Catalogue
from web.templates import render

router = APIRouter()
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
FeatureId = Annotated[int, InPath(ge=1, le=2**63 - 1, description="Feature id")]  # bigint: larger is a 400

WEB = Path(web.__file__).resolve().parent
STATIC = WEB / "static"
NODE_MODULES = WEB.parent / "node_modules"
BUILD = WEB / "build"  # the service worker built by scripts/build-sw.mjs
# The package dist folders the page may load, by the short name used in /vendor/<name>/….
VENDOR = {
    "leaflet": "leaflet/dist",
    "geoman": "@geoman-io/leaflet-geoman-free/dist",
    "vectorgrid": "leaflet.vectorgrid/dist",
    "chartjs": "chart.js/dist",
    "swagger-ui": "swagger-ui-dist",  # /docs (api/routes/docs.py)
    "dexie": "dexie/dist",  # IndexedDB: the outbox and field mode's queue
    "jalaali": "jalaali-js/dist",  # Jalali ↔ Gregorian dates: the Persian date picker (web/static/js/jalali.js)
}
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


def _file(folder: Path, path: str, cache: str = "no-cache") -> FileResponse:
    """A file strictly inside ``folder`` (no ``..``, no symlink out), or 404."""
    try:  # a NUL or an over-long name is no file either (ValueError, OSError ENAMETOOLONG)
        target = (folder / path).resolve()
        found = target.is_relative_to(folder.resolve()) and target.is_file()
    except (ValueError, OSError):
        found = False
    if not found:
        raise NotFound(f"There is no file {path[:100]!r}.")
    return FileResponse(target, headers={"Cache-Control": cache})


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def static(path: str) -> FileResponse:
    return _file(STATIC, path)


@router.get("/i18n/{lang}.json", include_in_schema=False)
def catalogue_of_strings(lang: str) -> FileResponse:
    return _file(i18n.folder(), f"{lang}.json")  # the language catalogues (core/i18n/)


@router.get("/sw.js", include_in_schema=False, response_model=None)
def service_worker() -> Response:
    # Served from the root so that its scope is the whole app (`/` and `/field` open offline).
    if not (BUILD / "sw.js").is_file():
        return problem(
            503,
            "The service worker is not built",
            f"{BUILD / 'sw.js'} does not exist: run `make setup` (it runs scripts/build-sw.mjs) in {WEB.parent}.",
        )
    return _file(BUILD, "sw.js")


@router.get("/field", dependencies=[Depends(permit("open"))], response_class=HTMLResponse, include_in_schema=False)
def field_page() -> HTMLResponse:
    """Field mode (installable, offline). The page is the same for everyone, so the service worker keeps it: it
    asks /auth/me itself and offers the login to a visitor who is not logged in."""
    page = render("field.html", languages=tuple(i18n.CATALOGUES.values()))
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.api_route(
    "/vendor/{package}/{path:path}", methods=["GET", "HEAD"], include_in_schema=False, response_model=None
)
def vendor(package: str, path: str) -> Response:
    if package not in VENDOR:
        raise NotFound(f"There is no front-end package {package!r}.")
    folder = NODE_MODULES / VENDOR[package]
    if not folder.is_dir():
        return problem(
            503,
            "Front-end packages are missing",
            f"{folder} does not exist: run `make setup` (it runs `npm ci`) in {WEB.parent} to install them.",
        )
    return _file(folder, path, cache="public, max-age=86400")


# History -------------------------------------------------------------------------------------------


@router.get(
    "/api/history/{layer}/{fid}",
    dependencies=[Depends(permit("user"))],
    tags=["history"],
    summary="Every change of one feature, oldest first",
)
def feature_history(layer: str, fid: FeatureId, conn: Conn, catalogue: Cat) -> list[dict[str, Any]]:
    return history.feature_history(conn, catalogue[layer].name, fid)


@router.post(
    "/api/history/{layer}/{fid}/restore",
    dependencies=[Depends(permit("restore", layer_param="layer"))],
    tags=["history"],
    summary="Bring back a deleted feature, or an earlier version of a live one (as a new version)",
)
def restore_feature(
    layer: str,
    fid: FeatureId,
    conn: Conn,
    catalogue: Cat,
    actor: Annotated[str, Depends(get_actor)],
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="The version to bring back; default the last one")
    ] = None,
) -> dict[str, Any]:
    name = catalogue[layer].name
    with attributed(conn, actor, f"restore of version {version}" if version else "restore"):
        new_version = history.restore(conn, name, fid, version)
    return {"layer": name, "id": fid, "version": new_version}
