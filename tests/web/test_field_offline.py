"""Field mode (/field) on a phone-sized Chromium with its service worker, offline emulation and GPS: the first
visit shows each neighbourhood's size and downloads one, the page and its map open again with no connection,
observations with photos wait in IndexedDB across closing the page, and come back online exactly once — a lost
answer, an interrupted photo upload and a resent batch included. An edit of a feature changed on the server
meanwhile shows on the device as a conflict with both versions. Also: the login link, the page under its CSP,
Persian (RTL) at 390 px, the main app opening offline, and what the built service worker precaches."""

from __future__ import annotations

import io
import json
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import psycopg
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Route

from api.identity import store
from core import i18n
from tests.auth import ADMIN, ADMIN_PASSWORD
from tests.web.conftest import shot

ROOT = Path(__file__).resolve().parents[2]
CODE = "HKI-CENTRE"
PHONE = {"width": 390, "height": 844}
HERE = {"latitude": 60.1699, "longitude": 24.9414}  # inside the demo neighbourhood
PASSWORD = "Kentta-2026-offline!"
CHUNK = 256 * 1024
FIELD_KEYS_DYNAMIC = {f"field.state_{s}" for s in ("waiting", "conflict", "rejected")} | {
    f"field.became_{k}" for k in ("feature", "intervention", "task")} | {
    f"field.change_{s}" for s in ("conflict", "rejected", "kept_field", "kept_server")} | {
    f"field.tab_{t}" for t in ("map", "queue", "mine", "device")}  # fmt: skip


@pytest.fixture(scope="module")
def field_token(web_db: str) -> dict[str, str]:
    """A field worker of the demo neighbourhood: a password for the browser, an API token for the resend."""
    with psycopg.connect(web_db, autocommit=True) as conn:
        store.add_user(conn, "farid", [store.Grant("field", CODE)], password=PASSWORD)
        store.add_user(conn, "leila", [store.Grant("field", CODE)], password=PASSWORD)
        return {"Authorization": f"Bearer {store.create_token(conn, 'farid')}"}


class Phone:
    """A phone's browser: 390 × 844, touch, GPS, the service worker allowed (unlike the other browser tests)."""

    def __init__(self, browser: Browser, server: str, user: str | None, *, csp: bool = False, accuracy: float = 8):
        self.context: BrowserContext = browser.new_context(
            base_url=server, viewport=PHONE, has_touch=True, is_mobile=True, service_workers="allow",
            bypass_csp=not csp,  # wait_for_function needs eval; test_the_page_runs_under_its_policy keeps the CSP
            geolocation={**HERE, "accuracy": accuracy}, permissions=["geolocation"],
        )  # fmt: skip
        self.errors: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        if user:
            response = self.context.request.post("/auth/login", form={"name": user, "password": PASSWORD})
            assert response.ok, response.text()

    def open(self, path: str = "/field", wait: bool = True) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.goto(path)
        if wait:
            page.locator("body.ready").wait_for(timeout=20000)
        return page

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"script errors on the page: {self.errors}"


@pytest.fixture
def phone(browser: Browser, server: str, field_token: dict[str, str]) -> Iterator[Phone]:
    p = Phone(browser, server, "farid")
    yield p
    p.close()


def jpeg(size: tuple[int, int], gps: tuple[float, float] | None = None, noise: bool = False) -> bytes:
    """A real JPEG; with `gps` (lat, lon) in its EXIF; with noise it is large (several pieces of upload)."""
    image = Image.effect_noise(size, 90).convert("RGB") if noise else Image.new("RGB", size, (150, 120, 90))
    exif = Image.Exif()
    if gps:
        lat, lon = gps
        exif[0x8825] = {1: "N", 2: (lat, 0.0, 0.0), 3: "E", 4: (lon, 0.0, 0.0)}
        exif[0x0132] = "2026:11:30 08:05:00"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def photo_file(name: str, data: bytes) -> dict[str, object]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def wait_sync(page: Page) -> None:
    """Let a sync that may have started finish (the Sync button is disabled while one runs)."""
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('#sync').disabled", timeout=30000)


