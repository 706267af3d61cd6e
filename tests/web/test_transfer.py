"""The Import / export view in a real browser: a planner uploads a GeoJSON (points in the demo neighbourhood and one
just outside it), corrects the proposed mapping (a field, the id field, a value of a value list), checks it with a
dry run, imports it, finds it among the past imports and downloads its report; then exports the layer and opens the
downloaded file with pyogrio. A viewer sees the export only. Screenshots: test-artifacts/transfer-*.png."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pyogrio
import pytest
from playwright.sync_api import Browser, Page

from api.identity.store import Grant, add_user
from importers.demo import CODE
from tests.web.conftest import Session, shot

PASSWORD = "Siirto-2026-safe!"


@pytest.fixture(scope="module")
def place(web_db: str) -> dict[str, float]:
    """A point inside the demo neighbourhood and the east edge of its extent."""
    with psycopg.connect(web_db) as conn:
        lon, lat, east = conn.execute(
            "SELECT ST_X(p), ST_Y(p), ST_XMax(g) FROM (SELECT geom g, ST_PointOnSurface(geom) p FROM neighbourhoods "
            "WHERE code = %s) x",
            [CODE],
        ).fetchone()
    return {"lon": lon, "lat": lat, "east": east}


def trees(place: dict[str, float], tag: str) -> dict[str, Any]:
    """Three points in the neighbourhood and one about 300 m east of it, with a field named like no attribute
    (Remarks), an id field (ref) and a kind that matches no value of the list ("Big tree")."""
    spots = [(place["lon"] + i * 0.0001, place["lat"]) for i in range(3)] + [(place["east"] + 0.005, place["lat"])]
    kinds = ["Tree", "Big tree", "bench", "Tree"]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(xy)},
             "properties": {"ref": f"{tag}-{i}", "kind": kind, "Remarks": f"{tag} tree {i}"}}
            for i, (xy, kind) in enumerate(zip(spots, kinds, strict=True))
        ],
    }  # fmt: skip


def open_view(s: Session) -> Page:
    page = s.page("/")
    page.click('nav.views a[data-view="transfer"]')
    page.locator("#transfer-export #export-form").wait_for()
    return page


def counts(page: Page, box: str, layer: str = "assets") -> dict[str, str]:
    row = page.locator(f"{box} .transfer-counts tbody tr[data-layer='{layer}']")
    cells = row.locator("td[data-count]")
    return {cells.nth(i).get_attribute("data-count"): cells.nth(i).inner_text() for i in range(cells.count())}


def test_a_planner_imports_a_geojson_and_exports_it_again(session: Session, api: httpx.Client, place, tmp_path: Path):
    tag = f"web{uuid.uuid4().hex[:6]}"
    name = f"{tag}-trees.geojson"
    page = open_view(session)
    assert page.locator("#current-view").inner_text() == "Import / export"
    shot(page, "transfer-start")

    # The file and the layer: the preview shows the first rows and the proposed mapping.
    page.set_input_files("#import-file", files=[{"name": name, "mimeType": "application/geo+json",
                                                 "buffer": json.dumps(trees(place, tag)).encode()}])  # fmt: skip
    page.locator("#import-chosen").wait_for()
    page.select_option("#import-layer", "assets")
    page.locator("#import-mapping").wait_for(timeout=20000)
    assert "4" in page.locator("#import-summary").inner_text()
    assert page.locator("#import-rows tbody tr").count() == 4
    assert "(from the file)" in page.locator("#import-crs-known").inner_text()
    mapping = page.locator("#import-mapping")
    assert mapping.locator("tr[data-field='kind'] select.target-main").input_value() == "kind"
    assert mapping.locator("tr[data-field='Remarks'] select.target-main").input_value() == ""  # matched nothing
    kinds = page.locator(".transfer-value-map[data-attribute='kind']")
    assert kinds.locator("select[data-value='Tree']").input_value() == "tree"
    assert kinds.locator("select[data-value='Big tree']").input_value() == ""  # no value of the list fits
    shot(page, "transfer-preview")

    # The planner's corrections: Remarks into the note, ref as the id, "Big tree" is a tree.
    mapping.locator("tr[data-field='Remarks'] select.target-main").select_option("note")
    page.select_option("#import-id-field", "ref")
    kinds.locator("select[data-value='Big tree']").select_option("tree")

    # The dry run: counts, the row outside every neighbourhood; nothing written.
    page.click("#import-check")
    page.locator("#import-check-result").wait_for(timeout=30000)
    assert page.locator("#import-check-result").get_attribute("data-status") == "succeeded", \
        page.locator("#import-check-result").inner_text()  # fmt: skip
    dry = counts(page, "#import-check-result")
    assert dry["new"] == "4" and dry["rejected"] == "0" and dry["outside"] == "1", dry
    assert api.get("/ogc/collections/assets/items", params={"filter": f"note LIKE '{tag}%'"}).json()["features"] == []
    assert page.locator("#import-outside").is_visible()
    shot(page, "transfer-dry-run")

    # The import, the row outside given the nearest neighbourhood.
    page.check("#import-outside input[value='nearest']")
    page.fill("#import-outside-distance", "2000")
    page.click("#import-run")
    page.locator("#import-run-result").wait_for(timeout=30000)
    result = page.locator("#import-run-result")
    assert result.get_attribute("data-status") == "succeeded", result.inner_text()
    done = counts(page, "#import-run-result")
    assert done["new"] == "4" and done.get("assigned") == "1", done
    shot(page, "transfer-imported")

    features = api.get("/ogc/collections/assets/items", params={"filter": f"note LIKE '{tag}%'", "limit": 50}).json()
    found = sorted((f["properties"]["note"], f["properties"]["kind"]) for f in features["features"])
    assert found == [(f"{tag} tree {i}", kind) for i, kind in enumerate(["tree", "tree", "bench", "tree"])]

    # Among the past imports (the dry run too), with its report to download.
    history = page.locator("#history-table")
    history.wait_for()
    page.wait_for_function("([n]) => [...document.querySelectorAll('#history-table td.file')]"
                           ".filter((td) => td.textContent === n).length === 2", arg=[name])  # fmt: skip
    shot(page, "transfer-history")
    with page.expect_download() as info:
        page.click("#import-report-link")
    report = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert report["layers"]["assets"]["new"] == 4 and report["committed"] is True and report["dry_run"] is False

    # The export of the layer in the neighbourhood, as a GeoPackage.
    page.click("#export-none")
    page.check("#transfer-export input[name='export-layer'][value='assets']")
    page.select_option("#export-neighbourhood", CODE)
    page.select_option("#export-format", "gpkg")
    with page.expect_download(timeout=60000) as info:
        page.click("#export-start")
    download = info.value
    assert download.suggested_filename.endswith(".gpkg")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    frame = pyogrio.read_dataframe(saved, layer="assets")
    notes = set(frame["note"].dropna())
    assert {f"{tag} tree {i}" for i in range(4)} <= notes
    assert page.locator("#export-link").get_attribute("download") == download.suggested_filename
    shot(page, "transfer-exported")


def test_a_table_dropped_on_the_view_shows_its_coordinate_columns(session: Session, place):
    """A CSV dropped on the drop zone: its x/y columns are found, shown as coordinates, and can be changed; a row
    the dry run rejects is listed with its reason, and the import waits until the planner leaves it out."""
    page = open_view(session)
    page.select_option("#import-layer", "assets")
    lon, lat = place["lon"], place["lat"]
    text = f"lon,lat,kind,installed_on\n{lon},{lat},bench,2025-03-21\n{lon},{lat},bin,someday\n"
    page.evaluate(
        """([text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
            const drop = new DragEvent("drop", { dataTransfer: data, bubbles: true });
            document.querySelector("#import-drop").dispatchEvent(drop);
        }""",
        [text],
    )
    page.locator("#import-coordinates").wait_for(timeout=20000)
    assert page.locator("#import-chosen").inner_text().startswith("dropped.csv")
    assert page.locator("#import-x").input_value() == "lon" and page.locator("#import-y").input_value() == "lat"
    assert page.locator("#import-mapping tr[data-field='lon'] td.targets").inner_text() == "coordinates"
    assert page.locator("#import-mapping tr[data-field='kind'] select.target-main").input_value() == "kind"
    assert page.locator("#import-crs").is_visible()  # a table does not say its CRS: it may be given
    # One field into a second attribute: its values are then mapped for that list too.
    kind = page.locator("#import-mapping tr[data-field='kind']")
    kind.locator(".target-more").click()
    kind.locator("select.target-extra").select_option("condition")
    page.locator(".transfer-value-map[data-attribute='condition'] select[data-value='bench']").wait_for()
    shot(page, "transfer-csv-preview")
    kind.locator("select.target-extra").select_option("")  # taken back
    assert kind.locator("select.target-extra").count() == 0
    assert page.locator(".transfer-value-map[data-attribute='condition']").count() == 0
    page.select_option("#import-x", "")  # no x column: the longitude is an ordinary field again
    assert page.locator("#import-mapping tr[data-field='lon'] select.target-main").count() == 1
    page.select_option("#import-x", "lon")

    page.click("#import-check")
    result = page.locator("#import-check-result")
    result.wait_for(timeout=30000)
    assert result.get_attribute("data-status") == "succeeded", result.inner_text()  # a dry run lists, never fails
    assert counts(page, "#import-check-result")["rejected"] == "1"
    reason = page.locator("#report-rejected tbody tr").first.locator("td.reason").inner_text()
    assert "installed_on" in reason and "someday" in reason, reason
    assert page.locator("#import-run").is_disabled()  # rejected rows: leave them out, or correct the file
    page.check("#import-skip-rejected")
    assert page.locator("#import-run").is_enabled()
    shot(page, "transfer-csv-rejected")
    page.select_option("#import-id-field", "kind")  # a change after the check: it must be made again
    page.locator("#import-stale").wait_for()
    assert page.locator("#import-run").count() == 0


def test_the_preview_fits_a_phone_right_to_left(browser: Browser, server: str, place):
    """In Persian on a 390 px phone the preview's wide tables scroll inside their boxes, never the page."""
    phone = Session(browser, server, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True).log_in()
    try:
        page = phone.page("/?lang=fa#transfer")
        page.locator("#transfer-export #export-form").wait_for()
        assert page.evaluate("document.documentElement.dir") == "rtl"
        page.select_option("#import-layer", "assets")
        columns = ",".join(f"a_long_column_name_{i}" for i in range(8))
        rows = ",".join("a rather long value" for _ in range(8))
        text = f"lon,lat,kind,{columns}\n{place['lon']},{place['lat']},bench,{rows}\n"
        wide = {"name": "wide.csv", "mimeType": "text/csv", "buffer": text.encode()}
        page.set_input_files("#import-file", files=[wide])
        page.locator("#import-mapping").wait_for(timeout=20000)
        page.locator("#import-check").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("#import-rows").evaluate("t => t.parentElement.scrollWidth > t.parentElement.clientWidth")
        shot(page, "transfer-phone-preview-fa")
        assert page.locator("#import-problems").count() == 0  # the CRS of a table is said in Persian, by the field
        page.click("#import-check")
        result = page.locator("#import-check-result")
        result.wait_for(timeout=30000)
        assert result.get_attribute("data-status") == "succeeded", result.inner_text()
        assert counts(page, "#import-check-result")["new"] == "۱"
        assert "new" not in result.locator(".result-line").inner_text()  # the page's words, not the server's
        result.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "transfer-phone-dry-run-fa")
        page.locator("#export-form").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "transfer-phone-export-fa")
        assert not phone.errors, phone.errors
    finally:
        phone.context.close()


