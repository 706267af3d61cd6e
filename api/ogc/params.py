"""Query parameters of the items endpoint, parsed into a ``gis.features.ItemQuery``.

Every parameter is checked here: an unknown one, a malformed bbox, limit or offset, an unsupported CRS, an
unknown property or a value with a NUL character is a 400 with a message, before anything reaches the database.
"""

from __future__ import annotations

import math
import re

from starlette.datastructures import QueryParams

from core.crs import parse_crs
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


# Deeper than any layer can be paged (and within PostgreSQL's bigint, which OFFSET takes).
MAX_OFFSET = 1_000_000_000
_WHOLE = re.compile(r"[0-9]{1,20}")  # ASCII digits only: str.isdigit() also says yes to "²", which int() refuses


def _whole(text: str, name: str, low: int, high: int) -> int:
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise BadFilter(f"{name} must be a whole number from {low} to {high}, not {_shown(text)}")
    return int(text)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "…")


def parse_limit(text: str | None, default: int, maximum: int) -> int:
    return default if text is None else _whole(text, "limit", 1, maximum)


def parse_offset(text: str | None) -> int:
    return 0 if text is None else _whole(text, "offset", 0, MAX_OFFSET)


def parse_bbox(text: str) -> list[float]:
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError:
        raise BadFilter(f"bbox must be 4 or 6 comma-separated numbers, not {_shown(text)}") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadFilter(f"bbox must be 4 or 6 comma-separated numbers, not {_shown(text)}")
    return numbers


def item_query(layer: Layer, params: QueryParams, offered_crs: tuple[str, ...], default_limit: int,
               max_limit: int) -> ItemQuery:  # fmt: skip
    unknown = [k for k in params if k not in ITEM_PARAMS and k not in layer.property_types()]
    if unknown:
        raise BadFilter(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    for key in params:
        if len(params.getlist(key)) > 1:
            raise BadFilter(f"{key} is given more than once")
        if "\x00" in params[key]:  # PostgreSQL text cannot hold it
            raise BadFilter(f"{key}: a query parameter may not contain the NUL character (%00)")
    where = Where()
    q = ItemQuery(layer, parse_limit(params.get("limit"), default_limit, max_limit), parse_offset(params.get("offset")),
                  where)  # fmt: skip
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
