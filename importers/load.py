"""Atomic, repeatable bulk load of source rows into a layer.

Checked rows arrive column by column and are streamed into a typed temporary staging table with a binary
COPY, then moved into the layer with one set-based ``INSERT … ON CONFLICT (source, source_id) DO UPDATE``:
the layer's triggers validate each row and stamp it, its statement triggers write the history, and a
rejected row rolls the whole load back. The upsert finds each new row's neighbourhood with one spatial
join, by the rule of ``mahalle.derive_neighbourhood``, and gives it the stamps of ``mahalle.stamp_row``, so in a
checked load those two triggers skip the new rows (migration 0018).
Re-loading the same source updates rows instead of duplicating them, and leaves unchanged rows alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.pq import Format

from layers.ddl import SQL_TYPES
from layers.spec import Attribute, Layer

STAGE = "_mahalle_stage"
# From how many rows a first import into a layer builds its plain indexes after the rows (the layer is locked until
# the import ends): below that, inserting into them row by row costs less than the wait it would impose.
DEFER_INDEXES_FROM = 50_000
# Staged as text and cast in the upsert, exactly as the layer's columns read text (and as they did JSON).
TEXT_STAGED = ("date", "datetime")


class Row(Protocol):
    source_id: str
    attributes: dict[str, Any]
    geometry: Any


@dataclass
class Batch:
    """Checked rows of one layer, column by column; ``None`` is NULL."""

    source_ids: list[str]
    ewkb: list[bytes | None]  # longitude/latitude, SRID 4326
    values: dict[str, list[Any]]  # every attribute of the layer, defaults filled in

    def __len__(self) -> int:
        return len(self.source_ids)


@dataclass
class LoadReport:
    layer: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def defaults(layer: Layer) -> dict[str, Any]:
    return {a.name: a.default for a in layer.attributes if a.default is not None}


def to_ewkb(geometries: Any) -> list[bytes | None]:
    """EWKB (SRID 4326) of a batch of longitude/latitude shapely geometries in one call; ``None`` stays."""
    if not len(geometries):
        return []
    return shapely.to_wkb(shapely.set_srid(np.asarray(geometries, dtype=object), 4326), include_srid=True).tolist()


class _Ewkb(Dumper):
    """Sends EWKB as it is: PostGIS reads it as the binary form of ``geometry``."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return obj


def rows_to_batch(layer: Layer, rows: Iterable[Row]) -> Batch:
    """Rows with attribute dicts (the OSM reader, the demo) as a batch; missing attributes get their default."""
    rows = list(rows)
    base = defaults(layer)
    values = {
        a.name: [base.get(a.name) if (v := r.attributes.get(a.name)) is None else v for r in rows]
        for a in layer.attributes
    }
    return Batch([r.source_id for r in rows], to_ewkb([r.geometry for r in rows]), values)


def load_rows(conn: psycopg.Connection, layer: Layer, rows: Iterable[Row], source: str) -> LoadReport:
    """Load ``rows`` into ``layer`` inside the caller's transaction."""
    create_stage(conn, layer)
    staged = stage(conn, layer, rows_to_batch(layer, rows))
    match_staged(conn, layer, source)
    locate_staged(conn, layer)
    return upsert_staged(conn, layer, source, staged)


def _staged_type(a: Attribute) -> str:
    return "text" if a.type in TEXT_STAGED else SQL_TYPES[a.type]


def create_stage(conn: psycopg.Connection, layer: Layer) -> None:
    """An empty staging table shaped for ``layer``: the source id, the geometry, its neighbourhood and whether the
    geometry meets it (found by ``locate_staged``; a row outside may be given the nearest later), the feature it
    updates (``match_staged``) and one column per attribute."""
    # Bulk statements over a staging table without statistics look costly enough to the planner to be
    # compiled with LLVM, which cost more than the statement itself (0.9 s of 1.6 s for 50,000 rows).
    conn.execute("SELECT set_config('jit', 'off', true)")
    # The staged rows meet the layer in joins. A layer whose statistics say it is (nearly) empty — analyzed before
    # its first import — gets nested loops that scan it once per staged row, and in the upsert the pages the same
    # statement is filling: quadratic (100,000 parcels: 344 s instead of 15). Hash joins read each side once; a
    # layer known to be large keeps its index lookups (a few rows into a big layer).
    conn.execute(
        "SELECT set_config('enable_nestloop', CASE WHEN c.reltuples < 1000 THEN 'off' ELSE 'on' END, true) "
        "FROM pg_class c WHERE c.oid = %s::regclass",
        (f"public.{layer.name}",),
    )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.SQL(STAGE)))
    columns = [sql.SQL("{} {}").format(sql.Identifier(a.name), sql.SQL(_staged_type(a))) for a in layer.attributes]
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} (_sid text, _geom geometry, _nid bigint, _inside boolean, _fid bigint{}) "
            "ON COMMIT DROP"
        ).format(sql.SQL(STAGE), sql.SQL("").join(sql.SQL(", ") + c for c in columns))
    )