def test_a_refused_export_says_why(session: Session):
    page = open_view(session)
    page.click("#export-none")
    page.click("#export-start")
    error = page.locator("#export-status .form-error")
    error.wait_for()
    assert "at least one layer" in error.inner_text()
    page.click("#export-all")
    page.fill("#export-as-of", "0001-01-01")  # before anything the server keeps: refused, with its reason
    page.click("#export-start")
    page.locator("#export-status .form-error").wait_for(timeout=30000)
    assert page.locator("#export-status .form-error").inner_text().strip()
    assert page.locator("#export-link").count() == 0
    shot(page, "transfer-export-refused")


@pytest.fixture
def viewer(browser: Browser, server: str, web_db: str) -> Iterator[Session]:
    name = f"vivi{uuid.uuid4().hex[:6]}"
    with psycopg.connect(web_db, autocommit=True) as conn:
        add_user(conn, name, [Grant("viewer", None)], password=PASSWORD)
    s = Session(browser, server).log_in(name, PASSWORD)
    yield s
    s.context.close()
    assert not s.errors, s.errors


def test_a_viewer_may_export_but_not_import(viewer: Session):
    page = open_view(viewer)
    assert page.locator("#transfer-import").count() == 0 and page.locator("#transfer-history").count() == 0
    assert page.locator("#transfer-export input[name='export-layer']").count() > 3
    shot(page, "transfer-viewer")


