"""Reading the change log: a feature's history, restoring a version, a layer as of a past moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.db import UID_TAKEN
from core.errors import Conflict, NotFound
from layers.spec import Layer


def feature_history(conn: psycopg.Connection, layer: str, feature_id: int) -> list[dict[str, Any]]:
    """Every change of one feature, oldest first, geometry as GeoJSON for people to read."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT h.id, h.version, h.operation, h.actor, h.cause, h.at,
                   mahalle.state_for_display(h.before) AS before,
                   mahalle.state_for_display(h.after) AS after
              FROM mahalle.feature_history(%s, %s) h
            """,
            (layer, feature_id),
        )
        rows = cur.fetchall()
    if not rows:
        raise NotFound(f"{layer} feature {feature_id} has no history.")
    return rows


def restore(conn: psycopg.Connection, layer: str, feature_id: int, version: int | None = None) -> int:
    """Bring back a deleted feature, or an earlier version of a live one. Returns the new version (the same one
    when the state brought back is the current one). Conflict when a newer feature took the deleted one's uid."""
    try:
        return conn.execute("SELECT mahalle.restore_feature(%s, %s, %s)", (layer, feature_id, version)).fetchone()[0]
    except psycopg.errors.NoDataFound as exc:
        raise NotFound(exc.diag.message_primary) from exc
    except psycopg.errors.IntegrityError as exc:
        if exc.diag.sqlstate == UID_TAKEN:
            raise Conflict(exc.diag.message_primary) from exc
        raise


def layer_as_of(conn: psycopg.Connection, layer: str, at: datetime) -> list[dict[str, Any]]:
    """The features of a layer as they were at ``at``: attributes plus geometry as GeoJSON."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT feature_id, mahalle.state_for_display(state) AS state "
            "FROM mahalle.layer_states_as_of(%s, %s) ORDER BY feature_id",
            (layer, at),
        )
        return cur.fetchall()


def deleted_features(
    conn: psycopg.Connection, layers: list[Layer], neighbourhood_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Features whose last change is a delete and that nobody brought back (no live row has their id or uid),
    newest delete first: who deleted what, when, and whether the connection's user may restore it. Row-level
    security on the history and the layers leaves out what the user may not read."""
    parts = [_deleted_part(layer) for layer in layers]
    if not parts:
        return []
    statement = sql.SQL(
        "SELECT d.*, n.code AS neighbourhood_code, n.name AS neighbourhood_name "
        "FROM ({parts}) d LEFT JOIN public.neighbourhoods n ON n.id = d.neighbourhood_id "
        "WHERE %(nid)s::bigint IS NULL OR d.neighbourhood_id = %(nid)s "
        "ORDER BY d.at DESC, d.history_id DESC LIMIT %(limit)s"
    ).format(parts=sql.SQL(" UNION ALL ").join(parts))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(statement, {"nid": neighbourhood_id, "limit": limit}).fetchall()
    return [_deleted_row(row) for row in rows]


def _deleted_part(layer: Layer) -> sql.Composable:
    label = layer.label_attribute or next((a.name for a in layer.attributes if a.type == "text"), None)
    hood = "h.feature_id" if layer.name == "neighbourhoods" else "(h.before->>'neighbourhood_id')::bigint"
    return sql.SQL(
        "SELECT h.id AS history_id, h.layer, h.feature_id, h.feature_uid, h.version, h.actor, h.cause, h.at, "
        "{label} AS label, {hood} AS neighbourhood_id, "
        "mahalle.in_scope({hood}, (SELECT mahalle.scope('edit', {name}))) AS restorable "
        "FROM mahalle.history h WHERE h.layer = {name} AND h.operation = 'DELETE' "
        "AND NOT EXISTS (SELECT 1 FROM mahalle.history l WHERE l.layer = h.layer AND l.feature_id = h.feature_id "
        "AND l.id > h.id) "
        "AND NOT EXISTS (SELECT 1 FROM public.{table} t WHERE t.id = h.feature_id OR t.uid = h.feature_uid)"
    ).format(
        label=sql.SQL("h.before->>{}").format(sql.Literal(label)) if label else sql.SQL("NULL::text"),
        hood=sql.SQL(hood),
        name=sql.Literal(layer.name),
        table=sql.Identifier(layer.name),
    )


def _deleted_row(row: dict[str, Any]) -> dict[str, Any]:
    hood = (
        {"id": row["neighbourhood_id"], "code": row["neighbourhood_code"], "name": row["neighbourhood_name"]}
        if row["neighbourhood_code"] is not None
        else None
    )
    return {
        "layer": row["layer"],
        "id": row["feature_id"],
        "uid": str(row["feature_uid"]) if row["feature_uid"] else None,
        "version": row["version"],
        "label": row["label"],
        "deleted_by": row["actor"],
        "deleted_at": row["at"],
        "cause": row["cause"],
        "neighbourhood": hood,
        "restorable": bool(row["restorable"]),
    }