def download(page: Page, api: httpx.Client) -> dict:
    """Device tab: the neighbourhood with its size, then the download; the map shows it."""
    listing = api.get("/field/neighbourhoods").json()
    area = next(a for a in listing["neighbourhoods"] if a["code"] == CODE)
    card = page.locator(f"#area-list li[data-code='{CODE}']")
    card.wait_for()
    features = sum(layer["count"] for layer in area["layers"])
    size = f"{area['bytes'] / 1048576:.1f}".removesuffix(".0") + " MB"  # as Intl writes it: 2.4 MB, 4 MB
    assert size in card.locator(".area-size").inner_text() and f"{features:,} features" in card.inner_text()
    assert f"Download ({size})" in card.locator("button").first.inner_text()  # the size before the download
    card.locator("button", has_text="Download").click()
    page.wait_for_function("location.hash === '#map'", timeout=30000)
    page.wait_for_function("Object.keys(mahalleField.view.layers).length > 3", timeout=20000)
    return area


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def new_observation(page: Page, category: str, note: str, photos: list[dict[str, object]]) -> None:
    page.click("#report")
    page.locator("#observation-form").wait_for()
    page.select_option("#obs-category", category)
    page.fill("#obs-note", note)
    page.set_input_files("#photo-input", photos)
    page.locator(".photo-item").nth(len(photos) - 1).wait_for()