def test_the_as_of_date_is_the_end_of_that_day_where_the_browser_is(browser: Browser, server: str):
    """The date chosen is the end of that day in the browser's time zone, sent in UTC; a year below 100 is that year
    (not 1900 + it)."""
    s = Session(browser, server, timezone_id="Asia/Tehran").log_in()  # UTC+03:30, no daylight saving since 2022
    try:
        page = open_view(s)
        page.click("#export-none")
        page.check("#transfer-export input[name='export-layer'][value='assets']")
        page.fill("#export-as-of", "2025-03-21")
        with page.expect_download(timeout=60000):
            page.click("#export-start")
        sent = [parse_qs(urlsplit(u).query) for u in s.requests if urlsplit(u).path == "/exports"]
        assert sent[-1]["as_of"] == ["2025-03-21T20:29:59.000Z"], sent
        assert sent[-1]["layers"] == ["assets"], sent
        page.fill("#export-as-of", "0001-01-01")
        page.click("#export-start")
        page.locator("#export-status .form-error").wait_for(timeout=30000)
        sent = [parse_qs(urlsplit(u).query) for u in s.requests if urlsplit(u).path == "/exports"]
        assert len(sent) == 2 and sent[-1]["as_of"][0].startswith("0001-01-01T"), sent  # refused by the server
        assert not s.errors, s.errors
    finally:
        s.context.close()


