"""Planning in a real browser: an intervention drawn and linked to a street, its task moved across the
board, the dashboard and the report link, and the Persian interface (right to left, Jalali dates)."""

from __future__ import annotations

from datetime import date

import jdatetime

from tests.web.conftest import shot
from tests.web.helpers import click_at, click_feature, go

XSS = "<img src=x onerror=alert(1)>"
PERSIAN_MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]


def persian_digits(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def a_long_street(api) -> dict:
    """A demo street long enough to click in the middle, away from other lines."""
    response = api.get("/ogc/collections/streets/items",
                       params={"filter": "length_m > 120 AND street_class = 'pedestrian'", "limit": 1,
                               "sortby": "-length_m"})  # fmt: skip
    (street,) = response.json()["features"]
    return street


def test_intervention_linked_to_a_street_and_its_task_moved_across_the_board(session, api):
    street = a_long_street(api)
    page = session.page("/#interventions")
    for layer in ("service_points", "parcels"):  # keep the clicks on the street itself
        page.locator(f"#layer-{layer}").uncheck()
    (x0, y0), (x1, y1) = street["geometry"]["coordinates"][0][0], street["geometry"]["coordinates"][0][-1]
    go(page, (y0 + y1) / 2, (x0 + x1) / 2, 18)
    page.click('[data-draw-intervention="Line"]')
    lat, lon = (y0 + y1) / 2, (x0 + x1) / 2
    click_at(page, lat + 0.00025, lon - 0.0004)
    click_at(page, lat + 0.00025, lon + 0.0004)
    click_at(page, lat + 0.00025, lon + 0.0004)
    form = page.locator("#detail form")
    form.locator('[name="title"]').fill("Light the test path")
    form.locator('[name="kind"]').select_option("lighting")
    form.locator('[name="planned_cost"]').fill("12000")
    page.click("#link-targets")
    click_feature(page, "streets", street["id"])
    page.locator(".targets li", has_text=str(street["id"])).wait_for()
    page.click("#save-intervention")
    page.locator("#detail h2", has_text="Light the test path").wait_for()
    interventions = api.get("/interventions").json()["features"]
    (mine,) = [f for f in interventions if f["properties"]["title"] == "Light the test path"]
    detail = api.get(f"/interventions/{mine['id']}").json()
    assert detail["targets"] == [{"layer": "streets", "feature_id": street["id"]}]
    assert detail["properties"]["status"] == "proposed" and detail["properties"]["kind"] == "lighting"
    # Along its lifecycle: the server says which moves exist.
    page.click('[data-transition="approved"]')
    page.locator(".transitions .badge", has_text="Approved").wait_for()
    assert api.get(f"/interventions/{mine['id']}").json()["properties"]["status"] == "approved"
    page.locator('.pipeline [data-status="approved"]').wait_for()
    shot(page, "intervention-planner")

    page.click("#new-task-for-intervention")
    page.locator('.task-box [name="domain"]').select_option("urban_physical")
    page.locator('.task-box [name="assignee"]').fill("Test engineer")
    page.click("#create-task")
    page.locator(".task-box .ok").wait_for()
    (task,) = [t for t in api.get("/tasks").json() if t["title"] == "Light the test path"]
    assert any(link["layer"] == "interventions" and link["feature_id"] == mine["id"]
               for link in api.get(f"/tasks/{task['id']}").json()["links"])  # fmt: skip

    page.click('nav.views a[data-view="board"]')
    card = page.locator(f'.card[data-id="{task["id"]}"]')
    card.wait_for()
    assert card.locator("xpath=ancestor::section[1]").get_attribute("data-status") == "todo"
    card.drag_to(page.locator('.column[data-status="in_progress"]'))
    page.locator(f'.column[data-status="in_progress"] .card[data-id="{task["id"]}"]').wait_for()
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "in_progress"
    # The keyboard way: the card's "Move to" list.
    page.locator(f'.card[data-id="{task["id"]}"] select.move').select_option("blocked")
    page.locator(f'.column[data-status="blocked"] .card[data-id="{task["id"]}"]').wait_for()
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "blocked"
    # Filters: by assignee, then by a domain it is not in.
    page.locator("#board-assignee").select_option("Test engineer")
    page.wait_for_function("document.querySelectorAll('.card').length === 1")
    page.locator("#board-domain").select_option("social")
    page.wait_for_function("document.querySelectorAll('.card').length === 0")
    page.locator("#board-domain").select_option("")
    page.locator("#board-assignee").select_option("")
    page.locator(f'.card[data-id="{task["id"]}"]').wait_for()
    shot(page, "task-board")
    # Its features on the map: the intervention and the street it lights.
    page.locator(f'[data-show-task="{task["id"]}"]').click()
    page.wait_for_function("location.hash === '#map' && mahalle.mapState.highlight.getLayers().length === 2")


def test_dashboard_charts_and_the_achievement_report(session, api):
    page = session.page("/#dashboard")
    page.locator("#chart-pct").wait_for()
    page.wait_for_function("Chart.getChart(document.querySelector('#chart-pct')) !== undefined")
    assert page.evaluate(
        "['pct', 'services', 'tenure', 'tasks'].every((k) => Chart.getChart(document.querySelector('#chart-' + k)))"
    )
    indicators = api.get("/indicators", params={"neighbourhood": "HKI-CENTRE"}).json()
    data = page.evaluate("Chart.getChart(document.querySelector('#chart-pct')).data.datasets[0].data")
    assert data[0] == indicators["streets"]["paved_pct"]
    page.fill("#compare-date", "2026-01-01")
    page.locator("#compare-date").dispatch_event("change")
    page.wait_for_function("Chart.getChart(document.querySelector('#chart-pct'))?.data.datasets.length === 2")
    shot(page, "dashboard")
    href = page.locator("#report-link").get_attribute("href")
    assert href.startswith("/reports/achievement?neighbourhood=HKI-CENTRE&from=") and "lang=en" in href
    report = api.get(href)
    assert report.status_code == 200 and "Achievement report" in report.text
    # A named group of neighbourhoods: the report rolls up over it.
    made = api.put("/neighbourhood-groups/HKI", json={"name": "City of Helsinki", "kind": "municipality",
                                                      "neighbourhoods": ["HKI-CENTRE"]})  # fmt: skip
    assert made.status_code in (200, 201), made.text
    page.reload()
    page.locator("#report-scope option[value='HKI']").wait_for(state="attached")
    page.select_option("#report-scope", "HKI")
    href = page.locator("#report-link").get_attribute("href")
    assert href.startswith("/reports/achievement?group=HKI&from="), href
    rolled = api.get(href.replace("format=html", "format=json"))
    assert rolled.status_code == 200 and "HKI" in str(rolled.json()["group"]), rolled.text


def test_persian_is_right_to_left_with_jalali_dates_and_persian_digits(session, api):
    api.post("/tasks", json={"title": XSS, "domain": "social", "due_date": "2027-03-21", "neighbourhood_id": 1})
    page = session.page("/#board")
    page.select_option("#language", "fa")
    page.wait_for_function("document.documentElement.dir === 'rtl' && document.documentElement.lang === 'fa'")
    page.locator(".board-head h2", has_text="تابلوی وظایف").wait_for()
    due = date(2026, 12, 15)  # "Home visits to households at risk" in the demo
    j = jdatetime.date.fromgregorian(date=due)
    expected = f"{persian_digits(j.day)} {PERSIAN_MONTHS[j.month - 1]} {persian_digits(j.year)}"
    card = page.locator(".card", has_text="Home visits to households at risk")
    assert expected in card.locator(".due").inner_text()
    # The task whose title is markup shows it as text, and its date is 1 Farvardin 1406 (Nowruz).
    odd = page.locator(".card", has_text=XSS)
    assert "۱ فروردین ۱۴۰۶" in odd.locator(".due").inner_text()
    assert page.locator("img[src='x']").count() == 0
    shot(page, "task-board-fa")
    page.click('nav.views a[data-view="map"]')
    page.locator("#layers h2", has_text="لایه‌ها").wait_for()
    sidebar = page.locator("#sidebar").bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert sidebar["x"] > map_box["x"]  # the panel is on the right in a right-to-left layout
    assert page.evaluate("getComputedStyle(document.querySelector('#sidebar')).direction") == "rtl"
    count = page.locator('.layer-item[data-layer="streets"] .count').inner_text()
    assert count and all(c in "۰۱۲۳۴۵۶۷۸۹٬" for c in count)
    shot(page, "map-fa")
    page.click('nav.views a[data-view="dashboard"]')
    page.locator("#chart-pct").wait_for()
    page.wait_for_timeout(500)
    shot(page, "dashboard-fa")
    page.reload()
    page.wait_for_function("document.body.classList.contains('ready')")
    assert page.evaluate("document.documentElement.dir") == "rtl"  # the choice is remembered


def test_a_move_that_needs_a_value_asks_for_the_one_the_server_names(session, api):
    doing = api.get("/interventions", params={"status": "in_progress"}).json()["features"][0]
    page = session.page("/#interventions")
    page.locator(f'.intervention-item[data-id="{doing["id"]}"]').click()
    page.click('[data-transition="completed"]')
    need = page.locator(".transitions .need")
    need.wait_for()
    assert "actual end date" in need.inner_text()
    page.fill("#need-actual_end", "2026-11-01")
    page.click("#retry-transition")
    page.locator(".transitions .badge", has_text="Completed").wait_for()
    done = api.get(f"/interventions/{doing['id']}").json()["properties"]
    assert done["status"] == "completed" and done["actual_end"] == "2026-11-01"
