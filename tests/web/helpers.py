"""Moving the map and clicking features the way a user does, located through the page's map."""

from __future__ import annotations

from playwright.sync_api import Page


def settle(page: Page) -> None:
    """Wait until the map has asked for and drawn the features of the current view."""
    page.wait_for_timeout(400)  # the map reloads 200 ms after it stops moving
    page.wait_for_function("mahalle.mapState.loading === 0", timeout=20000)
    page.wait_for_timeout(150)


def go(page: Page, lat: float, lon: float, zoom: float) -> None:
    page.evaluate("([a, b, z]) => void mahalle.map.setView([a, b], z, {animate: false})", [lat, lon, zoom])
    settle(page)


def screen_point(page: Page, lat: float, lon: float) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate("([a, b]) => { const p = mahalle.map.latLngToContainerPoint([a, b]); return [p.x, p.y]; }",
                         [lat, lon])  # fmt: skip
    return box["x"] + x, box["y"] + y


def click_at(page: Page, lat: float, lon: float) -> None:
    page.mouse.click(*screen_point(page, lat, lon))
    page.wait_for_timeout(120)


def feature_point(page: Page, layer: str, fid: int) -> tuple[float, float]:
    """A point on the feature as drawn (the middle of a line, the centre of an area, the point itself)."""
    lat, lon = page.evaluate(
        """([layer, id]) => {
            const l = mahalle.mapState.overlays[layer].geo.getLayers().find((x) => x.feature.id === id);
            const c = l.getLatLng ? l.getLatLng() : l.getCenter();
            return [c.lat, c.lng];
        }""",
        [layer, fid],
    )
    return lat, lon


def click_feature(page: Page, layer: str, fid: int, **modifiers: bool) -> None:
    lat, lon = feature_point(page, layer, fid)
    x, y = screen_point(page, lat, lon)
    box = page.locator("#map").bounding_box()
    if not (box["x"] + 20 < x < box["x"] + box["width"] - 20 and box["y"] + 20 < y < box["y"] + box["height"] - 20):
        page.evaluate("([a, b]) => void mahalle.map.panTo([a, b], {animate: false})", [lat, lon])
        settle(page)
        lat, lon = feature_point(page, layer, fid)
    keys = [k for k, on in (("Shift", modifiers.get("shift")),) if on]
    for k in keys:
        page.keyboard.down(k)
    page.mouse.click(*screen_point(page, lat, lon))
    for k in keys:
        page.keyboard.up(k)
    page.wait_for_timeout(150)