def stage(conn: psycopg.Connection, layer: Layer, batch: Batch) -> int:
    """Append ``batch`` to the staging table with one binary COPY; returns how many rows were staged."""
    if not len(batch):
        return 0
    names = [a.name for a in layer.attributes]
    target = sql.SQL(", ").join(map(sql.Identifier, ["_sid", "_geom", *names]))
    columns = [_coerce(a, batch.values[a.name]) for a in layer.attributes]
    cursor = conn.cursor()
    geometry = conn.execute("SELECT 'geometry'::regtype::oid").fetchone()[0]
    cursor.adapters.register_dumper(bytes, type("EwkbDumper", (_Ewkb,), {"oid": geometry}))
    with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.SQL(STAGE), target)) as copy:
        copy.set_types(["text", geometry, *(_staged_type(a) for a in layer.attributes)])
        for row in zip(batch.source_ids, batch.ewkb, *columns, strict=True):
            copy.write_row(row)
    return len(batch)


# mahalle.derive_neighbourhood's rule and query: the neighbourhood holding the point on surface, else one
# the feature touches, lowest id first.
_LOCATE = """
UPDATE {stage} s SET (_nid, _inside) = (SELECT n.id, true FROM public.neighbourhoods n
                                          WHERE ST_Intersects(n.geom, s._geom)
                                          ORDER BY ST_Intersects(n.geom, ST_PointOnSurface(s._geom)) DESC, n.id
                                          LIMIT 1)
 WHERE s._geom IS NOT NULL
"""


# The rows of the batch just staged: COPY appends them after the pages the table had (the last of those may take a
# few, whose rows not yet located are looked at again, to the same answer), read by a TID range scan.
_JUST_STAGED = "   AND s.ctid >= %(start)s::tid AND s._inside IS NULL"


def stage_located(conn: psycopg.Connection, layer: Layer, batch: Batch) -> int:
    """``stage``, then the neighbourhoods of the rows just staged, found as ``locate_staged`` finds them (for the layers
    that have one): staged batch by batch while the next batch is read (importers/run.py), the lookups keep the
    database busy instead of waiting for the whole file."""
    if not (layer.has_geometry and layer.neighbourhood_scoped):
        return stage(conn, layer, batch)
    pages = conn.execute(
        "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::bigint", (STAGE,)
    ).fetchone()[0]
    staged = stage(conn, layer, batch)
    if staged:
        query = sql.SQL(_LOCATE + _JUST_STAGED).format(stage=sql.SQL(STAGE))
        conn.execute(query, {"start": f"({max(pages - 1, 0)},0)"})
    return staged


_MATCH = "UPDATE {stage} s SET _fid = t.id FROM public.{table} t WHERE t.source = %(source)s AND t.source_id = s._sid"


def match_staged(conn: psycopg.Connection, layer: Layer, source: str) -> None:
    """Note the feature each staged row updates (same source and source id), once, before any check: the checks and
    the upsert then agree on which rows are new, even if a feature is deleted meanwhile."""
    conn.execute(sql.SQL(_MATCH).format(stage=sql.SQL(STAGE), table=sql.Identifier(layer.name)), {"source": source})


def locate_staged(conn: psycopg.Connection, layer: Layer) -> None:
    """Find the neighbourhood of every staged row with one statement, for the layers that have one."""
    if layer.has_geometry and layer.neighbourhood_scoped:
        conn.execute(sql.SQL(_LOCATE).format(stage=sql.SQL(STAGE)))


def _coerce(a: Attribute, values: list[Any]) -> list[Any]:
    """Values in the Python type the binary COPY of the staged column takes (as JSON took any of them)."""
    if a.type in ("integer", "reference"):
        return [v if v is None or type(v) is int else _whole(v) for v in values]
    if a.type == "number":
        return [v if v is None or type(v) is float else float(v) for v in values]
    if a.type == "boolean":
        return [v if v is None or type(v) is bool else bool(v) for v in values]
    if a.type == "choices":
        return [v if v is None or type(v) is list else list(v) for v in values]
    return [v if v is None or type(v) is str else _text(v) for v in values]


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _value(layer: Layer, name: str) -> sql.Composable:
    kind = layer.attribute(name).type
    column = sql.SQL("s.{}").format(sql.Identifier(name))
    return column + sql.SQL("::" + SQL_TYPES[kind]) if kind in TEXT_STAGED else column


