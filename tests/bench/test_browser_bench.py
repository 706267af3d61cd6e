"""The browser part of the bench (bench/browser.py) on a tiny city: it opens the real app in Debian's Chromium,
draws a view at each measured zoom and pans, and returns positive times. No timing is asserted beyond that."""

from __future__ import annotations

import psycopg

from bench import browser, city, workload
from tests.auth import ADMIN_HEADERS
from tests.live import serve


def test_the_browser_part_measures_a_drawn_map_and_a_pan(admin_db_url: str, db_url: str) -> None:
    with psycopg.connect(admin_db_url, autocommit=True) as conn:
        city.generate(conn, 640, 5)  # over the 400 features from which the map tiles a layer
        city.load_neighbourhoods(conn)
        assert city.fast_load(conn, city.PARCELS) == 640
        w, s, e, n = workload.extent(conn)
    with serve(db_url) as url:
        views = browser.measure_map(url, ADMIN_HEADERS, ((w + e) / 2, (s + n) / 2), pan_seconds=0.5)
    assert [v.zoom for v in views] == [12, 14, 16]
    for v in views:
        assert len(v.start_ms) == len(v.drawn_ms) == 1
        assert v.start_ms[0] > 0 and v.drawn_ms[0] > 0
        assert v.frames and all(d > 0 for d in v.frames) and v.frame_median_ms > 0
        assert v.frame_pct(95) >= v.frame_median_ms and v.dropped >= 0
        assert v.modes["parcels"] == ("features" if v.zoom >= 16 else "tiles"), v.modes
    z12, _, z16 = views
    assert z12.tiles > 0 and z12.tile_bytes > 0  # the parcels came as vector tiles, and were drawn
    assert z16.pages > 0 and z16.page_bytes > 0  # from z16 as GeoJSON pages
