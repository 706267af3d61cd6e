"""Filter conditions on a layer as SQL: bounding box, time, property equality.

Values travel as bind parameters; property names are checked against the catalogue before they
become identifiers.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from psycopg import sql

from core.crs import ApiCRS
from core.errors import MahalleError
from core.settings import get_settings
from layers.spec import Layer

# Metres: beyond any projected CRS on offer (Web Mercator spans ±20,037,508 m, UTM northings 10,000,000 m).
PROJECTED_LIMIT = 1e8


class BadFilter(MahalleError):
    """A bbox, datetime or property filter that cannot be applied."""


def bbox_condition(bbox: list[float], crs: ApiCRS) -> tuple[sql.Composable, list[Any]]:
    """Features meeting the box. A CRS84 box whose west edge is east of its east edge crosses the antimeridian."""
    if len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    if crs.lat_first:
        bbox = [bbox[1], bbox[0], bbox[3], bbox[2]]
    minx, miny, maxx, maxy = bbox
    in_range = all(-180 <= x <= 180 for x in (minx, maxx)) and all(-90 <= y <= 90 for y in (miny, maxy))
    if crs.srid == 4326 and not in_range:
        raise BadFilter("bbox: longitudes must lie from -180 to 180 and latitudes from -90 to 90")
    if crs.srid != 4326 and not all(abs(v) <= PROJECTED_LIMIT for v in bbox):
        raise BadFilter(f"bbox: coordinates in {crs.uri} must lie within ±{PROJECTED_LIMIT:,.0f}")
    if miny > maxy:
        raise BadFilter("bbox: the southern edge is north of the northern edge")
    if crs.srid == 4326 and minx > maxx:
        east = sql.SQL("ST_MakeEnvelope(%s, %s, 180, %s, 4326)")
        west = sql.SQL("ST_MakeEnvelope(-180, %s, %s, %s, 4326)")
        cond = sql.SQL("(ST_Intersects(t.geom, {}) OR ST_Intersects(t.geom, {}))").format(east, west)
        return cond, [minx, miny, maxy, miny, maxx, maxy]
    if minx > maxx:
        raise BadFilter("bbox: the western edge is east of the eastern edge")
    envelope = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(crs.srid))
    if crs.srid != 4326:
        envelope = sql.SQL("ST_Transform({}, 4326)").format(envelope)
    return sql.SQL("ST_Intersects(t.geom, {})").format(envelope), [minx, miny, maxx, maxy]


def parse_instant(text: str) -> datetime | date:
    text = text.strip()
    try:
        if "T" not in text and len(text) == 10:
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadFilter(f"{text!r} is not an RFC 3339 date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_start(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, UTC)


def end_of(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.max, UTC)


def datetime_condition(layer: Layer, text: str) -> tuple[sql.Composable, list[Any]]:
    """OGC ``datetime``: an instant, a closed interval or a half-open one (``..`` or empty)."""
    col = sql.SQL("t.{}").format(sql.Identifier(layer.time_column))
    if "/" not in text:
        instant = parse_instant(text)
        if isinstance(instant, date) and not isinstance(instant, datetime):
            return sql.SQL("{} BETWEEN %s AND %s").format(col), [_as_start(instant), end_of(instant)]
        return sql.SQL("{} = %s").format(col), [instant]
    start_text, _, end_text = text.partition("/")
    open_start, open_end = start_text in ("", ".."), end_text in ("", "..")
    if open_start and open_end:
        raise BadFilter("datetime: an interval needs at least one end")
    parts: list[sql.Composable] = []
    params: list[Any] = []
    start = end = None
    if not open_start:
        start = _as_start(parse_instant(start_text))
        parts.append(sql.SQL("{} >= %s").format(col))
        params.append(start)
    if not open_end:
        end = end_of(parse_instant(end_text))
        parts.append(sql.SQL("{} <= %s").format(col))
        params.append(end)
    if start and end and start > end:
        raise BadFilter("datetime: the interval ends before it starts")
    return sql.SQL(" AND ").join(parts), params


def coerce(layer: Layer, name: str, text: str) -> Any:
    """A query-string value converted to the property's type, or a 400 naming the property."""
    kind = layer.property_types()[name]
    try:
        if kind in ("integer", "reference"):
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "datetime":
            return parse_instant(text)
    except ValueError:
        raise BadFilter(f"{name}: {text!r} is not a valid {kind}") from None
    return text


