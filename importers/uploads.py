"""Photos sent from the field in pieces, so a dropped connection resumes where it stopped instead of starting over.

A device announces a photo (its uid, size, SHA-256 and the feature it belongs to), then sends byte ranges in
order; the pieces wait in ``<files>/uploads/<uid>.part`` and the row ``public.field_uploads`` says how many bytes
arrived. When the last byte arrives the whole file is checked (size, checksum, a real image), its EXIF read, a
thumbnail made, and it becomes an attachment of the feature — once: a resent announcement or piece of a finished
upload changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from core.errors import Conflict, InvalidInput, NotFound
from importers import photos
from layers import attachments
from layers.catalogue import Catalogue

OPEN_MAX = 200  # unfinished uploads per user
RANGE = re.compile(r"^bytes (\d{1,12})-(\d{1,12})/(\d{1,12})$")


@dataclass(frozen=True)
class Announced:
    uid: uuid.UUID
    layer: str
    filename: str
    media_type: str
    size: int
    sha256: str
    role: str
    caption: str | None
    feature_uid: uuid.UUID | None
    feature_id: int | None

    def meta(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "filename": self.filename, "media_type": self.media_type, "role": self.role,
            "caption": self.caption, "feature_uid": str(self.feature_uid) if self.feature_uid else None,
            "feature_id": self.feature_id,
        }  # fmt: skip


def _part(folder: Path, uid: uuid.UUID) -> Path:
    return folder / "uploads" / f"{uid}.part"


def status(conn: psycopg.Connection, uid: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(
        "SELECT received, size_bytes, attachment_id FROM public.field_uploads WHERE uid = %s", [uid]
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no upload {uid} of yours: announce it first (POST /field/uploads).")
    return {"uid": str(uid), "received": row[0], "size": row[1], "attachment_id": row[2]}


def announce(conn: psycopg.Connection, catalogue: Catalogue, item: Announced, max_bytes: int) -> tuple[dict, bool]:
    """Start an upload (or find the same one started before); its status and whether it is new."""
    if item.layer not in catalogue:
        raise InvalidInput(f"there is no layer {item.layer!r} to attach a photo to", "layer")
    if item.size > max_bytes:
        raise InvalidInput(
            f"{item.filename} is {item.size / 1048576:.1f} MB; a photo may be at most {max_bytes / 1048576:.0f} MB",
            "size",
        )
    attachments.check_role(item.role)
    _check_feature(conn, catalogue[item.layer].name, item)
    _check_open(conn, item.uid)
    row = conn.execute(
        "INSERT INTO public.field_uploads (uid, meta, size_bytes, sha256) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (uid) DO NOTHING RETURNING uid",
        [item.uid, Jsonb(item.meta()), item.size, item.sha256],
    ).fetchone()
    if row is None:
        same = conn.execute(
            "SELECT meta = %s AND size_bytes = %s AND sha256 = %s FROM public.field_uploads WHERE uid = %s",
            [Jsonb(item.meta()), item.size, item.sha256, item.uid],
        ).fetchone()
        if same is None:  # another user's upload: the row is hidden, and its uid is not theirs to reuse
            raise Conflict(f"upload id {item.uid} is already in use; send the photo with a new id")
        if not same[0]:
            raise Conflict(f"upload {item.uid} was announced before with another file or feature; use a new id")
    return status(conn, item.uid), row is not None


def _check_feature(conn: psycopg.Connection, layer: str, item: Announced) -> None:
    """The feature exists (a device sends it before its photos) and the user may attach to it: refused before any
    byte is stored."""
    attachments.check_attach(conn, layer, attachments.feature_id_of(conn, layer, item.feature_uid, item.feature_id))


def _check_open(conn: psycopg.Connection, uid: uuid.UUID) -> None:
    """A user has at most OPEN_MAX unfinished uploads: the server's disk is not a place to park files."""
    open_uploads = conn.execute(
        "SELECT count(*) FROM public.field_uploads WHERE attachment_id IS NULL AND uid <> %s", [uid]
    ).fetchone()[0]  # row-level security: the user's own
    if open_uploads >= OPEN_MAX:
        raise Conflict(f"you have {open_uploads} unfinished photo uploads: finish those before starting more")