def _geometry(layer: Layer) -> sql.Composable:
    """The staged geometry as the layer stores it: multi-part where the layer holds multi-part geometries (what the
    validation trigger does to a single part, done here for a checked load it does not see)."""
    multi = (layer.geometry_type or "").upper().startswith("MULTI")
    return sql.SQL("ST_Multi(s._geom)" if multi else "s._geom")


# New rows take the staged neighbourhood (a NULL one is looked for again by the trigger, and not found);
# updated rows keep theirs, or the trigger derives it again if the geometry moved. An UPDATE of the rows the
# layer has and an INSERT of the others, not INSERT … ON CONFLICT: that would run the BEFORE INSERT triggers (the
# rules of a new feature) on every staged row, also on those that become updates or stay as they are. (A row
# another writer inserts meanwhile is left to them: DO NOTHING.) New rows carry the stamps mahalle.stamp_row gives a
# new row — version 1, created and updated now() by mahalle.actor(), the author worked out once per statement — so in
# a checked load the stamp trigger skips them (migration 0018); updated rows are stamped by the trigger as ever.
_UPSERT = """
WITH updated AS (
UPDATE public.{table} AS t SET ({changed}) = ROW({staged})
  FROM {stage} s
 WHERE t.id = s._fid AND ({current}) IS DISTINCT FROM ({staged})
RETURNING 1
), inserted AS (
INSERT INTO public.{table} ({target}, version, created_at, created_by, updated_at, updated_by)
SELECT {values}, 1, now(), (SELECT mahalle.actor()), now(), (SELECT mahalle.actor())
  FROM {stage} s
 WHERE s._fid IS NULL
ON CONFLICT (source, source_id) DO NOTHING
RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)
"""


def upsert_staged(
    conn: psycopg.Connection, layer: Layer, source: str, staged: int, checked: bool = False, defer: bool = False
) -> LoadReport:
    """Move the staged rows into the layer: one statement updating the rows it has (by source and source id) and
    inserting the others. ``checked``: every staged row has passed the layer's validation and plausibility rules
    set-based (importers/staged_rules.py, importers/plausible.py), so the row triggers skip their repeat. ``defer``
    (a checked load that will be committed): a layer without rows gets its plain indexes after the rows, when there
    are enough of them to pay for building them again."""
    report = LoadReport(layer.name)
    if not staged:
        return report
    if checked:  # into a layer without rows, its plain indexes are built after the rows (end_checked_load)
        conn.execute("SELECT mahalle.begin_checked_load(%s)", (layer.name,))
        if defer and staged >= DEFER_INDEXES_FROM:
            conn.execute("SELECT mahalle.defer_indexes(%s)", (layer.name,))
    inserted, updated = conn.execute(upsert_query(layer), {"source": source}).fetchone()
    if checked:
        conn.execute("SELECT mahalle.end_checked_load()")
    report.inserted = inserted
    report.updated = updated
    report.unchanged = staged - inserted - updated
    return report


def upsert_query(layer: Layer) -> sql.Composed:
    """The statement of ``upsert_staged`` for ``layer`` (its parameter: ``source``)."""
    names = list(layer.attribute_names)
    spatial = ["geom"] if layer.has_geometry else []
    derived = ["neighbourhood_id"] if layer.has_geometry and layer.neighbourhood_scoped else []
    from_stage = [*(_value(layer, n) for n in names), *([_geometry(layer)] if spatial else [])]
    values = [*from_stage, *([sql.SQL("s._nid")] if derived else []), sql.Placeholder("source"), sql.SQL("s._sid")]
    changed = [sql.Identifier(n) for n in [*names, *spatial]]
    return sql.SQL(_UPSERT).format(
        table=sql.Identifier(layer.name),
        target=sql.SQL(", ").join(map(sql.Identifier, [*names, *spatial, *derived, "source", "source_id"])),
        values=sql.SQL(", ").join(values),
        stage=sql.SQL(STAGE),
        changed=sql.SQL(", ").join(changed),
        staged=sql.SQL(", ").join(from_stage),
        current=sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in changed),
    )
