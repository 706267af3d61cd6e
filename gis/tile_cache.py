"""The vector tile cache (``mahalle.tile_cache``, migration 0015): a tile kept per layer, zoom, column, row, the
reader's scope (which neighbourhoods they may read) and the statement that made it. Edits drop exactly the kept
tiles their old and new geometries touch, in the database (every writer); a tile made while an edit of its layer
was in flight is served but not kept (layers/sql/tile_cache.sql)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import psycopg

from gis.tiles import BUFFER, EXTENT, WEB_MERCATOR_HALF

EVICT_EVERY = 100  # tiles kept (per process) between two checks of the cache's size at most
EVICT_SHARE = 16  # ... and a check as soon as this process kept a sixteenth of the limit since the last one
ROW_OVERHEAD = 200  # bytes a kept tile costs beyond its data (key, bounds, index entries), roughly
_since = {"tiles": 0, "bytes": 0}  # kept by this process since its last check
_since_lock = threading.Lock()


@dataclass(frozen=True)
class Lookup:
    """A kept tile (``hit``), or what keeping the tile made next needs (``epoch``; None: do not keep it)."""

    hit: bool
    data: bytes = b""
    etag: str | None = None
    truncated: bool = False
    epoch: int | None = None


def etag_of(data: bytes) -> str | None:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"' if data else None


def lookup(conn: psycopg.Connection, layer: str, z: int, x: int, y: int, variant: str) -> Lookup:
    """The tile kept for this connection's reader (autocommit: each call its own snapshot)."""
    data, etag, truncated, epoch = conn.execute(  # binary: the bytes as kept, not hex-encoded text
        "SELECT * FROM mahalle.tile_cache_get(%s, %s, %s, %s, %s)", (layer, z, x, y, variant), binary=True
    ).fetchone()
    if data is None:
        return Lookup(hit=False, epoch=epoch)
    return Lookup(hit=True, data=bytes(data), etag=etag, truncated=bool(truncated))


def keep(conn: psycopg.Connection, layer: str, z: int, x: int, y: int, variant: str, epoch: int | None,
         data: bytes, truncated: bool, limit_mb: int) -> bool:  # fmt: skip
    """Keep a tile made after ``lookup`` missed; False when an edit of the layer ran meanwhile (or another reader
    was keeping a tile of it at that instant). After every ``EVICT_EVERY`` tiles or a ``EVICT_SHARE``th of the
    limit kept, the oldest tiles beyond ``limit_mb`` go: a process never grows the cache past the limit by more
    than that share (each process counts its own)."""
    if epoch is None:
        return False
    margin = 2 * WEB_MERCATOR_HALF / 2**z * (BUFFER + 1) / EXTENT
    (kept,) = conn.execute(
        "SELECT mahalle.tile_cache_put(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (layer, z, x, y, variant, epoch, data, etag_of(data), truncated, margin),
    ).fetchone()
    if kept and _due(len(data) + ROW_OVERHEAD, limit_mb):
        evict(conn, limit_mb)
    return bool(kept)


def _due(size: int, limit_mb: int) -> bool:
    with _since_lock:
        _since["tiles"] += 1
        _since["bytes"] += size
        if _since["tiles"] < EVICT_EVERY and _since["bytes"] * EVICT_SHARE < limit_mb * 1024 * 1024:
            return False
        _since["tiles"] = _since["bytes"] = 0
        return True


def evict(conn: psycopg.Connection, limit_mb: int) -> int:
    """Drop the oldest tiles beyond ``limit_mb``; how many went. Never waits: a tile an edit in flight is dropping
    (row-locked) is left to it."""
    cur = conn.execute(
        """
        DELETE FROM mahalle.tile_cache WHERE ctid = ANY (ARRAY(
          SELECT f.ctid FROM mahalle.tile_cache f WHERE f.ctid = ANY (ARRAY(
            SELECT s.ctid FROM (SELECT c.ctid, sum(octet_length(c.data) + %s)
                                               OVER (ORDER BY c.created_at DESC, c.ctid) AS total
                                  FROM mahalle.tile_cache c) s
             WHERE s.total > %s))
          FOR UPDATE SKIP LOCKED))
        """,
        (ROW_OVERHEAD, limit_mb * 1024 * 1024),
    )
    return cur.rowcount
