"""Rows as Arrow record batches for GDAL: the schema (field types GDAL maps well, then the WKB geometry) and
the conversion of each batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from gis.export.columns import Column
from gis.export.query import Rows
from gis.export.values import plain

GEOMETRY = "geom"  # the WKB column of the record batches: the tables' geometry column, never an attribute
_ARROW_TYPES = {
    "integer": pa.int64(),
    "reference": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}  # anything else is text: value lists, timestamps (ISO 8601 from the query), lists of values joined by ';'


def arrow_schema(cols: list[Column], names: list[str]) -> pa.Schema:
    """Field types GDAL maps to Integer64, Real, boolean Integer, Date and String; then the WKB geometry."""
    fields = [pa.field(name, _ARROW_TYPES.get(c.type, pa.string())) for c, name in zip(cols, names, strict=True)]
    wkb = pa.field(GEOMETRY, pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"})
    return pa.schema([*fields, wkb])


def record_batch(schema: pa.Schema, cols: list[Column], rows: Rows) -> pa.RecordBatch:
    """Rows (the columns, then WKB) as an Arrow batch, converted column by column by pyarrow; only lists of
    values are joined here, value by value."""
    values = list(zip(*rows, strict=False)) if rows else [()] * len(schema)
    kinds = [c.type for c in cols] + ["wkb"]
    arrays = [
        pa.array([plain(v, kind) for v in column] if kind == "choices" else column, type=f.type)
        for kind, column, f in zip(kinds, values, schema, strict=False)  # shapefiles' rows also have a dimension
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def record_batches(
    schema: pa.Schema, cols: list[Column], batches: Iterable[Rows], failed: list[Exception]
) -> Iterator[pa.RecordBatch]:
    """Record batches for GDAL to pull; an error while reading rows is kept in ``failed`` for the caller."""
    try:
        for rows in batches:
            yield record_batch(schema, cols, rows)
    except Exception as exc:
        failed.append(exc)
        raise
