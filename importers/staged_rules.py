"""A layer's validation — what its trigger (``mahalle.validate_<layer>``, layers/ddl.py) checks row by row — as one
statement over an import's staged rows. Rows that break a rule leave the load and are reported with every problem
they have, in the trigger's words; the rows that stay are written as a checked load (layers/sql/checked_loads.sql),
so the trigger does not check them a second time.

Generated from the catalogue like the trigger itself: names enter as identifiers, values as literals. The value
lists are read from the database in the same statement (``mahalle.allowed_values``, once per statement), so an entry
retired a moment ago is refused here as the trigger would refuse it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from importers.load import STAGE, TEXT_STAGED
from layers.ddl import SQL_TYPES
from layers.spec import Attribute, Layer

if TYPE_CHECKING:
    from importers.run import ImportReport

# Each staged row with its attributes in their column types (bare names, so the catalogue's CHECK expressions read
# them as the table's columns), the value-list attributes of the feature it would update (`_was_<name>`), and that
# feature's id (a CHECK may name it).
_REJECT = """
DELETE FROM {stage} s
 USING (SELECT c._row, array_to_string(ARRAY[{problems}], '; ') AS problem
          FROM (SELECT o.ctid AS _row, o._geom AS geom, t.id AS id{columns}
                  FROM {stage} o LEFT JOIN public.{table} t ON t.id = o._fid) c
       ) checked
 WHERE s.ctid = checked._row AND checked.problem <> ''
RETURNING s._sid, checked.problem
"""


def reject_invalid(conn: psycopg.Connection, layer: Layer, report: ImportReport) -> int:
    """Take the staged rows of ``layer`` that its validation would refuse out of the load; how many."""
    problems = [*geometry_problems(layer), *(p for a in layer.attributes for p in attribute_problems(layer, a))]
    problems += [
        sql.SQL("CASE WHEN NOT ({}) THEN {} END").format(sql.SQL(check.sql), sql.Literal(check.message))
        for check in layer.checks
    ]
    if not problems:
        return 0
    query = sql.SQL(_REJECT).format(
        stage=sql.SQL(STAGE),
        table=sql.Identifier(layer.name),
        problems=sql.SQL(", ").join(problems),
        columns=sql.SQL("").join(sql.SQL(", ") + c for c in _columns(layer)),
    )
    rejected = conn.execute(query).fetchall()  # no parameters: the messages' format() patterns hold % signs
    for source_id, problem in rejected:
        report.reject(layer.name, None, source_id, problem)
    return len(rejected)


def _columns(layer: Layer) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    for a in layer.attributes:
        name = sql.Identifier(a.name)
        cast = sql.SQL("::" + SQL_TYPES[a.type]) if a.type in TEXT_STAGED else sql.SQL("")
        out.append(sql.SQL("o.{}{} AS {}").format(name, cast, name))
        if a.type in ("choice", "choices"):
            out.append(sql.SQL("t.{} AS {}").format(name, sql.Identifier(f"_was_{a.name}")))
    return out


def geometry_problems(layer: Layer) -> list[sql.Composable]:
    """What ``mahalle.prepare_geometry`` refuses, in its words (a single part where the layer holds multi-part
    geometries is not refused: the load makes it multi-part, as the trigger does)."""
    if not layer.has_geometry:
        return []
    want = layer.geometry_type.upper()  # type: ignore[union-attr]
    fits = [want, want[5:]] if want.startswith("MULTI") else [want]
    out: list[sql.Composable] = []
    if layer.geometry_required:
        out.append(sql.SQL("CASE WHEN geom IS NULL THEN 'the feature has no geometry' END"))
    out.append(
        sql.SQL(_GEOMETRY).format(
            want=sql.Literal(want),
            wrong_type=sql.SQL("false")
            if want == "GEOMETRY"
            else sql.SQL("GeometryType(geom) <> ALL ({})").format(sql.Literal(fits)),
        )
    )
    return out


_GEOMETRY = """CASE
  WHEN geom IS NULL THEN NULL
  WHEN ST_SRID(geom) <> 4326 THEN format(
    'the geometry is in EPSG:%s; Mahalle stores longitude/latitude (EPSG:4326), reproject it first', ST_SRID(geom))
  WHEN ST_NDims(geom) <> 2 THEN 'the geometry has Z or M values; send 2D coordinates'
  WHEN ST_IsEmpty(geom) THEN 'the geometry is empty'
  WHEN GeometryType(geom) = 'GEOMETRYCOLLECTION' OR {wrong_type} THEN format(
    'a %s does not fit this layer, which holds %s geometries', lower(GeometryType(geom)), lower({want}))
  WHEN NOT (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90)
    THEN format('coordinates must be longitude -180..180 and latitude -90..90 (got x %s..%s, y %s..%s); are longitude '
                'and latitude swapped, or is the data in another CRS?',
                ST_XMin(geom), ST_XMax(geom), ST_YMin(geom), ST_YMax(geom))
  WHEN NOT ST_IsValid(geom) THEN 'the geometry is invalid: ' || ST_IsValidReason(geom)
