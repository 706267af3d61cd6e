"""The browser's side of a map: how long the web app takes, in headless Chromium, from asking for a view at z12,
z14 and z16 to a fully drawn map, and how smooth it pans.

What is measured, per zoom and round, in a fresh browser context (an empty HTTP cache, service workers off):

- **app start**: navigation to the page's ``ready`` class (catalogue loaded, map made). The page is opened with
  every map layer hidden (``localStorage['mahalle.visible'] = []``), so the world view the app starts at requests
  nothing; the map is then moved to the city's centre at the zoom and, once the map's own refresh after a move
  (200 ms) has passed, the layers a user sees by default are switched on at once;
- **view drawn**: from switching the layers on to the view being fully drawn: no GeoJSON request of the map under
  way (``mapState.loading``), every vector-tile layer on the map with each of its current tiles loaded *and
  rendered* (leaflet.vectorgrid calls a tile done in the animation frame after drawing its features; Leaflet's
  ``GridLayer._noTilesToLoad``), then two more animation frames; the tiles and GeoJSON pages requested for the
  view and their bytes come from the page's resource timing;
- **panning**: a scripted drag, as Leaflet's own drag handler moves the map (``movestart``, then each animation
  frame ``_rawPanBy`` + ``move``, tiles loading as they come into view, ``moveend`` at the end), at
  ``PAN_SPEED`` px/s, east and back west within half a view's width of the centre; every animation frame's
  delta is kept: median, p95, p99 and dropped frames (a delta of n frame intervals drops n − 1; the interval is
  the median delta of the resting map just before).

No hook is added to the web app: the page already exposes ``window.mahalle`` (map, mapState) for the browser
tests, and ``setVisible`` is imported from the app's own module (/static/js/mapview.js, the same instance).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ZOOMS = (12, 14, 16)
CHROMIUM = "/usr/bin/chromium"  # Debian's, as tests/web/conftest.py uses (no browser download)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 900}
HIDDEN_BY_DEFAULT = ("assets", "observations")  # as web/static/js/mapview.js: the other layers show by default
PAN_SPEED = 600.0  # px/s
TIMEOUT_MS = 120_000
RENDERER = "leaflet.vectorgrid 1.3.0 (canvas tiles) + Leaflet GeoJSON (SVG)"

# Runs in the page: switch the default layers on at a view and wait until it is fully drawn.
_DRAW = """async ([lat, lon, z, hidden, timeout]) => {
  const { setVisible, mapState } = await import('/static/js/mapview.js');
  const map = mahalle.map;
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  map.setView([lat, lon], z, { animate: false });
  await new Promise((r) => setTimeout(r, 350));  // the map's refresh 200 ms after a move, with nothing shown
  const names = Object.keys(mapState.overlays).filter((n) => !hidden.includes(n));
  const mark = performance.getEntriesByType('resource').length;
  const t0 = performance.now();
  for (const n of names) setVisible(n, true);
  const pending = () => mapState.loading > 0 || Object.values(mapState.overlays).some(
    (o) => o.tiles && map.hasLayer(o.tiles) && !o.tiles._noTilesToLoad());
  let quiet = 0;
  while (quiet < 2) {
    await frame();
    quiet = pending() ? 0 : quiet + 1;
    if (performance.now() - t0 > timeout) throw new Error('the view was not drawn in ' + timeout + ' ms');
  }
  const t1 = performance.now();
  const got = performance.getEntriesByType('resource').slice(mark);
  const tiles = got.filter((e) => e.name.includes('/tiles/'));
  const items = got.filter((e) => e.name.includes('/items'));
  const bytes = (list) => list.reduce((s, e) => s + (e.encodedBodySize || 0), 0);
  const modes = Object.fromEntries(names.map((n) => [n, mapState.overlays[n].mode]));
  return { drawn_ms: t1 - t0, tiles: tiles.length, tile_bytes: bytes(tiles), pages: items.length,
           page_bytes: bytes(items), layers: names.length, modes };
}"""

# Runs in the page: a resting map's frame interval, then a drag-like pan, every frame's delta.
_PAN = """async ([seconds, speed, reach]) => {
  const map = mahalle.map;
  let x = 0, dir = 1;  // east to +reach px, back west to -reach, and so on: the city's centre stays near the view
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const rest = [];
  let last = await frame();
  for (let i = 0; i < 30; i++) { const t = await frame(); rest.push(t - last); last = t; }
  const deltas = [];
  map.fire('movestart');
  const start = last = await frame();
  while (last - start < seconds * 1000) {
    const t = await frame();
    const dt = t - last;
    deltas.push(dt);
    if (Math.abs(x) >= reach) dir = -Math.sign(x);
    const step = dir * speed * dt / 1000;
    x += step;
    map._rawPanBy(L.point(step, 0));
    map.fire('move');
    last = t;
  }
  map.fire('moveend');
  return { rest, deltas };
}"""


@dataclass
class MapView:
    """One zoom over its rounds: medians of the per-round figures, every frame delta of every pan."""

    zoom: int
    start_ms: list[float] = field(default_factory=list)
    drawn_ms: list[float] = field(default_factory=list)
    tiles: int = 0  # vector tiles requested for the view (last round)
    tile_bytes: int = 0
    pages: int = 0  # GeoJSON pages requested for the view (last round)
    page_bytes: int = 0
    modes: dict[str, str] = field(default_factory=dict)
    frames: list[float] = field(default_factory=list)
    interval_ms: float = 1000 / 60

    @property
    def frame_median_ms(self) -> float:
        return statistics.median(self.frames) if self.frames else math.nan

    def frame_pct(self, p: float) -> float:
        """Nearest rank, as the load generator's percentiles."""
        if not self.frames:
            return math.nan
        ordered = sorted(self.frames)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def dropped(self) -> int:
        return sum(max(0, round(d / self.interval_ms) - 1) for d in self.frames)

    def describe(self) -> str:
        tiled = sorted(n for n, m in self.modes.items() if m == "tiles")
        geo = sorted(n for n, m in self.modes.items() if m == "features")
        return (
            f"{self.tiles} tiles ({self.tile_bytes / 1024:,.0f} KB), {self.pages} GeoJSON pages "
            f"({self.page_bytes / 1024:,.0f} KB); tiles: {', '.join(tiled) or '–'}; GeoJSON: {', '.join(geo) or '–'}"
        )


