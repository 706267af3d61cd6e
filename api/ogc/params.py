"""Query parameters of the items endpoint, parsed into a ``gis.features.ItemQuery``.

Every parameter is checked here: an unknown one, a malformed bbox or limit, an unsupported CRS or an
unknown property is a 400 with a message, before anything reaches the database.
"""

from __future__ import annotations

import math

from starlette.datastructures import QueryParams

from gis.crs import parse_crs
from gis.features import ItemQuery, Where
from gis.filters import (
    BadFilter,
    bbox_condition,
    datetime_condition,
    end_of,
    equals_condition,
    filter_condition,
    parse_instant,
    parse_sortby,
)
from layers.spec import Layer

ITEM_PARAMS = {
    "f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "filter-crs",
    "sortby", "as-of", "lang",
}  # fmt: skip


def parse_limit(text: str | None, default: int, maximum: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise BadFilter(f"limit must be a whole number from 1 to {maximum}, not {text!r}")
    return int(text)


def parse_bbox(text: str) -> list[float]:
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError:
        raise BadFilter(f"bbox must be 4 or 6 comma-separated numbers, not {text!r}") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadFilter(f"bbox must be 4 or 6 comma-separated numbers, not {text!r}")
    return numbers


def item_query(layer: Layer, params: QueryParams, offered_crs: tuple[str, ...], default_limit: int,
               max_limit: int) -> ItemQuery:  # fmt: skip
    unknown = [k for k in params if k not in ITEM_PARAMS and k not in layer.property_types()]
    if unknown:
        raise BadFilter(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    for key in params:
        if len(params.getlist(key)) > 1:
            raise BadFilter(f"{key} is given more than once")
    where = Where()
    offset_text = params.get("offset", "0")
    if not offset_text.isdigit():
        raise BadFilter(f"offset must be a whole number, not {offset_text!r}")
    q = ItemQuery(layer, parse_limit(params.get("limit"), default_limit, max_limit), int(offset_text), where)
    q.crs = parse_crs(params.get("crs"), offered_crs)
    if "bbox" in params:
        where.add(*_unpack(bbox_condition(parse_bbox(params["bbox"]), parse_crs(params.get("bbox-crs"), offered_crs))))
    elif "bbox-crs" in params:
        raise BadFilter("bbox-crs is only meaningful with bbox")
    if "datetime" in params:
        where.add(*_unpack(datetime_condition(layer, params["datetime"])))
    for name in params:
        if name in layer.property_types() and name not in ITEM_PARAMS:
            where.add(*_unpack(equals_condition(layer, name, params[name])))
    if "filter" in params:
        lang = params.get("filter-lang", "cql2-text")
        filter_crs = parse_crs(params.get("filter-crs"), offered_crs)
        where.add(*_unpack(filter_condition(layer, params["filter"], lang, filter_crs)))
    elif "filter-lang" in params or "filter-crs" in params:
        raise BadFilter("filter-lang and filter-crs are only meaningful with filter")
    if "sortby" in params:
        q.sortby = parse_sortby(layer, params["sortby"])
    if "as-of" in params:
        instant = parse_instant(params["as-of"])
        q.as_of = end_of(instant)
    return q


def _unpack(condition: tuple) -> tuple:
    part, values = condition
    return (part, *values)
