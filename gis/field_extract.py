"""What a field device carries: one neighbourhood's features of every layer the user may read, as GeoJSON.

The device downloads it once with a connection and draws its map from it with none. Its size is worked out
before the download (the planner of a big neighbourhood on a metered phone wants to know), from the same
statement the extract itself runs, without building the text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.crs import STORAGE
from core.errors import NotFound
from layers.catalogue import Catalogue
from layers.geojson import feature_json
from layers.spec import Layer

SAMPLE = 500  # features of a layer whose average size, times a neighbourhood's count, says how big its extract is


def _layers(catalogue: Catalogue) -> list[Layer]:
    """Every spatial layer but the neighbourhoods themselves (sent once, as the extract's outline)."""
    return [layer for layer in catalogue.spatial() if layer.name != "neighbourhoods"]


def neighbourhoods(conn: psycopg.Connection, catalogue: Catalogue) -> list[dict[str, Any]]:
    """The neighbourhoods the user may read, by name, each with the layers of its extract and their size."""
    rows = conn.execute(
        "SELECT id, code, name, ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] "
        "FROM (SELECT id, code, name, ST_Extent(geom)::box2d AS e FROM public.neighbourhoods GROUP BY id) n "
        "ORDER BY name, code"
    ).fetchall()
    sizes = _sizes(conn, catalogue)
    out = []
    for nid, code, name, bbox in rows:
        layers = [{"name": layer, "count": n, "bytes": b} for (i, layer), (n, b) in sizes.items() if i == nid]
        out.append({"code": code, "name": name, "bbox": [round(v, 6) for v in bbox], "layers": layers,
                    "bytes": sum(x["bytes"] for x in layers)})  # fmt: skip
    return out


def _sizes(conn: psycopg.Connection, catalogue: Catalogue) -> dict[tuple[int, str], tuple[int, int]]:
    """(neighbourhood id, layer) → (features, approximate bytes of their GeoJSON): the counts exactly, the size as
    count × the average size of a sample of the layer's features as the extract writes them."""
    parts = [
        sql.SQL(
            "SELECT c.neighbourhood_id, {name}, c.n, c.n * coalesce(s.avg, 0) FROM "
            "(SELECT neighbourhood_id, count(*) AS n FROM public.{table} WHERE neighbourhood_id IS NOT NULL "
            "GROUP BY neighbourhood_id) c, "
            "(SELECT avg(octet_length({feature})) AS avg "
            "FROM (SELECT * FROM public.{table} ORDER BY id LIMIT {sample}) t) s"
        ).format(
            name=sql.Literal(layer.name),
            table=sql.Identifier(layer.name),
            feature=feature_json(layer, STORAGE),
            sample=sql.Literal(SAMPLE),
        )  # fmt: skip
        for layer in _layers(catalogue)
    ]
    if not parts:
        return {}
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {(nid, name): (count, int(size)) for nid, name, count, size in rows}


def extract(conn: psycopg.Connection, catalogue: Catalogue, code: str) -> dict[str, Any]:
    """The package for one neighbourhood: its outline and every readable layer's features inside it."""
    row = conn.execute(
        sql.SQL("SELECT t.id, t.code, t.name, {} FROM public.neighbourhoods t WHERE t.code = %s").format(
            feature_json(catalogue["neighbourhoods"], STORAGE)
        ),
        [code],
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no neighbourhood {code!r} you may see.")
    nid = row[0]
    layers = {layer.name: _collection(conn, layer, nid) for layer in _layers(catalogue)}
    return {
        "neighbourhood": {"id": nid, "code": row[1], "name": row[2], "outline": row[3]},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "layers": layers,
        "tasks": _open_tasks(conn, nid),
    }


def _open_tasks(conn: psycopg.Connection, nid: int) -> list[dict[str, Any]]:
    """The neighbourhood's tasks still under way, for what field staff record against them (a mobile unit's
    visits): as the user may read them (row-level security), goals last."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, title, domain, level, status FROM public.tasks WHERE neighbourhood_id = %s "
            "AND status NOT IN ('done', 'cancelled') ORDER BY level = 'goal', title, id",
            [nid],
        ).fetchall()


def _collection(conn: psycopg.Connection, layer: Layer, nid: int) -> str:
    """A layer's features in the neighbourhood as FeatureCollection text, as PostGIS writes it."""
    query = sql.SQL(
        'SELECT \'{{"type": "FeatureCollection", "features": [\' '
        "|| coalesce(string_agg({f}, ',' ORDER BY t.id), '') || ']}}' "
        "FROM public.{table} t WHERE t.neighbourhood_id = %s"
    ).format(f=feature_json(layer, STORAGE), table=sql.Identifier(layer.name))
    return conn.execute(query, [nid]).fetchone()[0]


def to_json(package: dict[str, Any]) -> str:
    """The package as JSON text, the layers' GeoJSON spliced in as PostGIS wrote it (no parse, no re-dump)."""
    layers = ", ".join(f"{json.dumps(name)}: {text}" for name, text in package["layers"].items())
    hood = package["neighbourhood"]
    head = {k: v for k, v in hood.items() if k != "outline"}
    return (
        f'{{"neighbourhood": {json.dumps(head, ensure_ascii=False)[:-1]}, "outline": {hood["outline"]}}}, '
        f'"generated_at": {json.dumps(package["generated_at"])}, "layers": {{{layers}}}, '
        f'"tasks": {json.dumps(package.get("tasks", []), ensure_ascii=False)}}}'
    )
