"""The editing map in a real browser: layers, drawing and forms, conflicts, undo and history, the
attribute table, offline saves, and attribute values that hold HTML."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.web.conftest import shot
from tests.web.helpers import click_at, click_feature, go, settle

XSS = "<img src=x onerror=alert(1)>"
# What the outbox keeps in IndexedDB (outbox.js): the module the page already loaded, imported again.
STORED = "import('/static/js/outbox.js').then((m) => m.stored())"


def stored_when_sent(page: Page, seconds: float = 20) -> list:
    """The outbox as stored, once it is empty or after `seconds` (wait_for_function does not wait for a promise)."""
    for _ in range(int(seconds * 5)):
        kept = page.evaluate(STORED)
        if not kept:
            break
        page.wait_for_timeout(200)
    return kept


EMPTY = (60.1625, 24.9300)  # west of the demo neighbourhood: nothing to snap to, nothing under the clicks


def features(api, layer: str, cql: str) -> list[dict]:
    response = api.get(f"/ogc/collections/{layer}/items", params={"filter": cql, "limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["features"]


def make_street(api, name: str, lat: float = EMPTY[0], lon: float = EMPTY[1], **props) -> dict:
    body = {
        "type": "Feature",
        "properties": {"name": name, **props},
        "geometry": {"type": "MultiLineString", "coordinates": [[[lon - 0.0008, lat], [lon + 0.0008, lat]]]},
    }
    response = api.post("/ogc/collections/streets/items", json=body, headers={"Content-Type": "application/geo+json"})
    assert response.status_code == 201, response.text
    return response.json()


def test_map_lists_every_layer_and_toggles_them(session, api):
    page = session.page("/")
    catalogue = api.get("/layers").json()
    spatial = [layer["name"] for layer in catalogue if layer["geometry_type"]]
    listed = page.locator(".layer-item").evaluate_all("items => items.map((i) => i.dataset.layer)")
    assert listed == spatial
    surface = next(
        a for a in next(x for x in catalogue if x["name"] == "streets")["attributes"] if a["name"] == "surface"
    )
    legend = page.locator('.layer-item[data-layer="streets"] .legend li')
    assert legend.count() == len(surface["choices"])
    # Zoomed out, the large layers come from vector tiles; zoomed in, as features of the view.
    assert page.evaluate("mahalle.mapState.overlays.streets.mode") == "tiles"
    # A click on a street drawn from a vector tile opens it (the tile carries the feature id).
    street = features(api, "streets", "length_m > 300")[0]
    (ax, ay), (bx, by) = street["geometry"]["coordinates"][0][:2]
    page.locator("#layer-service_points").uncheck()
    go(page, (ay + by) / 2, (ax + bx) / 2, 15)
    click_at(page, (ay + by) / 2, (ax + bx) / 2)
    page.locator("#detail h2", has_text="Streets").wait_for()
    page.keyboard.press("Escape")
    page.locator("#detail").wait_for(state="hidden")
    page.locator("#layer-service_points").check()
    go(page, 60.1675, 24.9445, 18)
    assert page.evaluate("mahalle.mapState.overlays.streets.mode") == "features"
    assert page.evaluate("mahalle.mapState.overlays.streets.geo.getLayers().length") > 5
    page.uncheck("#layer-streets")
    settle(page)
    assert page.evaluate("mahalle.map.hasLayer(mahalle.mapState.overlays.streets.geo)") is False
    page.check("#layer-streets")
    settle(page)
    assert page.evaluate("mahalle.map.hasLayer(mahalle.mapState.overlays.streets.geo)") is True
    shot(page, "map-zoomed-in")
    assert any("/tiles/WebMercatorQuad/" in u for u in session.requests)


def draw_line(page, points) -> None:
    page.click('[data-draw="Line"]')
    for lat, lon in points:
        click_at(page, lat, lon)
    click_at(page, *points[-1])  # clicking the last vertex again finishes the line


def test_draw_a_street_and_a_parcel_fill_the_forms_and_find_them_through_the_api(session, api):
    page = session.page("/")
    go(page, EMPTY[0], EMPTY[1], 18)
    page.select_option("#edit-layer", "streets")
    lat, lon = EMPTY
    draw_line(page, [(lat + 0.0002, lon - 0.0006), (lat + 0.0002, lon), (lat + 0.0003, lon + 0.0006)])
    form = page.locator("#detail form")
    form.locator('[name="name"]').fill("Kuja ya Majaribio")
    form.locator('[name="surface"]').select_option("gravel")
    form.locator('[name="width_m"]').fill("-3")
    page.click("#save")
    # The database refuses the width; its message shows next to the field and the edit stays in the form.
    error = page.locator('.field[data-name="width_m"] .field-error')
    error.wait_for()
    assert "Width must be at least 0 (got -3)" in error.inner_text()  # the rule, worded in the user's language
    assert form.locator('[name="name"]').input_value() == "Kuja ya Majaribio"
    assert features(api, "streets", "name = 'Kuja ya Majaribio'") == []
    shot(page, "form-server-message")
    form.locator('[name="width_m"]').fill("4.5")
    page.click("#save")
    page.locator("#detail h2", has_text="Kuja ya Majaribio").wait_for()
    (street,) = features(api, "streets", "name = 'Kuja ya Majaribio'")
    assert street["properties"]["surface"] == "gravel" and street["properties"]["width_m"] == 4.5
    assert street["geometry"]["type"] == "MultiLineString" and len(street["geometry"]["coordinates"][0]) == 3
    assert street["properties"]["length_m"] > 50

    page.select_option("#edit-layer", "parcels")
    page.click('[data-draw="Polygon"]')
    corners = [(lat - 0.0004, lon - 0.0004), (lat - 0.0004, lon + 0.0004), (lat - 0.0009, lon + 0.0004),
               (lat - 0.0009, lon - 0.0004)]  # fmt: skip
    for corner in [*corners, corners[0]]:
        click_at(page, *corner)
    form = page.locator("#detail form")
    form.locator('[name="parcel_code"]').fill("TEST-P-1")
    form.locator('[name="tenure"]').select_option("informal")
    form.locator('[name="floors"]').fill("2")
    page.click("#save")
    page.locator("#detail h2", has_text="TEST-P-1").wait_for()
    (parcel,) = features(api, "parcels", "parcel_code = 'TEST-P-1'")
    assert parcel["properties"]["tenure"] == "informal" and parcel["properties"]["floors"] == 2
    assert parcel["geometry"]["type"] == "MultiPolygon"
    assert 2200 < parcel["properties"]["area_m2"] < 2800  # 44.5 m x 55.7 m
    shot(page, "map-drawn-street-and-parcel")


def test_two_planners_edit_the_same_feature_and_the_second_chooses(session, browser, server, api):
    street = make_street(api, "Conflict lane")
    fid = street["id"]
    first = session.page("/")
    go(first, *EMPTY, 18)
    click_feature(first, "streets", fid)
    from tests.web.conftest import Session

    other = Session(browser, server).log_in()  # a second planner (the admin again, in another browser)
    try:
        second = other.page("/")
        go(second, *EMPTY, 18)
        click_feature(second, "streets", fid)
        second.locator('#detail [name="name"]').wait_for()
        # The first planner saves; the second, still on version 1, saves something else.
        first.locator('#detail [name="name"]').fill("Conflict lane (renamed)")
        first.click("#save")
        first.locator("#detail h2", has_text="renamed").wait_for()
        second.locator('#detail [name="width_m"]').fill("7")
        second.locator('#detail [name="surface"]').select_option("earth")
        second.click("#save")
        dialog = second.locator("#dialog")
        dialog.locator(".conflict-table").wait_for()
        text = dialog.inner_text()
        assert "Conflict lane (renamed)" in text and "Earth" in text and "7" in text
        shot(second, "conflict-dialog")
        # Nothing was overwritten while the dialog is open.
        now = api.get(f"/ogc/collections/streets/items/{fid}")
        assert now.headers["ETag"] == '"2"' and now.json()["properties"]["width_m"] is None
        dialog.locator('[data-choice="mine"]').click()
        second.locator(".toast-ok").wait_for()
        saved = api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]
        assert saved["name"] == "Conflict lane (renamed)"  # theirs kept where I changed nothing
        assert saved["width_m"] == 7 and saved["surface"] == "earth" and saved["version"] == 3

        # The first planner's form is now the stale one; this time they take the other version.
        first.locator('#detail [name="note"]').fill("first planner's note")
        first.click("#save")
        first.locator("#dialog .conflict-table").wait_for()
        assert "Earth" in first.locator("#dialog").inner_text()
        first.locator('#dialog [data-choice="theirs"]').click()
        first.wait_for_function("document.querySelector('#detail [name=surface]')?.value === 'earth'")
        assert first.locator('#detail [name="note"]').input_value() == ""
        assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["note"] is None
        assert not other.errors
    finally:
        other.context.close()


def test_undo_the_last_edit_and_restore_from_the_history(session, api):
    fid = make_street(api, "Undo lane", surface="earth")["id"]
    page = session.page("/")
    go(page, *EMPTY, 18)
    click_feature(page, "streets", fid)
    page.locator('#detail [name="surface"]').select_option("asphalt")
    page.click("#save")
    page.locator(".toast-ok").wait_for()
    assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["surface"] == "asphalt"
    page.click("#undo")
    page.locator(".toast-ok", has_text="Undone").wait_for()
    back = api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]
    assert back["surface"] == "earth" and back["version"] == 3  # undo is a new version, kept in the history

    page.locator("#detail button", has_text="History").click()
    entries = page.locator(".history-entry")
    entries.first.wait_for()
    assert entries.count() == 3
    assert "Asphalt" in page.locator(".history").inner_text()
    shot(page, "history-panel")
    page.locator(".history-entry button", has_text="Restore version 2").click()
    page.locator(".toast-ok", has_text="Restored").wait_for()
    assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["surface"] == "asphalt"


def test_a_save_without_connection_is_kept_and_sent_when_it_returns(session, api):
    fid = make_street(api, "Offline lane")["id"]
    page = session.page("/")
    go(page, *EMPTY, 18)
    click_feature(page, "streets", fid)
    session.context.set_offline(True)
    page.locator('#detail [name="name"]').fill("Offline lane, edited in the field")
    page.click("#save")
    banner = page.locator("#outbox")
    banner.wait_for()
    assert "1 edit not sent yet" in banner.inner_text()  # (CLDR plural forms)
    kept = page.evaluate(STORED)  # IndexedDB, through outbox.js
    assert kept[0]["body"]["properties"]["name"] == "Offline lane, edited in the field"
    assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["name"] == "Offline lane"
    shot(page, "offline-outbox")
    # Reloading the page does not lose it; the connection comes back and it is sent.
    session.context.set_offline(False)
    page.reload()
    page.wait_for_function("document.body.classList.contains('ready')")
    page.locator("#outbox").wait_for(state="hidden", timeout=20000)
    assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["name"] == \
        "Offline lane, edited in the field"  # fmt: skip
    assert stored_when_sent(page) == []


def test_new_feature_drawn_offline_is_sent_once(session, api):
    page = session.page("/")
    go(page, EMPTY[0] + 0.002, EMPTY[1], 18)
    session.context.set_offline(True)
    page.select_option("#edit-layer", "streets")
    lat, lon = EMPTY[0] + 0.002, EMPTY[1]
    draw_line(page, [(lat, lon - 0.0005), (lat, lon + 0.0005)])
    page.locator('#detail [name="name"]').fill("Drawn without signal")
    page.click("#save")
    page.locator("#outbox").wait_for()
    assert features(api, "streets", "name = 'Drawn without signal'") == []
    session.context.set_offline(False)  # the browser says "online": the outbox sends at once
    page.locator("#outbox").wait_for(state="hidden")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a second send must not duplicate it
    page.wait_for_timeout(500)
    assert len(features(api, "streets", "name = 'Drawn without signal'")) == 1


def test_attribute_table_sorts_filters_selects_bulk_edits_and_exports(session, api):
    ids = [make_street(api, f"Table lane {n}", lat=EMPTY[0] + 0.0004 * n, surface="earth")["id"] for n in range(3)]
    page = session.page("/")
    go(page, EMPTY[0] + 0.0004, EMPTY[1], 17)
    page.click('[data-table="streets"]')
    page.locator("#filter-attr").select_option("name")
    page.locator("#filter-op").select_option("contains")
    page.fill("#filter-value", "table lane")
    page.click("#filter-apply")
    rows = page.locator(".attr-table tbody tr")
    page.wait_for_function("document.querySelectorAll('.attr-table tbody tr').length === 3")
    page.click('[data-sort="name"]')
    page.click('[data-sort="name"]')  # descending
    page.wait_for_function(
        "document.querySelector('.attr-table tbody tr td:nth-child(3)').textContent === 'Table lane 2'"
    )
    # A click on the map selects the row; shift-click adds the next one.
    click_feature(page, "streets", ids[0])
    page.locator("#detail h2", has_text="Table lane 0").wait_for()
    click_feature(page, "streets", ids[1], shift=True)
    assert rows.locator("xpath=self::*[contains(@class, 'selected')]").count() == 2
    assert page.evaluate("mahalle.mapState.highlight.getLayers().length") == 2
    assert "2 selected" in page.locator(".selection-count").inner_text()
    shot(page, "attribute-table")
    # One of them changes under our feet: that PATCH fails with 412 and is reported, the other succeeds.
    api.patch(f"/ogc/collections/streets/items/{ids[1]}", json={"properties": {"note": "meanwhile"}},
              headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    page.select_option("#bulk-attr", "lighting")
    page.locator(".bulk-value select").select_option("lit")
    page.click("#bulk-apply")
    report = page.locator(".bulk-report")
    report.locator("p").wait_for()
    assert "1 changed, 1 failed" in report.inner_text() and "someone else" in report.inner_text()
    assert api.get(f"/ogc/collections/streets/items/{ids[0]}").json()["properties"]["lighting"] == "lit"
    assert api.get(f"/ogc/collections/streets/items/{ids[1]}").json()["properties"]["lighting"] == "unknown"
    with page.expect_download() as download:
        page.click("#export-selection")
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in exported["features"]) == sorted(ids[:2])


def test_html_in_attribute_values_is_shown_as_text(session, api):
    fid = make_street(api, XSS, note=XSS)["id"]
    page = session.page("/")
    go(page, *EMPTY, 18)  # labels are drawn from zoom 17
    label = page.locator(".map-label", has_text=XSS)
    label.wait_for()
    click_feature(page, "streets", fid)
    assert page.locator('#detail [name="name"]').input_value() == XSS
    assert page.locator("#detail h2").inner_text().endswith(XSS)
    page.click('[data-table="streets"]')
    page.locator("#filter-attr").select_option("note")
    page.locator("#filter-op").select_option("=")
    page.fill("#filter-value", XSS)
    page.click("#filter-apply")
    page.locator(".attr-table td", has_text=XSS).first.wait_for()
    page.locator("#detail button", has_text="History").click()
    page.locator(".history ins", has_text=XSS).first.wait_for()
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    shot(page, "xss-as-text")


def test_no_request_leaves_the_server(session):
    page = session.page("/")
    go(page, 60.1675, 24.9445, 14)  # vector tiles
    go(page, 60.1675, 24.9445, 18)  # features of the view
    for view in ("interventions", "board", "dashboard"):
        page.click(f'nav.views a[data-view="{view}"]')
        page.wait_for_timeout(1200)
    assert any("/vendor/" in u for u in session.requests) and any("/tiles/" in u for u in session.requests)
    assert session.foreign_requests() == []


def test_a_custom_layer_gets_its_form_and_legend_without_code(session, api):
    state = {"name": "state", "type": "choice", "choices": ["working", "broken"], "required": True}
    depth = {"name": "depth_m", "type": "number", "minimum": 0, "unit": "m"}
    definition = {"name": "water_points", "title": "Water points", "geometry_type": "Point",
                  "key_attribute": "state", "attributes": [state, depth]}  # fmt: skip
    assert api.post("/layers", json=definition).status_code == 201
    page = session.page("/")
    assert page.locator('.layer-item[data-layer="water_points"] .legend li').count() == 2
    go(page, *EMPTY, 18)
    page.select_option("#edit-layer", "water_points")
    page.click('[data-draw="Marker"]')
    click_at(page, EMPTY[0] + 0.0001, EMPTY[1] + 0.0002)
    form = page.locator("#detail form")
    assert form.locator('[name="state"] option').evaluate_all("os => os.map((o) => o.value)") == [
        "",
        "working",
        "broken",
    ]
    assert form.locator('.field[data-name="depth_m"] label').inner_text() == "Depth m (m)"  # the unit shown
    assert form.locator('.field[data-name="state"] .required').count() == 1
    form.locator('[name="depth_m"]').fill("12")
    page.click("#save")
    error = page.locator('.field[data-name="state"] .field-error')
    error.wait_for()  # required: the database says so, next to the field
    form.locator('[name="state"]').select_option("broken")
    page.click("#save")
    page.locator(".toast-ok").wait_for()
    (point,) = features(api, "water_points", "state = 'broken'")
    assert point["properties"]["depth_m"] == 12 and point["geometry"]["type"] == "Point"


def test_on_a_tablet_the_map_comes_first_and_the_panels_follow(browser, server):
    from tests.web.conftest import Session

    tablet = Session(browser, server, viewport={"width": 820, "height": 1180}, has_touch=True).log_in()
    try:
        page = tablet.page("/")
        map_box, sidebar = page.locator("#map").bounding_box(), page.locator("#sidebar").bounding_box()
        assert map_box["width"] >= 800 and map_box["height"] > 500
        assert sidebar["y"] >= map_box["y"] + map_box["height"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        page.keyboard.press("Tab")  # the first stop is the skip link, then the controls in reading order
        assert page.evaluate("document.activeElement.className") == "skip"
        shot(page, "tablet-map")
        assert not tablet.errors
    finally:
        tablet.context.close()


def test_a_resent_edit_whose_first_send_arrived_is_not_a_conflict(session, api):
    """The answer was lost, not the request: the re-send meets its own change and is taken as sent."""
    fid = make_street(api, "Lost answer lane")["id"]
    change = {"properties": {"name": "Lost answer lane, renamed"}}
    api.patch(
        f"/ogc/collections/streets/items/{fid}", json=change, headers={"Content-Type": "application/merge-patch+json"}
    )
    entry = {"method": "PATCH", "url": f"/ogc/collections/streets/items/{fid}", "body": change, "etag": '"1"',
             "type": "application/merge-patch+json", "label": "Lost answer lane", "layer": "streets", "fid": fid,
             "kind": "update", "key": "k1", "state": "waiting", "at": "2026-11-23T10:00:00Z"}  # fmt: skip
    page = session.page("/")
    # Kept by an earlier version in localStorage: moved into IndexedDB when the page opens, then sent.
    page.evaluate("(e) => localStorage.setItem('mahalle.outbox', JSON.stringify([e]))", entry)
    page.reload()
    page.wait_for_function("document.body.classList.contains('ready')")
    assert stored_when_sent(page) == []
    assert page.evaluate("localStorage.getItem('mahalle.outbox')") is None
    assert page.locator("#outbox").is_hidden()
    assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["version"] == 2
