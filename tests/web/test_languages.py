"""Every language finished, in a real browser: the first visit follows the browser's languages and `?lang=` links
open (and stay) in theirs, on the app, field mode and the login page alike; in Persian a date is typed and picked
in the Jalali calendar (the API keeps the ISO date) and shown back in Jalali; in Arabic the user chooses
Arabic-Indic or Latin digits, and counts take Arabic's CLDR plural forms. Screenshots: test-artifacts/languages-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page

from tests.web.conftest import Session, shot

STORED = "localStorage.getItem('mahalle.lang')"


@contextmanager
def visitor(browser: Browser, server: str, **options: object) -> Iterator[Session]:
    """A logged-in browser with no stored choice, its languages as `options` say (locale="fa-IR" …)."""
    s = Session(browser, server, **options).log_in()
    try:
        yield s
        assert not s.errors, f"script errors on the page: {s.errors}"
    finally:
        s.context.close()


def opened_in(page: Page, lang: str, direction: str) -> None:
    page.wait_for_function("([l, d]) => document.documentElement.lang === l && document.documentElement.dir === d",
                           arg=[lang, direction])  # fmt: skip
    assert page.locator("#language").input_value() == lang


def test_the_first_visit_follows_the_browser_and_lang_links_open_in_theirs(browser, server):
    with visitor(browser, server, locale="fa-IR") as s:
        page = s.page("/")
        opened_in(page, "fa", "rtl")
        assert page.evaluate(STORED) is None  # followed, not stored: a change of the browser's language follows too
        assert page.locator('nav.views a[data-view="board"]').inner_text() == "تابلوی وظایف"
        # The server-rendered login page agrees (Accept-Language: fa-IR).
        login = s.context.new_page()
        login.goto("/login")
        assert login.evaluate("document.documentElement.lang") == "fa"
    with visitor(browser, server, locale="de-DE") as s:  # no German catalogue: English
        page = s.page("/")
        opened_in(page, "en", "ltr")
        assert page.locator('nav.views a[data-view="board"]').inner_text() == "Task board"
    with visitor(browser, server, locale="fr-CA") as s:
        opened_in(s.page("/field"), "fr", "ltr")
    with visitor(browser, server, locale="de-DE") as s:
        page = s.page("/?lang=el#board")
        opened_in(page, "el", "ltr")
        assert page.evaluate(STORED) == "el"  # remembered
        assert "lang=" not in page.url and page.url.endswith("#board")  # and out of the address
        page.reload()
        page.wait_for_function("document.body.classList.contains('ready')")
        opened_in(page, "el", "ltr")
        opened_in(s.page("/field"), "el", "ltr")  # field mode too
        # The login page follows the stored choice (it comes back with ?lang=el) …
        login = s.context.new_page()
        login.goto("/login")
        login.wait_for_url("**/login?lang=el")
        assert login.evaluate("document.documentElement.lang") == "el"
        # … and a ?lang= link to it is remembered for the app.
        login.goto("/login?lang=ar")
        assert login.evaluate("document.documentElement.lang") == "ar"
        assert login.evaluate(STORED) == "ar"
        opened_in(s.page("/"), "ar", "rtl")
        opened_in(s.page("/field?lang=fr"), "fr", "ltr")
        assert s.page("/").evaluate(STORED) == "fr"


def test_a_due_date_is_picked_in_the_jalali_calendar_stored_as_iso_and_shown_in_jalali(browser, server, api):
    created = api.post(
        "/tasks", json={"title": "Nowruz clean-up (Jalali test)", "domain": "social", "neighbourhood_id": 1}
    )
    assert created.status_code == 201, created.text
    task = created.json()
    with visitor(browser, server, locale="fa-IR") as s:
        page = s.page("/#board")
        opened_in(page, "fa", "rtl")
        page.locator(f'[data-edit-task="{task["id"]}"]').click()
        dialog = page.locator("#dialog[open]")
        field = dialog.locator(".jalali-field")
        text = field.locator(".jalali-text")
        text.wait_for()
        assert dialog.locator('[name="due_date"]').is_hidden()  # the ISO input stays, hidden
        # Typed in Jalali (Latin or Persian digits), then finished in the month grid with the keyboard.
        text.fill("1403/12/15")
        assert dialog.locator('[name="due_date"]').input_value() == "2025-03-05"
        field.locator(".jalali-open").click()
        popup = field.locator(".jalali-popup")
        popup.wait_for()
        assert popup.locator(".jalali-title").inner_text() == "اسفند ۱۴۰۳"
        assert popup.locator("th").first.inner_text() == "ش"  # the week starts on Saturday
        assert popup.locator('[data-iso="2025-03-05"]').get_attribute("aria-pressed") == "true"
        page.keyboard.press("PageDown")  # the next month, same day
        popup.locator(".jalali-title", has_text="فروردین ۱۴۰۴").wait_for()
        assert page.evaluate("document.activeElement.dataset.iso") == "2025-04-04"  # 15 Farvardin
        page.keyboard.press("ArrowLeft")  # right-to-left: the left arrow goes forward in time
        assert page.evaluate("document.activeElement.dataset.iso") == "2025-04-05"
        for _ in range(15):
            page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.dataset.iso") == "2025-03-21"  # 1 Farvardin 1404
        assert page.evaluate("document.activeElement.textContent") == "۱"
        shot(page, "languages-jalali-picker")
        page.keyboard.press("Enter")
        popup.wait_for(state="hidden")
        assert text.input_value() == "۱۴۰۴/۰۱/۰۱"
        assert dialog.locator('[name="due_date"]').input_value() == "2025-03-21"
        assert "۱ فروردین ۱۴۰۴" in dialog.locator(".calendar-hint").inner_text()
        page.click("#save-task")
        page.locator("#task-saved").wait_for()
        assert api.get(f"/tasks/{task['id']}").json()["due_date"] == "2025-03-21"
        shot(page, "languages-jalali-saved")
        page.click("#task-close")
        card = page.locator(f'.card[data-id="{task["id"]}"]')
        card.locator(".due", has_text="۱ فروردین ۱۴۰۴").wait_for()
        # Opened again, the date reads back in Jalali; a date that does not exist is refused where it is typed.
        page.locator(f'[data-edit-task="{task["id"]}"]').click()
        text = page.locator("#dialog[open] .jalali-text")
        text.wait_for()
        assert text.input_value() == "۱۴۰۴/۰۱/۰۱"
        text.fill("۱۴۰۴/۱۲/۳۰")  # 1404 is not a leap year: its Esfand has 29 days
        assert text.get_attribute("aria-invalid") == "true"
        problem = page.locator("#dialog[open] .jalali-problem")
        assert problem.is_visible() and "تقویم" in problem.inner_text()
        assert page.locator('#dialog[open] [name="due_date"]').input_value() == "2025-03-21"  # kept
        shot(page, "languages-jalali-invalid")
        page.locator("#dialog[open] .jalali-open").click()  # leaving the box shows what the field holds
        page.locator("#dialog[open] .jalali-popup").wait_for()
        assert text.input_value() == "۱۴۰۴/۰۱/۰۱"
        page.keyboard.press("Escape")
        page.click("#task-close")
        # The dashboard's period fields are Jalali too, and still hand ISO dates to the page.
        page.click('nav.views a[data-view="dashboard"]')
        report_from = page.locator("#report-from")
        report_from.wait_for(state="attached")
        typed = page.locator("#report-from + .jalali-field .jalali-text")
        typed.wait_for()
        iso = report_from.input_value()
        assert typed.input_value() and (not iso or typed.input_value() != iso)
        shot(page, "languages-dashboard-fa")


def test_arabic_counts_in_arabic_indic_or_latin_digits_with_arabic_plurals(browser, server):
    with visitor(browser, server, locale="ar-MA") as s:
        page = s.page("/")
        opened_in(page, "ar", "rtl")
        page.click('[data-table="streets"]')
        rows = page.locator(".attr-table tbody tr")
        rows.nth(12).wait_for()
        count = page.locator(".selection-count")

        def select(n: int) -> str:
            boxes = page.locator(".attr-table tbody tr input[type=checkbox]")
            for i in range(boxes.count()):
                if boxes.nth(i).is_checked():
                    boxes.nth(i).uncheck()
            for i in range(n):
                boxes.nth(i).check()
            return count.inner_text()

        assert select(12) == "١٢ عنصرًا محددًا."  # Arabic-Indic digits by default; 12 takes the "many" form
        digits = page.locator("#digits")
        assert digits.is_visible()
        assert digits.locator("option").evaluate_all("os => os.map((o) => o.value)") == ["arab", "latn"]
        shot(page, "languages-arabic-digits-arab")
        digits.select_option("latn")  # Latin digits, as Moroccan offices write them
        page.wait_for_function("localStorage.getItem('mahalle.digits.ar') === 'latn'")
        rows.nth(12).wait_for()
        assert select(12) == "12 عنصرًا محددًا."
        assert select(2) == "عنصران محددان."  # the dual
        assert select(11) == "11 عنصرًا محددًا."
        assert select(3) == "3 عناصر محددة."  # "few"
        assert select(1) == "عنصر واحد محدد."
        shot(page, "languages-arabic-digits-latn")
        page.reload()  # the choice is remembered
        page.wait_for_function("document.body.classList.contains('ready')")
        assert page.locator("#digits").input_value() == "latn"
        lengths = page.locator('.layer-item[data-layer="streets"] .count').inner_text()
        assert lengths and all(c in "0123456789,.٬٫ " for c in lengths), lengths
        page.select_option("#language", "en")  # no choice of digits in English
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.locator("#digits-field").is_hidden()


def test_the_jalali_picker_fits_a_phone(browser, server):
    phone = {"width": 390, "height": 844}
    with visitor(browser, server, locale="fa-IR", viewport=phone, has_touch=True, is_mobile=True) as s:
        page = s.page("/#dashboard")
        opened_in(page, "fa", "rtl")
        field = page.locator("#report-from + .jalali-field")
        field.locator(".jalali-open").click()
        popup = field.locator(".jalali-popup")
        popup.wait_for()
        box = popup.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= phone["width"], box
        assert box["y"] >= 0 and box["y"] + box["height"] <= phone["height"], box
        for button in popup.locator(".jalali-day").all()[:7]:
            assert button.bounding_box()["height"] >= 32  # a finger's target
        shot(page, "languages-jalali-phone")
        popup.locator(".jalali-day").nth(9).click()  # the 10th of the month shown
        popup.wait_for(state="hidden")
        assert page.locator("#report-from").input_value()  # an ISO date, for the report link
        assert page.evaluate("document.documentElement.scrollWidth") <= phone["width"]
