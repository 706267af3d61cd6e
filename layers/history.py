"""Reading the change log: a feature's history, restoring a version, a layer as of a past moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.db import UID_TAKEN
from core.errors import Conflict, NotFound


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
