"""Logging in and out in a real browser, and what each role sees: the login page (every language, a phone's
width), the session cookie, the user and roles in the top bar, an edit attributed to the user in the
history, the generic error of a wrong password, a viewer without drawing or deleting tools, and the
admin page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser, Page

from api.identity.store import Grant, add_user
from core import i18n
from tests.web.conftest import Session, shot
from tests.web.helpers import click_feature, go

PASSWORD = "Kuche-2026-safe!"
EMPTY = (60.1625, 24.9330)  # west of the demo neighbourhood, away from test_map_editing's spots
WRONG = "The user name or password is wrong"


@pytest.fixture(scope="module")
def users(web_db: str) -> None:
    with psycopg.connect(web_db, autocommit=True) as conn:
        add_user(conn, "amina", [Grant("planner", None)], password=PASSWORD)
        add_user(conn, "vera", [Grant("viewer", None)], password=PASSWORD)
        add_user(conn, "omid", [Grant("admin", None)], password=PASSWORD)
        add_user(conn, "reza", [Grant("field", "HKI-CENTRE")], password=PASSWORD)


@pytest.fixture
def visitor(browser: Browser, server: str, users: None) -> Iterator[Session]:
    s = Session(browser, server)
    yield s
    s.context.close()
    assert not s.errors, f"script errors on the page: {s.errors}"
    assert not s.dialogs, f"unexpected alert/confirm dialogs: {s.dialogs}"


def open_page(s: Session, path: str) -> Page:
    """A page of the session that is not the app (the login page has no script to wait for)."""
    page = s.context.new_page()
    page.on("pageerror", lambda e: s.errors.append(str(e)))
    page.on("dialog", lambda d: (s.dialogs.append(d.message), d.dismiss()))
    page.goto(path)
    return page


def log_in(s: Session, name: str, password: str = PASSWORD, next_path: str = "/") -> Page:
    """Log in through the login page, as a user does; returns the app page it leads to."""
    page = open_page(s, f"/login?next={quote(next_path)}")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    return page


def make_street(page: Page, name: str) -> dict:
    """A street made through the API with the page's session (cookie and CSRF token)."""
    lat, lon = EMPTY
    body = {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "MultiLineString", "coordinates": [[[lon - 0.0008, lat], [lon + 0.0008, lat]]]},
    }
    token = page.evaluate("mahalle.me.csrf")
    response = page.request.post(
        "/ogc/collections/streets/items",
        data=json.dumps(body),
        headers={"Content-Type": "application/geo+json", "X-CSRF-Token": token},
    )
    assert response.status == 201, response.text()
    return response.json()


def session_cookies(s: Session) -> list[dict]:
    return [c for c in s.context.cookies() if c["httpOnly"]]


def test_log_in_edit_see_the_name_in_the_history_and_log_out(visitor: Session):
    page = open_page(visitor, "/login?next=/")
    assert page.locator("form[action^='/auth/login'][method='post'] #login-password").count() == 1
    assert page.locator("#login-name").get_attribute("autocomplete") == "username"
    assert page.locator("#login-password").get_attribute("autocomplete") == "current-password"
    page.fill("#login-name", "amina")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    assert urlsplit(page.url).path == "/"  # back on the app
    # The session is an HttpOnly cookie: the page's scripts cannot read it.
    (cookie,) = session_cookies(visitor)
    assert cookie["sameSite"] == "Lax" and cookie["value"] not in page.evaluate("document.cookie")
    assert page.locator("#user-name").inner_text() == "amina"
    assert "planner" in page.locator("#user-roles").inner_text()
    assert page.locator("#admin-link").count() == 0 and page.locator("#login-link").count() == 0
    shot(page, "logged-in")

    # An edit in the form is saved as amina (the request carries the CSRF token), and the history says so.
    fid = make_street(page, "Planner lane")["id"]
    go(page, *EMPTY, 18)
    click_feature(page, "streets", fid)
    page.locator('#detail [name="note"]').fill("Surveyed by the planner")
    page.click("#save")
    page.locator(".toast-ok").wait_for()
    page.locator("#detail button", has_text="History").click()
    newest = page.locator(".history-entry").first
    newest.wait_for()
    assert "amina" in newest.locator(".history-head").inner_text()
    assert page.locator(".history").inner_text().count("amina") >= 2  # created and changed, both by her

    page.click("#logout")
    page.locator("#login-link").wait_for()
    assert page.locator("#user-name").count() == 0
    assert session_cookies(visitor) == []
    href = page.locator("#login-link").get_attribute("href")
    assert href.startswith("/login?") and "next=%2F" in href


def test_a_wrong_password_gets_the_generic_error_and_no_cookie(browser: Browser, server: str, users: None):
    phone = Session(browser, server, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    try:
        page = open_page(phone, "/login?next=%2F%23board")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        page.fill("#login-name", "amina")
        page.fill("#login-password", "not her password")
        with page.expect_response(lambda r: r.url.split("?")[0].endswith("/auth/login")) as answer:
            page.click("#login-submit")
        assert answer.value.status == 401
        error = page.locator("#login-error")
        assert WRONG in error.inner_text()
        assert page.locator("#login-name").input_value() == "amina"  # kept: only the password is typed again
        assert page.locator("input[name=next]").input_value() == "/#board"
        assert session_cookies(phone) == []
        shot(page, "login-wrong-password-phone")
        # A user that does not exist gets the same answer: the page does not tell which part was wrong.
        page.fill("#login-name", "nobody-here")
        page.fill("#login-password", "whatever")
        page.click("#login-submit")
        assert WRONG in page.locator("#login-error").inner_text()
        assert session_cookies(phone) == []
        assert not phone.errors
    finally:
        phone.context.close()


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != "en"])
def test_the_login_page_speaks_every_language(visitor: Session, lang: str):
    page = open_page(visitor, f"/login?next=/&lang={lang}")
    title = i18n.text(lang, "ui", "auth.login_title")
    assert page.locator("h1").inner_text() == title
    assert page.evaluate("document.documentElement.dir") == i18n.language(lang).direction
    assert page.locator("label[for=login-password]").inner_text() == i18n.text(lang, "ui", "auth.password")


