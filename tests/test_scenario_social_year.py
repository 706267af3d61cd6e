"""A year of a social programme in two neighbourhoods, replayed through the API as the people who did it, then
checked in the achievement report.

In 2027 a planner (leila) sets the action plan's social, economic and social-work tasks with their targets:
children back to school and vocational certificates in the demo neighbourhood (A), job referrals and hires there
too, and a mobile unit's counselling (people reached, visits) in a second neighbourhood (B). Field workers record
what they count where they work: farid in A (outputs and referrals between services), nasrin in B (the mobile
unit's visits, each of which counts one visit, the people served and the sessions given). Something recorded in
December 2026 is outside the year; a field worker cannot record outcomes of the other neighbourhood's task.

Then: the report of each neighbourhood and of both together (the roll-up equals the sum, kind by kind and target by
target), the tasks' progress from their targets, and the HTML report in the five languages with the figures as
each language writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core import i18n
from core.db import with_role
from core.roles import OWNER_ROLE
from core.settings import Settings
from importers.demo import CODE as A
from tests.auth import ADMIN_HEADERS, token_for

B = "B-NORTH"
B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
IN_B = {"type": "Point", "coordinates": [24.965, 60.185]}
YEAR = {"from": "2027-01-01", "to": "2027-12-31"}


@dataclass
class Programme:
    client: TestClient
    nids: dict[str, int]
    leila: dict[str, str]  # planner of A and B
    farid: dict[str, str]  # field worker of A
    nasrin: dict[str, str]  # field worker of B (the mobile unit)

    def call(self, who: dict[str, str], method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **{"headers": who, **kwargs})
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def task(self, code: str, title: str, domain: str, targets: dict[str, float]) -> int:
        tid = self.call(self.leila, "POST", "/tasks", 201,
                        json={"title": title, "domain": domain, "neighbourhood_id": self.nids[code]})["id"]  # fmt: skip
        for kind, target in targets.items():
            self.call(self.leila, "PUT", f"/tasks/{tid}/targets/{kind}", json={"target": target})
        return tid

    def record(self, who: dict[str, str], layer: str, properties: dict[str, Any], geometry: Any = None,
               expect: int = 201) -> Any:  # fmt: skip
        return self.call(who, "POST", f"/ogc/collections/{layer}/items", expect,
                         json={"type": "Feature", "geometry": geometry, "properties": properties})  # fmt: skip

    def report(self, **params: str) -> dict[str, Any]:
        return self.call(self.leila, "GET", "/reports/achievement", params={**YEAR, "format": "json", **params})


@pytest.fixture
def programme(demo_db_url: str) -> Iterator[Programme]:
    with psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as owner:
        owner.execute("INSERT INTO neighbourhoods (code, name, city, population, households, geom) "
                      "VALUES (%s, 'North', 'Helsinki', 1000, 300, %s)", (B, B_POLYGON))  # fmt: skip
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        nids = dict(conn.execute("SELECT code, id FROM neighbourhoods WHERE code IN (%s, %s)", (A, B)).fetchall())
        leila = token_for(conn, "leila", Grant("planner", A), Grant("planner", B))
        farid = token_for(conn, "farid", Grant("field", A))
        nasrin = token_for(conn, "nasrin", Grant("field", B))
    settings = Settings(database_url=demo_db_url, load_demo=False)
    with TestClient(create_app(settings, database=Database(demo_db_url))) as client:
        yield Programme(client, nids, leila, farid, nasrin)


def by_kind(report: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(r["domain"], r["kind"]): r["quantity"] for r in report["outcomes"]["by_kind"]}


def targets(report: dict[str, Any]) -> dict[tuple[str, str], tuple[float, float]]:
    return {(r["domain"], r["kind"]): (r["planned"], r["achieved"]) for r in report["outcomes"]["targets"]}


def test_a_year_of_a_social_programme(programme: Programme) -> None:
    p = programme
    school = p.task(A, "Children back to school", "social", {"children_back_to_school": 100})
    training = p.task(A, "Vocational certificates", "economic", {"certificates": 225})
    jobs = p.task(A, "Job placement", "economic", {"job_referrals": 60, "hires": 16})
    counselling = p.task(B, "Mobile unit counselling", "social_work", {"people_reached": 300, "outreach_visits": 24})

    # A: the field worker and the planner count what the tasks achieved, month by month.
    for month, children in ((2, 30), (5, 25), (9, 45)):
        p.record(p.farid, "outputs", {"task_id": school, "kind": "children_back_to_school", "quantity": children,
                                      "date": f"2027-{month:02d}-15", "female": children // 2})  # fmt: skip
    p.record(p.leila, "outputs", {"task_id": training, "kind": "certificates", "quantity": 193, "date": "2027-06-30"})
    p.record(p.leila, "outputs", {"task_id": training, "kind": "certificates", "quantity": 32, "date": "2027-11-30"})
    p.record(p.leila, "outputs", {"task_id": training, "kind": "certificates", "quantity": 50, "date": "2026-12-20"})
    p.record(p.farid, "outputs", {"task_id": jobs, "kind": "hires", "quantity": 16, "date": "2027-10-01"})
    services = p.call(p.farid, "GET", "/ogc/collections/service_points/items",
                      params={"neighbourhood_id": p.nids[A], "limit": 2})["features"]  # fmt: skip
    for month, people, seen in ((3, 25, 20), (8, 35, 30)):  # referrals to employment, counted with the task
        p.record(p.farid, "referrals", {"date": f"2027-{month:02d}-01", "from_service_id": services[0]["id"],
                                        "to_service_id": services[1]["id"], "need": "employment", "people": people,
                                        "followed_up": seen, "task_id": jobs})  # fmt: skip

    # B: the mobile unit's visits, twice a month, recorded by its field worker.
    for month in range(1, 13):
        for day, people in ((5, 12), (20, 14)):
            p.record(p.nasrin, "visits", {"date": f"2027-{month:02d}-{day:02d}", "task_id": counselling,
                                          "people_served": people, "female": people - 5, "male": 5, "sessions": 2,
                                          "team": ["psychologist", "social_worker", "driver"],
                                          "services": ["counselling"], "place_name": "Partner school"},
                     IN_B)  # fmt: skip
    # The office counts something its lists did not have: elected alley representatives (64 planned).
    p.call(ADMIN_HEADERS, "PUT", "/vocabularies/outputs/kind/alley_representatives", 201,
           json={"label": {"en": "Alley representatives elected", "fa": "نمایندگان کوچه انتخاب‌شده"}})  # fmt: skip
    elections = p.task(A, "Elect alley representatives", "social", {"alley_representatives": 64})
    p.record(p.leila, "outputs", {"task_id": elections, "kind": "alley_representatives", "quantity": 64,
                                  "date": "2027-04-20"})  # fmt: skip

    # Needs counted by area, and the services that answer them: a spring survey, then an autumn one for the same
    # neighbourhood (the latest counts); housing, which no service of A offers.
    for day, households in (("2027-03-10", 40), ("2027-10-10", 30)):
        p.record(p.farid, "needs", {"category": "employment", "count": households, "unit": "households",
                                    "date": day, "found_by": "survey", "neighbourhood_id": p.nids[A]})  # fmt: skip
    p.record(p.farid, "needs", {"category": "housing", "count": 12, "date": "2027-10-10",
                                "neighbourhood_id": p.nids[A]})  # fmt: skip
    p.call(p.leila, "PATCH", f"/ogc/collections/service_points/items/{services[1]['id']}",
           json={"properties": {"offers": ["employment", "vocational_training"], "capacity": 25}},
           headers={"If-Match": f'"{services[1]["properties"]["version"]}"', **p.leila})  # fmt: skip

    # Nobody records the other neighbourhood's outcomes.
    # (another neighbourhood's task is one they may not see: it is answered like one that does not exist)
    p.record(p.nasrin, "outputs", {"task_id": school, "kind": "children_back_to_school", "quantity": 99,
                                   "date": "2027-03-01"}, expect=422)  # fmt: skip
    p.record(p.farid, "visits", {"date": "2027-03-01", "task_id": counselling, "people_served": 5}, IN_B, expect=422)

    a, b, both = p.report(neighbourhood=A), p.report(neighbourhood=B), p.report(neighbourhood=f"{A},{B}")
    assert by_kind(a) == {("social", "children_back_to_school"): 100, ("economic", "certificates"): 225,
                          ("economic", "hires"): 16, ("economic", "job_referrals"): 60,
                          ("social", "alley_representatives"): 64}  # fmt: skip
    needs = {r["category"]: r for r in a["needs_and_services"]}
    assert {k: needs["employment"][k] for k in ("households", "referred", "followed_up", "unserved")} == {
        "households": 30,
        "referred": 60,
        "followed_up": 50,
        "unserved": False,
    }  # the autumn survey counts
    assert needs["employment"]["services"] >= 1 and needs["employment"]["capacity"] >= 25
    assert needs["housing"]["unserved"] is True and a["needs_and_services"][0]["category"] == "housing"
    assert by_kind(b) == {("social_work", "people_reached"): 312, ("social_work", "sessions_given"): 48,
                          ("social_work", "outreach_visits"): 24}  # fmt: skip
    school_row = next(r for r in a["outcomes"]["by_kind"] if r["kind"] == "children_back_to_school")
    assert (school_row["female"], school_row["records"]) == (15 + 12 + 22, 3)
    reached = next(r for r in b["outcomes"]["by_kind"] if r["kind"] == "people_reached")
    assert (reached["female"], reached["male"]) == (312 - 120, 120)
    assert targets(a)[("economic", "job_referrals")] == (60, 60) and targets(a)[("economic", "hires")] == (16, 16)
    assert targets(b)[("social_work", "people_reached")] == (300, 312)

    # The roll-up is the sum of the two, kind by kind and target by target.
    assert by_kind(both) == by_kind(a) | by_kind(b)
    summed = {k: tuple(x + y for x, y in zip(targets(a).get(k, (0, 0)), targets(b).get(k, (0, 0)), strict=True))
              for k in targets(a) | targets(b)}  # fmt: skip
    assert targets(both) == summed
    assert both["outcomes"]["by_domain"] == {"social": 164, "economic": 301, "social_work": 384}

    # Progress follows the targets: each task's column and bar say the same.
    progress = {tid: p.call(p.leila, "GET", f"/tasks/{tid}") for tid in (school, training, jobs, counselling)}
    assert p.call(p.leila, "GET", f"/tasks/{elections}")["progress"] == 100
    assert {tid: (t["progress"], t["progress_source"], t["status"]) for tid, t in progress.items()} == {
        school: (100, "targets", "in_progress"), training: (100, "targets", "in_progress"),
        jobs: (100, "targets", "in_progress"), counselling: (100, "targets", "in_progress")}  # fmt: skip

    # The printable report, in every language, with the figures as each writes them.
    for lang in i18n.LANGUAGES:
        page = p.client.get("/reports/achievement", headers=p.leila,
                            params={**YEAR, "neighbourhood": f"{A},{B}", "lang": lang})  # fmt: skip
        assert page.status_code == 200, page.text
        assert i18n.number(312, lang) in page.text and i18n.number(225, lang) in page.text, lang
        assert i18n.text(lang, "report", "section.outcomes") in page.text, lang
        assert i18n.text(lang, "report", "section.needs") in page.text, lang
    persian = p.client.get("/reports/achievement", headers=p.leila, params={**YEAR, "neighbourhood": A, "lang": "fa"})
    assert "نمایندگان کوچه انتخاب‌شده" in persian.text  # the office's entry, in its own words