def test_field_mode_works_offline_and_each_observation_arrives_once(browser, server, api, phone, field_token):
    page = phone.open("/field")
    assert page.evaluate("location.hash") == "#device"  # nothing on the device yet: choose a neighbourhood
    shot(page, "field-choose-neighbourhood")
    download(page, api)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30000)  # installed: files kept
    no_horizontal_scroll(page)

    # No connection: the page, its modules, the catalogue and the neighbourhood's layers all come from the phone.
    phone.context.set_offline(True)
    page.reload()
    page.locator("body.ready").wait_for(timeout=20000)
    assert page.locator("#net").inner_text() == "Offline"
    page.wait_for_function(
        "mahalleField.view.layers.streets && mahalleField.view.layers.streets.getLayers().length > 100"
    )
    assert page.evaluate("mahalleField.view.layers.service_points.getLayers().length") > 100
    assert page.locator("#gps").inner_text() == "GPS ± 8 m"
    shot(page, "field-map-offline")

    # Two observations with photos: one at the GPS position, one where the GPS is too imprecise (refused until
    # the user confirms; here they decline and tap the map instead).
    big = jpeg((720, 720), noise=True)
    assert len(big) > 2 * CHUNK  # sent in three pieces
    new_observation(
        page,
        "waste",
        "Rubble dumped behind the mosque",
        [photo_file("rubble.jpg", jpeg((640, 480), gps=(60.1702, 24.9420))), photo_file("wide.jpg", big)],
    )
    shot(page, "field-observation-form")
    page.click("#obs-save")
    page.locator("#sheet").wait_for(state="hidden")
    assert page.locator("#badge").inner_text() == "1 change waiting"

    phone.context.set_geolocation({**HERE, "accuracy": 80})
    page.locator("#gps", has_text="imprecise").wait_for()
    new_observation(
        page, "lighting_fault", "Street light out at the corner", [photo_file("light.jpg", jpeg((480, 640)))]
    )
    page.click("#obs-save")
    dialog = page.locator("#dialog")
    dialog.wait_for()
    assert "80 m" in dialog.inner_text() and "25 m" in dialog.inner_text()
    dialog.locator("button", has_text="Cancel").click()
    assert "Not placed" in page.locator("#observation-form .form-error").inner_text()
    page.click("#place-tap")
    page.locator("#pick-hint").wait_for()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert "Tapped on the map" in page.locator("#place-text").inner_text()
    page.click("#obs-save")
    page.locator("#sheet").wait_for(state="hidden")
    assert page.locator("#badge").inner_text() == "2 changes waiting"

    # Closing the page loses nothing: a new page, still offline, finds both with their photos.
    page.close()
    page = phone.open("/field#queue")
    page.locator("#badge", has_text="2 changes waiting").wait_for()
    cards = page.locator("#queue-list .card-waiting")
    cards.nth(1).wait_for()
    assert cards.count() == 2
    assert page.locator("#queue-list .photo-line").count() == 3
    no_horizontal_scroll(page)
    shot(page, "field-queue-offline")

    # Back online. The first answer of the sync is lost (the server applied the batch, the phone never heard), and
    # the first piece of the big photo too: both are resent, resumed, and nothing arrives twice.
    syncs: list[str] = []
    ranges: list[str] = []

    def lose_first_answer(route: Route) -> None:
        syncs.append(route.request.post_data or "")
        route.fetch()  # it reaches the server…
        if len(syncs) == 1:
            route.abort()  # …but the answer is lost
        else:
            route.continue_()

    def interrupt_first_piece(route: Route) -> None:
        header = route.request.headers.get("content-range", "")
        ranges.append(header)
        if header.startswith("bytes 0-") and header.endswith(f"/{len(big)}") and ranges.count(header) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/field/sync", lose_first_answer)
    page.route(re.compile(r".*/field/uploads/[0-9a-f-]+$"), interrupt_first_piece)
    phone.context.set_offline(False)  # the online event starts a sync
    page.wait_for_function("document.querySelector('#net').textContent === 'Online'")
    wait_sync(page)
    assert len(syncs) == 1 and page.locator("#badge").inner_text() == "2 changes waiting"  # kept: no answer
    page.click("#sync")  # resent: the server recognises both changes ("already") and the photos go
    wait_sync(page)
    page.click("#sync")  # the interrupted photo resumes where the server is
    wait_sync(page)
    page.locator("#badge").wait_for(state="hidden", timeout=20000)
    assert [json.loads(body)["changes"] for body in syncs[:2]] == [json.loads(syncs[0])["changes"]] * 2
    big_pieces = [r for r in ranges if r.endswith(f"/{len(big)}")]
    assert big_pieces == [f"bytes 0-{CHUNK - 1}/{len(big)}", f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(big)}",
                          f"bytes {2 * CHUNK}-{len(big) - 1}/{len(big)}"], big_pieces  # fmt: skip
    assert page.locator("#queue-list").count() == 0 and "Nothing waits" in page.locator("#view-queue").inner_text()

    def mine() -> dict[str, dict]:
        queue = api.get("/review", params={"neighbourhood": CODE}).json()["observations"]
        ours = [o for o in queue if o["note"] in ("Rubble dumped behind the mosque", "Street light out at the corner")]
        assert len(ours) == len({o["note"] for o in ours}), "an observation arrived twice"
        return {o["note"]: o for o in ours}

    arrived = mine()
    rubble, light = arrived["Rubble dumped behind the mosque"], arrived["Street light out at the corner"]
    assert sorted(p["filename"] for p in rubble["photos"]) == ["rubble.jpg", "wide.jpg"]
    assert [p["filename"] for p in light["photos"]] == ["light.jpg"]
    assert next(p for p in rubble["photos"] if p["filename"] == "rubble.jpg")["exif_position"] == pytest.approx(
        [24.9420, 60.1702], abs=1e-3)  # fmt: skip
    assert next(p for p in rubble["photos"] if p["filename"] == "wide.jpg")["size_bytes"] == len(big)
    assert rubble["category"] == "waste" and rubble["accuracy_m"] == 8
    assert light["category"] == "lighting_fault" and light["accuracy_m"] is None  # placed by a tap
    assert rubble["observer"] == "farid"

    # The same batch again, as the field worker's script would resend it: every change "already", nothing new.
    again = httpx.post(f"{server}/field/sync", json=json.loads(syncs[0]), headers=field_token, timeout=30).json()
    assert [r["status"] for r in again["results"]] == ["already", "already"]
    # And the phone itself resending its stored changes (as after a crash between send and answer).
    changes = [{**c, "state": "waiting"} for c in json.loads(syncs[0])["changes"]]
    page.evaluate("(changes) => mahalleField.db.changes.bulkAdd(changes)", changes)
    page.locator("#badge", has_text="2 changes waiting").wait_for()
    page.click("#sync")
    page.locator("#badge").wait_for(state="hidden", timeout=20000)
    assert {k: len(v["photos"]) for k, v in mine().items()} == {"Rubble dumped behind the mosque": 2,
                                                                 "Street light out at the corner": 1}  # fmt: skip

    # "My reports": what became of them (a planner rejects one with a reason).
    api.post(f"/review/observations/{light['id']}", json={"action": "reject", "reason": "Reported twice: see #12"})
    page.click("#tabs a[data-tab='mine']")
    page.locator("#mine-list li").first.wait_for()
    rejected = page.locator(f"#mine-list li[data-uid='{light['uid']}']")
    assert "Rejected" in rejected.inner_text() and "Reported twice: see #12" in rejected.inner_text()
    assert "New" in page.locator(f"#mine-list li[data-uid='{rubble['uid']}']").inner_text()
    no_horizontal_scroll(page)
    shot(page, "field-my-reports")


