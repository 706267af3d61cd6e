"""The database's refusals in the user's language: the server sends the rule and its parameters with its English
sentence (problem details `rule`, `params`), and the web app words them from its catalogues (web/static/js/rules.js):
attribute labels, value labels and the language's digits."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.web.conftest import shot
from tests.web.helpers import go
from tests.web.test_map_editing import EMPTY, draw_line, features

RULE = "(body) => import('/static/js/rules.js').then((m) => m.ruleMessage(body))"


def in_language(page: Page, code: str) -> None:
    page.select_option("#language", code)
    page.wait_for_function(f"document.documentElement.lang === '{code}'")


def test_a_refused_save_says_why_in_french(session, api):
    page = session.page("/")
    in_language(page, "fr")
    go(page, EMPTY[0], EMPTY[1], 18)
    page.select_option("#edit-layer", "streets")
    lat, lon = EMPTY
    draw_line(page, [(lat + 0.0004, lon - 0.0006), (lat + 0.0004, lon), (lat + 0.0005, lon + 0.0006)])
    form = page.locator("#detail form")
    form.locator('[name="name"]').fill("Rue des Essais")
    form.locator('[name="width_m"]').fill("-3")
    page.click("#save")
    error = page.locator('.field[data-name="width_m"] .field-error')
    error.wait_for()
    text = error.inner_text()
    assert "« Largeur » doit valoir au moins 0" in text, text
    assert "width_m" not in text  # the attribute's label, not its column
    assert features(api, "streets", "name = 'Rue des Essais'") == []
    shot(page, "rule-message-fr")
    form.locator('[name="width_m"]').fill("4")
    page.click("#save")
    page.locator("#detail h2", has_text="Rue des Essais").wait_for()


def test_rules_are_worded_in_persian_with_labels_and_persian_digits(session):
    page = session.page("/")
    in_language(page, "fa")
    params = {"layer": "parcels", "attribute": "tenure", "value": "freehold", "allowed": ["informal", "public"]}
    not_in_list = page.evaluate(RULE, {"rule": "not_in_list", "params": params})
    assert not_in_list == "وضعیت مالکیت: «freehold» از مقادیر مجاز نیست: غیررسمی یا زمین عمومی.", not_in_list
    maximum = page.evaluate(
        RULE,
        {"rule": "maximum", "params": {"layer": "parcels", "attribute": "floors", "maximum": 200, "value": 201}},
    )
    assert "۲۰۰" in maximum and "۲۰۱" in maximum and "تعداد طبقات" in maximum, maximum
    check = page.evaluate(
        RULE, {"rule": "check", "params": {"layer": "workshops", "check": "pollutants_need_polluting"}}
    )
    assert check == "آلاینده‌ها فهرست شده‌اند اما کارگاه آلاینده علامت نخورده است."
    shape = page.evaluate(
        RULE, {"rule": "geometry_type", "params": {"layer": "parcels", "expected": "multipolygon", "got": "point"}}
    )
    assert "نقطه" in shape and "محدوده‌ها" in shape, shape
    # No sentence for a rule it does not know, nor for a check of a layer without one: the server's words stay.
    assert page.evaluate(RULE, {"rule": "brand_new", "params": {}, "detail": "x"}) is None
    assert page.evaluate(RULE, {"rule": "check", "params": {"layer": "wells", "check": "deep"}}) is None
    assert page.evaluate(RULE, {"detail": "no rule"}) is None
