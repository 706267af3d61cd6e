"""Finding features by what people type: names, codes, addresses, ids.

What is searched comes from the catalogue: every ``text`` attribute of a spatial layer, plus the feature's id
(exact) and uid (prefix). One statement, a ``UNION ALL`` of one bounded part per layer, runs on the caller's
connection, so row-level security leaves out what the user may not read. The typed text reaches SQL only as a
bind parameter, with its ``%``, ``_`` and ``\\`` escaped, so they match themselves.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.errors import InvalidInput
from layers.catalogue import Catalogue
from layers.spec import Layer

MAX_QUERY = 100  # characters: enough for any name or address, short enough to keep the patterns cheap
MAX_LIMIT = 50
SNIPPET = 120  # characters of a long matched text shown around the match
LABEL_MAX_LENGTH = 300  # a text attribute this short can name a feature; longer ones are notes
_UID_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")

# Ranks: the whole text, its beginning, anywhere in it.
EXACT, PREFIX, CONTAINS = 0, 1, 2


def like_escape(text: str) -> str:
    """``text`` as a literal part of a LIKE pattern (backslash is PostgreSQL's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def searched_attributes(layer: Layer) -> list[str]:
    """The attributes a search looks in: every text attribute of the layer, in catalogue order."""
    return [a.name for a in layer.attributes if a.type == "text"]


def label_attribute(layer: Layer) -> str | None:
    """The attribute that names a feature: the layer's label attribute when it is text, else its first short
    text attribute (a name or a code; notes are long)."""
    texts = [a for a in layer.attributes if a.type == "text"]
    if layer.label_attribute and any(a.name == layer.label_attribute for a in texts):
        return layer.label_attribute
    short = [a.name for a in texts if a.max_length is not None and a.max_length <= LABEL_MAX_LENGTH]
    return short[0] if short else None


def _candidates(layer: Layer, q: str) -> list[sql.Composable]:
    """``(order, attribute, text, rank)`` rows of the lateral VALUES: the id and uid when the text can be one,
    every text attribute always."""
    t = sql.Identifier("t")
    rows: list[sql.Composable] = []
    if q.isascii() and q.isdigit() and int(q) < 2**63:
        rows.append(sql.SQL("(0, 'id', {t}.id::text, CASE WHEN {t}.id = %(id)s THEN 0 END)").format(t=t))
    if _UID_PREFIX.match(q.lower()):
        rows.append(sql.SQL("(1, 'uid', {t}.uid::text, CASE WHEN {t}.uid::text LIKE %(uid)s THEN 1 END)").format(t=t))
    for i, name in enumerate(searched_attributes(layer), start=2):
        col = sql.SQL("{}.{}").format(t, sql.Identifier(name))
        rows.append(
            sql.SQL(
                "({i}, {name}, {col}, CASE WHEN lower({col}) = lower(%(q)s) THEN 0 "
                "WHEN {col} ILIKE %(prefix)s THEN 1 WHEN {col} ILIKE %(contains)s THEN 2 END)"
            ).format(i=sql.Literal(i), name=sql.Literal(name), col=col)
        )
    return rows


def _layer_part(layer: Layer, order: int, q: str) -> sql.Composable | None:
    candidates = _candidates(layer, q)
    if not candidates:
        return None
    label = label_attribute(layer)
    label_sql = sql.SQL("t.{}").format(sql.Identifier(label)) if label else sql.SQL("NULL::text")
    if layer.name == "neighbourhoods":
        hood = sql.SQL("t.id")
    elif layer.neighbourhood_scoped:
        hood = sql.SQL("t.neighbourhood_id")
    else:
        hood = sql.SQL("NULL::bigint")
    return sql.SQL(
        "(SELECT {name} AS layer, {order} AS layer_order, t.id, {label} AS label, m.attr, m.text, m.rank, "
        "{hood} AS neighbourhood_id, GeometryType(t.geom) = 'POINT' AS is_point, "
        "ST_XMin(t.geom::box2d) AS x0, ST_YMin(t.geom::box2d) AS y0, "
        "ST_XMax(t.geom::box2d) AS x1, ST_YMax(t.geom::box2d) AS y1 "
        "FROM public.{table} t CROSS JOIN LATERAL ("
        "SELECT v.attr, v.text, v.rank FROM (VALUES {values}) v(ord, attr, text, rank) "
        "WHERE v.rank IS NOT NULL ORDER BY v.rank, v.ord LIMIT 1) m "
        "ORDER BY m.rank, t.id LIMIT %(limit)s)"
    ).format(
        name=sql.Literal(layer.name),
        order=sql.Literal(order),
        label=label_sql,
        hood=hood,
        table=sql.Identifier(layer.name),
        values=sql.SQL(", ").join(candidates),
    )


def searchable(catalogue: Catalogue, names: list[str] | None = None) -> list[Layer]:
    """The spatial layers to search: all of them, or those named (unknown or non-spatial names refused)."""
    spatial = catalogue.spatial()
    if not names:
        return spatial
    by_name = {layer.name: layer for layer in spatial}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise InvalidInput(
            f"There is no map layer named {unknown[0][:60]!r} to search; use some of: {', '.join(by_name)}.",
            "layers",
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def check_query(q: str) -> str:
    text = " ".join(q.split())  # spaces as people type them: leading, trailing, doubled
    if not text:
        raise InvalidInput("Type something to search for.", "q")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"The search text is at most {MAX_QUERY} characters long (got {len(text)}).", "q")
    return text


def snippet(text: str, q: str) -> str:
    """A long matched text cut to the part around the match, so a hit in a long note stays readable."""
    if len(text) <= SNIPPET:
        return text
    at = max(text.lower().find(q.lower()), 0)
    start = max(0, min(at - SNIPPET // 3, len(text) - SNIPPET))
    cut = text[start : start + SNIPPET]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET < len(text) else "")


def search(
    conn: psycopg.Connection, catalogue: Catalogue, q: str, layers: list[str] | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The features whose id, uid or text attributes match ``q``, best first (whole text, then beginning, then
    anywhere; then layer order and id), at most ``limit``; only those the connection's user may read."""
    text = check_query(q)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT} (got {limit}).", "limit")
    chosen = searchable(catalogue, layers)
    order = {layer.name: i for i, layer in enumerate(catalogue.spatial())}
    parts = [p for layer in chosen if (p := _layer_part(layer, order[layer.name], text)) is not None]
    if not parts:
        return []
    statement = sql.SQL(
        "SELECT r.*, n.code AS neighbourhood_code, n.name AS neighbourhood_name FROM ({parts}) r "
        "LEFT JOIN public.neighbourhoods n ON n.id = r.neighbourhood_id "
        "ORDER BY r.rank, r.layer_order, r.id LIMIT %(limit)s"
    ).format(parts=sql.SQL(" UNION ALL ").join(parts))
    escaped = like_escape(text)
    params = {
        "q": text,
        "prefix": f"{escaped}%",
        "contains": f"%{escaped}%",
        "uid": f"{like_escape(text.lower())}%",
        "id": int(text) if text.isascii() and text.isdigit() and int(text) < 2**63 else None,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(statement, params).fetchall()
    return [_hit(row, text) for row in rows]


def _hit(row: dict[str, Any], q: str) -> dict[str, Any]:
    hood = (
        {"id": row["neighbourhood_id"], "code": row["neighbourhood_code"], "name": row["neighbourhood_name"]}
        if row["neighbourhood_code"] is not None
        else None
    )
    box = [row["x0"], row["y0"], row["x1"], row["y1"]]
    has_geometry = row["x0"] is not None
    return {
        "layer": row["layer"],
        "id": row["id"],
        "label": row["label"],
        "matched": {"attribute": row["attr"], "text": snippet(row["text"], q)},
        "neighbourhood": hood,
        "point": box[:2] if has_geometry and row["is_point"] else None,
        "bbox": box if has_geometry and not row["is_point"] else None,
    }