def test_a_failed_import_without_a_report_says_why(session: Session, api: httpx.Client, place):
    """A file refused before its rows are read (a table with no coordinate columns) leaves a failed job with no
    report: its link in the past imports says so rather than saving the server's refusal as a file."""

    def imported(name: str, text: str) -> dict[str, Any]:
        created = api.post("/imports", files={"file": (name, text.encode(), "text/csv")}, data={"layer": "assets"})
        assert created.status_code == 202, created.text
        for _ in range(150):
            job = api.get(f"/imports/{created.json()['id']}").json()
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.2)
        raise AssertionError(job)

    tag = uuid.uuid4().hex[:6]
    refused = imported(f"nocoords-{tag}.csv", "a,b\n1,2\n")
    assert refused["status"] == "failed" and refused["report"] is None, refused
    lon, lat = place["lon"], place["lat"]
    rejected = imported(f"baddate-{tag}.csv", f"lon,lat,kind,installed_on\n{lon},{lat},bench,someday\n")
    assert rejected["status"] == "failed" and rejected["report"]["layers"]["assets"]["rejected"] == 1, rejected
    page = open_view(session)
    row = page.locator(f"#history-table tr[data-job='{refused['id']}']")
    row.locator(".report-link").click()
    row.locator("span.muted").wait_for()
    assert row.inner_text().count("No report") == 1
    assert row.locator(".report-link").count() == 0
    with page.expect_download() as info:  # a failed import that read its rows has its report
        page.locator(f"#history-table tr[data-job='{rejected['id']}'] .report-link").click()
    report = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert report["layers"]["assets"]["rejected"] == 1 and report["committed"] is False


GEORGIA = Path(__file__).resolve().parents[1] / "data" / "libpysal" / "georgia" / "GData_utm.csv"


@pytest.fixture
def georgia_halves(web_db: str) -> Iterator[None]:
    """Two neighbourhoods covering Georgia (as tests/importers/test_third_party.py adds them), so that the rule
    near_neighbourhoods keeps its service points; taken away after the test (a dry run writes nothing)."""
    codes = ("GA-S", "GA-N")
    with psycopg.connect(web_db, autocommit=True) as conn:
        for code, south, north in ((codes[0], 30, 32.47), (codes[1], 32.53, 35.5)):
            conn.execute(
                "INSERT INTO neighbourhoods (code, name, geom) "
                "VALUES (%s, %s, ST_Multi(ST_Segmentize(ST_MakeEnvelope(-86, %s, -80, %s, 4326), 0.01)))",
                (code, code, south, north),
            )
    yield
    with psycopg.connect(web_db, autocommit=True) as conn:
        conn.execute("DELETE FROM neighbourhoods WHERE code = ANY(%s)", [list(codes)])


