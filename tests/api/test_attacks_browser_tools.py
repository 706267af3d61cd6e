"""An attacker's view of the browser tools (import preview, past imports and their reports, search, the list of
deleted features and restore, plausibility rules): a user with a low role in one neighbourhood, a planner of one
neighbourhood and an anonymous client try what they should not be able to do. Each test fails if the defence it
names is taken away."""

from __future__ import annotations

import io
import json
import stat
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.app import create_app
from api.identity import db_login
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from importers import jobs
from importers.run import ImportOptions
from tests.auth import ADMIN_HEADERS, token_for
from tests.gis.field_samples import NORTH, SOUTH, make_place

POINTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [24.905 + i / 1000, 60.165]},
            "properties": {"name": f"Preview {i}", "kind": "scrap"},
        }
        for i in range(3)
    ],
}


@dataclass
class World:
    client: TestClient
    conn: psycopg.Connection
    data_dir: Path
    planner: dict[str, str]  # a planner of the north
    rival: dict[str, str]  # a planner of the south
    field: dict[str, str]  # a field worker of the north
    viewer: dict[str, str]  # a viewer of the north

    def preview(self, headers: dict[str, str], content: bytes, name: str, **fields: str):
        return self.client.post(
            "/imports/preview", files={"file": (name, content)}, data={"layer": "workshops", **fields}, headers=headers
        )


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        make_place(conn)
        planner = token_for(conn, "pia", Grant("planner", NORTH))
        rival = token_for(conn, "sam", Grant("planner", SOUTH))
        field = token_for(conn, "fred", Grant("field", NORTH))
        viewer = token_for(conn, "vic", Grant("viewer", NORTH))
        data_dir = tmp_path / "data"
        settings = Settings(database_url=db_url, load_demo=False, data_dir=data_dir)
        with TestClient(create_app(settings, database=Database(db_url))) as client:
            yield World(client, conn, data_dir, planner, rival, field, viewer)


