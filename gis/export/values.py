"""Values as writers put them: plain (value lists joined, dates in ISO 8601), JSON, a point's lon/lat."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import shapely


def plain(value: Any, kind: str) -> Any:
    """A value for formats without lists or dates: value lists joined with ';', dates in ISO 8601."""
    if value is None:
        return None
    if kind == "choices":
        return ";".join(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def lon_lat(wkb: bytes | None) -> list[float | None]:
    """A point's coordinates; empty cells for a feature without geometry (custom layers may allow that)."""
    if wkb is None:
        return [None, None]
    point = shapely.from_wkb(wkb)
    return [point.x, point.y]
