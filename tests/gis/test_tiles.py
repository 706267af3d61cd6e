"""The tile search box: the tile and its buffer on the Web Mercator grid, in lon/lat."""

from __future__ import annotations

import morecantile
import pytest
from pyproj import Transformer

from gis.tiles import BUFFER, EXTENT, search_box

TMS = morecantile.tms.get("WebMercatorQuad")
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


@pytest.mark.parametrize(("z", "x", "y"), [(5, 18, 9), (12, 2331, 1185), (16, 37320, 18978), (20, 597130, 303651)])
def test_the_search_box_is_the_tile_with_its_buffer(z, x, y):
    box = search_box(z, x, y)
    tile = TMS.xy_bounds(morecantile.Tile(x, y, z))
    pad = (tile.right - tile.left) * BUFFER / EXTENT
    west, south = TO_MERCATOR.transform(box["w"], box["s"])
    east, north = TO_MERCATOR.transform(box["e"], box["n"])
    for got, want in ((west, tile.left - pad), (east, tile.right + pad), (south, tile.bottom - pad),
                      (north, tile.top + pad)):  # fmt: skip
        assert got == pytest.approx(want, abs=1e-3)


def test_the_search_box_stops_at_the_edges_of_the_world():
    assert search_box(0, 0, 0) == pytest.approx({"w": -180, "s": -85.0511287798066, "e": 180, "n": 85.0511287798066})
    assert search_box(3, 7, 0)["e"] == 180 and search_box(3, 0, 7)["w"] == -180
