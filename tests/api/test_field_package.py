"""``GET /field/checkout`` and ``POST /field/checkin`` through the app, with API tokens of real users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity.store import Grant
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS, token_for
from tests.gis.field_samples import NORTH, SOUTH, file_rows, make_place, sql_in

GPKG = "application/geopackage+sqlite3"


@pytest.fixture
def conn(db_url) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        make_place(c)
        yield c


@pytest.fixture
def client(db_url: str, conn, tmp_path) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, load_demo=False, data_dir=tmp_path / "data")
    with TestClient(create_app(settings, database=Database(db_url)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def users(conn) -> dict[str, dict[str, str]]:
    return {
        "planner": token_for(conn, "amina", Grant("planner", NORTH)),
        "field": token_for(conn, "farid", Grant("field", NORTH)),
        "viewer": token_for(conn, "vera", Grant("viewer")),
    }


def download(client: TestClient, headers: dict[str, str], path: Path, **params: str) -> Path:
    answer = client.get("/field/checkout", params={"neighbourhood": NORTH, "layers": "workshops", **params},
                        headers=headers)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == GPKG
    assert 'filename="mahalle-FLD-NORTH-' in answer.headers["content-disposition"]
    path.write_bytes(answer.content)
    return path


def test_checkout_and_checkin_over_http(client, conn, users, tmp_path):
    path = download(client, users["planner"], tmp_path / "north.gpkg")
    ((user, url),) = file_rows(path, "SELECT created_by, server_url FROM mahalle_checkout")
    assert (user, url) == ("amina", "http://testserver")
    sql_in(path, "UPDATE workshops SET status = 'sealed' WHERE name IN ('Yard A', 'Yard B')")
    sql_in(path, "DELETE FROM workshops WHERE name = 'Yard D'")
    conn.execute("UPDATE workshops SET employees = 40 WHERE name = 'Yard A'")  # on the server meanwhile

    answer = client.post(
        "/field/checkin", content=path.read_bytes(), headers={**users["planner"], "Content-Type": GPKG}
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["updated"], report["deleted"], report["conflict"], report["refused"]) == (1, 1, 1, 0)
    (conflict,) = [r for r in report["rows"] if r["status"] == "conflict"]
    assert conflict["message"].startswith("conflict: workshops feature") and conflict["conflict_id"]
    assert conn.execute("SELECT created_by FROM field_changes WHERE id = %s", [conflict["conflict_id"]]).fetchone() == (
        "amina",
    )
    # The planners' review queue shows it.
    queue = client.get("/review", params={"neighbourhood": NORTH}, headers=users["planner"])
    assert queue.status_code == 200, queue.text
    (waiting,) = [c for c in queue.json()["conflicts"] if c["id"] == conflict["conflict_id"]]
    assert (waiting["source"], waiting["op"], waiting["layer"]) == ("geopackage", "update", "workshops")
    assert waiting["server"]["properties"]["employees"] == 40

    # The same file again, as a multipart upload: nothing changes, the conflict is not recorded twice.
    files = {"file": ("north.gpkg", path.read_bytes(), GPKG)}
    again = client.post("/field/checkin", files=files, headers=users["planner"]).json()
    assert (again["inserted"], again["updated"], again["deleted"], again["conflict"]) == (0, 0, 0, 1)
    assert again["file"] == "north.gpkg"
    assert conn.execute("SELECT count(*) FROM field_changes WHERE state = 'conflict'").fetchone()[0] == 1

    # A planner keeps the field's values; a later check-in of the file says so, and applies nothing.
    kept = client.post(f"/review/conflicts/{conflict['conflict_id']}", json={"keep": "field"}, headers=users["planner"])
    assert kept.status_code == 200, kept.text
    # Only what the field changed is written: the server's staff count stays.
    assert conn.execute("SELECT status, employees FROM workshops WHERE name = 'Yard A'").fetchone() == ("sealed", 40)
    third = client.post("/field/checkin", content=path.read_bytes(), headers=users["planner"]).json()
    (resolved,) = [r for r in third["rows"] if r["status"] == "resolved"]
    assert "kept the field's values" in resolved["message"] and third["conflict"] == 0


def test_a_field_worker_changes_their_attributes_and_is_told_about_the_rest(client, conn, users, tmp_path):
    path = download(client, users["field"], tmp_path / "north.gpkg", lang="ar")
    sql_in(path, "UPDATE workshops SET status = 'sealed' WHERE name = 'Yard A'")
    sql_in(path, "UPDATE workshops SET employees = 99 WHERE name = 'Yard B'")
    answer = client.post("/field/checkin", content=path.read_bytes(), headers=users["field"])
    assert answer.status_code == 200, answer.text
    rows = {r["status"]: r for r in answer.json()["rows"]}
    assert set(rows) == {"updated", "refused"}
    assert "you may change only status of workshops features" in rows["refused"]["message"]
    statuses = dict(conn.execute("SELECT name, employees FROM workshops WHERE name IN ('Yard A', 'Yard B')"))
    assert statuses == {"Yard A": 4, "Yard B": None}
    assert conn.execute("SELECT status FROM workshops WHERE name = 'Yard A'").fetchone()[0] == "sealed"


def test_who_may_check_in(client, conn, users, tmp_path):
    path = download(client, ADMIN_HEADERS, tmp_path / "north.gpkg")
    sql_in(path, "UPDATE workshops SET status = 'closed'")
    body = path.read_bytes()
    anonymous = client.post("/field/checkin", content=body)
    assert anonymous.status_code == 401, anonymous.text
    viewer = client.post("/field/checkin", content=body, headers=users["viewer"])
    assert viewer.status_code == 403, viewer.text
    assert "nothing was checked in" in viewer.json()["detail"]
    assert conn.execute("SELECT count(*) FROM workshops WHERE status = 'closed'").fetchone()[0] == 0
    # A viewer may still take the layers along to look at.
    assert download(client, users["viewer"], tmp_path / "view.gpkg").stat().st_size > 0


def test_bad_requests_are_problems(client, conn, users, tmp_path):
    headers = users["planner"]
    cases = [
        (client.post("/field/checkin", content=b"not a geopackage", headers=headers), 422, "is not a GeoPackage"),
        (client.post("/field/checkin", content=b"", headers=headers), 422, "holds no file"),
        (client.post("/field/checkin", files={"other": ("x", b"x")}, headers=headers), 422, "multipart field 'file'"),
        (client.get("/field/checkout", params={"neighbourhood": "NOWHERE"}, headers=headers), 404, "NOWHERE"),
        (client.get("/field/checkout", params={"neighbourhood": NORTH, "layers": "trees"}, headers=headers), 404,
         "trees"),
        (client.get("/field/checkout", params={"neighbourhood": SOUTH, "lang": "xx"}, headers=headers), 422, "xx"),
        (client.get("/field/checkout", headers=headers), 400, "neighbourhood"),
    ]  # fmt: skip
    for answer, status, words in cases:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert words in answer.json()["detail"]
    export = client.get("/exports", params={"format": "gpkg", "layers": "workshops"}, headers=ADMIN_HEADERS)
    not_checkout = client.post("/field/checkin", content=export.content, headers=headers)
    assert not_checkout.status_code == 422 and "not a Mahalle checkout" in not_checkout.json()["detail"]
