"""Roll-ups over several neighbourhoods: indicators and the achievement report of A and B are A's plus B's; a named
group gives the comma list's report; outcomes next to the works; Jalali periods; the data-start note; Latin digits."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import psycopg
import pytest

from core.db import attributed, with_role
from core.errors import InvalidInput, NotFound
from core.roles import OWNER_ROLE
from gis import indicators, report
from importers.demo import CODE
from layers import edit, groups, planning
from web import report_i18n as i18n
from web.report_page import render_report

B = "B-NORTH"
B_POLYGON = "SRID=4326;MULTIPOLYGON(((24.96 60.18, 24.97 60.18, 24.97 60.19, 24.96 60.19, 24.96 60.18)))"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
LANGS = ("en", "fa", "ar", "el", "fr")


def _square(x: float, y: float, d: float = 0.0004) -> str:
    return f"SRID=4326;MULTIPOLYGON((({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y})))"


def _one(conn: psycopg.Connection, query: str, *args: Any) -> Any:
    return conn.execute(query, args).fetchone()[0]


def _task(conn: psycopg.Connection, nid: int, domain: str) -> int:
    data = planning.task_input({"title": f"{domain} work", "domain": domain, "neighbourhood_id": nid})
    return planning.create_task(conn, data)


def _pave(conn: psycopg.Connection, street: int) -> int:
    """A paving of ``street`` taken through its lifecycle to completed on 1 October."""
    geom = _one(conn, "SELECT ST_AsGeoJSON(ST_Multi(ST_Buffer(geom::geography, 3)::geometry)) FROM streets "
                      "WHERE id = %s", street)  # fmt: skip
    feature = {"type": "Feature", "geometry": json.loads(geom),
               "properties": {"title": "Pave the north lane", "kind": "paving", "planned_cost": 1000}}  # fmt: skip
    iid = planning.create_intervention(
        conn, edit.parse_feature(planning.INTERVENTIONS, feature), [planning.Target("streets", street)]
    )
    for status in ("approved", "funded", "in_progress"):
        planning.transition(conn, iid, status)
    planning.transition(conn, iid, "completed", {"actual_end": "2026-10-01", "actual_cost": 900})
    return iid


@pytest.fixture
def world(demo_db_url: str):
    """The demo neighbourhood A (mapped 1 March 2026) and a smaller B (mapped 1 February): in the year each had a
    paving completed, a task done, outputs recorded against tasks with targets."""
    with psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as conn:
        conn.execute("UPDATE mahalle.history SET at = '2026-03-01T09:00:00Z'")
        b = _one(conn, "INSERT INTO neighbourhoods (code, name, city, population, households, geom) "
                       "VALUES (%s, 'North', 'Helsinki', 1000, 300, %s) RETURNING id", B, B_POLYGON)  # fmt: skip
        a = _one(conn, "SELECT id FROM neighbourhoods WHERE code = %s", CODE)
        first = _one(conn, "SELECT max(id) FROM mahalle.history")
        with attributed(conn, "sara"):
            s1 = _one(conn, "INSERT INTO streets (name, surface, lighting, geom) VALUES ('N1', 'earth', 'unlit', "
                            "'SRID=4326;MULTILINESTRING((24.961 60.181, 24.965 60.181))') RETURNING id")  # fmt: skip
            conn.execute("INSERT INTO streets (name, surface, lighting, geom) VALUES ('N2', 'asphalt', 'lit', "
                         "'SRID=4326;MULTILINESTRING((24.961 60.185, 24.968 60.185))')")  # fmt: skip
            conn.execute(
                "INSERT INTO parcels (land_use, tenure, geom) VALUES ('residential', 'informal', %s), "
                "('park', 'public', %s)",
                (_square(24.962, 60.182), _square(24.964, 60.183, 0.001)),
            )
            conn.execute(
                "INSERT INTO blighted_plots (kind, geom) VALUES ('vacant_lot', %s)", (_square(24.966, 60.186),)
            )
            conn.execute("INSERT INTO service_points (category, name, geom) VALUES "
                         "('school', 'North school', 'SRID=4326;POINT(24.963 60.184)')")  # fmt: skip
        conn.execute("UPDATE mahalle.history SET at = '2026-02-01T09:00:00Z' WHERE id > %s", (first,))
        last = _one(conn, "SELECT max(id) FROM mahalle.history")
        with attributed(conn, "sara"):
            _pave(conn, s1)
            a_street = _one(conn, "SELECT min(id) FROM streets s WHERE neighbourhood_id = %s AND NOT EXISTS "
                                  "(SELECT 1 FROM intervention_targets t WHERE t.feature_id = s.id)", a)  # fmt: skip
            _pave(conn, a_street)
            tasks = {"a": _task(conn, a, "social"), "b": _task(conn, b, "social"), "b2": _task(conn, b, "economic")}
            conn.execute("UPDATE tasks SET status = 'done' WHERE id = ANY(%s)", ([tasks["a"], tasks["b"]],))
            conn.execute(
                "INSERT INTO outputs (kind, quantity, date, task_id, female, male, age_0_14) VALUES "
                "('children_back_to_school', 40, '2026-05-01', %(a)s, 22, 18, 40), "
                "('children_back_to_school', 60, '2026-06-01', %(b)s, 30, 30, 60), "
                "('people_reached', 25, '2026-06-02', %(b)s, 15, 10, NULL), "
                "('hires', 16, '2026-07-01', %(b2)s, NULL, NULL, NULL), "
                "('hires', 5, '2025-07-01', %(b2)s, NULL, NULL, NULL)",  # before the year: not in its outcomes
                tasks,
            )
            conn.execute("INSERT INTO task_targets (task_id, kind, target) VALUES (%(a)s, 'children_back_to_school', "
                         "100), (%(b)s, 'children_back_to_school', 100), (%(b2)s, 'hires', 30)", tasks)  # fmt: skip
        conn.execute("UPDATE mahalle.history SET at = '2026-10-01T15:00:00Z' WHERE id > %s", (last,))
        yield conn


def _report(conn: psycopg.Connection, scope: indicators.Scope, start: date = YEAR[0], end: date = YEAR[1]) -> dict:
    return report.achievement(conn, scope, start, end, generated_on=date(2027, 1, 5)).data


# Indicators --------------------------------------------------------------------------------------------------------


def _add(x: Any, y: Any) -> Any:
    return x + y if x is not None and y is not None else None


def test_the_indicators_of_a_and_b_are_the_sum_of_a_and_of_b(world):
    one = {c: indicators.compute(world, indicators.neighbourhood_scope(world, c)) for c in (CODE, B)}
    both = indicators.compute(world, indicators.scope_of(world, f"{CODE},{B}"))
    a, b = one[CODE], one[B]
    assert both["scope"]["neighbourhoods"] == [CODE, B] and both["scope"]["neighbourhood"] == f"{CODE},{B}"
    assert both["scope"]["area_m2"] == pytest.approx(a["scope"]["area_m2"] + b["scope"]["area_m2"], abs=0.2)
    assert both["streets"]["count"] == a["streets"]["count"] + b["streets"]["count"] == a["streets"]["count"] + 2
    for key in ("length_m", "paved_m", "lit_m"):
        assert both["streets"][key] == pytest.approx(a["streets"][key] + b["streets"][key], abs=0.15)
    # percentages from the summed parts, not the mean of the two percentages
    paved = (
        100
        * (a["streets"]["paved_m"] + b["streets"]["paved_m"])
        / (a["streets"]["length_m"] + b["streets"]["length_m"])
    )
    assert both["streets"]["paved_pct"] == pytest.approx(paved, abs=0.06)
    assert both["streets"]["paved_pct"] != round((a["streets"]["paved_pct"] + b["streets"]["paved_pct"]) / 2, 1)
    tenure = {k: a["parcels"]["by_tenure"].get(k, 0) + b["parcels"]["by_tenure"].get(k, 0)
              for k in a["parcels"]["by_tenure"] | b["parcels"]["by_tenure"]}  # fmt: skip
    assert both["parcels"]["by_tenure"] == tenure
    assert both["blighted_plots"]["count"] == a["blighted_plots"]["count"] + b["blighted_plots"]["count"]
    assert both["blighted_plots"]["area_m2"] == pytest.approx(
        a["blighted_plots"]["area_m2"] + b["blighted_plots"]["area_m2"], abs=0.15
    )
    assert both["service_points"]["total"] == a["service_points"]["total"] + b["service_points"]["total"]
    assert both["workshops"]["polluting"] == a["workshops"]["polluting"] + b["workshops"]["polluting"]
    green = both["green_space"]
    assert green["park_m2"] == pytest.approx(a["green_space"]["park_m2"] + b["green_space"]["park_m2"], abs=0.15)
    assert green["population"] == _add(a["green_space"]["population"], 1000)
    for name, rows in both["priorities"].items():
        assert len(rows) == len(a["priorities"][name]) + len(b["priorities"][name]), name


def test_unknown_codes_are_named_and_a_group_needs_members(world):
    with pytest.raises(NotFound, match="'NOPE'"):
        indicators.scope_of(world, f"{CODE},NOPE")
    with pytest.raises(NotFound, match="'X1', 'X2'"):
        indicators.scope_of(world, "X1,X2")
    with pytest.raises(NotFound, match="group"):
        indicators.scope_of(world, group="NOGROUP")
    with pytest.raises(InvalidInput):
        indicators.scope_of(world, CODE, "G")
    with pytest.raises(InvalidInput):
        indicators.scope_of(world, " , ")
    assert indicators.scope_of(world, f"{CODE},{CODE}").neighbourhood_ids == (
        indicators.neighbourhood_scope(world, CODE).neighbourhood_id,
    )  # the same code twice counts once


# The report -------------------------------------------------------------------------------------------------------


def test_the_report_of_a_and_b_is_the_sum_of_a_and_of_b(world):
    a, b = (_report(world, indicators.neighbourhood_scope(world, c)) for c in (CODE, B))
    both = _report(world, indicators.scope_of(world, f"{B},{CODE}"))
    assert both["neighbourhood"]["population"] == _add(a["neighbourhood"]["population"], 1000)
    assert [h["code"] for h in both["neighbourhoods"]] == [B, CODE]
    paving = {r["kind"]: r for r in both["achievements"]}["paving"]
    pa, pb = ({r["kind"]: r for r in x["achievements"]}["paving"] for x in (a, b))
    assert paving["interventions"] == pa["interventions"] + pb["interventions"] == 2
    assert paving["quantity"] == pytest.approx(pa["quantity"] + pb["quantity"], abs=1e-6)
    assert paving["actual_cost"] == pa["actual_cost"] + pb["actual_cost"]
    assert paving["targets"] == {"streets": pa["targets"]["streets"] + pb["targets"]["streets"]}
    assert len(both["interventions"]) == len(a["interventions"]) + len(b["interventions"])
    assert both["tasks_completed"]["total"] == a["tasks_completed"]["total"] + b["tasks_completed"]["total"]
    for domain, n in both["tasks_completed"]["by_domain"].items():
        assert n == a["tasks_completed"]["by_domain"][domain] + b["tasks_completed"]["by_domain"][domain]
    for key in ("street_length", "blighted_count", "service_points", "polluting_active"):
        assert both["indicators"]["end"][key] == pytest.approx(
            a["indicators"]["end"][key] + b["indicators"]["end"][key], abs=1
        ), key
    # outcomes: children back to school of A's task and B's, summed with their breakdowns
    kids = [r for r in both["outcomes"]["by_kind"] if r["kind"] == "children_back_to_school"]
    assert [(r["domain"], r["quantity"], r["female"], r["male"], r["age_0_14"], r["records"]) for r in kids] == [
        ("social", 100, 52, 48, 100, 2)
    ]
    assert both["outcomes"]["by_domain"] == {"social": 125, "economic": 16}  # the 2025 hires are not in the year
    assert b["outcomes"]["by_domain"] == {"social": 85, "economic": 16} and a["outcomes"]["by_domain"] == {"social": 40}
    targets = {r["kind"]: r for r in both["outcomes"]["targets"]}
    assert (targets["children_back_to_school"]["planned"], targets["children_back_to_school"]["achieved"]) == (200, 100)
    assert targets["children_back_to_school"]["achieved_pct"] == 50.0
    assert (targets["hires"]["planned"], targets["hires"]["achieved"], targets["hires"]["achieved_in_period"]) == (
        30, 21, 16)  # fmt: skip


def test_a_groups_report_is_the_comma_lists(world):
    with attributed(world, "admin"):
        assert groups.put_group(world, "HKI", "City of Helsinki", "municipality", [CODE, B]) is True
    by_group = _report(world, indicators.scope_of(world, group="HKI"))
    listed = _report(world, indicators.scope_of(world, f"{B},{CODE}"))  # members in the order of their codes
    assert by_group["group"] == "HKI" and by_group["neighbourhood"]["name"] == "City of Helsinki"
    assert by_group["neighbourhood"]["code"] == "HKI" and listed["neighbourhood"]["code"] == f"{B},{CODE}"
    ignore = ("neighbourhood", "group")
    assert {k: v for k, v in by_group.items() if k not in ignore} == {
        k: v for k, v in listed.items() if k not in ignore
    }
    grouped = indicators.compute(world, indicators.scope_of(world, group="HKI"))
    assert (
        grouped["scope"]["group"] == "HKI"
        and grouped["streets"] == indicators.compute(world, indicators.scope_of(world, f"{CODE},{B}"))["streets"]
    )
    page = render_report(report.achievement(world, indicators.scope_of(world, group="HKI"), *YEAR), "en")
    assert "City of Helsinki" in page and "Neighbourhoods: " in page


def test_jalali_periods_give_the_gregorian_report(world):
    assert report.parse_day("1405-01-01", "jalali", "from") == date(2026, 3, 21)
    start, end = report.parse_day("1404-10-11", "jalali", "from"), report.parse_day("1405-10-10", "jalali", "to")
    assert (start, end) == YEAR
    scope = indicators.scope_of(world, f"{CODE},{B}")
    assert _report(world, scope, start, end) == _report(world, scope)
    for bad in ("1405-13-01", "1405-12-31", "14050101", "9999-12-29"):
        with pytest.raises(InvalidInput) as err:
            report.parse_day(bad, "jalali", "to")
        assert err.value.column == "to"


# The data start, the page in every language -----------------------------------------------------------------------


def test_a_period_before_the_first_data_says_so_and_compares_from_then(world):
    a = indicators.neighbourhood_scope(world, CODE)
    data = _report(world, a)
    assert data["data_start"] == "2026-03-01"  # the demo was mapped on 1 March, not grown from nothing
    mapped = indicators.summary(indicators.compute(world, a, date(2026, 3, 1)))
    assert data["indicators"]["start"] == mapped and data["indicators"]["start"]["street_length"] > 0
    assert data["indicators"]["change"]["street_length"] == 0
    north = _report(world, indicators.neighbourhood_scope(world, B))
    assert north["data_start"] == "2026-02-01" and north["indicators"]["change"]["paved_pct"] > 0  # still a change
    both = _report(world, indicators.scope_of(world, f"{CODE},{B}"))
    assert both["data_start"] == "2026-02-01"  # B's first record
    later = _report(world, a, date(2026, 4, 1))
    assert later["data_start"] is None and later["indicators"]["compared_from"] == "2026-04-01T00:00:00"
    built = report.achievement(world, a, *YEAR, generated_on=date(2027, 1, 5))
    for lang in LANGS:
        note = i18n.t("report.data_start", lang, date=i18n.format_date(date(2026, 3, 1), lang))
        assert note in render_report(built, lang), lang
    assert "The data start on 1 March 2026; changes are counted from then." in render_report(built, "en")
    assert "changes are counted" not in render_report(report.achievement(world, a, date(2026, 4, 1), YEAR[1]), "en")


@pytest.mark.parametrize("lang", LANGS)
def test_the_rolled_up_report_in_every_language_has_the_figures(world, lang):
    built = report.achievement(world, indicators.scope_of(world, f"{CODE},{B}"), *YEAR, generated_on=date(2027, 1, 5))
    page = render_report(built, lang)
    paving = {r["kind"]: r for r in built.data["achievements"]}["paving"]
    assert i18n.number(paving["quantity"], lang) in page
    assert i18n.number(100, lang) in page and i18n.number(125, lang) in page  # children back to school; social
    assert i18n.t("section.outcomes", lang) in page and i18n.t("chart.outcomes", lang) in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4  # kinds, outcomes, indicators, tasks
    assert i18n.t("report.neighbourhoods", lang, list="")[:4] in page
    if lang != "en":  # the text around the figures is translated
        assert i18n.t("section.outcomes", lang) != i18n.t("section.outcomes", "en")


def test_arabic_with_latin_digits(world):
    built = report.achievement(world, indicators.scope_of(world, f"{CODE},{B}"), *YEAR, generated_on=date(2027, 1, 5))
    native, latin = render_report(built, "ar"), render_report(built, "ar", "latn")
    assert '<html lang="ar-u-nu-latn" dir="rtl">' in latin and "تقرير الإنجازات" in latin
    assert "٥ يناير ٢٠٢٧" in native and "5 يناير 2027" in latin
    assert i18n.number(125, "ar") == "١٢٥" and "١٢٥" not in latin.split("<script")[0].split("</style>")[-1]
    assert '<html lang="ar" dir="rtl">' in render_report(built, "ar", "arab")  # its own digits: as without
    assert i18n.number(77622.4, "ar-u-nu-latn") == "77,622" and i18n.number(77622.4, "fa") == "۷۷٬۶۲۲"