def receive(
    conn: psycopg.Connection, folder: Path, uid: uuid.UUID, content_range: str | None, chunk: bytes
) -> dict[str, Any]:
    """Append one piece. The row is locked while the file grows, so two senders of one upload take turns."""
    row = conn.execute(
        "SELECT received, size_bytes, sha256, attachment_id FROM public.field_uploads WHERE uid = %s FOR UPDATE",
        [uid],
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no upload {uid} of yours: announce it first (POST /field/uploads).")
    received, size, _, attachment_id = row
    if attachment_id is not None:
        return status(conn, uid)  # finished before: a resent piece changes nothing
    start, end = _range(content_range, len(chunk), size)
    if start != received:
        raise Conflict(f"this piece starts at byte {start} but the server has {received} bytes: resume from {received}")
    part = _part(folder, uid)
    part.parent.mkdir(parents=True, exist_ok=True)
    with part.open("r+b" if part.exists() else "wb") as out:
        out.truncate(received)  # bytes of a piece whose answer was lost are written again, not twice
        out.seek(received)
        out.write(chunk)
    received = end + 1
    conn.execute("UPDATE public.field_uploads SET received = %s WHERE uid = %s", [received, uid])
    return status(conn, uid)


def _range(header: str | None, length: int, size: int) -> tuple[int, int]:
    if header is None:  # the whole file in one request
        start, end, total = 0, length - 1, length
    else:
        m = RANGE.match(header.strip())
        if m is None:
            raise InvalidInput("Content-Range must read 'bytes START-END/TOTAL'", "Content-Range")
        start, end, total = (int(g) for g in m.groups())
    if total != size:
        raise InvalidInput(f"the upload was announced with {size} bytes, this piece says {total}", "Content-Range")
    if end < start or end >= size or end - start + 1 != length:
        raise InvalidInput(f"the piece holds {length} bytes, not bytes {start}-{end} of {size}", "Content-Range")
    return start, end


def reset(conn: psycopg.Connection, folder: Path, uid: uuid.UUID) -> None:
    """Start an unfinished upload over (its file could not become an attachment): nothing is left stuck."""
    conn.execute("UPDATE public.field_uploads SET received = 0 WHERE uid = %s AND attachment_id IS NULL", [uid])
    _part(folder, uid).unlink(missing_ok=True)


def complete(
    conn: psycopg.Connection, catalogue: Catalogue, folder: Path, uid: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Turn a fully received upload into an attachment (once); the status and the new attachment, if any.
    InvalidInput when the file is damaged or not an image: the caller then ``reset``s it, to be sent again."""
    received, size, sha256, attachment_id, meta = conn.execute(
        "SELECT received, size_bytes, sha256, attachment_id, meta FROM public.field_uploads WHERE uid = %s FOR UPDATE",
        [uid],
    ).fetchone()
    if received < size or attachment_id is not None:
        return status(conn, uid), None
    part = _part(folder, uid)
    data = part.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InvalidInput(f"{meta['filename']} arrived damaged (its checksum differs): send it again", "sha256")
    aid = _attach(conn, catalogue, folder, uid, meta, data)
    conn.execute("UPDATE public.field_uploads SET attachment_id = %s WHERE uid = %s", [aid, uid])
    part.unlink(missing_ok=True)
    return status(conn, uid), attachments.get(conn, aid)


def _attach(
    conn: psycopg.Connection, catalogue: Catalogue, folder: Path, uid: uuid.UUID, meta: dict[str, Any], data: bytes
) -> int:
    layer = catalogue[meta["layer"]].name
    feature_uid = uuid.UUID(meta["feature_uid"]) if meta["feature_uid"] else None
    fid = attachments.feature_id_of(conn, layer, feature_uid, meta["feature_id"])
    new = described(data, meta["filename"], meta["media_type"], layer=layer, feature_id=fid, role=meta["role"],
                    caption=meta["caption"], uid=uid)  # fmt: skip
    return attachments.add(conn, folder, new, data)


def described(data: bytes, filename: str, media_type: str, **where: Any) -> attachments.NewAttachment:
    """A file checked and described: a photo (decoded, EXIF, preview) or a PDF document; InvalidInput else."""
    if media_type in photos.DOCUMENT_TYPES:
        photos.check_document(data, filename)
        return attachments.NewAttachment(filename=filename, media_type=media_type, **where)
    photo = photos.inspect(data, filename)
    return attachments.NewAttachment(
        filename=filename, media_type=photo.media_type, captured_at=photo.taken_at, width=photo.width,
        height=photo.height, position=photo.position, thumbnail=photo.thumbnail, **where,
    )  # fmt: skip
