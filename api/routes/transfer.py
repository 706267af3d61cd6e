"""Imports (upload → job with progress and report) and exports (a file download).

``POST /imports`` takes a multipart upload, refuses it with 413 when it is too large (by its
Content-Length before reading the body, else while saving it), and answers 202 with a job; the import
runs in a background thread on its own connection and records progress and its report in
``mahalle.jobs``. ``GET /imports/{id}`` follows it. ``GET /exports`` builds the file with bounded memory
in a temporary folder and streams it back; the temporary file is removed once sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import threading
import unicodedata
import uuid
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import permit, principal_of
from api.deps import get_actor, get_catalogue, get_conn
from api.heavy import HeavyConn, ImportsBusy, UploadTooSlow
from core.errors import InvalidInput, MahalleError, NotFound, PayloadTooLarge
from gis.export import FORMATS, ExportOptions, choose_layers, export, output_name, parse_bbox, parse_list
from importers import files, jobs, preview
from importers.archive import ImportLimits
from importers.mapping import Mapping, MappingError
from importers.run import ImportOptions
from layers.catalogue import Catalogue

router = APIRouter(tags=["import and export"])
CHUNK = 1 << 20
# The form fields of an upload: the import options (importers.jobs.IMPORT_PARAMS), flags sent as true/false.
FLAG_FIELDS = tuple(f.name for f in fields(ImportOptions) if f.type in (bool, "bool"))
TEXT_FIELDS = tuple(name for name in jobs.IMPORT_PARAMS if name not in FLAG_FIELDS)
MAX_NAME_BYTES = 1000  # the file's name as the user knows it (kept in the job; saved under a name of ours)


@router.post(
    "/imports",
    dependencies=[Depends(permit("import"))],
    status_code=202,
    summary="Upload a file to import; answers with a job to follow",
)
async def create_import(
    request: Request,
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    actor: Annotated[str, Depends(get_actor)],
) -> JSONResponse:
    limits = ImportLimits()
    path, options = await _receive(request, limits)
    slot = _take_slot(request, path)
    try:
        return await _accept_import(request, conn, actor, path, options, slot)
    except BaseException:
        slot.release()
        shutil.rmtree(path.parent, ignore_errors=True)
        raise


def _take_slot(request: Request, path: Path) -> threading.Semaphore:
    """One of the server's import slots (each job holds connections of its own for its whole run), taken once
    the upload is in: a slow sender never holds one. None free: 503, and the upload is removed."""
    slot: threading.Semaphore = request.app.state.import_slots
    if not slot.acquire(blocking=False):
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ImportsBusy("Other imports are running on this server; send the file again in a moment.")
    return slot


async def _accept_import(
    request: Request, conn: psycopg.Connection, actor: str, path: Path, options: ImportOptions,
    slot: threading.Semaphore,
) -> JSONResponse:  # fmt: skip
    job_id = await run_in_threadpool(jobs.create_import, conn, options.name or path.name, options, actor)
    url = request.app.state.pool.conninfo
    href = str(request.url_for("get_import", job_id=str(job_id)))
    body = {"id": str(job_id), "status": "queued", "links": [{"rel": "monitor", "href": href}]}
    # Last: from here the job's thread owns the slot (and gives it back when the job ends).
    grants = principal_of(request).grants_json()  # the job runs with the user's rights, on its own connections
    threading.Thread(target=_run, args=(url, job_id, path, options, actor, grants, slot), daemon=True).start()
    return JSONResponse(body, status_code=202, headers={"Location": href})


async def _receive(request: Request, limits: ImportLimits) -> tuple[Path, ImportOptions]:
    """The uploaded file saved in a folder of its own (the caller removes it) and the import options of the form;
    the cheap checks (size, type, content) are made here, so a bad file is refused before any work. The upload
    must arrive within ``MAHALLE_UPLOAD_TIMEOUT_S`` (408 otherwise), and only ``MAHALLE_IMPORT_CONCURRENCY``
    uploads arrive at once (503 beyond: each request holds a pooled connection while its file arrives)."""
    seconds = request.app.state.settings.upload_timeout_s
    arriving: threading.Semaphore = request.app.state.upload_slots
    if not arriving.acquire(blocking=False):
        raise ImportsBusy("Other files are being uploaded to this server; send yours again in a moment.")
    folder = Path(tempfile.mkdtemp(prefix="mahalle-upload-", dir=_upload_root(request)))
    try:
        async with asyncio.timeout(seconds):
            path, options = await _read_upload(request, limits, folder)
        await run_in_threadpool(files.precheck, path, limits, options.name or path.name)
    except TimeoutError:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadTooSlow(f"The upload did not arrive within {seconds} s; send it again.") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        arriving.release()
    return path, options


async def _read_upload(request: Request, limits: ImportLimits, folder: Path) -> tuple[Path, ImportOptions]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_file_bytes + CHUNK:
        raise PayloadTooLarge(f"The upload is {int(declared) / 1048576:.1f} MB; the limit is {_mb(limits)} MB.")
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise MahalleError("Send the file to import as the multipart field 'file'.")
    name = Path(upload.filename).name
    if name in ("", ".", ".."):
        raise InvalidInput(f"{upload.filename!r} is not a file name; send the file with its own name.", "file")
    if len(name.encode()) > MAX_NAME_BYTES or any(unicodedata.category(c) == "Cc" for c in name):
        raise InvalidInput(f"The file's name must be text (no control characters) of at most {MAX_NAME_BYTES} bytes; "
                           "rename it.", "file")  # fmt: skip
    options = _options(form, name)
    path = folder / _disk_name(name)
    await _save(upload, path, limits)
    return path, options


@router.post(
    "/imports/preview",
    dependencies=[Depends(permit("import"))],
    summary="What importing a file would do: its layers, first rows and the proposed mapping (writes nothing)",
)
async def preview_import(request: Request, catalogue: Annotated[Catalogue, Depends(get_catalogue)]) -> dict[str, Any]:
    limits = ImportLimits()
    path, options = await _receive(request, limits)
    slot = _take_slot(request, path)  # reading an upload is an import's first step: it shares their slots
    try:
        return await run_in_threadpool(preview.preview, catalogue, path, options, limits)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
        slot.release()


@router.get(
    "/imports",
    dependencies=[Depends(permit("user"))],
    summary="Past imports: yours (every one for an admin), newest first",
)
def list_imports(
    request: Request,
    conn: Annotated[psycopg.Connection, Depends(get_conn)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    principal = principal_of(request)
    mine = None if principal.holds("admin", everywhere=True) else principal.name
    return [_plain(job) for job in jobs.list_imports(conn, mine, limit)]


def _disk_name(name: str) -> str:
    """The upload's name on disk: the user's (GDAL names a CSV's or GeoJSON's layer after it), cut to what a file
    system takes (255 bytes), its suffix kept (it says the format); the user's whole name stays the file's name in
    the job and its report."""
    full_suffix = Path(name).suffix
    stem, suffix = name[: len(name) - len(full_suffix)], full_suffix[:16]
    while len((stem + suffix).encode()) > 200:
        stem = stem[:-1]
    return (stem or "upload") + suffix


def _mb(limits: ImportLimits) -> int:
    return limits.max_file_bytes // 1048576


def _upload_root(request: Request) -> Path:
    root = Path(request.app.state.settings.data_dir) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


async def _save(upload: UploadFile, path: Path, limits: ImportLimits) -> None:
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limits.max_file_bytes:
                raise PayloadTooLarge(f"{path.name}: the upload is larger than the limit of {_mb(limits)} MB.")
            out.write(chunk)


def _options(form: Any, name: str) -> ImportOptions:
    text = {k: str(form.get(k)).strip() for k in TEXT_FIELDS if form.get(k) is not None and str(form.get(k)).strip()}
    flags = {k: str(form.get(k, "false")).lower() in ("1", "true", "yes", "on") for k in FLAG_FIELDS}
    mapping = Mapping()
    if form.get("mapping"):
        raw = form.get("mapping")
        try:
            data = json.loads(raw if isinstance(raw, str) else raw.file.read())
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise MappingError(f"The mapping is not valid JSON ({exc}).") from None
        except RecursionError:
            raise MappingError("The mapping is not valid JSON (nested too deeply).") from None
        mapping = Mapping.from_json(data)
    return ImportOptions(mapping=mapping, name=name, **text, **flags)


def _run(
    url: str,
    job_id: uuid.UUID,
    path: Path,
    options: ImportOptions,
    actor: str,
    grants: str,
    slot: threading.Semaphore,
) -> None:
    """The import job, in its own thread; how it ended is in the job (and in the log when unexpected)."""
    try:
        with contextlib.suppress(Exception):
            jobs.run_import_job(url, job_id, path, options, actor, grants=grants)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
        slot.release()


@router.get(
    "/imports/{job_id}",
    dependencies=[Depends(permit("user"))],
    name="get_import",
    summary="An import job: status, progress and report",
)
def get_import(
    job_id: uuid.UUID, request: Request, conn: Annotated[psycopg.Connection, Depends(get_conn)]
) -> dict[str, Any]:
    return _plain(_own_job(request, conn, job_id))


@router.get(
    "/imports/{job_id}/report",
    dependencies=[Depends(permit("user"))],
    summary="An import's report as a JSON file to download",
)
def get_import_report(
    job_id: uuid.UUID, request: Request, conn: Annotated[psycopg.Connection, Depends(get_conn)]
) -> Response:
    job = _own_job(request, conn, job_id)
    if job.get("report") is None:
        raise NotFound(f"the import {job_id} has no report ({job.get('message') or job['status']})")
    stem = Path(str(job["params"].get("file") or "import")).stem
    body = json.dumps(job["report"], ensure_ascii=False, indent=2, default=str)
    name = f"import-report-{stem}-{str(job_id)[:8]}.json"
    return Response(body, media_type="application/json", headers={"Content-Disposition": _attachment(name)})


def _own_job(request: Request, conn: psycopg.Connection, job_id: uuid.UUID) -> dict[str, Any]:
    job = jobs.get(conn, job_id, "import")
    principal = principal_of(request)
    if job.get("created_by") != principal.name and not principal.holds("admin", everywhere=True):
        raise NotFound(f"there is no import {job_id} of yours")  # another user's report names their rows
    return job


def _plain(job: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (uuid.UUID, datetime)) else v) for k, v in job.items() if k != "result_path"}


def _attachment(name: str) -> str:
    """A Content-Disposition for ``name`` in any script (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/exports",
    dependencies=[Depends(permit("read", heavy=True))],
    summary="Download layers as gpkg, shp (zip), geojson, csv, xlsx, kml or kmz",
)
def get_export(
    request: Request,
    conn: HeavyConn,
    catalogue: Annotated[Catalogue, Depends(get_catalogue)],
    format: Annotated[str, Query(description=" | ".join(FORMATS))],
    layers: Annotated[str | None, Query(description="Comma-separated layer names")] = None,
    neighbourhood: Annotated[
        str | None, Query(max_length=40, pattern=r"^[^\x00]*$", description="Neighbourhood code")
    ] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north (longitude/latitude)")] = None,
    polygon: Annotated[str | None, Query(description="WKT polygon (longitude/latitude)")] = None,
    filter: Annotated[str | None, Query(description="CQL2 text")] = None,
    status: Annotated[str | None, Query(description="Comma-separated status values")] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    as_of: Annotated[
        datetime | None,
        Query(gt=datetime(1, 1, 2, tzinfo=UTC), description="The layers as they were then"),  # astimezone() fits
    ] = None,
    photos: Annotated[bool, Query(description="Include the features' photos and documents (gpkg, shp)")] = False,
) -> FileResponse:
    options = ExportOptions(
        format=format.lower(),
        layers=parse_list(layers),
        neighbourhood=neighbourhood,
        bbox=parse_bbox(bbox),
        polygon=polygon,
        filter=filter,
        status=parse_list(status),
        date_from=date_from,
        date_to=date_to,
        as_of=as_of.astimezone() if as_of else None,
        photos=photos,
    )
    folder = Path(tempfile.mkdtemp(prefix="mahalle-export-"))
    try:
        name = output_name(options, [layer.name for layer in choose_layers(catalogue, options)])
        report = export(conn, catalogue, options, folder / name, files=request.app.state.settings.files_folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    written = Path(report.path)  # a layer skipped by the filters may turn a zip of several into one plain file
    return FileResponse(
        written,
        media_type=report.media_type,
        filename=written.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
