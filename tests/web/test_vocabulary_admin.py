"""The value lists' editor on the admin page, in a real browser: an administrator adds an intervention kind with
its Persian label, it is offered in the intervention form of the app at once (in Persian), is retired and no longer
offered; a lifecycle list offers translation only."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser

from api.identity.store import Grant, add_user
from tests.web.conftest import Session, shot
from tests.web.test_login import log_in, open_page

PASSWORD = "Fehrest-2026-lists!"


@pytest.fixture(scope="module")
def admin_user(web_db: str) -> str:
    with psycopg.connect(web_db, autocommit=True) as conn:
        add_user(conn, "parisa", [Grant("admin", None)], password=PASSWORD)
    return "parisa"


@pytest.fixture
def visitor(browser: Browser, server: str, admin_user: str) -> Iterator[Session]:
    s = Session(browser, server)
    yield s
    s.context.close()
    assert not s.errors, f"script errors on the page: {s.errors}"


def test_an_administrator_adds_translates_and_retires_an_intervention_kind(visitor, web_db, admin_user):
    log_in(visitor, admin_user, PASSWORD)
    page = open_page(visitor, "/admin?lang=en#interventions.kind")
    page.locator("body.vocab-ready").wait_for(timeout=20000)
    rows = page.locator("#vocab-table tbody tr[data-value]")
    assert rows.first.get_attribute("data-value") == "paving"
    page.fill("#vocab-new-value", "traffic_signs")
    page.fill("#vocab-new-en", "Traffic signs")
    page.fill("#vocab-new-fa", "تابلوهای راهنمایی و رانندگی")
    page.click("#vocab-add")
    added = page.locator("#vocab-table tr[data-value='traffic_signs']")
    added.wait_for()
    assert added.locator("input[data-lang='fa']").input_value() == "تابلوهای راهنمایی و رانندگی"
    shot(page, "admin-value-lists")

    # A mistake is named next to the entry, nothing is stored.
    page.fill("#vocab-new-value", "Bus Stops")
    page.fill("#vocab-new-en", "Bus stops")
    page.click("#vocab-add")
    page.locator(".vocab-new .form-error").wait_for()
    assert "should match pattern" in page.locator(".vocab-new .form-error").inner_text()

    # The app offers it at once, in Persian.
    app = open_page(visitor, "/?lang=fa")
    app.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    labels = app.evaluate(
        "fetch('/layers/interventions').then(r => r.json()).then(l => l.attributes.find(a => a.name === 'kind')"
        ".choices.map(c => [c.value, c.label.fa || c.label.en, !!c.retired]))"
    )
    assert ["traffic_signs", "تابلوهای راهنمایی و رانندگی", False] in labels, labels

    # Retired: kept, marked, no longer offered for new interventions.
    added.locator("button", has_text="Retire").click()
    page.locator("#vocab-table tr[data-value='traffic_signs'].inactive").wait_for()
    with psycopg.connect(web_db) as conn:
        kept = conn.execute("SELECT retired, label->>'fa' FROM mahalle.vocabulary WHERE layer = 'interventions' "
                            "AND value = 'traffic_signs'").fetchone()  # fmt: skip
    assert kept == (True, "تابلوهای راهنمایی و رانندگی")

    # The app's intervention form no longer offers it.
    app.reload()
    app.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
    offered = app.evaluate(
        "import('/static/js/form.js').then((m) => fetch('/layers/interventions').then((r) => r.json()).then((l) =>"
        " [...m.widget(l.attributes.find((a) => a.name === 'kind'), null, 'k').node.options].map((o) => o.value)))"
    )
    assert "paving" in offered and "traffic_signs" not in offered

    # A lifecycle is translated only.
    page.select_option("#vocab-list", "interventions.status")
    page.locator("#vocab-table tr[data-value='proposed']").wait_for()
    assert page.locator("#vocab-new-value").count() == 0
    assert page.locator("#vocab-table button", has_text="Retire").count() == 0


def test_an_administrator_makes_a_group_of_neighbourhoods(visitor, api, admin_user):
    log_in(visitor, admin_user, PASSWORD)
    page = open_page(visitor, "/admin?lang=en")
    page.locator("body.groups-ready").wait_for(timeout=20000)
    page.fill("#group-new-code", "not a code!")
    page.fill("#group-new-name", "Programme cities")
    page.click("#group-new-save")
    page.locator("#groups .form-error").wait_for()  # the server names the problem; nothing is made
    assert api.get("/neighbourhood-groups/not%20a%20code!").status_code in (400, 404)
    page.fill("#group-new-code", "PROG-CITIES")
    page.select_option("#group-new-kind", "programme")
    page.locator("#groups fieldset").last.locator("label.check", has_text="HKI-CENTRE").locator("input").check()
    page.click("#group-new-save")
    page.locator("#groups fieldset[data-code='PROG-CITIES']").wait_for()
    shot(page, "admin-groups")
    group = api.get("/neighbourhood-groups/PROG-CITIES").json()
    assert (group["name"], group["kind"], group["neighbourhoods"]) == ("Programme cities", "programme", ["HKI-CENTRE"])