def equals_condition(layer: Layer, name: str, text: str) -> tuple[sql.Composable, list[Any]]:
    """``?tenure=informal``: equality, or membership for multi-value attributes."""
    if name not in layer.property_types():
        raise BadFilter(f"{layer.name} has no property {name!r}")
    col = sql.SQL("t.{}").format(sql.Identifier(name))
    if layer.property_types()[name] == "choices":
        return sql.SQL("%s = ANY({})").format(col), [text]
    if name == "uid":
        return sql.SQL("{}::text = %s").format(col), [text]
    return sql.SQL("{} = %s").format(col), [coerce(layer, name, text)]


def parse_sortby(layer: Layer, text: str) -> list[tuple[str, bool]]:
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        ascending = not item.startswith("-")
        name = item.lstrip("+-").strip()
        if name != "id" and name not in layer.property_types():
            raise BadFilter(f"sortby: {layer.name} has no property {name!r}")
        keys.append((name, ascending))
    return keys


def parse_filter(text: str, lang: str) -> Any:
    """A CQL2 filter (text or JSON) as a pygeofilter AST; syntax errors are 400s."""
    from pygeofilter.parsers.cql2_json import parse as parse_json

    from gis import cql2

    if lang == "cql2-text":
        return cql2.parse(text)
    if lang != "cql2-json":
        raise BadFilter(f"filter-lang must be cql2-text or cql2-json, not {lang[:40]!r}")
    cql2.check_text(text)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadFilter(f"The filter is not valid JSON: {exc}") from None
    if _json_depth(document) > 2 * get_settings().max_filter_depth + 2:  # {"op", "args": [...]}: two per level
        raise cql2.FilterError("The filter nests too deeply (MAHALLE_MAX_FILTER_DEPTH); simplify it.")
    try:
        node = parse_json(document)
    except Exception as exc:  # pygeofilter's JSON walker trusts its input: any failure is a malformed filter
        raise BadFilter(f"The filter is not valid CQL2 JSON: {type(exc).__name__} {exc}"[:300]) from None
    return cql2.bounded(node)


def _json_depth(value: Any) -> int:
    """How deeply a JSON document nests (without recursion), refusing text that an escape made unstorable:
    ``\\u0000`` (PostgreSQL text cannot hold NUL) or a lone surrogate such as ``\\ud800`` (not Unicode)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise BadFilter("The filter contains a NUL character.")
            if not item.isascii() and item.encode("utf-8", "surrogatepass") != item.encode("utf-8", "replace"):
                raise BadFilter("The filter has text that is not valid Unicode (an unpaired surrogate).")
            continue
        deepest = max(deepest, depth)
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list | str))
    return deepest


def reproject_literals(node: Any, crs: ApiCRS) -> Any:
    """Geometry literals of a filter given in ``filter-crs``, brought to stored lon/lat in place."""
    if crs.srid == 4326 and not crs.lat_first:
        return node
    import dataclasses

    import shapely
    from pygeofilter import ast, values
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(crs.srid, 4326, always_xy=True)

    def convert(x: float, y: float) -> tuple[float, float]:
        if crs.lat_first:  # the filter's numbers are latitude, longitude
            x, y = y, x
        return to_lonlat.transform(x, y) if crs.srid != 4326 else (x, y)

    def visit(value: Any) -> Any:
        if isinstance(value, values.Geometry):
            shape = shapely.geometry.shape(value.geometry)
            moved = shapely.transform(shape, lambda xy: [convert(x, y) for x, y in xy])
            return values.Geometry(shapely.geometry.mapping(moved))
        if isinstance(value, values.Envelope):
            (x1, y1), (x2, y2) = convert(value.x1, value.y1), convert(value.x2, value.y2)
            return values.Envelope(x1, x2, y1, y2)
        if isinstance(value, ast.Not):  # not a dataclass
            value.sub_node = visit(value.sub_node)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                setattr(value, f.name, visit(getattr(value, f.name)))
        elif isinstance(value, list):
            return [visit(v) for v in value]
        return value

    return visit(node)


def filter_condition(layer: Layer, text: str, lang: str, crs: ApiCRS) -> tuple[sql.Composable, list[Any]]:
    from gis import cql2

    node = reproject_literals(parse_filter(text, lang), crs)
    return cql2.to_sql(node, cql2.layer_properties(layer))
