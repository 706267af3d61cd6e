"""One catalogue per language: adding a file to the catalogue folder adds the language to the web app's list,
its strings, the layer labels, the API's language negotiation and the reports; French, as a user sees it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from core import i18n
from tests.auth import ADMIN_TOKEN
from tests.web.conftest import shot

ROOT = Path(__file__).resolve().parents[2]
GERMAN = {
    "language": {"name": "Deutsch", "locale": "de_DE"},  # no "order": listed after the others
    "ui": {"nav.map": "Karte", "nav.language": "Sprache"},  # the rest of the web app falls back to English
    "report": {
        "report.title": "Leistungsbericht",
        "report.period": "{start} bis {end}",
        "line.targets": "{kind}: {quantity} {unit} auf {targets}",
        "targets.blighted_plots": {"one": "{n} Grundstück", "other": "{n} Grundstücke"},
    },
}
# Runs in a fresh interpreter: the catalogues are read from the copy before any module takes the language list.
SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from core import i18n

    i18n.use_folder(Path(sys.argv[1]))

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.runtime import Database
    from core.settings import Settings
    from layers import definition, spec

    url = sys.argv[2]
    assert spec.LANGUAGES[-1] == "de", spec.LANGUAGES
    definition.LayerDefinition.model_validate(
        {"name": "wells", "title": {"en": "Wells", "de": "Brunnen"}, "geometry_type": "Point", "attributes": []}
    )
    app = create_app(Settings(database_url=url, load_demo=False), database=Database(url))
    with TestClient(app, headers={"Authorization": "Bearer " + sys.argv[3]}) as client:  # the admin's token
        page = client.get("/").text
        assert '<option value="de" lang="de" data-dir="ltr"' in page and ">Deutsch</option>" in page, page
        assert client.get("/i18n/de.json").json()["ui"]["nav.map"] == "Karte"
        layer = {"name": "wells", "title": {"en": "Wells", "de": "Brunnen"}, "geometry_type": "Point",
                 "attributes": [{"name": "depth", "type": "number", "label": {"en": "Depth", "de": "Tiefe"}}]}
        assert client.post("/layers", json=layer).status_code == 201, client.post("/layers", json=layer).text
        german = client.get("/ogc/collections/wells", headers={"Accept-Language": "de-DE,de;q=0.9"}).json()
        assert german["title"] == "Brunnen", german
        assert client.get("/ogc/collections/wells?lang=de").json()["title"] == "Brunnen"
        assert client.get("/ogc/collections/wells?lang=xx").json()["title"] == "Wells"
        queryables = client.get("/ogc/collections/wells/queryables?lang=de").json()
        assert queryables["properties"]["depth"]["title"] == "Tiefe", queryables
        report = client.get("/reports/achievement?neighbourhood=HKI-CENTRE&from=2026-01-01&to=2026-12-31"
                            "&format=html&lang=de")
        assert report.status_code == 200, report.text
        html = report.text
        assert '<html lang="de" dir="ltr">' in html
        assert "Leistungsbericht" in html and "1. Januar 2026 bis 31. Dezember 2026" in html, html[:3000]
        assert "1 Grundstück" in html  # the German plural form, chosen by CLDR's rule for German
        assert "Action plan: tasks completed" in html  # a string German lacks is English
    print("ok")
    """
)


def test_a_new_catalogue_file_is_a_new_language_everywhere(tmp_path, demo_db_url):
    folder = tmp_path / "i18n"
    folder.mkdir()
    for path in i18n.FOLDER.glob("*.json"):
        shutil.copy(path, folder / path.name)
    (folder / "de.json").write_text(json.dumps(GERMAN, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), demo_db_url, ADMIN_TOKEN],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-4000:]


def test_french_in_the_browser_and_in_the_report(session, api):
    page = session.page("/#board")
    languages = page.eval_on_selector_all("#language option", "options => options.map((o) => o.value)")
    assert languages == list(i18n.LANGUAGES) and "fr" in languages
    page.select_option("#language", "fr")
    page.wait_for_function("document.documentElement.lang === 'fr' && document.documentElement.dir === 'ltr'")
    page.locator(".board-head h2", has_text="Plan d’action : tableau des tâches").wait_for()
    card = page.locator(".card", has_text="Home visits to households at risk")  # due on 15 December 2026
    assert "15 décembre 2026" in card.locator(".due").inner_text()
    assert page.locator('nav.views a[data-view="map"]').inner_text() == "Carte"
    shot(page, "task-board-fr")
    page.reload()  # the choice is remembered
    page.wait_for_function("document.documentElement.lang === 'fr'")
    report = api.get("/reports/achievement", params={"neighbourhood": "HKI-CENTRE", "from": "2026-01-01",
                                                     "to": "2026-12-31", "format": "html", "lang": "fr"})  # fmt: skip
    assert report.status_code == 200 and '<html lang="fr" dir="ltr">' in report.text
    assert "Bilan des réalisations" in report.text and "Du 1 janvier 2026 au 31 décembre 2026" in report.text


def test_every_count_of_the_web_app_has_the_plural_forms_of_each_language():
    """A `ui` string given as plural forms has every CLDR category the language's rule gives a count up to 1,000
    (Arabic: zero, one, two, few, many, other), so i18n.js never falls back to `other` where the language says
    otherwise (French "many" is for millions: "1 000 000 de …", where `other` will do)."""
    counted = {key for key, value in i18n.CATALOGUES["en"].strings["ui"].items() if isinstance(value, dict)}
    assert {"table.selected", "table.exported", "table.count", "board.showing", "field.waiting"} <= counted
    for lang in i18n.CATALOGUES.values():
        categories = {lang.locale.plural_form(n) for n in range(1001)}
        for key in counted:
            value = lang.strings["ui"].get(key)
            assert isinstance(value, dict), (lang.code, key, "a count needs its plural forms")
            assert categories <= set(value), (lang.code, key, sorted(categories - set(value)))
    arabic = i18n.CATALOGUES["ar"].strings["ui"]["table.selected"]
    assert set(arabic) == {"zero", "one", "two", "few", "many", "other"}


def test_the_browser_and_the_server_agree_on_the_jalali_calendar():
    """The date picker's conversion (jalaali-js, from npm) gives the day the reports' (jdatetime) gives, over years."""
    import datetime

    import jdatetime

    module = ROOT / "node_modules" / "jalaali-js" / "dist" / "index.js"
    assert module.is_file(), "run `make setup` (npm ci)"
    days = [datetime.date(2020, 1, 1) + datetime.timedelta(days=d) for d in range(0, 365 * 12, 7)]
    script = (
        f"import({json.dumps(module.as_uri())}).then((j) => {{ const out = [];"
        f" for (const iso of {json.dumps([d.isoformat() for d in days])}) {{"
        " const [y, m, d] = iso.split('-').map(Number); const r = j.toJalaali(y, m, d);"
        " const back = j.toGregorian(r.jy, r.jm, r.jd); out.push([r.jy, r.jm, r.jd, back.gy, back.gm, back.gd]); }"
        " console.log(JSON.stringify(out)); });"
    )
    run = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    for day, (jy, jm, jd, gy, gm, gd) in zip(days, json.loads(run.stdout), strict=True):
        j = jdatetime.date.fromgregorian(date=day)
        assert (jy, jm, jd) == (j.year, j.month, j.day), day
        assert datetime.date(gy, gm, gd) == day
    assert jdatetime.date(1404, 1, 1).togregorian() == datetime.date(2025, 3, 21)
