"""Every page of the main app on a phone (390 × 844), left to right and right to left: no sideways scrolling of the
page, a compact top bar whose menu reaches every view, the board's columns and the tables scrolling inside their own
boxes, dialogs that fit. Screenshots: test-artifacts/phone-*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import Session, shot

PHONE = {"width": 390, "height": 844}
VIEWS = ("map", "interventions", "board", "dashboard", "review", "transfer")
SECTION = {"map": "#view-map", "interventions": "#planner", "board": "#view-board .board",
           "dashboard": "#view-dashboard .figures", "review": "#view-review h2",
           "transfer": "#view-transfer #export-form"}  # fmt: skip


@pytest.fixture
def phone(browser: Browser, server: str) -> Iterator[Session]:
    s = Session(browser, server, viewport=PHONE, has_touch=True, is_mobile=True).log_in()
    yield s
    s.context.close()
    assert not s.errors, f"script errors on the page: {s.errors}"
    assert not s.dialogs, f"unexpected alert/confirm dialogs: {s.dialogs}"


def assert_fits(page: Page, what: str) -> None:
    """Nothing makes the page wider than the phone (in RTL an overflow to the left counts as well)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the page is {width} px wide"


def assert_on_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= -1 and box["x"] + box["width"] <= PHONE["width"] + 1, (selector, box)


def menu(page: Page, open_: bool) -> None:
    button = page.locator("#menu-toggle")
    assert button.is_visible(), "on a phone the views are behind the menu button"
    if (button.get_attribute("aria-expanded") == "true") != open_:
        button.click()
    if open_:
        page.locator("#topbar-menu").wait_for(state="visible")
    else:
        page.locator("#topbar-menu").wait_for(state="hidden")


def choose_language(page: Page, lang: str) -> None:
    menu(page, True)
    page.select_option("#language", lang)
    page.wait_for_function("([l]) => document.documentElement.lang === l", arg=[lang])
    menu(page, False)


