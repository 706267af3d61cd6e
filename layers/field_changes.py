"""What the field sent: one row per change, keyed by the client's change id (``public.field_changes``).

The row makes a resend harmless (the first arrival's result is returned again) and keeps a change that met a newer
server version — a conflict — until a planner keeps the field's or the server's values.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.errors import Conflict, NotFound

SOURCES = ("device", "geopackage")
OPS = ("create", "update", "delete")
OPEN = "conflict"


def payload_hash(payload: Any) -> str:
    """A stable fingerprint of what was sent (key order does not matter), to tell a resend from a reused id."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Received:
    """An earlier arrival of a change id."""

    id: int
    state: str
    same: bool  # the same content as now (a resend), or another change under a reused id
    result: dict[str, Any] | None


def seen(conn: psycopg.Connection, uid: uuid.UUID, payload: Any) -> Received | None:
    row = conn.execute(
        "SELECT id, state, payload_sha256, result FROM public.field_changes WHERE uid = %s", [uid]
    ).fetchone()
    if row is None:
        return None
    return Received(row[0], row[1], row[2] == payload_hash(payload), row[3])


def record(
    conn: psycopg.Connection,
    *,
    uid: uuid.UUID,
    source: str,
    op: str,
    layer: str,
    payload: Any,
    state: str,
    feature_id: int | None = None,
    feature_uid: uuid.UUID | None = None,
    base_version: int | None = None,
    neighbourhood_id: int | None = None,
    server: Any = None,
    message: str | None = None,
    result: Any = None,
) -> int:
    """Keep a change's arrival; the id of its row. A change id already kept keeps its first row (idempotent)."""
    row = conn.execute(
        "INSERT INTO public.field_changes (uid, source, op, layer, feature_id, feature_uid, base_version, "
        "neighbourhood_id, payload, payload_sha256, state, server, message, result) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (uid) DO NOTHING RETURNING id",
        [
            uid,
            source,
            op,
            layer,
            feature_id,
            feature_uid,
            base_version,
            neighbourhood_id,
            Jsonb(payload),
            payload_hash(payload),
            state,
            None if server is None else Jsonb(server),
            message[:2000] if message else None,
            None if result is None else Jsonb(result),
        ],
    ).fetchone()
    if row is not None:
        return row[0]
    # Kept meanwhile (a concurrent send of the same id) or hidden (another user's): the same content only.
    row = conn.execute("SELECT id, payload_sha256 FROM public.field_changes WHERE uid = %s", [uid]).fetchone()
    if row is None or row[1] != payload_hash(payload):
        raise Conflict(f"change id {uid} is already in use for another change; send this one with a new id")
    return row[0]


def record_conflict(
    conn: psycopg.Connection,
    *,
    uid: uuid.UUID,
    source: str,
    op: str,
    layer: str,
    feature_id: int | None,
    base_version: int | None,
    payload: Any,
    server: dict[str, Any] | None,
    message: str,
) -> int:
    """Keep a change that met a newer server version for a planner to resolve; idempotent on ``uid``.

    ``server`` is the server's feature (GeoJSON, properties include ``neighbourhood_id``) or None when the server
    deleted it; the conflict is shown to the planners of that neighbourhood.
    """
    props = (server or {}).get("properties") or {}
    nid = props.get("neighbourhood_id") if layer != "neighbourhoods" else (server or {}).get("id")
    if nid is None and feature_id is not None:
        nid = last_neighbourhood(conn, layer, feature_id)
    return record(
        conn, uid=uid, source=source, op=op, layer=layer, payload=payload, state=OPEN, feature_id=feature_id,
        base_version=base_version, neighbourhood_id=nid, server=server, message=message,
    )  # fmt: skip


def last_neighbourhood(conn: psycopg.Connection, layer: str, feature_id: int) -> int | None:
    """Where a feature lies, or lay when it was last seen (a deleted one: its last history entry the user may read)."""
    row = conn.execute(
        "SELECT coalesce((after->>'neighbourhood_id')::bigint, (before->>'neighbourhood_id')::bigint) "
        "FROM mahalle.history WHERE layer = %s AND feature_id = %s ORDER BY version DESC, id DESC LIMIT 1",
        [layer, feature_id],
    ).fetchone()
    return row[0] if row else None


def get(conn: psycopg.Connection, cid: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE c.id = %s", [cid]).fetchone()
    if row is None:
        raise NotFound(f"There is no field change {cid}.")
    return row


def open_conflicts(conn: psycopg.Connection, neighbourhood_id: int | None = None) -> list[dict[str, Any]]:
    """The conflicts waiting for a planner (only those the user may read: row-level security)."""
    where = " WHERE c.state = 'conflict'" + (" AND c.neighbourhood_id = %s" if neighbourhood_id else "")
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _SELECT + where + " ORDER BY c.created_at, c.id LIMIT 500", [neighbourhood_id] if neighbourhood_id else []
        ).fetchall()


def of_author(conn: psycopg.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """The caller's own conflicts and refused changes, newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _SELECT + " WHERE c.created_by = mahalle.user_name() AND c.state <> 'applied' "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT %s",
            [limit],
        ).fetchall()


def close(conn: psycopg.Connection, cid: int, state: str) -> None:
    """Mark an open conflict resolved (the database checks that the user may edit the feature there)."""
    if state not in ("kept_field", "kept_server"):
        raise ValueError(state)
    row = conn.execute(
        "UPDATE public.field_changes SET state = %s WHERE id = %s AND state = 'conflict' RETURNING id", [state, cid]
    ).fetchone()
    if row is None:
        current = get(conn, cid)
        raise Conflict(f"Field change {cid} is not waiting for a decision any more (it is {current['state']}).")


_SELECT = (
    "SELECT c.id, c.uid, c.source, c.op, c.layer, c.feature_id, c.feature_uid, c.base_version, c.neighbourhood_id, "
    "c.payload, c.payload AS field, c.state, c.server, c.message, c.result, c.created_at, c.created_by, "
    "c.resolved_at, c.resolved_by "
    "FROM public.field_changes c"
)
