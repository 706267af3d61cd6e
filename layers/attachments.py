"""Photos and documents of features (``public.attachments``): rows in the database, bytes in a folder.

Small files stay in the row (``data``); larger ones are written once under the files folder by their SHA-256
(``path`` is relative to it, so the folder can move) and never overwritten: the same photo sent twice, or kept by
the history of a deleted attachment, is one file. Who may attach to which feature is the database's rule
(``mahalle.permit_attachments``): field workers attach, editors move and remove.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.errors import Forbidden, InvalidInput, NotFound

ROLES = ("photo", "before", "after", "document")
INLINE_BYTES = 64 * 1024  # below this a file lives in its row


@dataclass(frozen=True)
class NewAttachment:
    layer: str
    feature_id: int
    filename: str
    media_type: str
    role: str = "photo"
    caption: str | None = None
    captured_at: datetime | None = None
    width: int | None = None
    height: int | None = None
    position: tuple[float, float] | None = None  # lon, lat
    thumbnail: bytes | None = None
    uid: uuid.UUID | None = None


def clean_filename(name: str) -> str:
    """The last part of a client's file name, without control characters, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "file"
    return base[-255:]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}", "role")
    return role


def feature_id_of(conn: psycopg.Connection, layer: str, feature_uid: uuid.UUID | None, fid: int | None = None) -> int:
    """The id of the feature with this uid (or this id) that the user may see; the layer name was checked against
    the catalogue by the caller."""
    column = "uid" if fid is None else "id"
    row = conn.execute(
        sql.SQL("SELECT id FROM public.{} WHERE {} = %s").format(sql.Identifier(layer), sql.Identifier(column)),
        [feature_uid if fid is None else fid],
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no {layer} feature {fid or feature_uid} (yet): send the feature first.")
    return row[0]


def check_attach(conn: psycopg.Connection, layer: str, fid: int) -> None:
    """Whether the user may attach to this feature, asked before any byte is read or stored (the database asks
    again when the row is written)."""
    query = "SELECT mahalle.in_scope(mahalle.feature_neighbourhood(%s, %s), mahalle.scope('attach', %s))"
    if not conn.execute(query, [layer, fid, layer]).fetchone()[0]:
        raise Forbidden(f"your roles do not allow you to attach photos to {layer} feature {fid}")


def _store(folder: Path, data: bytes, sha256: str) -> None:
    """Write the bytes once under ``folder`` (atomically: a half-written file never has the final name)."""
    relative = f"{sha256[:2]}/{sha256}"
    target = folder / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)


def add(conn: psycopg.Connection, folder: Path, new: NewAttachment, data: bytes) -> int:
    """Insert an attachment; its id. The bytes go to the row or the folder by size."""
    sha256 = hashlib.sha256(data).hexdigest()
    inline = len(data) <= INLINE_BYTES
    path = None if inline else f"{sha256[:2]}/{sha256}"
    position = None if new.position is None else f"SRID=4326;POINT({new.position[0]} {new.position[1]})"
    row = conn.execute(
        "INSERT INTO public.attachments (uid, layer, feature_id, role, filename, media_type, size_bytes, sha256, "
        "data, path, caption, captured_at, width, height, exif_position, thumbnail) "
        "VALUES (coalesce(%s, gen_random_uuid()), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "%s::geometry, %s) RETURNING id",
        [
            new.uid, new.layer, new.feature_id, check_role(new.role), clean_filename(new.filename), new.media_type,
            len(data), sha256, data if inline else None, path, new.caption, new.captured_at, new.width, new.height,
            position, new.thumbnail,
        ],
    ).fetchone()  # fmt: skip
    if not inline:  # the row was accepted: now the bytes (a refused row leaves no file behind)
        _store(folder, data, sha256)
    return row[0]


_SELECT = (
    "SELECT a.id, a.uid, a.layer, a.feature_id, a.role, a.filename, a.media_type, a.size_bytes, a.sha256, a.caption, "
    "a.captured_at, a.width, a.height, a.thumbnail IS NOT NULL AS has_thumbnail, a.created_by, a.created_at, "
    "CASE WHEN a.exif_position IS NULL THEN NULL "
    "ELSE ARRAY[ST_X(a.exif_position), ST_Y(a.exif_position)] END AS exif_position FROM public.attachments a"
)


def listing(conn: psycopg.Connection, layer: str, feature_ids: list[int]) -> list[dict[str, Any]]:
    """The attachments of some features of a layer (what the user may read), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _SELECT + " WHERE a.layer = %s AND a.feature_id = ANY(%s) ORDER BY a.feature_id, a.created_at, a.id "
            "LIMIT 2000",
            [layer, feature_ids],
        ).fetchall()


def get(conn: psycopg.Connection, aid: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE a.id = %s", [aid]).fetchone()
    if row is None:
        raise NotFound(f"There is no attachment {aid}.")
    return row


def content(conn: psycopg.Connection, folder: Path, aid: int) -> tuple[dict[str, Any], bytes | Path]:
    """An attachment and its bytes (in the row) or its file (in the folder)."""
    meta = get(conn, aid)
    data, path = conn.execute("SELECT data, path FROM public.attachments WHERE id = %s", [aid]).fetchone()
    if data is not None:
        return meta, bytes(data)
    target = (folder / path).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        raise NotFound(f"The file of attachment {aid} is missing from the server's files folder.")
    return meta, target


def thumbnail(conn: psycopg.Connection, aid: int) -> bytes:
    row = conn.execute("SELECT thumbnail FROM public.attachments WHERE id = %s", [aid]).fetchone()
    if row is None:
        raise NotFound(f"There is no attachment {aid}.")
    if row[0] is None:
        raise NotFound(f"Attachment {aid} is not a photo: it has no thumbnail.")
    return bytes(row[0])


def delete(conn: psycopg.Connection, aid: int) -> None:
    if conn.execute("DELETE FROM public.attachments WHERE id = %s RETURNING id", [aid]).fetchone() is None:
        raise NotFound(f"There is no attachment {aid}.")


def copy_to(conn: psycopg.Connection, source_layer: str, source_id: int, layer: str, feature_id: int) -> int:
    """Attach a feature's photos to another one too (an observation's photos to what it became)."""
    return conn.execute(
        "INSERT INTO public.attachments (layer, feature_id, role, filename, media_type, size_bytes, sha256, data, "
        "path, caption, captured_at, width, height, exif_position, thumbnail) "
        "SELECT %s, %s, role, filename, media_type, size_bytes, sha256, data, path, caption, captured_at, width, "
        "height, exif_position, thumbnail FROM public.attachments WHERE layer = %s AND feature_id = %s",
        [layer, feature_id, source_layer, source_id],
    ).rowcount
