"""The map's vector tiles in a real browser: a tile the server cut or that is over its byte budget is noted in the
layer panel ("zoom in"), and the note goes when such tiles leave the view."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.gis.test_tiles import SPOT, dense_parcels
from tests.web.conftest import shot
from tests.web.helpers import go

EN = json.loads((Path(__file__).resolve().parents[2] / "core" / "i18n" / "en.json").read_text(encoding="utf-8"))["ui"]


def test_a_heavy_tile_is_noted_in_the_layer_panel(session, web_db):
    with psycopg.connect(web_db, autocommit=True) as conn:
        dense_parcels(conn)  # 16,000 tiny parcels in one z14 tile: over its budget there, merged below
    page = session.page("/")
    mode = page.locator("#layer-parcels-mode")
    lon, lat = SPOT
    go(page, lat, lon, 14)
    page.wait_for_function("mahalle.mapState.overlays.parcels.mode === 'tiles'")
    page.wait_for_function("(text) => document.querySelector('#layer-parcels-mode').textContent === text",
                           arg=EN["layers.mode_tiles_heavy"], timeout=30000)  # fmt: skip
    shot(page, "map-heavy-tile")
    go(page, lat, lon, 12)  # the heavy tiles leave the view; the z12 tile is light
    page.wait_for_function("(text) => document.querySelector('#layer-parcels-mode').textContent === text",
                           arg=EN["layers.mode_tiles"], timeout=30000)  # fmt: skip
    assert mode.text_content() == EN["layers.mode_tiles"]
    shot(page, "map-light-tile")
