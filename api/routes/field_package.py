"""The GeoPackage round trip over HTTP (docs/field-geopackage.md): ``GET /field/checkout`` downloads a neighbourhood's
layers for QField, Mergin Maps or QGIS, ``POST /field/checkin`` applies what the field changed in it.

Thin handlers: ``gis.field_checkout`` writes the file and ``importers.field_checkin`` applies it, on the request's
connection, which carries the user's rights (row-level security decides what goes into the file, the database's
rules and permit triggers what comes back).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from api.auth import permit, principal_of
from api.deps import get_actor, get_catalogue, get_conn
from api.heavy import HeavyConn, UploadTooSlow
from api.schemas import problems
from core.errors import InvalidInput, PayloadTooLarge
from core.i18n import LANGUAGES
from gis.export import parse_list
from gis.field_checkout import MEDIA_TYPE, checkout
from importers.archive import ImportLimits
from importers.field_checkin import checkin
from layers.catalogue import Catalogue

router = APIRouter(tags=["field"], responses=problems(400, 401, 403, 404, 422))
Cat = Annotated[Catalogue, Depends(get_catalogue)]
CHUNK = 1 << 20
CHECKIN_BODY = {
    "requestBody": {
        "required": True,
        "description": "The checkout's GeoPackage as the field app left it: the body itself (any media type but "
        "multipart, e.g. application/geopackage+sqlite3), or the multipart field `file`.",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                },
            },
        },
    }
}


@router.get(
    "/field/checkout",
    dependencies=[Depends(permit("read", heavy=True))],
    summary="A neighbourhood's layers as a GeoPackage to edit in QField, Mergin Maps or QGIS",
    response_class=FileResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The GeoPackage"}},
)
def field_checkout(
    request: Request,
    conn: HeavyConn,
    catalogue: Cat,
    neighbourhood: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\x00]*$")],
    layers: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated layers (default: every spatial layer)")
    ] = None,
    lang: Annotated[str, Query(description="Language of the forms' value lists: " + ", ".join(LANGUAGES))] = "en",
) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="mahalle-checkout-"))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    name = f"mahalle-{_safe(neighbourhood)}-{stamp}.gpkg"
    try:
        checkout(conn, catalogue, neighbourhood, parse_list(layers), folder / name,
                 user=principal_of(request).name, server_url=str(request.base_url).rstrip("/"), lang=lang)  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(folder / name, media_type=MEDIA_TYPE, filename=name,
                        headers={"Cache-Control": "private, no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))  # fmt: skip


def _safe(code: str) -> str:
    """The code as a file name part (codes are free text)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in code)[:40] or "neighbourhood"


async def _received(request: Request) -> AsyncIterator[tuple[Path, str]]:
    """The uploaded GeoPackage saved in a temporary folder, removed once the answer is sent: the request's body, or
    its multipart field ``file``; refused past the upload limit while it streams, and when it does not arrive within
    ``MAHALLE_UPLOAD_TIMEOUT_S`` (408)."""
    seconds = request.app.state.settings.upload_timeout_s
    folder = Path(tempfile.mkdtemp(prefix="mahalle-checkin-"))
    try:
        try:
            async with asyncio.timeout(seconds):
                name = await _take(request, folder / "checkin.gpkg")
        except TimeoutError:
            raise UploadTooSlow(f"The upload did not arrive within {seconds} s; send it again.") from None
        yield folder / "checkin.gpkg", name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _take(request: Request, path: Path) -> str:
    """Save the request's GeoPackage at ``path``; the name the user gave it."""
    limit = ImportLimits().max_file_bytes
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the GeoPackage as the multipart field 'file', or as the request body", "file")
        name = Path(upload.filename or "").name or "checkin.gpkg"
        chunks = _upload_chunks(upload)
    else:
        name, chunks = "checkin.gpkg", request.stream()
    await _save(chunks, path, limit)
    return name


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


async def _save(chunks: AsyncIterator[bytes], path: Path, limit: int) -> None:
    size = 0
    with path.open("wb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the file is larger than the upload limit of {limit // 1048576} MB")
            out.write(chunk)
    if size == 0:
        raise InvalidInput("the request holds no file: send the checkout's GeoPackage as the body", "file")


Received = Annotated[tuple[Path, str], Depends(_received)]


@router.post(
    "/field/checkin",
    dependencies=[Depends(permit("user"))],
    summary="Apply a checkout edited in the field: inserts, updates and deletes by uid; conflicts kept for review",
    responses=problems(413, 415),
    openapi_extra=CHECKIN_BODY,
)
def field_checkin(
    received: Received,
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    catalogue: Cat,
    actor: Annotated[str, Depends(get_actor)],
) -> JSONResponse:
    path, name = received
    report = checkin(conn, catalogue, path, actor, name=name)
    body: dict[str, Any] = report.to_json()
    return JSONResponse(jsonable_encoder(body))
