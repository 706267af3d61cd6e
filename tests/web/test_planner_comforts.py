"""A planner's comforts in a real browser: the search box in the top bar (typed, picked with the keyboard, opening and
zooming to the feature, on a phone and right to left too), the list of deleted features with their Restore button,
the neighbourhood chooser sorted by name and remembered, layer counts that follow the user's edits, and the
attribute table that follows a form save (so a bulk edit right after it is not "changed by someone else")."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.web.conftest import Session, shot
from tests.web.helpers import go

IN_DEMO = (60.1700, 24.9450)  # inside the demo neighbourhood (HKI-CENTRE)
EMPTY = (60.1625, 24.9300)  # west of it: nothing else under the clicks
PHONE = {"width": 390, "height": 844}


def make_street(api, name: str, lat: float, lon: float, **props) -> dict:
    body = {
        "type": "Feature",
        "properties": {"name": name, **props},
        "geometry": {"type": "MultiLineString", "coordinates": [[[lon - 0.0006, lat], [lon + 0.0006, lat]]]},
    }
    response = api.post("/ogc/collections/streets/items", json=body, headers={"Content-Type": "application/geo+json"})
    assert response.status_code == 201, response.text
    return response.json()


def count_shown(page: Page, layer: str) -> int:
    return int(page.locator(f'.layer-item[data-layer="{layer}"] .count').inner_text().replace(",", ""))


def wait_for_count(page: Page, layer: str, n: int) -> None:
    """The panel shows ``n`` (in English digits, with thousands separators)."""
    page.wait_for_function(
        "([layer, n]) => Number(document.querySelector(`.layer-item[data-layer='${layer}'] .count`)"
        ".textContent.replaceAll(',', '')) === n",
        arg=[layer, n],
    )


def api_count(api, layer: str) -> int:
    return next(x for x in api.get("/layers?counts=true").json() if x["name"] == layer)["feature_count"]


def test_search_as_you_type_pick_with_the_keyboard_open_and_zoom(session, api):
    street = make_street(api, "Zebrafish alley", *EMPTY, note="behind the 100% cotton mill")
    make_street(api, "Zebrafish steps", EMPTY[0] + 0.001, EMPTY[1])
    page = session.page("/")
    box = page.locator("#search-input")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    box.fill("zebrafish")
    options = page.locator("#search-results [role=option]")
    options.nth(1).wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert "Zebrafish alley" in options.nth(0).inner_text() and "Streets" in options.nth(0).inner_text()
    shot(page, "search-hits")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert "Zebrafish alley" in page.locator(f"#{active}").inner_text()
    page.keyboard.press("Enter")
    page.locator("#detail h2", has_text="Zebrafish alley").wait_for()
    assert box.get_attribute("aria-expanded") == "false"
    lat, lon = page.evaluate("(() => { const c = mahalle.map.getCenter(); return [c.lat, c.lng]; })()")
    assert abs(lat - EMPTY[0]) < 0.001 and abs(lon - EMPTY[1]) < 0.001, (lat, lon)
    assert page.evaluate("mahalle.map.getZoom()") >= 16
    # What matched is shown when it is not the name: a note, found with its % taken literally.
    box.fill("100% cotton")
    options.first.wait_for()
    assert options.count() == 1 and "behind the 100% cotton mill" in options.first.inner_text()
    options.first.click()
    page.wait_for_function(
        "([id]) => document.querySelector('#detail h2') && mahalle.mapState.overlays.streets.lockedId === id",
        arg=[street["id"]],
    )
    shot(page, "search-opened")


def test_search_and_the_deleted_list_on_a_phone_right_to_left(browser, server, api):
    make_street(api, "Kuja la Kasuku", EMPTY[0] - 0.001, EMPTY[1])
    gone = make_street(api, "Njia iliyopotea", EMPTY[0] - 0.002, EMPTY[1])
    assert api.delete(f"/ogc/collections/streets/items/{gone['id']}", headers={"If-Match": '"1"'}).status_code == 204
    phone = Session(browser, server, viewport=PHONE, has_touch=True, is_mobile=True).log_in()
    try:
        page = phone.page("/")
        page.locator("#menu-toggle").click()
        page.select_option("#language", "fa")
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        box = page.locator("#search-input")
        assert box.is_visible()
        box.fill("kasuku")
        option = page.locator("#search-results [role=option]").first
        option.wait_for()
        b = page.locator("#search-results").bounding_box()
        assert b["x"] >= -1 and b["x"] + b["width"] <= PHONE["width"] + 1, b
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "phone-search-fa")
        option.click()
        page.locator("#detail h2", has_text="Kuja la Kasuku").wait_for()
        assert page.locator("#topbar-menu").is_hidden(), "the menu stays open after picking a hit"
        # The hit names its layer and id in Persian digits.
        page.locator("#menu-toggle").click()
        box.fill("kasuku")
        option.wait_for()
        assert "معابر" in option.inner_text() and "#۲" in option.inner_text(), option.inner_text()
        page.keyboard.press("Escape")
        page.locator("#menu-toggle").click()
        page.locator("#topbar-menu").wait_for(state="hidden")
        # The deleted list: translated, its id in Persian digits, nothing wider than the phone.
        page.locator("#trash-open").click()
        row = page.locator(".trash-row", has_text="Njia iliyopotea")
        row.wait_for()
        assert "بازگرداندن" in row.inner_text() and "حذف‌شده توسط admin" in row.inner_text(), row.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.locator("#detail").evaluate("n => n.scrollIntoView({ block: 'start' })")  # as opening it does
        shot(page, "phone-deleted-fa")
        assert not phone.errors
    finally:
        phone.context.close()


def test_deleted_features_are_listed_and_restored(session, api):
    street = make_street(api, "Lost and found lane", *IN_DEMO)
    gone = api.delete(f"/ogc/collections/streets/items/{street['id']}", headers={"If-Match": '"1"'})
    assert gone.status_code == 204, gone.text
    before = api_count(api, "streets")
    page = session.page("/")
    page.click("#trash-open")
    row = page.locator(".trash-row", has_text="Lost and found lane")
    row.wait_for()
    assert "admin" in row.inner_text() and "Streets" in row.inner_text()
    shot(page, "deleted-list")
    row.locator("button", has_text="Restore").click()
    page.locator(".toast-ok").wait_for()
    assert api.get(f"/ogc/collections/streets/items/{street['id']}").status_code == 200
    row.wait_for(state="detached")
    wait_for_count(page, "streets", before + 1)


def test_the_neighbourhood_chooser_is_sorted_by_name_and_remembered(session, api):
    # Codes in one order, names in another; "Émile" sorts with the E's, not after "Z" as code points would.
    made_up = (("ZZ-1", "Zeta", 10.0), ("ZZ-2", "alpha", 10.1), ("ZZ-3", "Émile", 10.2), ("ZZ-4", "Beta", 10.3))
    for code, name, x in made_up:
        ring = [[x, 50], [x + 0.05, 50], [x + 0.05, 50.05], [x, 50.05], [x, 50]]
        made = api.post("/ogc/collections/neighbourhoods/items", headers={"Content-Type": "application/geo+json"},
                        json={"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
                              "properties": {"code": code, "name": name}})  # fmt: skip
        assert made.status_code == 201, made.text
    page = session.page("/")
    names = page.locator("#neighbourhood option").evaluate_all("os => os.map((o) => o.textContent.trim())")
    ours = [n for n in names if n in ("Zeta", "alpha", "Émile", "Beta")]
    assert ours == ["alpha", "Beta", "Émile", "Zeta"], names
    assert names == sorted(names, key=lambda n: n.casefold().replace("é", "e"))
    assert page.locator("#neighbourhood").input_value() == "HKI-CENTRE"  # the first by code until one is chosen
    page.select_option("#neighbourhood", "ZZ-3")
    page.reload()
    page.wait_for_function("document.body.classList.contains('ready')")
    assert page.locator("#neighbourhood").input_value() == "ZZ-3"
    lon = page.evaluate("mahalle.map.getCenter().lng")
    assert 10.2 < lon < 10.25, lon  # the map opens on it too
    page.select_option("#neighbourhood", "HKI-CENTRE")


def test_layer_counts_follow_the_users_own_edits(session, api):
    street = make_street(api, "Counted lane", *EMPTY)
    page = session.page("/")
    shown = count_shown(page, "streets")
    assert shown == api_count(api, "streets")
    go(page, *EMPTY, 18)
    page.evaluate("([id]) => mahalle.openFeature('streets', id)", [street["id"]])
    page.locator("#detail h2", has_text="Counted lane").wait_for()
    page.click("#delete")
    page.locator("#dialog [data-choice=ok]").click()
    page.locator(".toast-ok").wait_for()
    wait_for_count(page, "streets", shown - 1)
    page.click("#undo")  # a restore
    wait_for_count(page, "streets", shown)


def test_a_form_save_refreshes_the_table_and_a_bulk_edit_after_it_is_no_conflict(session, api):
    ids = [make_street(api, f"Bulk after form {n}", EMPTY[0] + 0.0004 * n, EMPTY[1], surface="earth")["id"]
           for n in range(2)]  # fmt: skip
    page = session.page("/")
    go(page, EMPTY[0] + 0.0002, EMPTY[1], 17)
    page.click('[data-table="streets"]')
    page.locator("#filter-attr").select_option("name")
    page.locator("#filter-op").select_option("contains")
    page.fill("#filter-value", "bulk after form")
    page.click("#filter-apply")
    page.wait_for_function("document.querySelectorAll('.attr-table tbody tr').length === 2")
    page.locator(f'.attr-table tbody tr[data-id="{ids[0]}"] button.link').click()
    page.locator("#detail h2", has_text="Bulk after form 0").wait_for()
    page.locator('#detail [name="surface"]').select_option("gravel")
    page.click("#save")
    page.locator(".toast-ok").wait_for()
    # The table shows the saved value without being reopened.
    page.wait_for_function(
        "([id]) => document.querySelector(`.attr-table tbody tr[data-id='${id}']`).textContent.includes('Gravel')",
        arg=[ids[0]],
    )
    page.locator(".attr-table thead input[type=checkbox]").check()
    page.select_option("#bulk-attr", "lighting")
    page.locator(".bulk-value select").select_option("lit")
    page.click("#bulk-apply")
    report = page.locator(".bulk-report p")
    report.wait_for()
    shot(page, "bulk-after-form-save")
    assert "2 changed, 0 failed" in report.inner_text(), page.locator(".bulk-report").inner_text()
    for fid in ids:
        assert api.get(f"/ogc/collections/streets/items/{fid}").json()["properties"]["lighting"] == "lit"