def test_a_viewer_sees_the_map_without_drawing_or_deleting(visitor: Session):
    page = log_in(visitor, "vera")
    assert "viewer" in page.locator("#user-roles").inner_text()
    assert page.locator("#edit-layer").count() == 0 and page.locator("[data-draw]").count() == 0
    assert page.locator("#edit-hint").inner_text()
    # A feature opens read-only: no save, reshape or delete, the fields cannot be changed.
    go(page, 60.1675, 24.9445, 18)
    fid = page.evaluate("mahalle.mapState.overlays.streets.geo.getLayers()[0].feature.id")
    click_feature(page, "streets", fid)
    page.locator('#detail [name="name"]').wait_for()
    assert page.locator('#detail [name="name"]').is_disabled()
    for control in ("#save", "#reshape", "#delete"):
        assert page.locator(control).count() == 0, control
    page.locator("#detail button", has_text="History").click()
    page.locator(".history-entry").first.wait_for()
    assert page.locator(".history-entry button").count() == 0  # no restore
    # The attribute table without bulk edit, the planner without drawing, the board without moves.
    page.click('[data-table="streets"]')
    page.locator(".attr-table tbody tr").first.wait_for()
    assert page.locator("#bulk-apply").count() == 0 and page.locator("#export-selection").count() == 1
    page.click('nav.views a[data-view="interventions"]')
    page.locator(".intervention-item").first.wait_for()
    assert page.locator("[data-draw-intervention]").count() == 0
    page.locator(".intervention-item").first.click()
    page.locator("#detail form").wait_for()
    assert page.locator("#save-intervention").count() == 0 and page.locator("[data-transition]").count() == 0
    assert page.locator("#link-targets").count() == 0 and page.locator("#new-task-for-intervention").count() == 0
    page.click('nav.views a[data-view="board"]')
    page.locator(".card").first.wait_for()
    assert page.locator("#new-task").count() == 0 and page.locator(".card select.move").count() == 0
    assert page.locator('.card[draggable="true"]').count() == 0
    shot(page, "viewer-board")


def test_field_staff_change_only_the_attributes_of_their_role(visitor: Session):
    page = log_in(visitor, "reza")
    assert "HKI-CENTRE" in page.locator("#user-roles").inner_text()
    drawable = page.locator("#edit-layer option").evaluate_all("options => options.map((o) => o.value)")
    # They report what they find and count (a mobile unit's visits, needs by area); they do not draw streets.
    assert drawable == ["observations", "visits", "referrals", "needs", "outputs"]
    page.locator("#layer-assets").check()
    go(page, 60.1675, 24.9445, 19)
    fid = page.evaluate("mahalle.mapState.overlays.assets.geo.getLayers()[0].feature.id")
    click_feature(page, "assets", fid)
    condition = page.locator('#detail [name="condition"]')
    condition.wait_for()
    enabled = page.locator("#detail form :is(input, select, textarea):enabled")
    assert sorted(enabled.evaluate_all("fields => fields.map((f) => f.name)")) == ["condition", "note"]
    assert page.locator("#reshape").count() == 0 and page.locator("#delete").count() == 0
    values = condition.locator("option").evaluate_all("options => options.map((o) => o.value)")
    new = next(v for v in values if v and v != condition.input_value())
    condition.select_option(new)
    page.click("#save")
    page.locator(".toast-ok").wait_for()
    assert page.locator('#detail [name="condition"]').input_value() == new
    page.locator("#detail button", has_text="History").click()
    assert "reza" in page.locator(".history-entry").first.locator(".history-head").inner_text()


def test_anonymous_visitors_read_and_are_offered_the_login(visitor: Session):
    page = visitor.page("/#board")
    link = page.locator("#login-link")
    assert "next=%2F%23board" in link.get_attribute("href")
    assert page.locator("[data-draw]").count() == 0 and page.locator("#logout").count() == 0
    link.click()
    page.fill("#login-name", "amina")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    assert page.url.endswith("/#board")  # back where they were
    page.locator("#new-task").wait_for()  # a planner: the board can be changed


def test_anonymous_visitors_see_only_the_public_layers(visitor: Session):
    page = visitor.page("/")
    listed = page.eval_on_selector_all(".layer-item", "items => items.map((i) => i.dataset.layer)")
    assert set(listed) == {"neighbourhoods", "streets", "service_points"}
    page.wait_for_timeout(1500)  # tiles of the listed layers load; none of a private layer is asked for
    assert not [u for u in visitor.requests if "/collections/parcels/" in u]


def test_an_admin_has_the_admin_page(visitor: Session):
    page = log_in(visitor, "omid")
    page.click("#admin-link")
    users = page.locator("table#users")
    users.wait_for()
    names = users.locator("tbody th").all_inner_texts()
    assert {"amina", "vera", "omid"} <= set(names)
    assert page.locator("table#audit").inner_text().count(i18n.text("en", "ui", "admin.event.login")) >= 1
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # tables scroll in their box
    shot(page, "admin-phone")
