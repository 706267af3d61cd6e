"""The action plan in a real browser: an intervention linked to an existing task from its panel (listed with status
and progress, then unlinked), a task card edited from the board (assignee, due date, status, parent goal) with its
update log, a stale edit answered with the conflict message, the goal on the cards and the filter by goal; the task
dialog on a phone. Screenshots: test-artifacts/action-plan-*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.web.conftest import Session, shot

PHONE = {"width": 390, "height": 844}


def an_intervention(api) -> dict:
    return api.get("/interventions", params={"neighbourhood": "HKI-CENTRE"}).json()["features"][0]


def new_task(api, **properties) -> dict:
    body = {"domain": "urban_physical", "neighbourhood_id": 1, **properties}
    response = api.post("/tasks", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def links(api, tid: int) -> list[dict]:
    return api.get(f"/tasks/{tid}").json()["links"]


def test_an_intervention_is_linked_to_an_existing_task_listed_in_its_panel_and_unlinked(session, api):
    intervention = an_intervention(api)
    iid = intervention["id"]
    task = new_task(api, title="Resurface the bazaar lane (plan test)",
                    neighbourhood_id=intervention["properties"]["neighbourhood_id"])  # fmt: skip
    page = session.page("/#interventions")
    page.locator(f'.intervention-item[data-id="{iid}"]').click()
    box = page.locator("#intervention-tasks")
    page.locator("#task-search").wait_for()
    page.fill("#task-search", "bazaar lane (plan")
    assert page.locator("#task-choice").input_value() == str(task["id"])  # the only match is chosen
    page.click("#link-task")
    item = box.locator(f'li[data-task-id="{task["id"]}"]')
    item.wait_for()
    # Its progress comes from the intervention now, and a task with progress is no longer "to do".
    assert "Resurface the bazaar lane" in item.inner_text() and "In progress" in item.inner_text()
    assert api.get(f"/tasks/{task['id']}").json()["progress"] > 0
    assert {"layer": "interventions", "feature_id": iid, "weight": None} in links(api, task["id"])
    # Linked now, it is no longer offered.
    assert page.locator(f'#task-choice option[value="{task["id"]}"]').count() == 0
    shot(page, "action-plan-intervention-tasks")
    # A click on the task opens it; its progress is derived from the intervention now.
    item.locator(".link-button").click()
    page.locator("#dialog[open] #dialog-title", has_text="Resurface the bazaar lane").wait_for()
    page.click("#task-close")
    item.locator(f'[data-unlink-task="{task["id"]}"]').click()
    item.wait_for(state="detached")
    assert not [link for link in links(api, task["id"]) if link["layer"] == "interventions"]
    page.locator(f'#task-choice option[value="{task["id"]}"]').wait_for(state="attached")


def test_a_task_card_is_edited_from_the_board_with_its_update_log_and_its_goal(session, api):
    goal = new_task(api, title="Safer streets for children (plan test)", level="goal")
    other_goal = new_task(api, title="A cleaner neighbourhood (plan test)", level="goal")
    task = new_task(api, title="Crossings at the school (plan test)", parent_id=goal["id"])
    page = session.page("/#board")
    card = page.locator(f'.card[data-id="{task["id"]}"]')
    card.wait_for()
    assert card.locator(".card-goal").inner_text() == "Goal: Safer streets for children (plan test)"
    card.locator(f'[data-edit-task="{task["id"]}"]').click()
    dialog = page.locator("#dialog[open]")
    dialog.locator('[name="assignee"]').fill("Leyla Ahmadi")
    dialog.locator('[name="due_date"]').fill("2027-02-15")
    dialog.locator('[name="status"]').select_option("in_progress")
    dialog.locator('[name="parent_id"]').select_option(str(other_goal["id"]))
    page.click("#save-task")
    page.locator("#task-saved").wait_for()
    saved = api.get(f"/tasks/{task['id']}").json()
    assert (saved["assignee"], saved["due_date"], saved["status"], saved["parent_id"]) == (
        "Leyla Ahmadi", "2027-02-15", "in_progress", other_goal["id"])  # fmt: skip
    # The update log: a note with a progress.
    page.fill("#update-note", "Two crossings painted; the third waits for the asphalt.")
    page.fill("#update-progress", "40")
    page.click("#add-update")
    page.locator("#task-log li", has_text="Two crossings painted").wait_for()
    assert "40 % done" in page.locator("#task-log li").first.inner_text()
    updates = api.get(f"/tasks/{task['id']}/updates").json()
    assert updates[-1]["note"].startswith("Two crossings painted") and updates[-1]["progress"] == 40
    assert api.get(f"/tasks/{task['id']}").json()["progress"] == 40
    assert page.locator("#task-progress").inner_text() == "40% done"
    shot(page, "action-plan-task-dialog")
    # A progress the server refuses is shown next to its field.
    page.fill("#update-note", "Too much")
    page.fill("#update-progress", "140")
    page.click("#add-update")
    page.locator("#update-progress-error").wait_for()
    page.click("#task-close")
    # The board shows where it went and its new goal; the filter by goal keeps the goal and its tasks.
    moved = page.locator(f'.column[data-status="in_progress"] .card[data-id="{task["id"]}"]')
    moved.wait_for()
    assert moved.locator(".card-goal").inner_text() == "Goal: A cleaner neighbourhood (plan test)"
    assert "Leyla Ahmadi" in moved.inner_text()
    page.locator("#board-goal").select_option(str(other_goal["id"]))
    page.wait_for_function("document.querySelectorAll('.card').length === 2")
    assert sorted(int(i) for i in page.locator(".card").evaluate_all("cs => cs.map((c) => c.dataset.id)")) == sorted(
        [task["id"], other_goal["id"]])  # fmt: skip
    shot(page, "action-plan-board-goal")
    page.locator("#board-goal").select_option("")


def test_a_stale_edit_says_someone_else_changed_the_task_and_shows_their_version(session, api):
    task = new_task(api, title="Meet the shopkeepers (plan test)", domain="economic")
    page = session.page("/#board")
    page.locator(f'[data-edit-task="{task["id"]}"]').click()
    dialog = page.locator("#dialog[open]")
    dialog.locator('[name="assignee"]').wait_for()
    # Someone else saves in between.
    current = api.get(f"/tasks/{task['id']}")
    headers = {"If-Match": current.headers["ETag"], "Content-Type": "application/merge-patch+json"}
    changed = api.patch(f"/tasks/{task['id']}", json={"assignee": "Someone else"}, headers=headers)
    assert changed.status_code == 200, changed.text
    dialog.locator('[name="assignee"]').fill("Me")
    page.click("#save-task")
    error = dialog.locator(".form-error", has_text="Someone else changed this task")
    error.wait_for()
    assert dialog.locator('[name="assignee"]').input_value() == "Someone else"  # reloaded: their version
    assert api.get(f"/tasks/{task['id']}").json()["assignee"] == "Someone else"  # nothing overwritten
    shot(page, "action-plan-conflict")
    # Saving again over their version works.
    dialog.locator('[name="assignee"]').fill("Me")
    page.click("#save-task")
    page.locator("#task-saved").wait_for()
    assert api.get(f"/tasks/{task['id']}").json()["assignee"] == "Me"


@pytest.fixture
def phone(browser: Browser, server: str) -> Iterator[Session]:
    s = Session(browser, server, viewport=PHONE, has_touch=True, is_mobile=True).log_in()
    yield s
    s.context.close()
    assert not s.errors, f"script errors on the page: {s.errors}"


def test_the_task_dialog_and_the_intervention_tasks_fit_a_phone(phone, api):
    task = new_task(api, title="Phone check of the task dialog (plan test)", level="task")
    page = phone.page("/#board")
    page.locator(f'[data-edit-task="{task["id"]}"]').first.wait_for(state="attached")
    page.locator(f'[data-edit-task="{task["id"]}"]').evaluate("b => b.click()")  # the card may sit in another column
    dialog = page.locator("#dialog[open]")
    dialog.locator("#save-task").wait_for()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    fits = "(() => { const d = document.querySelector('#dialog'); return d.scrollWidth <= d.clientWidth; })()"
    assert page.evaluate(fits)
    shot(page, "action-plan-phone-dialog")
    page.click("#task-close")
    intervention = an_intervention(api)
    page.goto("/#interventions")
    page.wait_for_function("document.body.classList.contains('ready')")
    page.locator(f'.intervention-item[data-id="{intervention["id"]}"]').click()
    page.locator("#task-search").wait_for()
    page.locator("#intervention-tasks").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for selector in ("#task-search", "#task-choice", "#link-task"):
        b = page.locator(selector).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], (selector, b)
    shot(page, "action-plan-phone-intervention")