def measure_map(
    base_url: str,
    headers: Mapping[str, str],
    center: tuple[float, float],
    zooms: Sequence[int] = ZOOMS,
    rounds: int = 1,
    pan_seconds: float = 2.0,
) -> list[MapView]:
    """``center`` is (lon, lat). Each round of each zoom opens the app in a fresh context (cold HTTP cache) as the
    user of ``headers`` (an API token: the page and every request it makes carry it)."""
    from playwright.sync_api import sync_playwright

    lon, lat = center
    views = [MapView(z) for z in zooms]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for _ in range(rounds):
                for view in views:  # zooms interleaved over the rounds, as the load generator's peers
                    _one(browser, base_url, dict(headers), view, lat, lon, pan_seconds)
        finally:
            browser.close()
    return views


def _one(browser, base_url: str, headers: dict[str, str], view: MapView, lat: float, lon: float, pan: float) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, service_workers="block", bypass_csp=True,
                                  extra_http_headers=headers)  # fmt: skip
    try:
        context.add_init_script("localStorage.setItem('mahalle.visible', '[]')")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/")
        ready = page.wait_for_function(
            "document.body.classList.contains('ready') && performance.now()", timeout=TIMEOUT_MS
        )
        view.start_ms.append(float(ready.json_value()))
        got = page.evaluate(_DRAW, [lat, lon, view.zoom, list(HIDDEN_BY_DEFAULT), TIMEOUT_MS])
        view.drawn_ms.append(got["drawn_ms"])
        view.tiles, view.tile_bytes, view.pages, view.page_bytes = (
            got["tiles"], got["tile_bytes"], got["pages"], got["page_bytes"])  # fmt: skip
        view.modes = got["modes"]
        frames = page.evaluate(_PAN, [pan, PAN_SPEED, VIEWPORT["width"] / 2])
        view.interval_ms = statistics.median(frames["rest"]) or view.interval_ms
        view.frames += frames["deltas"]
        if errors:
            raise RuntimeError(f"script errors on the page at z{view.zoom}: {json.dumps(errors)[:300]}")
    finally:
        context.close()


def renderer_note() -> str:
    """How the map was measured, and why its renderer was not swapped (what was tried, measured with this part)."""
    return (
        f"Browser: the map as the web app draws it today ({RENDERER}), in headless Chromium ({CHROMIUM}, software "
        f"rendering, --disable-gpu, {VIEWPORT['width']}×{VIEWPORT['height']} px), as the bench's planner with an "
        "API token, Mahalle's tile cache off. 'view drawn' runs from switching the default layers on at the city's "
        "centre to every requested tile loaded and rendered and every GeoJSON page drawn, plus two animation "
        "frames; 'app start' is navigation to the app being ready; panning is a scripted drag at "
        f"{PAN_SPEED:g} px/s, to and fro within half a view's width of the centre (median, p95 and dropped frames "
        "against the resting map's frame interval). From z16 the "
        "large layers are GeoJSON (editable), not tiles. The renderer has not been swapped, because the maintained "
        "candidate tried was not faster overall: protomaps-leaflet 5.1.0 (one layer per large collection, our "
        "featureStyle as its paint step, clicks by querying the tiles at the point, the over-budget note through the "
        "fetch wrapper) drew z12 and z14 about 15 % sooner than leaflet.vectorgrid 1.3.0 at 20,000 parcels (886 vs "
        "980 ms, 1,253 vs 1,483 ms) but dropped 180–330 frames of a two-second pan where vectorgrid dropped 1–33 "
        "(p95 frame 33–50 vs 16.8 ms): Chrome's traces showed the compositor copying every protomaps tile canvas on "
        "every frame (7,000–9,700 copies a pan against ~750), which no setting tried (fade, labels, painting in an "
        "animation frame, willReadFrequently) changed. maplibre-gl 6 through @maplibre/maplibre-gl-leaflet was not "
        "tried: it needs WebGL (headless Chromium without a GPU has only SwiftShader, which would understate a real "
        "GPU) and fetches tiles in workers, so the over-budget note would need a request handler of its own "
        "(addProtocol). Either way Geoman's editing works on the GeoJSON layers from z16, untouched by the tile "
        "renderer, and the build stays vendored, with no CDN (scripts/build-sw.mjs precache)."
    )