def test_an_edit_of_a_feature_changed_on_the_server_meanwhile_shows_both_versions(browser, server, api, phone):
    page = phone.open("/field")
    download(page, api)
    workshop = api.get("/ogc/collections/workshops/items", params={"limit": 1}).json()["features"][0]
    fid, status = workshop["id"], workshop["properties"]["status"]
    # The office marks the workshop warned after the phone downloaded it.
    server_status = "warned" if status != "warned" else "active"
    answer = api.patch(f"/ogc/collections/workshops/items/{fid}", json={"properties": {"status": server_status}},
                       headers={"Content-Type": "application/merge-patch+json",
                                "If-Match": f'"{workshop["properties"]["version"]}"'})  # fmt: skip
    assert answer.status_code == 200, answer.text
    # The field worker, offline, finds it sealed: a tap on it opens its sheet, where only what the field role may
    # change (the catalogue's field_editable: the status) is a field.
    phone.context.set_offline(True)
    lon, lat = workshop["geometry"]["coordinates"]
    page.evaluate("([lat, lon]) => mahalleField.map.setView([lat, lon], 19, {animate: false})", [lat, lon])
    page.wait_for_timeout(300)
    box = page.locator("#map").bounding_box()
    where = "([lat, lon]) => { const p = mahalleField.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }"
    x, y = page.evaluate(where, [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)
    # The demo maps this garage as a service point too, at the same spot: the phone asks which one.
    page.locator(f"#feature-choice button[data-layer='workshops'][data-id='{fid}']").click()
    form = page.locator("#feature-form")
    form.wait_for()
    assert form.locator("select, input:not([type=file]), textarea").count() == 1, form.inner_html()
    form.locator("#attr-status").select_option("sealed")
    page.click("#feature-save")
    page.locator("#badge", has_text="1 change waiting").wait_for()
    phone.context.set_offline(False)
    wait_sync(page)
    page.locator("#badge", has_text="1 change needs attention").wait_for(timeout=20000)
    page.click("#badge")
    card = page.locator("#queue-list .card-conflict")
    card.wait_for()
    assert "a planner will decide" in card.inner_text()
    row = card.locator("table.versions tbody tr")
    assert row.count() == 1
    assert row.locator("th").inner_text() == "Status"
    assert row.locator(".device-value").inner_text() == "Sealed"
    assert row.locator(".server-value").inner_text() == ("Warned" if server_status == "warned" else "Active")
    no_horizontal_scroll(page)
    shot(page, "field-conflict")
    # Nothing was applied blindly; the planners' queue holds it with both versions.
    assert api.get(f"/ogc/collections/workshops/items/{fid}").json()["properties"]["status"] == server_status
    conflicts = [
        c for c in api.get("/review").json()["conflicts"] if c["layer"] == "workshops" and c["feature_id"] == fid
    ]
    assert len(conflicts) == 1
    assert conflicts[0]["field"]["properties"] == {"status": "sealed"}
    assert conflicts[0]["server"]["properties"]["status"] == server_status
    # The device now knows the server's version: a new edit names it as its base.
    page.click("#tabs a[data-tab='map']")
    page.wait_for_timeout(300)
    x, y = page.evaluate(where, [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.locator(f"#feature-choice button[data-layer='workshops'][data-id='{fid}']").click()
    page.locator("#attr-status").wait_for()
    assert page.locator("#attr-status").input_value() == server_status


def test_login_link_the_policy_and_persian_on_a_phone(browser, server, field_token):
    anonymous = Phone(browser, server, None, csp=True)
    try:
        page = anonymous.open("/field")
        link = page.locator("#field-login")
        assert link.is_visible() and unquote(link.get_attribute("href")).startswith("/login?next=/field")
        assert page.locator("#tabs").is_hidden()
        shot(page, "field-login")
    finally:
        anonymous.close()
    worker = Phone(browser, server, "leila", csp=True)  # under the page's Content-Security-Policy
    try:
        page = worker.open("/field")
        page.locator("#area-list li").first.wait_for()  # the list arrives after the page (GET /field/neighbourhoods)
        violations = [m for m in worker.console if "Content Security Policy" in m or "Refused to" in m]
        assert not violations, violations
        page.select_option("#language", "fa")
        page.locator("html[dir='rtl']").wait_for()
        assert page.locator("#tabs a[data-tab='mine']").inner_text() == "گزارش‌های من"
        size = page.locator("#area-list .area-size").first.inner_text()
        assert size.startswith("حدود ") and re.search("[۰-۹]", size) and not re.search("[0-9]", size), size  # digits
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "field-device-fa")
    finally:
        worker.close()


def test_the_main_app_opens_offline_after_one_visit(browser, server):
    context = browser.new_context(base_url=server, viewport=PHONE, service_workers="allow", bypass_csp=True)
    try:
        assert context.request.post("/auth/login", form={"name": ADMIN, "password": ADMIN_PASSWORD}).ok
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/")
        page.locator("body.ready").wait_for(timeout=20000)
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30000)
        context.set_offline(True)
        page.reload()
        page.locator("body.ready").wait_for(timeout=20000)  # every module of the app came from the worker's cache
        assert page.locator(".layer-item").count() > 3  # the layer catalogue too
        # The map's own requests for features and tiles of a view never seen fail, unhandled (mapview.js): that is
        # all that may go wrong — no module or script is missing.
        assert set(errors) <= {"Failed to fetch"}, errors
    finally:
        context.close()


# Without a browser ----------------------------------------------------------------------------------


def module_graph(entry: str) -> set[str]:
    """Every module URL an entry module imports, transitively (static imports)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        if not url.startswith("/static/"):
            continue
        text = (ROOT / "web" / url.removeprefix("/")).read_text(encoding="utf-8")
        for spec in re.findall(r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"', text, re.M):
            target = spec[0] or spec[1]
            todo.append(
                target if target.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(url), target))
            )
    return seen


def test_the_service_worker_precaches_every_file_both_pages_load():
    built = ROOT / "web" / "build" / "sw.js"
    assert built.is_file(), "run `make setup`: it builds the service worker (scripts/build-sw.mjs)"
    precached = set(re.findall(r'\{url:"([^"]+)",revision:', built.read_text()))
    needed = {"/field", *(f"/i18n/{code}.json" for code in i18n.LANGUAGES)}
    for template, entry in (("field.html", "/static/js/field/main.js"), ("index.html", "/static/js/app.js")):
        html = (ROOT / "web" / "templates" / template).read_text()
        needed |= {u for u in re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"', html)}
        needed |= module_graph(entry)
    assert "/vendor/dexie/dexie.mjs" in needed and "/static/js/field/sync.js" in needed  # the graph was followed
    assert needed - precached == set()
    assert "/static/js/sw.js" not in precached  # the worker's own part is loaded by importScripts


def test_every_field_string_is_in_every_catalogue():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "web" / "static" / "js" / "field").glob("*.js"))
    used = set(re.findall(r'"((?:field|auth|dialog|value|map|detail|nav)\.[\w.]+)"', code))
    used |= set(re.findall(r'data-i18n[\w-]*="([\w.]+)"', (ROOT / "web" / "templates" / "field.html").read_text()))
    used |= FIELD_KEYS_DYNAMIC
    assert len(used) > 80
    for lang in ("en", "fa", "ar", "el", "fr"):
        ui = json.loads((i18n.folder() / f"{lang}.json").read_text(encoding="utf-8"))["ui"]
        assert used - set(ui) == set(), lang
        ours = {k for k in ui if k.startswith("field.")}
        if lang != "en":
            same = {k for k in ours if ui[k] == json.loads((i18n.folder() / "en.json").read_text())["ui"][k]}
            assert same <= {"field.photos", "field.gps_ok"}, (lang, same)  # translated, not copied