END"""


def attribute_problems(layer: Layer, a: Attribute) -> list[sql.Composable]:
    """The trigger's checks of one attribute, in its order: required, value list, minimum, maximum, length."""
    col, name = sql.Identifier(a.name), sql.Literal(a.name)
    out: list[sql.Composable] = []
    if a.required:
        out.append(sql.SQL("CASE WHEN {} IS NULL THEN {} END").format(col, sql.Literal(f"{a.name} is required")))
    if a.type in ("choice", "choices"):
        out.append(_list_problem(layer, a))
    if a.minimum is not None:
        low = sql.Literal(a.minimum)
        out.append(
            sql.SQL("CASE WHEN {c} < {v} THEN format('%s must be at least %s (got %s)', {n}, {v}, {c}) END").format(
                c=col, v=low, n=name
            )
        )
    if a.maximum is not None:
        high = sql.Literal(a.maximum)
        out.append(
            sql.SQL("CASE WHEN {c} > {v} THEN format('%s must be at most %s (got %s)', {n}, {v}, {c}) END").format(
                c=col, v=high, n=name
            )
        )
    if a.max_length is not None:
        most = sql.Literal(a.max_length)
        out.append(
            sql.SQL(
                "CASE WHEN char_length({c}) > {v} THEN format('%s is longer than %s characters', {n}, {v}) END"
            ).format(c=col, v=most, n=name)
        )
    return out


def _list_problem(layer: Layer, a: Attribute) -> sql.Composable:
    """A value not in the list: the database's list (``mahalle.vocabulary``, entries not retired) for the core
    layers, the declared one for custom layers; a value the feature already has stays allowed (a retired entry)."""
    col, name, was = sql.Identifier(a.name), sql.Literal(a.name), sql.Identifier(f"_was_{a.name}")
    if layer.kind == "custom":
        allowed: sql.Composable = sql.SQL("{}::text[]").format(sql.Literal(list(a.values)))
    else:
        allowed = sql.SQL("(SELECT mahalle.allowed_values({}, {}))::text[]").format(sql.Literal(layer.name), name)
    listed = sql.SQL("array_to_string({}, ', ')").format(allowed)
    if a.type == "choice":
        return sql.SQL(
            "CASE WHEN {c} IS DISTINCT FROM {was} AND {c} <> ALL ({allowed}) "
            "THEN format('%s %L is not one of: %s', {n}, {c}, {listed}) END"
        ).format(c=col, was=was, allowed=allowed, n=name, listed=listed)
    return sql.SQL(
        "CASE WHEN EXISTS (SELECT 1 FROM unnest({c}) x WHERE NOT x = ANY (coalesce({was}, '{{}}')) "
        "AND NOT x = ANY ({allowed})) THEN format('%s %s: only these values are allowed: %s', {n}, {c}, {listed}) END"
    ).format(c=col, was=was, allowed=allowed, n=name, listed=listed)


# What mahalle.permit_row refuses row by row, for the rows of a checked load (which skip it): a new feature in a
# neighbourhood where the user may not add, a feature moved into one where they may not edit. The statement-level
# check (z05_permit_*) would refuse them too, but only after row-level security had spoken in PostgreSQL's words.
_UNPERMITTED = """
SELECT CASE WHEN t.id IS NULL
            THEN mahalle.refuse(format('you may not add %s in %s', {layer}, mahalle.place_name(s._nid)))
            ELSE mahalle.refuse(format('you may not move %s feature %s into %s', {layer}, t.id,
                                       mahalle.place_name(s._nid))) END
  FROM {stage} s LEFT JOIN public.{table} t ON t.id = s._fid
 WHERE CASE WHEN t.id IS NULL THEN NOT mahalle.in_scope(s._nid, (SELECT mahalle.scope('create', {layer})))
            ELSE t.geom IS DISTINCT FROM s._geom AND s._nid IS DISTINCT FROM t.neighbourhood_id
                 AND NOT mahalle.in_scope(s._nid, (SELECT mahalle.scope('edit', {layer}))) END
 LIMIT 1
"""


# A user who may add and edit everywhere (the CLI, an administrator of every neighbourhood): no row to look at.
_EVERYWHERE = "SELECT mahalle.scope('create', %(layer)s) IS NULL AND mahalle.scope('edit', %(layer)s) IS NULL"


def refuse_unpermitted(conn: psycopg.Connection, layer: Layer) -> None:
    """Refuse the whole load (42501, the permit trigger's words) if a staged row lands where the user may not write."""
    if not (layer.has_geometry and layer.neighbourhood_scoped):
        return
    if conn.execute(_EVERYWHERE, {"layer": layer.name}).fetchone()[0]:
        return
    query = sql.SQL(_UNPERMITTED).format(
        layer=sql.Literal(layer.name), stage=sql.SQL(STAGE), table=sql.Identifier(layer.name),
        )  # fmt: skip
    conn.execute(query).fetchall()  # no parameters: the format() patterns hold % signs