def go_to(page: Page, view: str) -> None:
    """Open the menu and tap the view, as a user does: the link is on screen, tapping it shows the view and
    folds the menu away."""
    menu(page, True)
    link = page.locator(f'nav.views a[data-view="{view}"]')
    assert link.is_visible(), f"the {view} link is not visible in the menu"
    assert_on_screen(page, f'nav.views a[data-view="{view}"]')
    link.click()
    page.wait_for_function("([v]) => location.hash === '#' + v", arg=[view])
    page.locator(SECTION[view]).first.wait_for(state="visible", timeout=20000)
    assert page.locator("#topbar-menu").is_hidden(), "the menu stays open after choosing a view"
    assert link.get_attribute("aria-current") == "page"
    assert page.locator("#current-view").inner_text() == link.inner_text()  # the bar says where the user is
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") == 0, f"{view} opened scrolled down"  # not at the element named like the #hash


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_every_view_fits_a_phone_and_the_menu_reaches_it(phone: Session, lang: str):
    page = phone.page("/")
    bar = page.locator("header.topbar")
    assert bar.bounding_box()["height"] <= 64, "the top bar is not compact"
    assert page.locator("#topbar-menu").is_hidden() and page.locator("nav.views").is_hidden()
    assert_fits(page, "map, menu closed")
    choose_language(page, lang)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "fa" else "ltr")
    menu(page, True)
    assert_fits(page, "menu open")
    shot(page, f"phone-menu-{lang}")
    # The menu covers the page and folds away with Escape.
    page.keyboard.press("Escape")
    page.locator("#topbar-menu").wait_for(state="hidden")

    for view in VIEWS:
        go_to(page, view)
        shot(page, f"phone-{view}-{lang}")
        assert bar.bounding_box()["height"] <= 64
        assert_fits(page, view)
        assert_on_screen(page, "#menu-toggle")
        shot(page, f"phone-{view}-{lang}")

    # The board: its columns scroll inside their own strip; the status chips bring a column on screen.
    go_to(page, "board")
    board = page.locator("#view-board .board")
    assert board.evaluate("b => b.scrollWidth > b.clientWidth + 100"), "the columns do not scroll in their box"
    last = page.locator(".board-jump button").last
    assert last.is_visible()
    status = last.get_attribute("data-jump")
    column = page.locator(f'#view-board .column[data-status="{status}"]')
    assert not (column.bounding_box()["x"] >= 0 and column.bounding_box()["x"] + 100 <= PHONE["width"])
    last.click()
    page.wait_for_function(
        "([s]) => { const r = document.querySelector(`.column[data-status='${s}']`).getBoundingClientRect();"
        " return r.left >= -1 && r.right <= innerWidth + 1; }", arg=[status], timeout=5000)  # fmt: skip
    assert_fits(page, "board scrolled to its last column")
    shot(page, f"phone-board-last-column-{lang}")

    # The dashboard's charts are as wide as the phone, no wider.
    go_to(page, "dashboard")
    page.locator("#chart-services").wait_for()
    for chart in ("#chart-pct", "#chart-services", "#chart-tenure", "#chart-tasks"):
        assert_on_screen(page, chart)

    # The attribute table scrolls inside its drawer; a feature's panel and a dialog fit.
    go_to(page, "map")
    page.click('[data-table="streets"]')
    page.locator(".attr-table tbody tr").first.wait_for()
    scroll = page.locator(".table-scroll")
    assert scroll.evaluate("s => s.scrollWidth > s.clientWidth"), "the table does not scroll in its box"
    assert_fits(page, "attribute table")
    assert_on_screen(page, ".table-drawer")
    page.locator(".table-drawer").scroll_into_view_if_needed()
    shot(page, f"phone-table-{lang}")
    page.locator(".attr-table tbody tr").first.locator("td button.link").click()
    page.locator("#detail form").wait_for()
    assert_fits(page, "feature panel")
    assert_on_screen(page, "#detail")
    assert page.evaluate("document.querySelector('#detail').getBoundingClientRect().top < innerHeight"), \
        "the feature's panel opened off screen"  # fmt: skip
    shot(page, f"phone-detail-{lang}")
    question = "A question long enough to need more than one line on a phone: the dialog wraps it, never grows"
    page.evaluate(f"import('/static/js/dialog.js').then((m) => {{ m.confirmDialog('{question}', 'OK'); }})")
    page.locator("#dialog .dialog-buttons").wait_for()
    assert_on_screen(page, "#dialog")
    assert_on_screen(page, "#dialog .dialog-buttons button")
    shot(page, f"phone-dialog-{lang}")
    page.keyboard.press("Escape")


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_api_docs_admin_and_login_pages_fit_a_phone(phone: Session, lang: str):
    page = phone.page("/")
    choose_language(page, lang)
    menu(page, True)
    api = page.locator("nav.views a.external")
    assert api.is_visible()
    api.click()
    page.wait_for_url("**/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=20000)
    page.wait_for_timeout(300)
    assert_fits(page, "API docs")
    shot(page, f"phone-docs-{lang}")

    page = phone.page("/")
    menu(page, True)
    admin = page.locator("#admin-link")
    assert admin.is_visible()
    admin.click()
    page.locator("#users").wait_for()
    assert page.evaluate("document.documentElement.lang") == lang
    assert_fits(page, "admin")
    box = page.locator("#activity").locator("xpath=..")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the table of edits does not scroll in its box"
    shot(page, f"phone-admin-{lang}")
    page.click("#admin-back")
    page.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    assert_fits(page, "back on the map")

    login = phone.context.new_page()
    login.goto(f"/login?lang={lang}&next=%2F%23board")
    assert_fits(login, "login")
    assert_on_screen(login, "#login-submit")
    shot(login, f"phone-login-{lang}")


def test_the_desktop_bar_keeps_its_views_in_the_bar(session: Session):
    """Wider than a phone nothing folds: every view is in the bar, no menu button."""
    page = session.page("/")
    assert page.locator("#menu-toggle").is_hidden()
    for view in VIEWS:
        assert page.locator(f'nav.views a[data-view="{view}"]').is_visible(), view
    assert page.locator("#language").is_visible() and page.locator("#neighbourhood").is_visible()
    shot(page, "desktop-bar")
    assert page.locator("header.topbar").bounding_box()["height"] <= 64
