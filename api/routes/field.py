"""Field mode's API: a neighbourhood's package for the device, the sync of its queued changes, photos sent in
resumable pieces, attachments, and what became of the field worker's reports (docs/field.md).

Thin handlers: ``gis.field_extract`` builds the package, ``importers.field_sync`` applies changes,
``importers.uploads`` assembles photos, ``layers.attachments`` keeps them; the database decides who may do what.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as InPath
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse

from api.auth import permit
from api.deps import get_actor, get_catalogue, get_conn
from api.schemas import field as bodies
from api.schemas import problems, reader, request_body
from api.schemas.planning import NeighbourhoodCode
from core.db import attributed
from core.errors import InvalidInput, MahalleError, PayloadTooLarge
from core.settings import Settings
from gis import field_extract
from importers import field_sync, photos, uploads
from layers import attachments, field_changes, review
from layers.catalogue import Catalogue

router = APIRouter(tags=["field"], responses=problems(400, 401, 403, 404, 422))
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
Actor = Annotated[str, Depends(get_actor)]
USER = [Depends(permit("user"))]
READ = [Depends(permit("read"))]
JSON = ("application/json",)
Sync = Annotated[bodies.SyncIn, Depends(reader(bodies.SyncIn, *JSON))]
Upload = Annotated[bodies.UploadIn, Depends(reader(bodies.UploadIn, *JSON))]
AttachmentId = Annotated[int, InPath(ge=1, le=2**63 - 1, description="Attachment id")]
CHUNK_MAX = 8 * 1024 * 1024  # one piece of a photo upload


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status)


# Preparing a device ---------------------------------------------------------------------------------


@router.get("/field/neighbourhoods", dependencies=USER, summary="Neighbourhoods to take offline, with their size")
def field_neighbourhoods(request: Request, conn: Conn, catalogue: Cat) -> JSONResponse:
    settings = _settings(request)
    return _json({
        "neighbourhoods": field_extract.neighbourhoods(conn, catalogue),
        "max_accuracy_m": settings.field_max_accuracy_m,
        "max_photo_bytes": int(settings.max_photo_mb * 1024 * 1024),
        "max_batch": settings.field_sync_batch,
    })  # fmt: skip


@router.get("/field/extract", dependencies=USER, summary="One neighbourhood's features, for the device to keep")
def field_package(conn: Conn, catalogue: Cat, neighbourhood: NeighbourhoodCode) -> Response:
    package = field_extract.extract(conn, catalogue, neighbourhood)
    return Response(field_extract.to_json(package), media_type="application/json",
                    headers={"Cache-Control": "private, no-store"})  # fmt: skip


# Sending changes ------------------------------------------------------------------------------------


@router.post(
    "/field/sync",
    dependencies=USER,
    summary="Apply a device's queued changes (idempotent by change id; conflicts kept for review)",
    openapi_extra=request_body(bodies.SyncIn, *JSON),
)
def field_sync_batch(request: Request, body: Sync, conn: Conn, catalogue: Cat, actor: Actor) -> JSONResponse:
    limit = _settings(request).field_sync_batch
    if len(body.changes) > limit:
        raise InvalidInput(f"send at most {limit} changes at once (this batch has {len(body.changes)})", "changes")
    return _json({"results": field_sync.apply_batch(conn, catalogue, actor, body.changes)})


@router.get("/field/mine", dependencies=USER, summary="What became of my observations and changes")
def field_mine(conn: Conn) -> JSONResponse:
    return _json({"observations": review.reported_by_me(conn), "changes": field_changes.of_author(conn)})


# Photos, in resumable pieces ------------------------------------------------------------------------


@router.post(
    "/field/uploads",
    dependencies=USER,
    status_code=201,
    summary="Announce a photo (its size, checksum and feature) before sending it in pieces",
    openapi_extra=request_body(bodies.UploadIn, *JSON),
)
def announce_upload(request: Request, body: Upload, conn: Conn, catalogue: Cat, actor: Actor) -> JSONResponse:
    if body.feature_uid is None and body.feature_id is None:
        raise InvalidInput("name the feature the photo belongs to (feature_uid or feature_id)", "feature_uid")
    item = uploads.Announced(
        uid=body.uid, layer=body.layer, filename=attachments.clean_filename(body.filename),
        media_type=body.media_type, size=body.size, sha256=body.sha256, role=body.role, caption=body.caption,
        feature_uid=body.feature_uid, feature_id=body.feature_id,
    )  # fmt: skip
    max_bytes = int(_settings(request).max_photo_mb * 1024 * 1024)
    with attributed(conn, actor):
        status, new = uploads.announce(conn, catalogue, item, max_bytes)
    return _json(status, 201 if new else 200)


async def _chunk(request: Request) -> bytes:
    """The body of one piece, refused past CHUNK_MAX while it streams."""
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > CHUNK_MAX:
            raise PayloadTooLarge(f"send a photo in pieces of at most {CHUNK_MAX // 1048576} MB")
    return bytes(data)


Chunk = Annotated[bytes, Depends(_chunk)]


@router.put(
    "/field/uploads/{uid}",
    dependencies=USER,
    summary="Send the next piece of a photo (Content-Range: bytes START-END/TOTAL)",
    responses=problems(409, 413),
)
def upload_piece(
    uid: uuid.UUID, request: Request, chunk: Chunk, conn: Conn, catalogue: Cat, actor: Actor
) -> JSONResponse:
    folder = _settings(request).files_folder
    with attributed(conn, actor):
        status = uploads.receive(conn, folder, uid, request.headers.get("content-range"), chunk)
    if status["received"] < status["size"] or status["attachment_id"] is not None:
        return _json(status)
    try:
        with attributed(conn, actor):
            status, attachment = uploads.complete(conn, catalogue, folder, uid)
    except MahalleError:  # not an image, the feature gone, the rights changed: start over, nothing stuck
        with attributed(conn, actor):
            uploads.reset(conn, folder, uid)
        raise
    return _json({**status, "attachment": described(request, attachment)}, 201)


@router.get("/field/uploads/{uid}", dependencies=USER, summary="How much of a photo has arrived")
def upload_status(uid: uuid.UUID, conn: Conn) -> JSONResponse:
    return _json(uploads.status(conn, uid))


# Attachments ----------------------------------------------------------------------------------------


def described(request: Request, row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    base = str(request.base_url).rstrip("/")
    has_thumbnail = row.pop("has_thumbnail", False)
    return {
        **row,
        "url": f"{base}/attachments/{row['id']}",
        "thumbnail_url": f"{base}/attachments/{row['id']}/thumbnail" if has_thumbnail else None,
    }


@router.get("/attachments", dependencies=READ, summary="Photos and documents of features")
def list_attachments(
    request: Request,
    conn: Conn,
    catalogue: Cat,
    layer: Annotated[str, Query(max_length=48)],
    feature_id: Annotated[list[int], Query(min_length=1, max_length=500)],
) -> JSONResponse:
    name = catalogue[layer].name
    rows = attachments.listing(conn, name, [f for f in feature_id if 1 <= f < 2**63])
    return _json({"attachments": [described(request, r) for r in rows]})


@router.get("/attachments/{aid}", dependencies=READ, summary="An attachment's file")
def attachment_file(aid: AttachmentId, request: Request, conn: Conn) -> Response:
    meta, content = attachments.content(conn, _settings(request).files_folder, aid)
    headers = {
        "Cache-Control": "private, max-age=86400",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(meta['filename'], safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{meta["sha256"]}"',
    }
    media_type = meta["media_type"] if meta["media_type"] in _SAFE_TYPES else "application/octet-stream"
    if isinstance(content, Path):
        return FileResponse(content, media_type=media_type, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


@router.get("/attachments/{aid}/thumbnail", dependencies=READ, summary="A photo's preview (JPEG, 320 px)")
def attachment_thumbnail(aid: AttachmentId, conn: Conn) -> Response:
    data = attachments.thumbnail(conn, aid)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.post(
    "/attachments",
    dependencies=USER,
    status_code=201,
    summary="Attach a photo or document to a feature (one request)",
    responses=problems(413),
)
def add_attachment(
    request: Request,
    conn: Conn,
    catalogue: Cat,
    actor: Actor,
    file: Annotated[UploadFile, File()],
    layer: Annotated[str, Form(max_length=48)],
    feature_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    role: Annotated[str, Form(max_length=20)] = "photo",
    caption: Annotated[str | None, Form(max_length=2000)] = None,
) -> JSONResponse:
    name = catalogue[layer].name
    attachments.check_attach(conn, name, attachments.feature_id_of(conn, name, None, feature_id))
    max_bytes = int(_settings(request).max_photo_mb * 1024 * 1024)
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"a photo or document may be at most {_settings(request).max_photo_mb:g} MB")
    if not data:
        raise InvalidInput("the file is empty", "file")
    new = uploads.described(
        data, attachments.clean_filename(file.filename or "file"), file.content_type or "application/octet-stream",
        layer=name, feature_id=feature_id, role=attachments.check_role(role), caption=caption,
    )  # fmt: skip
    with attributed(conn, actor):
        aid = attachments.add(conn, _settings(request).files_folder, new, data)
    return _json(described(request, attachments.get(conn, aid)), 201)


@router.delete("/attachments/{aid}", dependencies=USER, status_code=204, summary="Remove an attachment")
def delete_attachment(aid: AttachmentId, conn: Conn, actor: Actor) -> Response:
    with attributed(conn, actor):
        attachments.delete(conn, aid)
    return Response(status_code=204)


_SAFE_TYPES = frozenset({*photos.IMAGE_TYPES.values(), *photos.DOCUMENT_TYPES})
