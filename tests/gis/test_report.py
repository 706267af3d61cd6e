"""The achievement report on the demo data: JSON sums, the printable page (offline, escaped, RTL), i18n."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest

from core.db import attributed, with_role
from core.errors import InvalidInput, NotFound
from core.roles import OWNER_ROLE
from gis import report
from importers.demo import CODE
from layers import planning
from web import report_i18n as i18n
from web.report_page import achievement_line, render_report

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def demo(demo_db_url: str):
    with psycopg.connect(with_role(demo_db_url, OWNER_ROLE), autocommit=True) as conn:  # it backdates history
        conn.execute("UPDATE mahalle.history SET at = '2026-03-01T09:00:00Z'")  # the demo, as mapped in March
        yield conn


def complete_demo_paving(conn: psycopg.Connection, title: str | None = None) -> int:
    iid = conn.execute("SELECT id FROM interventions WHERE kind = 'paving'").fetchone()[0]
    last = conn.execute("SELECT max(id) FROM mahalle.history").fetchone()[0]
    with attributed(conn, "sara"):
        if title:
            conn.execute("UPDATE interventions SET title = %s WHERE id = %s", (title, iid))
        planning.transition(conn, iid, "completed", {"actual_end": "2026-10-01", "actual_cost": 170_000})
    conn.execute("UPDATE mahalle.history SET at = '2026-10-01T15:00:00Z' WHERE id > %s", (last,))
    return iid


def test_the_json_report_groups_completed_works_by_kind(demo):
    iid = complete_demo_paving(demo)
    data = report.achievement(demo, CODE, date(2026, 1, 1), date(2026, 12, 31), generated_on=date(2027, 1, 2)).data
    groups = {g["kind"]: g for g in data["achievements"]}
    area = demo.execute("SELECT round(ST_Area(geom::geography)) FROM interventions WHERE id = %s", (iid,)).fetchone()[0]
    plot = demo.execute("SELECT round(ST_Area(geom::geography)) FROM blighted_plots").fetchone()[0]
    assert groups["paving"] | {"targets": None} == {
        "kind": "paving", "unit": "m2", "interventions": 1, "quantity": area, "planned_quantity": area,
        "planned_cost": 180_000.0, "actual_cost": 170_000.0, "targets": None, "assets": {},
    }  # fmt: skip
    assert groups["paving"]["targets"] == {"streets": 4}
    assert groups["lot_clearing"]["quantity"] == plot  # the demo's completed clearing of April
    assert set(groups) == {"paving", "lot_clearing"}  # approved and funded works are not achievements
    assert [i["title"] for i in data["interventions"]] == [
        "Clear the derelict lot behind the market",
        "Pave the back lanes of Kamppi",
    ]
    # tasks recorded as done during the period: the after-school club and the lamp-position subtask
    assert data["tasks_completed"]["by_domain"]["social"] == 1
    assert data["tasks_completed"]["by_domain"]["urban_physical"] == 1
    assert data["tasks_completed"]["total"] == 2
    # the paving made the streets paved between the start and the end of the year
    # nothing was mapped on 1 January: the data start on 1 March, and the indicators compare from then
    assert data["data_start"] == "2026-03-01" and data["indicators"]["compared_from"] == "2026-03-02T00:00:00"
    assert data["indicators"]["start"]["street_length"] == data["indicators"]["end"]["street_length"] > 0
    assert data["indicators"]["end"]["paved_pct"] > 0
    later = report.achievement(demo, CODE, date(2026, 10, 2), date(2026, 12, 31)).data
    assert later["achievements"] == [] and later["tasks_completed"]["total"] == 0
    assert later["indicators"]["change"]["paved_pct"] == 0
    assert achievement_line(groups["paving"], "en") == f"Street paving: {area:,.0f} m² on 4 streets"
    assert achievement_line(groups["paving"], "fa") == (
        f"آسفالت و سنگفرش معابر: {i18n.number(area, 'fa')} متر مربع در ۴ معبر"
    )


def test_the_printable_page_is_offline_escaped_and_right_to_left(demo):
    complete_demo_paving(demo, title=EVIL)
    built = report.achievement(demo, CODE, date(2026, 1, 1), date(2026, 12, 31), generated_on=date(2027, 3, 21))
    for lang in ("en", "fa", "ar"):
        page = render_report(built, lang)
        assert EVIL not in page and "<img" not in page  # as text in the table and in the map's tooltip
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", page)  # nothing from a CDN
        assert "L.map(" in page and "Leaflet" in page  # the map, with Leaflet itself inlined
        assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3  # charts: kinds, indicators, tasks
    fa = render_report(built, "fa")
    assert '<html lang="fa" dir="rtl">' in fa
    assert "۱ فروردین ۱۴۰۶" in fa  # generated on 21 March 2027, in the Jalali calendar
    assert "از ۱۱ دی ۱۴۰۴ تا ۱۰ دی ۱۴۰۵" in fa
    assert "گزارش عملکرد" in fa
    en = render_report(built, "en")
    assert "1 January 2026 to 31 December 2026" in en and 'dir="ltr"' in en
    assert "Street paving: " in en


def test_a_period_with_nothing_done_says_so(demo):
    built = report.achievement(demo, CODE, date(2025, 1, 1), date(2025, 12, 31))
    assert built.data["achievements"] == [] and built.data["interventions"] == []
    assert "No intervention was completed in this period." in render_report(built, "en")


def test_bad_periods_and_neighbourhoods(demo):
    with pytest.raises(InvalidInput, match="ends .* before it starts") as err:
        report.achievement(demo, CODE, date(2026, 5, 1), date(2026, 4, 1))
    assert err.value.column == "to"
    with pytest.raises(NotFound):
        report.achievement(demo, "NOWHERE", date(2026, 1, 1), date(2026, 2, 1))


@pytest.mark.parametrize(
    ("lang", "number", "signed", "day"),
    [
        ("en", "77,622", "+2.5", "21 March 2027"),
        ("fa", "۷۷٬۶۲۲", "\u200e+۲٫۵", "۱ فروردین ۱۴۰۶"),
        ("ar", "٧٧٬٦٢٢", "\u200e+٢٫٥", "٢١ مارس ٢٠٢٧"),
    ],
)
def test_numbers_and_dates_are_written_as_readers_of_the_language_write_them(lang, number, signed, day):
    assert i18n.number(77622.4, lang) == number
    assert i18n.number(2.5, lang, 1, signed=True) == signed
    assert i18n.format_date(date(2027, 3, 21), lang) == day
    assert i18n.direction(lang) == ("ltr" if lang == "en" else "rtl")
    assert i18n.number(None, lang) == "—"


def test_every_text_has_english_and_persian():
    missing = [key for key, entry in i18n.STRINGS.items() if not entry.get("en") and key != "unit.count"]
    missing += [key for key, entry in i18n.STRINGS.items() if "fa" not in entry]
    assert missing == []
