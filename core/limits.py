"""How large one geometry may be: a vertex limit checked before a geometry reaches SQL.

The API counts the positions of a GeoJSON geometry (cheap: list lengths, no parsing of numbers) before
anything else looks at it; the importers count shapely geometries with ``shapely.get_num_coordinates``.
The limit is ``MAHALLE_MAX_VERTICES``; the API sets the app's own value for each request
(``use_max_vertices``), elsewhere the process settings apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import shapely

from core.errors import PayloadTooLarge
from core.settings import get_settings

_max_vertices: ContextVar[int | None] = ContextVar("mahalle_max_vertices", default=None)


class TooManyVertices(PayloadTooLarge):
    column = "geometry"


def max_vertices() -> int:
    """The vertex limit in force: the request's app settings, else the process settings."""
    limit = _max_vertices.get()
    return limit if limit is not None else get_settings().max_vertices


@contextmanager
def use_max_vertices(limit: int) -> Iterator[None]:
    """The limit for what runs inside (a request: its app's settings)."""
    token = _max_vertices.set(limit)
    try:
        yield
    finally:
        _max_vertices.reset(token)


def advice(count: int, limit: int, at_least: bool = False) -> str:
    many = f"more than {limit:,}" if at_least else f"{count:,}"
    return (
        f"the geometry has {many} vertices; one feature may have at most {limit:,} (MAHALLE_MAX_VERTICES). "
        "Simplify it (e.g. QGIS: Vector ▸ Geometry Tools ▸ Simplify) or split it into several features."
    )


def count_positions(coordinates: Any, depth: int, stop: int | None = None) -> int:
    """Positions in GeoJSON ``coordinates`` nested ``depth`` deep (1 for a Point, 4 for a MultiPolygon),
    counted from list lengths; stops early once past ``stop``. Malformed nesting is left to the structure
    check that follows (it is not counted)."""
    if depth <= 1:
        return 1 if isinstance(coordinates, list) else 0
    total = 0
    stack = [(coordinates, depth)]
    while stack:
        value, level = stack.pop()
        if not isinstance(value, list):
            continue
        if level == 2:  # a list of positions
            total += len(value)
            if stop is not None and total > stop:
                return total
        else:
            stack.extend((item, level - 1) for item in value)
    return total


def check_geojson(coordinates: Any, depth: int) -> None:
    """Refuse (413) GeoJSON coordinates with more positions than the vertex limit."""
    limit = max_vertices()
    if count_positions(coordinates, depth, stop=limit) > limit:
        raise TooManyVertices(f"geometry: {advice(0, limit, at_least=True)}")


def too_many_vertices(geoms: np.ndarray, present: np.ndarray) -> dict[int, str]:
    """For the importers: the rows of a batch of shapely geometries over the vertex limit, with the reason."""
    if not present.any():
        return {}
    limit = max_vertices()
    counts = np.zeros(len(geoms), dtype=np.int64)
    counts[present] = shapely.get_num_coordinates(geoms[present])
    return {int(i): advice(int(counts[i]), limit) for i in np.flatnonzero(counts > limit)}
