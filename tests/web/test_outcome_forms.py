"""Recording a mobile unit's visit in the web app: drawn on the map like any feature, its task picked by title
from the tasks the user may read (the reference field of the catalogue's forms), its counts typed; the database
keeps the outputs it counts."""

from __future__ import annotations

from tests.web.conftest import shot
from tests.web.helpers import click_at, go
from tests.web.test_map_editing import EMPTY, features

TASK = "Start a sewing cooperative in the community centre"


def test_a_visit_is_recorded_with_its_task_picked_by_name(session, api):
    (task,) = [t for t in api.get("/tasks").json() if t["title"] == TASK]
    page = session.page("/")
    go(page, *EMPTY, 18)
    page.select_option("#edit-layer", "visits")
    page.click('[data-draw="Marker"]')
    click_at(page, EMPTY[0] + 0.0001, EMPTY[1] - 0.0002)
    form = page.locator("#detail form")
    picker = form.locator('[name="task_id"]')
    picker.focus()
    option = page.locator(f'#detail datalist option[value="{TASK} · #{task["id"]}"]')
    option.wait_for(state="attached")
    picker.fill(f"{TASK} · #{task['id']}")
    page.click("#save")  # a visit needs its date: the server says so next to the field
    page.locator('.field[data-name="date"] .field-error').wait_for()
    form.locator('[name="date"]').fill("2027-03-15")
    form.locator('[name="people_served"]').fill("18")
    form.locator('[name="place_name"]').fill("Sewing room, community centre")
    form.locator('.field[data-name="team"] label', has_text="Social worker").locator("input").check()
    shot(page, "visit-form-task-picked")
    page.click("#save")
    page.locator("#detail h2", has_text="Sewing room, community centre").wait_for()
    (visit,) = features(api, "visits", "place_name = 'Sewing room, community centre'")
    assert visit["properties"]["task_id"] == task["id"] and visit["properties"]["team"] == ["social_worker"]
    counted = features(api, "outputs", f"visit_id = {visit['id']}")
    assert sorted((o["properties"]["kind"], o["properties"]["quantity"]) for o in counted) == [
        ("outreach_visits", 1), ("people_reached", 18)]  # fmt: skip
    # Opened again, the reference reads as the task's title, not a bare number.
    assert form.locator('[name="task_id"]').input_value() == f"{TASK} · #{task['id']}"
