"""The plausibility rules on the admin page, in a real browser: an administrator sees the rules in French, changes
the longest street, switches a rule off, and a rule that does not fit its layer is refused with the server's
reason; nothing is changed by a refusal."""

from __future__ import annotations

from tests.web.conftest import shot
from tests.web.test_login import open_page


def rules(api) -> dict[tuple[str, str], dict]:
    return {(r["layer"], r["rule"]): r for r in api.get("/plausibility-rules").json()}


def test_an_administrator_changes_the_plausibility_rules(session, api):
    page = open_page(session, "/admin?lang=fr")  # the session is the office's administrator's
    page.locator("body.plausibility-ready").wait_for(timeout=20000)
    section = page.locator("#plausibility")
    assert "Règles de plausibilité" in section.locator("h2").inner_text()
    row = section.locator("tr[data-layer='streets'][data-rule='max_length']")
    assert "Ligne la plus longue (m)" in row.inner_text()
    assert page.input_value("#plausibility-streets-max_length-limit") == "2000"
    try:
        page.fill("#plausibility-streets-max_length-limit", "3500")
        page.click("#plausibility-streets-max_length-save")
        row.locator(".vocab-status.ok").wait_for()
        page.uncheck("#plausibility-assets-keep_neighbourhood-applied")
        page.click("#plausibility-assets-keep_neighbourhood-save")
        section.locator("tr[data-layer='assets'][data-rule='keep_neighbourhood'] .vocab-status.ok").wait_for()
        found = rules(api)
        assert found[("streets", "max_length")]["value"] == 3500
        assert found[("assets", "keep_neighbourhood")]["enabled"] is False
        page.select_option("#plausibility-new-layer", "parcels")
        page.select_option("#plausibility-new-rule", "max_length")
        page.fill("#plausibility-new-limit", "10")
        page.click("#plausibility-add")
        error = section.locator("fieldset .form-error")
        error.wait_for()
        assert "does not apply to this layer" in error.inner_text()
        assert ("parcels", "max_length") not in rules(api)
        shot(page, "admin-plausibility")
    finally:  # the module's other tests share the database
        api.put("/plausibility-rules/streets/max_length", json={"value": 2000})
        api.put("/plausibility-rules/assets/keep_neighbourhood", json={"value": None, "enabled": True})
