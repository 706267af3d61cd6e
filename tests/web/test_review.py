"""The planners' review queue and photos in the main app, in a real browser: field observations (sent through
/field/sync, one with a photo) accepted as a task and rejected with a reason, conflicting field edits settled
both ways, and a feature's and an intervention's photos (thumbnails, full size, adding one)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from api.identity.store import Grant, add_user
from importers.demo import CODE
from tests.web.conftest import Session, shot

PASSWORD = "Kuche-2026-safe!"


def jpeg(colour: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):  # some structure, so it is recognisably a picture in the screenshots
        for y in range(size[1]):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def spot(web_db: str) -> tuple[float, float]:
    """A point inside the demo neighbourhood (lon, lat)."""
    with psycopg.connect(web_db) as conn:
        return conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM neighbourhoods WHERE code = %s) x",
            [CODE],
        ).fetchone()


def sync(api: httpx.Client, *changes: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.post("/field/sync", json={"changes": list(changes)})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def observe(api: httpx.Client, spot: tuple[float, float], note: str, category: str = "lighting_fault") -> int:
    lon, lat = spot
    (result,) = sync(api, {
        "uid": str(uuid.uuid4()), "op": "create", "layer": "observations",
        "properties": {"category": category, "note": note, "captured_at": "2026-11-30T10:00:00Z", "accuracy_m": 6},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    })  # fmt: skip
    assert result["status"] == "applied", result
    return result["id"]


def attach(api: httpx.Client, layer: str, fid: int, data: bytes, role: str = "photo") -> dict[str, Any]:
    r = api.post("/attachments", files={"file": ("photo.jpg", data, "image/jpeg")},
                 data={"layer": layer, "feature_id": str(fid), "role": role})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def observation(api: httpx.Client, oid: int) -> dict[str, Any]:
    r = api.get(f"/ogc/collections/observations/items/{oid}")
    assert r.status_code == 200, r.text
    return r.json()["properties"]


def attachments(api: httpx.Client, layer: str, fid: int) -> list[dict[str, Any]]:
    r = api.get("/attachments", params={"layer": layer, "feature_id": fid})
    assert r.status_code == 200, r.text
    return r.json()["attachments"]


def open_review(s: Session) -> Page:
    page = s.page("/")
    page.click('nav.views a[data-view="review"]')
    page.locator("#view-review .review-head").wait_for()
    return page


def card(page: Page, oid: int):
    return page.locator(f'.review-card[data-observation="{oid}"]')


def test_observations_become_a_task_or_are_rejected_with_a_reason(session: Session, api, spot):
    tag = uuid.uuid4().hex[:6]
    pothole, nothing = f"Pothole by the school {tag}", f"Nothing to see {tag}"
    a = observe(api, spot, pothole)
    b = observe(api, spot, nothing, "other")
    attach(api, "observations", a, jpeg())
    page = open_review(session)

    first = card(page, a)
    first.wait_for()
    assert pothole in first.inner_text() and "Light not working" in first.inner_text()  # the category's label
    assert "±6 m" in first.inner_text()
    # Its photo as a thumbnail that really loaded, full size on a click.
    thumb = first.locator(".photo-thumb img")
    assert thumb.count() == 1
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    first.locator(".photo-thumb").click()
    full = page.locator("#dialog img.photo-full")
    full.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 640", arg=full.element_handle())
    shot(page, "review-photo")
    page.click("#photo-close")
    assert page.locator("#dialog").is_hidden()
    shot(page, "review-queue")

    # Accept as a task: the title comes from the note.
    first.locator('[data-action="task"]').click()
    title = first.locator('input[name="title"], input[id$="-title"]').first
    assert title.input_value() == pothole
    first.locator('select[name="priority"]').select_option("high")
    first.locator('[data-submit="task"]').click()
    page.locator(".toast-ok").wait_for()
    first.wait_for(state="detached")
    done = observation(api, a)
    assert done["review_status"] == "converted" and done["became_kind"] == "task" and done["became_layer"] == "tasks"
    task = api.get(f"/tasks/{done['became_id']}").json()
    assert task["title"] == pothole and task["priority"] == "high"
    assert len(attachments(api, "tasks", done["became_id"])) == 1  # the photo followed it

    # Reject: without a reason the server refuses and says why, in the card; with one it is done.
    second = card(page, b)
    second.locator('[data-action="reject"]').click()
    second.locator('[data-submit="reject"]').click()
    error = second.locator(".form-error")
    error.wait_for()
    assert "reason" in error.inner_text()
    assert observation(api, b)["review_status"] == "new"
    second.locator("textarea").fill("Duplicate of an earlier report")
    second.locator('[data-submit="reject"]').click()
    second.wait_for(state="detached")
    rejected = observation(api, b)
    assert rejected["review_status"] == "rejected" and rejected["review_note"] == "Duplicate of an earlier report"
    queue = api.get("/review").json()
    assert not {a, b} & {o["id"] for o in queue["observations"]}


def test_an_observation_becomes_a_new_feature_at_its_point(session: Session, api, spot):
    oid = observe(api, spot, f"New water point {uuid.uuid4().hex[:6]}", "new_feature")
    page = open_review(session)
    item = card(page, oid)
    item.locator('[data-action="feature"]').click()
    item.locator('select[id$="-layer"]').select_option("service_points")
    item.locator('.feature-form [name="name"]').fill("Water point")
    item.locator('.feature-form [name="category"]').select_option(index=1)
    item.locator('[data-submit="feature"]').click()
    item.wait_for(state="detached")
    done = observation(api, oid)
    assert done["became_layer"] == "service_points"
    feature = api.get(f"/ogc/collections/service_points/items/{done['became_id']}").json()
    assert feature["properties"]["name"] == "Water point"
    assert feature["geometry"]["coordinates"] == pytest.approx(list(spot), abs=1e-6)  # the observation's point


def stale_edit(api: httpx.Client, sid: int, server_change: dict[str, Any], field_change: dict[str, Any]) -> int:
    """The server changes the feature after the device saw it; the device's edit becomes a conflict."""
    current = api.get(f"/ogc/collections/service_points/items/{sid}").json()
    version = current["properties"]["version"]
    r = api.patch(f"/ogc/collections/service_points/items/{sid}", json={"properties": server_change},
                  headers={"If-Match": f'"{version}"', "Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert r.status_code == 200, r.text
    (result,) = sync(api, {"uid": str(uuid.uuid4()), "op": "update", "layer": "service_points", "id": sid,
                           "base_version": version, "properties": field_change})  # fmt: skip
    assert result["status"] == "conflict", result
    return result["conflict_id"]


def test_conflicting_field_edits_side_by_side_keep_field_or_server(session: Session, api):
    points = api.get("/ogc/collections/service_points/items", params={"limit": 2, "sortby": "-id"}).json()["features"]
    one, two = points[0]["id"], points[1]["id"]
    c1 = stale_edit(api, one, {"status": "open", "name": "Server name"}, {"status": "closed", "name": "Server name"})
    c2 = stale_edit(api, two, {"status": "open"}, {"status": "closed"})
    page = open_review(session)
    first = page.locator(f'.conflict-card[data-conflict="{c1}"]')
    first.wait_for()
    # Property by property: the differing one is marked, the equal one is not.
    assert first.locator('tr[data-attribute="status"]').get_attribute("class") == "differs"
    assert first.locator('tr[data-attribute="name"]').get_attribute("class") == ""
    status_row = first.locator('tr[data-attribute="status"] td')
    assert status_row.nth(0).inner_text() != status_row.nth(1).inner_text()
    shot(page, "review-conflict")
    first.locator('[data-keep="field"]').click()
    first.wait_for(state="detached")
    assert api.get(f"/ogc/collections/service_points/items/{one}").json()["properties"]["status"] == "closed"
    second = page.locator(f'.conflict-card[data-conflict="{c2}"]')
    second.locator('[data-keep="server"]').click()
    second.wait_for(state="detached")
    assert api.get(f"/ogc/collections/service_points/items/{two}").json()["properties"]["status"] == "open"
    assert not {c1, c2} & {c["id"] for c in api.get("/review").json()["conflicts"]}


def test_a_features_photos_in_its_panel_and_adding_one(session: Session, api, tmp_path):
    sid = api.get("/ogc/collections/service_points/items", params={"limit": 1, "sortby": "id"}).json()["features"][0][
        "id"
    ]
    before = len(attachments(api, "service_points", sid))
    page = session.page("/")
    page.evaluate("([l, id]) => mahalle.openFeature(l, id)", ["service_points", sid])
    section = page.locator("#feature-photos")
    section.wait_for()
    page.wait_for_function("!document.querySelector('#feature-photos .photo-list').textContent.includes('Loading')")
    assert section.locator(".photo-thumb").count() == before
    photo = tmp_path / "mosque-door.jpg"
    photo.write_bytes(jpeg((40, 90, 160)))
    page.set_input_files("#photo-file", str(photo))
    section.locator(".photo-thumb").nth(before).wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=section.locator(".photo-thumb img").nth(before).element_handle())  # fmt: skip
    added = attachments(api, "service_points", sid)
    assert len(added) == before + 1 and added[-1]["filename"] == "mosque-door.jpg" and added[-1]["role"] == "photo"
    section.scroll_into_view_if_needed()
    shot(page, "feature-photos")
    # Not an image: the server's reason is shown and nothing is attached.
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    page.set_input_files("#photo-file", str(text))
    section.locator(".form-error").wait_for()
    assert len(attachments(api, "service_points", sid)) == before + 1


def test_an_intervention_gets_before_and_after_photos(session: Session, api, tmp_path):
    iid = api.get("/interventions").json()["features"][0]["id"]
    page = session.page("/#interventions")
    page.evaluate("([l, id]) => mahalle.openFeature(l, id)", ["interventions", iid])
    section = page.locator("#feature-photos")
    section.wait_for()
    role = page.locator("#photo-role")
    assert {o for o in role.locator("option").all_inner_texts()} >= {"Before", "After"}
    role.select_option("before")
    photo = tmp_path / "street-before.jpg"
    photo.write_bytes(jpeg((90, 90, 90)))
    page.set_input_files("#photo-file", str(photo))
    section.locator(".photo-thumb .photo-role", has_text="Before").wait_for()
    section.scroll_into_view_if_needed()
    shot(page, "intervention-photos")
    assert [a["role"] for a in attachments(api, "interventions", iid) if a["filename"] == "street-before.jpg"] == [
        "before"
    ]


@pytest.fixture
def viewer(browser: Browser, server: str, web_db: str) -> Iterator[Session]:
    name = f"vera{uuid.uuid4().hex[:6]}"
    with psycopg.connect(web_db, autocommit=True) as conn:
        add_user(conn, name, [Grant("viewer", None)], password=PASSWORD)
    s = Session(browser, server).log_in(name, PASSWORD)
    yield s
    s.context.close()


def test_who_cannot_plan_has_no_review_and_no_add_photo(viewer: Session, api):
    page = viewer.page("/#review")
    assert page.locator('nav.views a[data-view="review"]').is_hidden()
    assert page.locator("#view-review").is_hidden() and page.evaluate("location.hash") == "#review"  # the map instead
    sid = api.get("/ogc/collections/service_points/items", params={"limit": 1}).json()["features"][0]["id"]
    page.evaluate("([l, id]) => mahalle.openFeature(l, id)", ["service_points", sid])
    page.locator("#feature-photos").wait_for()
    assert page.locator("#add-photo").count() == 0


def test_review_on_a_phone_in_persian(browser: Browser, server: str, api, spot):
    oid = observe(api, spot, "چراغ کوچه خاموش است")
    attach(api, "observations", oid, jpeg((30, 140, 60)))
    phone = Session(browser, server, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True).log_in()
    try:
        page = phone.page("/")
        page.click("#menu-toggle")
        page.select_option("#language", "fa")
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        page.locator('nav.views a[data-view="review"]').click()
        item = card(page, oid)
        item.wait_for()
        item.locator('[data-action="reject"]').click()
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert item.bounding_box()["x"] >= 0 and item.bounding_box()["x"] + item.bounding_box()["width"] <= 391
        item.scroll_into_view_if_needed()
        shot(page, "review-phone-fa")
        conflicts = page.locator(".conflict-card .scroll-box")
        if conflicts.count():
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not phone.errors, phone.errors
    finally:
        phone.context.close()