def settled(page: Page) -> None:
    """Wait until the preview asked again after a change has come back."""
    page.wait_for_function("document.querySelector('#import-step-preview').getAttribute('aria-busy') === 'false'")


def test_a_table_with_unclear_coordinates_and_no_category_can_be_imported(session: Session, georgia_halves, tmp_path):
    """The Georgia counties CSV into the service points: its two pairs of coordinate columns are not guessed; once the
    planner names X/Y and the UTM zone the preview asks again and the problem is gone. The file has no category (a
    required attribute): one given for every row lets the dry run pass; a value the server refuses says why."""
    csv = tmp_path / "GData_utm.csv"
    csv.write_bytes(GEORGIA.read_bytes())
    page = open_view(session)
    page.select_option("#import-layer", "service_points")
    page.evaluate(
        """([text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "GData_utm.csv", { type: "text/csv" }));
            const drop = new DragEvent("drop", { dataTransfer: data, bubbles: true });
            document.querySelector("#import-drop").dispatchEvent(drop);
        }""",
        [csv.read_text(encoding="utf-8")],
    )
    page.locator("#import-coordinates").wait_for(timeout=20000)
    problems = page.locator("#import-problems")
    unclear = problems.inner_text()
    assert "not clear" in unclear and "X/Y" in unclear, unclear
    assert "--crs" not in unclear and "coordinate system" in unclear, unclear  # words for the web and the command line
    assert page.locator("#import-x").input_value() == "" and page.locator("#import-y").input_value() == ""

    page.select_option("#import-x", "X")
    page.select_option("#import-y", "Y")
    page.fill("#import-crs", "EPSG:26916")
    page.locator("#import-crs").press("Tab")  # leaving the field: the preview is asked again
    settled(page)
    assert page.locator("#import-problems").count() == 0  # "not clear" and the CRS's: gone
    assert page.locator("#import-x").input_value() == "X" and page.locator("#import-y").input_value() == "Y"
    assert page.locator("#import-crs").input_value() == "EPSG:26916"
    assert page.locator("#import-mapping tr[data-field='X'] td.targets").inner_text() == "coordinates"
    sent = [u for u in session.requests if urlsplit(u).path == "/imports/preview"]
    assert len(sent) >= 2, sent

    # Same value for every row: the attributes no field fills, the required category first.
    defaults = page.locator("#import-defaults")
    first = defaults.locator(".field-row").first
    assert first.get_attribute("data-attribute") == "category" and first.locator("span").inner_text() == "Category *"
    assert defaults.locator(".field-row[data-attribute='name']").count() == 1
    page.locator("#import-mapping tr[data-field='AreaKey'] select.target-main").select_option("name")
    assert defaults.locator(".field-row[data-attribute='name']").count() == 0  # a field fills it now
    assert defaults.locator(".field-row").first.get_attribute("data-attribute") == "category"
    category = page.locator("#import-default-category")
    assert "Clinic / health centre" in category.locator("option").all_inner_texts()

    # A value the server refuses: the dry run fails with its reason.
    category.select_option("clinic")
    page.fill("#import-default-capacity", "lots")
    page.locator("#import-default-capacity").press("Tab")
    page.click("#import-check")
    result = page.locator("#import-check-result")
    result.wait_for(timeout=30000)
    assert result.get_attribute("data-status") == "failed", result.inner_text()
    assert "capacity" in result.inner_text() and "lots" in result.inner_text(), result.inner_text()
    shot(page, "transfer-defaults-refused")

    page.fill("#import-default-capacity", "")
    page.locator("#import-default-capacity").press("Tab")
    page.click("#import-check")
    page.wait_for_function("document.querySelector('#import-check-result')?.dataset.status === 'succeeded'",
                           timeout=30000)  # fmt: skip
    dry = counts(page, "#import-check-result", "service_points")
    assert dry["new"] == "159" and dry["rejected"] == "0", (dry, page.locator("#import-check-result").inner_text())
    assert "category is required" not in page.locator("#import-check-result").inner_text()
    page.locator("#import-defaults").scroll_into_view_if_needed()
    shot(page, "transfer-defaults")