def is_problem(response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers


def zipped(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buffer.getvalue()


# --- POST /imports/preview -------------------------------------------------------------------------------


def test_only_planners_and_administrators_may_preview_an_import(world):
    content = json.dumps(POINTS).encode()
    for headers, status in [({}, 401), (world.viewer, 403), (world.field, 403)]:
        is_problem(world.preview(headers, content, "yards.geojson"), status)
    shown = world.preview(world.planner, content, "yards.geojson")
    assert shown.status_code == 200, shown.text
    assert [row["name"] for row in shown.json()["rows"]] == ["Preview 0", "Preview 1", "Preview 2"]
    assert world.conn.execute("SELECT count(*) FROM workshops WHERE name LIKE 'Preview _'").fetchone()[0] == 0


@pytest.mark.parametrize(
    "member",
    ["../../escaped.geojson", "/tmp/escaped.geojson", "sub/../../escaped.geojson", "..\\..\\escaped.geojson"],
)
def test_an_archive_member_that_points_outside_is_refused_before_anything_is_written(world, member):
    response = world.preview(world.planner, zipped((member, json.dumps(POINTS).encode())), "yards.zip")
    is_problem(response, 400, 422)
    assert "outside the archive" in response.json()["detail"]
    assert not list(world.data_dir.rglob("escaped.geojson")) and not Path("/tmp/escaped.geojson").exists()
    assert list((world.data_dir / "uploads").iterdir()) == []  # the upload is removed as well


def test_a_symbolic_link_in_an_archive_is_refused(world):
    link = zipfile.ZipInfo("yards.geojson")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    response = world.preview(world.planner, zipped((link, b"/etc/passwd")), "yards.zip")
    is_problem(response, 400, 422)
    assert "symbolic link" in response.json()["detail"] and "root:" not in response.text


def test_a_zip_bomb_is_refused_without_unpacking_it(world):
    bomb = zipped(("yards.csv", b"0" * (40 * 1048576)))  # 40 MB of zeros in ~40 kB
    assert len(bomb) < 200_000
    started = time.monotonic()
    response = world.preview(world.planner, bomb, "yards.zip")
    is_problem(response, 400, 413, 422)
    assert "zip bomb" in response.json()["detail"]
    assert time.monotonic() - started < 10
    assert list((world.data_dir / "uploads").iterdir()) == []


def test_refused_previews_give_their_slot_back(world):
    slots = world.client.app.state.settings.import_concurrency
    for _ in range(slots + 2):  # more refusals than there are slots: each gives its slot back
        is_problem(world.preview(world.planner, b"not json at all", "yards.geojson"), 400, 422)
        is_problem(world.preview(world.planner, b"PK\x03\x04 broken", "yards.zip"), 400, 422)
    shown = world.preview(world.planner, json.dumps(POINTS).encode(), "yards.geojson")
    assert shown.status_code == 200, shown.text


def test_hostile_values_come_back_as_plain_json_text(world):
    hostile = ['=HYPERLINK("http://evil.example","x")', "<img src=x onerror=alert(1)>", "\u202eevil\u202c"]
    rows = "name,kind,lon,lat\n" + "".join(
        f'"{v.replace(chr(34), chr(34) * 2)}",scrap,24.905,60.165\n' for v in hostile
    )
    shown = world.preview(world.planner, rows.encode(), "yards.csv")
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "application/json"
    assert [row["name"] for row in shown.json()["rows"]] == hostile  # shown by the web as text (el(..., {text}))


# --- GET /imports, /imports/{id}, /imports/{id}/report -----------------------------------------------------


def _an_import_of(world: World, user: str, file: str) -> uuid.UUID:
    job = jobs.create_import(world.conn, file, ImportOptions(layer="workshops"), user)
    world.conn.execute(
        "UPDATE mahalle.jobs SET status = 'succeeded', report = %s WHERE id = %s",
        (json.dumps({"rejected": [{"row": 1, "name": "the rival's secret row"}]}), job),
    )
    return job


def test_a_planner_sees_neither_the_imports_nor_the_reports_of_another(world):
    theirs = _an_import_of(world, "sam", "south.geojson")
    mine = _an_import_of(world, "pia", "north.geojson")
    listed = world.client.get("/imports", headers=world.planner)
    assert listed.status_code == 200, listed.text
    assert [job["id"] for job in listed.json()] == [str(mine)]
    for path in (f"/imports/{theirs}", f"/imports/{theirs}/report"):
        response = world.client.get(path, headers=world.planner)
        is_problem(response, 404)
        assert "secret" not in response.text
    assert world.client.get(f"/imports/{mine}/report", headers=world.planner).status_code == 200
    assert str(theirs) in {job["id"] for job in world.client.get("/imports", headers=ADMIN_HEADERS).json()}
    is_problem(world.client.get("/imports"), 401)
    is_problem(world.client.get(f"/imports/{mine}/report"), 401)


@pytest.mark.parametrize(
    "file",
    [
        'a"; filename=evil.exe; x=".geojson',
        "a\r\nSet-Cookie: stolen=1\r\nX: y.geojson",
        "نقشه \u202egnp.exe.geojson",
        "a\\\\..\\evil;%0d%0a.geojson",
    ],
)
def test_a_hostile_file_name_cannot_break_the_reports_content_disposition(world, file):
    job = _an_import_of(world, "pia", file)
    response = world.client.get(f"/imports/{job}/report", headers=world.planner)
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.count("\n") == 0 and disposition.count("\r") == 0
    fallback, encoded = disposition.split("; filename*=UTF-8''")
    assert fallback.startswith('attachment; filename="') and fallback.endswith('"')
    assert '"' not in fallback[len('attachment; filename="') : -1] and "\\" not in fallback
    assert all(c.isascii() and c.isprintable() for c in disposition)
    assert all(c.isalnum() or c in "%-._~" for c in encoded)  # RFC 5987 attr-chars and percent escapes


# --- GET /search -----------------------------------------------------------------------------------------


def _found(world: World, headers: dict[str, str], **params: object) -> list[dict]:
    response = world.client.get("/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("q", ["\\", "\\%", "%\\", "_%", "Yard\\", "[a-z]*", "'; SELECT 1; --", "Yard S%' OR '1'='1"])
def test_like_metacharacters_match_themselves(world, q):
    assert _found(world, ADMIN_HEADERS, q=q) == []


def test_search_does_not_reach_across_neighbourhoods_or_past_public_layers(world):
    assert {h["label"] for h in _found(world, world.viewer, q="yard")} == {
        "Yard A",
        "Yard B",
        "Yard C",
        "Yard D",
        "Yard E",
    }
    assert _found(world, world.planner, q="Yard S") == []
    assert _found(world, world.planner, q="P-BORDER") == []  # a parcel of the south, even by its code
    # Anonymous: naming a non-public layer does not open it; an unknown name is a client error, not a leak.
    assert _found(world, {}, q="yard", layers="workshops,parcels") == []
    assert _found(world, {}, q="P-", layers="parcels") == []
    is_problem(world.client.get("/search", params={"q": "yard", "layers": "mahalle.users"}), 422)
    is_problem(
        world.client.get("/search", params={"q": "yard", "layers": 'workshops") --'}, headers=ADMIN_HEADERS), 422
    )


def test_search_input_is_bounded(world):
    is_problem(world.client.get("/search", params={"q": "y" * 101}, headers=ADMIN_HEADERS), 422)
    is_problem(world.client.get("/search", params={"q": "y" * 1001}, headers=ADMIN_HEADERS), 400, 422)
    is_problem(
        world.client.get("/search", params={"q": "yard", "layers": "workshops," * 300}, headers=ADMIN_HEADERS), 400, 422
    )
    is_problem(world.client.get("/search", params={"q": "yard", "limit": 10**6}, headers=ADMIN_HEADERS), 400)
    # Many spaces fold to one, and the id of a number beyond bigint is not looked for (no 500).
    assert _found(world, ADMIN_HEADERS, q=" " * 900 + "yard a") != []
    assert _found(world, ADMIN_HEADERS, q="9" * 30) == []


def test_a_search_that_runs_too_long_is_cancelled(world):
    """Every search pattern is a scan (no trigram index): what bounds its cost is the pool's statement timeout."""
    with world.client.app.state.pool.connection() as conn:
        (timeout,) = conn.execute("SELECT current_setting('statement_timeout')").fetchone()
        assert timeout not in ("0", "0ms")


# --- GET /api/history/deleted and restore ----------------------------------------------------------------


def _delete(world: World, layer: str, column: str, value: str) -> int:
    statement = sql.SQL("SELECT id, version FROM {} WHERE {} = %s").format(
        sql.Identifier(layer), sql.Identifier(column)
    )
    fid, version = world.conn.execute(statement, (value,)).fetchone()
    response = world.client.delete(
        f"/ogc/collections/{layer}/items/{fid}", headers={**ADMIN_HEADERS, "If-Match": f'"{version}"'}
    )
    assert response.status_code == 204, response.text
    return fid


def test_a_planner_neither_lists_nor_restores_the_deleted_features_of_another_neighbourhood(world):
    south = _delete(world, "workshops", "name", "Yard S")
    north = _delete(world, "workshops", "name", "Yard A")
    for params in ({}, {"neighbourhood": SOUTH}, {"layer": "workshops", "neighbourhood": SOUTH}):
        listed = world.client.get("/api/history/deleted", params=params, headers=world.planner)
        assert listed.status_code == 200, listed.text
        assert south not in {d["id"] for d in listed.json()} and "Yard S" not in listed.text
    is_problem(world.client.post(f"/api/history/workshops/{south}/restore", headers=world.planner), 403, 404)
    is_problem(world.client.post(f"/api/history/workshops/{south}/restore?version=1", headers=world.planner), 403, 404)
    is_problem(world.client.post(f"/api/history/workshops/{north}/restore", headers=world.field), 403)
    is_problem(world.client.post(f"/api/history/workshops/{north}/restore", headers=world.viewer), 403)
    assert world.conn.execute("SELECT count(*) FROM workshops WHERE id IN (%s, %s)", (north, south)).fetchone()[0] == 0


def test_restoring_is_held_to_todays_plausibility_rules(world):
    street = _delete(world, "streets", "name", "North lane")
    world.conn.execute(
        "UPDATE plausibility_rules SET value = 10, enabled = true WHERE layer = 'streets' AND rule = 'max_length'"
    )
    response = world.client.post(f"/api/history/streets/{street}/restore", headers=world.planner)
    is_problem(response, 409, 422)
    assert "line_too_long" in response.text or "plausibility" in response.text
    assert world.conn.execute("SELECT count(*) FROM streets WHERE id = %s", (street,)).fetchone()[0] == 0


# --- /plausibility-rules ---------------------------------------------------------------------------------


def test_only_administrators_change_plausibility_rules(world):
    before = world.conn.execute("SELECT * FROM plausibility_rules ORDER BY layer, rule").fetchall()
    for headers, status in [({}, 401), (world.viewer, 403), (world.field, 403), (world.planner, 403)]:
        is_problem(
            world.client.put("/plausibility-rules/streets/max_length", json={"value": 1e6}, headers=headers), status
        )
        is_problem(world.client.delete("/plausibility-rules/streets/max_length", headers=headers), status)
    assert world.conn.execute("SELECT * FROM plausibility_rules ORDER BY layer, rule").fetchall() == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": NaN}',
        b'{"value": Infinity}',
        b'{"value": -Infinity}',
        b'{"value": 1e309}',
        b'{"value": 1e300}',
        b'{"value": -1}',
        b'{"value": "2000"}',
        b'{"value": true}',
        b'{"value": 2000, "enabled": "yes"}',
    ],
)
def test_an_odd_limit_is_refused_as_a_client_error(world, body):
    response = world.client.put(
        "/plausibility-rules/streets/max_length",
        content=body,
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )
    is_problem(response, 400, 422)
    value = world.conn.execute(
        "SELECT value FROM plausibility_rules WHERE layer = 'streets' AND rule = 'max_length'"
    ).fetchone()[0]
    assert value == 2000


@pytest.mark.parametrize(
    ("layer", "rule"),
    [
        ("streets'; DROP TABLE streets; --", "max_length"),
        ("streets", "max_length'; DROP TABLE streets; --"),
        ("mahalle.users", "max_length"),
        ("pg_authid", "max_area"),
        ("plausibility_rules", "max_area"),
        ("streets", "max_area"),
    ],
)
def test_rule_and_layer_names_are_data(world, layer, rule):
    response = world.client.put(f"/plausibility-rules/{layer}/{rule}", json={"value": 5}, headers=ADMIN_HEADERS)
    is_problem(response, 400, 404, 422)
    assert world.conn.execute("SELECT to_regclass('public.streets') IS NOT NULL").fetchone()[0]


@pytest.fixture
def own_login(world, pg_server, db_url) -> Iterator[psycopg.Connection]:
    """The north planner's own database login (as QGIS would use it)."""
    with psycopg.connect(pg_server.admin(conninfo_to_dict(db_url)["dbname"]), autocommit=True) as admin:
        login, password = db_login.ensure_login(world.conn, admin, "pia")
        try:
            with psycopg.connect(db_login.connection_url(Database(db_url), login, password), autocommit=True) as own:
                yield own
        finally:
            db_login.drop_login(admin, db_login.LOGIN_PREFIX + "pia")


def test_a_database_login_cannot_change_the_rules_however_it_tries(world, own_login):
    before = world.conn.execute("SELECT * FROM plausibility_rules ORDER BY layer, rule").fetchall()
    attempts = [
        "INSERT INTO plausibility_rules (layer, rule, value) VALUES ('parcels', 'near_neighbourhoods', 1e6) "
        "ON CONFLICT (layer, rule) DO UPDATE SET value = excluded.value",
        "UPDATE plausibility_rules SET value = 1e6 WHERE layer = 'streets' AND rule = 'max_length'",
        "DELETE FROM plausibility_rules WHERE layer = 'streets'",
    ]
    spoof = json.dumps({"user": "admin", "roles": {"admin": None}})
    for statement in attempts:
        for prelude in ("RESET mahalle.grants", f"SET mahalle.grants = '{spoof}'"):
            own_login.execute(prelude)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                own_login.execute(statement)
    for statement in (
        "TRUNCATE plausibility_rules",
        "ALTER TABLE plausibility_rules DISABLE TRIGGER z05_admin",
        "SET session_replication_role = replica",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            own_login.execute(statement)
    assert world.conn.execute("SELECT * FROM plausibility_rules ORDER BY layer, rule").fetchall() == before


def test_plausibility_problem_tells_a_login_nothing_it_could_not_read(world, own_login):
    """The function is the invoker's: what it says of neighbourhoods is what the login reads itself (they are a
    public layer); it cannot be pointed at another table or made to run SQL through its layer argument."""
    south = world.conn.execute("SELECT id FROM neighbourhoods WHERE code = %s", (SOUTH,)).fetchone()[0]
    readable = own_login.execute("SELECT name FROM neighbourhoods WHERE id = %s", (south,)).fetchone()
    far = "SRID=4326;LINESTRING(30 30, 30.001 30)"
    problem = own_login.execute(
        "SELECT mahalle.plausibility_problem('streets', %s::geometry, %s)", (far, south)
    ).fetchone()[0]
    assert problem["rule"] == "left_neighbourhood" and problem["params"]["code"] == SOUTH
    assert readable == ("South quarter",)  # neighbourhoods are public: naming one tells the login nothing new
    injected = own_login.execute(
        "SELECT mahalle.plausibility_problem(%s, %s::geometry)", ("streets' OR true --", far)
    ).fetchone()[0]
    assert injected is None  # no rule of a layer with that name: nothing checked, nothing run


@pytest.mark.parametrize("encoding", ["bogus", "rot13", "hex", "base64", "undefined", "x" * 200])
def test_an_unknown_encoding_is_a_client_error(world, encoding):
    imported = world.client.post("/imports", files={"file": ("yards.geojson", json.dumps(POINTS).encode())},
                                 data={"layer": "workshops", "encoding": encoding}, headers=world.planner)  # fmt: skip
    is_problem(imported, 400, 422)  # refused before a job is made, as the preview is
    response = world.preview(world.planner, json.dumps(POINTS).encode(), "yards.geojson", encoding=encoding)
    is_problem(response, 400, 422)
    assert "encoding" in response.json()["detail"]
    assert (
        world.preview(world.planner, json.dumps(POINTS).encode(), "yards.geojson", encoding="cp1256").status_code == 200
    )


VRT = """<OGRVRTDataSource><!-- <kml -->
  <OGRVRTLayer name="workshops"><SrcDataSource>CSV:{path}</SrcDataSource><SrcLayer>{layer}</SrcLayer></OGRVRTLayer>
</OGRVRTDataSource>
"""


@pytest.mark.parametrize(
    ("name", "wrap"),
    [("yards.geojson", False), ("yards.csv", False), ("yards.zip", True), ("yards.kml", False), ("yards.kmz", True)],
)
def test_a_gdal_vrt_under_another_name_is_refused_and_reads_no_server_file(world, tmp_path, name, wrap):
    """A VRT names other files for GDAL to open: uploaded as GeoJSON, CSV or inside a zip, it is refused."""
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2-the-servers-secret\n")
    vrt = VRT.format(path=secret, layer="secret").encode()
    inner = "doc.kml" if name.endswith(".kmz") else "yards.csv"  # (the VRT's comment says <kml to pass a sniff)
    response = world.preview(world.planner, zipped((inner, vrt)) if wrap else vrt, name)
    is_problem(response, 400, 422)
    assert "hunter2" not in response.text


def test_a_kml_is_a_document_whose_root_is_kml(world):
    kml = (b'<?xml version="1.0"?>\n<!-- a comment -->\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           b"<Placemark><name>Yard</name><Point><coordinates>24.905,60.165</coordinates></Point></Placemark>"
           b"</Document></kml>")  # fmt: skip
    shown = world.preview(world.planner, kml, "yards.kml")
    assert shown.status_code == 200, shown.text
    other = b'<?xml version="1.0"?><gpx><!-- <kml --></gpx>'
    is_problem(world.preview(world.planner, other, "yards.kml"), 400, 422)


def test_a_linked_crs_in_a_geojson_is_refused_and_never_fetched(world):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    linked = {
        **POINTS,
        "crs": {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/meta", "type": "proj4"}},
    }
    started = time.monotonic()
    response = world.preview(world.planner, json.dumps(linked).encode(), "yards.geojson")
    is_problem(response, 400, 422)
    assert "link" in response.json()["detail"]
    with pytest.raises(TimeoutError):  # nobody knocked
        listener.accept()
    listener.close()
    assert time.monotonic() - started < 5


def test_gdal_reads_uploads_with_no_way_to_the_network():
    import pyogrio

    from importers import files

    with files.offline():
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") == "127.0.0.1:9"
        with files.offline():
            pass
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") == "127.0.0.1:9"  # the outer reader still reads
    assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") is None


def test_a_workbook_bomb_is_refused_without_unpacking_it(world):
    sheet = b"<row>" + b"<c><v>0</v></c>" * 20 + b"</row>"
    bomb = zipped(("[Content_Types].xml", b"<Types/>"), ("xl/worksheets/sheet1.xml", sheet * 200_000))
    response = world.preview(world.planner, bomb, "yards.xlsx")
    is_problem(response, 400, 413, 422)
    assert "zip bomb" in response.json()["detail"]


def test_a_file_name_too_long_for_the_disk_is_kept_whole_in_the_job(world):
    name = "گزارش" * 60 + ".geojson"  # 600 bytes: more than a file system takes
    assert len(name.encode()) > 255
    shown = world.preview(world.planner, json.dumps(POINTS).encode(), name)
    assert shown.status_code == 200, shown.text
    assert shown.json()["file"] == name
    is_problem(world.preview(world.planner, b"{}", "a\x01b.geojson"), 400, 422)
    is_problem(world.preview(world.planner, b"{}", "x" * 1200 + ".geojson"), 400, 422)


def test_a_mapping_nested_too_deeply_is_a_client_error(world):
    deep = "[" * 200_000
    response = world.preview(world.planner, json.dumps(POINTS).encode(), "yards.geojson", mapping=deep)
    is_problem(response, 400, 422)


async def _slow_upload(app) -> tuple[int, int]:
    """(the status of a preview whose body stalls, 1 if an import slot was free while it stalled)."""
    import asyncio

    import httpx

    stalled = asyncio.Event()

    async def slow_body():
        yield b'--b\r\nContent-Disposition: form-data; name="layer"\r\n\r\nworkshops\r\n'
        stalled.set()
        await asyncio.sleep(5)  # never finishes within the timeout
        yield b"--b--\r\n"

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = {**ADMIN_HEADERS, "content-type": "multipart/form-data; boundary=b"}
        slow = asyncio.create_task(client.post("/imports/preview", content=slow_body(), headers=headers))
        await stalled.wait()
        free = app.state.import_slots.acquire(blocking=False)  # the slow sender holds none
        if free:
            app.state.import_slots.release()
        return (await slow).status_code, int(free)


def test_a_slow_upload_holds_no_import_slot_and_is_cut_off_in_time(db_url, tmp_path):
    """The slot is taken once the upload is in; an upload that does not arrive in time is 408 and leaves nothing."""
    import asyncio

    settings = Settings(database_url=db_url, load_demo=False, data_dir=tmp_path / "data", upload_timeout_s=1,
                        import_concurrency=1)  # fmt: skip
    with TestClient(create_app(settings, database=Database(db_url))) as client:
        status, free = asyncio.run(_slow_upload(client.app))
        assert (status, free) == (408, 1)
        assert list((tmp_path / "data" / "uploads").iterdir()) == []


def test_a_virtual_dataset_named_like_a_shapefile_is_refused(world, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2-the-servers-secret\n")
    vrt = VRT.format(path=secret, layer="secret").encode()
    archive = zipped(("yards.shp", vrt), ("yards.shx", b"\x00" * 100), ("yards.dbf", b"\x03" + b"\x00" * 40))
    response = world.preview(world.planner, archive, "yards.zip")
    is_problem(response, 400, 422)
    assert "not a shapefile" in response.json()["detail"] and "hunter2" not in response.text


def test_a_linked_crs_spelt_with_json_escapes_is_refused(world):
    linked = json.dumps({**POINTS, "crs": {"type": "link", "properties": {"href": "http://127.0.0.1:9/x"}}})
    escaped = linked.replace('"crs"', '"\\u0063rs"').replace('"link"', '"\\u006cink"')
    assert json.loads(escaped)["crs"]["type"] == "link"
    is_problem(world.preview(world.planner, escaped.encode(), "yards.geojson"), 400, 422)
