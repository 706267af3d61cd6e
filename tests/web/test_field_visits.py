"""A mobile unit's visit recorded in field mode with no connection: the task from the downloaded package, the
service point from its layer, the counts from the catalogue's visits layer; back online it arrives once and the
server keeps the task's outputs it counts (people reached with the breakdown, one visit, the sessions)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser

from api.identity import store
from tests.web.conftest import shot
from tests.web.test_field_offline import CODE, PASSWORD, Phone, download, no_horizontal_scroll, wait_sync

TASK = "Start a sewing cooperative in the community centre"  # an open task of the demo neighbourhood


@pytest.fixture(scope="module")
def nasrin(web_db: str) -> str:
    """A field worker of a mobile unit in the demo neighbourhood."""
    with psycopg.connect(web_db, autocommit=True) as conn:
        store.add_user(conn, "nasrin", [store.Grant("field", CODE)], password=PASSWORD)
    return "nasrin"


@pytest.fixture
def phone(browser: Browser, server: str, nasrin: str) -> Iterator[Phone]:
    p = Phone(browser, server, nasrin)
    yield p
    p.close()


def test_a_visit_recorded_offline_counts_in_its_tasks_outputs(phone, api, web_db):
    page = phone.open("/field")
    download(page, api)
    phone.context.set_offline(True)
    page.reload()
    page.locator("body.ready").wait_for(timeout=20000)

    page.click("#visit")
    page.locator("#visit-form").wait_for()
    assert page.locator("#visit-task option", has_text="Livelihoods").count() == 0  # goals are not worked on
    page.select_option("#visit-task", label=TASK)
    school = page.locator("#visit-service-point option").nth(1)
    school_id, school_name = school.get_attribute("value"), school.inner_text()
    page.select_option("#visit-service-point", school_id)
    form = page.locator("#visit-form")
    form.locator("[data-name=place_name] input").fill("Partner municipality, girls' school")
    form.locator("[data-name=people_served] input").fill("27")
    form.locator("[data-name=female] input").fill("15")
    form.locator("[data-name=male] input").fill("12")
    form.locator("[data-name=sessions] input").fill("3")
    for choice in ("Psychologist", "Social worker", "Driver"):
        form.locator("[data-name=team] label", has_text=choice).locator("input").check()
    form.locator("[data-name=services] label", has_text="Counselling").locator("input").check()
    no_horizontal_scroll(page)
    shot(page, "field-visit-form")
    page.click("#visit-save")
    page.locator("#sheet").wait_for(state="hidden")
    page.locator("#badge", has_text="1 change waiting").wait_for()

    phone.context.set_offline(False)
    page.click("#sync")
    wait_sync(page)
    page.locator("#badge").wait_for(state="hidden", timeout=20000)
    with psycopg.connect(web_db) as conn:
        visit = conn.execute(
            "SELECT v.id, v.people_served, v.team, v.service_point_id, v.created_by, t.title FROM visits v "
            "JOIN tasks t ON t.id = v.task_id WHERE v.place_name = %s",
            ("Partner municipality, girls' school",),
        ).fetchall()
        assert len(visit) == 1, visit
        vid, people, team, point, author, title = visit[0]
        assert (people, team, point, author, title) == (27, ["psychologist", "social_worker", "driver"],
                                                        int(school_id), "nasrin", TASK)  # fmt: skip
        counted = dict(conn.execute("SELECT kind, (quantity, female, male)::text FROM outputs WHERE visit_id = %s",
                                    (vid,)).fetchall())  # fmt: skip
    assert counted == {"outreach_visits": "(1,,)", "people_reached": "(27,15,12)", "sessions_given": "(3,,)"}
    assert school_name
