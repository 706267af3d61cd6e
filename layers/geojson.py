"""A row of a layer as GeoJSON, built inside PostGIS: the one shape the API, the planning reads and the exports share.

The geometry is written in the CRS the client asked for (transformed, axes swapped for latitude-first CRSs) and the
properties in catalogue order, so Python never touches a feature on the way out.
"""

from __future__ import annotations

from psycopg import sql

from core.crs import ApiCRS
from layers.spec import Layer

GEOGRAPHIC_DIGITS = 9  # ~0.1 mm: a point written in degrees comes back as it was sent
PROJECTED_DIGITS = 3  # mm


def geometry_output(crs: ApiCRS, column: sql.Composable = sql.SQL("t.geom")) -> sql.Composable:
    """The stored geometry as the client asked for it (transform, then axis swap for lat-first CRSs)."""
    expr = column if crs.srid == 4326 else sql.SQL("ST_Transform({}, {})").format(column, sql.Literal(crs.srid))
    if crs.lat_first:
        expr = sql.SQL("ST_FlipCoordinates({})").format(expr)
    digits = GEOGRAPHIC_DIGITS if crs.srid == 4326 or crs.lat_first else PROJECTED_DIGITS
    return sql.SQL("ST_AsGeoJSON({}, {})::json").format(expr, sql.Literal(digits))


def _properties(layer: Layer) -> sql.Composable:
    """Properties in catalogue order (json keeps it; jsonb would sort keys by length)."""
    names = list(layer.property_types())
    pairs = [sql.SQL("{}, t.{}").format(sql.Literal(n), sql.Identifier(n)) for n in names]
    if len(pairs) <= 50:  # json_build_object takes at most 100 arguments
        return sql.SQL("json_build_object({})").format(sql.SQL(", ").join(pairs))
    chunks = [pairs[i : i + 50] for i in range(0, len(pairs), 50)]
    return sql.SQL("({})::json").format(
        sql.SQL(" || ").join(sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(c)) for c in chunks)
    )


def feature_json(layer: Layer, crs: ApiCRS) -> sql.Composable:
    """One row of ``t`` as GeoJSON Feature text."""
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', t.id, 'geometry', {geom}, 'properties', {props})::text"
    ).format(geom=geometry_output(crs), props=_properties(layer))
