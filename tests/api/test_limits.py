"""Every request bounded, on the real app and database: one body limit for every route (counted while the
body streams), the vertex limit of a geometry, and the time budget and concurrency of reports, indicators
and exports."""

from __future__ import annotations

import concurrent.futures
import json
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core import limits
from core.settings import Settings
from tests.auth import ADMIN_HEADERS
from tests.live import serve

GEOJSON = {"Content-Type": "application/geo+json"}
CODE = "HKI-CENTRE"
MB = 1024 * 1024
LAYER = {"name": "water_points", "title": "Water points", "geometry_type": "Point",
         "attributes": [{"name": "state", "type": "text"}]}  # fmt: skip


def make(url: str, **settings: object) -> TestClient:
    return TestClient(
        create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url)),
        headers=ADMIN_HEADERS,
    )


def line(n: int, x0: float = 24.93, y0: float = 60.165) -> dict:
    return {"type": "LineString", "coordinates": [[x0 + i * 1e-5, y0 + (i % 2) * 1e-5] for i in range(n)]}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


# One body limit for every route ---------------------------------------------------------------------


def test_a_declared_body_above_the_limit_is_refused_at_once_on_every_route(db_url):
    padded = json.dumps({**LAYER, "description": "x" * (2 * MB)})
    with make(db_url, max_body_mb=1) as c:
        for method, path in (("POST", "/layers"), ("POST", "/ogc/collections/parcels/items"),
                             ("POST", "/interventions"), ("PUT", "/ogc/collections/parcels/items/1")):  # fmt: skip
            response = c.request(method, path, content=padded, headers={"Content-Type": "application/json"})
            body = assert_problem(response, 413)
            assert body["title"] == "Request too large" and "1 MB" in body["detail"], path
        assert c.get("/layers/water_points").status_code == 404  # the layer was not created
        small = c.post("/layers", content=json.dumps(LAYER), headers={"Content-Type": "application/json"})
        assert small.status_code == 201, small.text


def test_a_chunked_body_without_length_is_cut_at_the_limit(db_url):
    def chunks() -> Iterator[bytes]:
        yield json.dumps(LAYER)[:-1].encode() + b', "description": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    with make(db_url, max_body_mb=1) as c:
        response = c.post("/layers", content=chunks(), headers={"Content-Type": "application/json"})
        assert "content-length" not in response.request.headers
        body = assert_problem(response, 413)
        assert "larger than the limit of 1 MB" in body["detail"]
        assert c.get("/layers/water_points").status_code == 404


def send_chunked(base: str, path: str, head: dict[str, str], chunk: bytes, total: int) -> tuple[bytes, int]:
    """Stream a chunked request to a live server until it answers; the answer and the bytes sent."""
    url = urlsplit(base)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    sent, answer = 0, b""
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            time.sleep(0.002)
        try:
            while data := sock.recv(65536):
                answer += data
                if b"\r\n\r\n" in answer and b"}" in answer.split(b"\r\n\r\n", 1)[1]:
                    break
        except ConnectionResetError:
            pass
    return answer, sent


def test_a_streamed_upload_is_cut_before_it_lands_on_disk(db_url, tmp_path):
    data = tmp_path / "data"
    boundary = "mahalleboundary"
    head = {"Content-Type": f"multipart/form-data; boundary={boundary}", **ADMIN_HEADERS}
    preamble = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
                "Content-Type: application/geo+json\r\n\r\n").encode()  # fmt: skip
    with serve(db_url, max_upload_mb=1, data_dir=data) as base:
        answer, sent = send_chunked(base, "/imports", head, preamble + b" " * (64 * 1024 - len(preamble)), 40 * MB)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", answer[:300]
    assert b"application/problem+json" in rest and b"upload limit of 1 MB" in rest
    assert sent < 8 * MB  # the server answered while the body was still coming
    uploads = data / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing of it was saved


def test_the_upload_route_has_the_upload_limit(db_url, tmp_path):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.93 + i * 1e-4, 60.17]},
                 "properties": {"kind": "scrap", "name": "w" * 200}} for i in range(8000)]  # fmt: skip
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert 1 * MB < len(content) < 3 * MB
    with make(db_url, max_body_mb=1, max_upload_mb=5, data_dir=tmp_path / "data") as c:
        files = {"file": ("workshops.geojson", content, "application/geo+json")}
        response = c.post("/imports", files=files, data={"layer": "workshops", "dry_run": "true"})
        assert response.status_code == 202, response.text
        job = response.json()["id"]
        deadline = time.monotonic() + 60
        while c.get(f"/imports/{job}").json()["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert c.get(f"/imports/{job}").json()["status"] == "succeeded"
        # Any other route keeps the body limit.
        assert c.post("/layers", content=content, headers={"Content-Type": "application/json"}).status_code == 413


# Vertices -------------------------------------------------------------------------------------------


def test_count_positions_of_every_geojson_type():
    poly = [[[0, 0], [1, 0], [1, 1], [0, 0]], [[0.2, 0.2], [0.3, 0.2], [0.3, 0.3], [0.2, 0.2]]]
    assert limits.count_positions([1, 2], 1) == 1
    assert limits.count_positions([[0, 0], [1, 1], [2, 2]], 2) == 3
    assert limits.count_positions(poly, 3) == 8
    assert limits.count_positions([poly, poly[:1]], 4) == 12
    assert limits.count_positions([poly, poly], 4, stop=9) <= 12
    assert limits.count_positions("nonsense", 4) == 0  # left to the structure check


def test_a_geometry_over_the_vertex_limit_is_refused_before_sql(demo_db_url):
    with make(demo_db_url, max_vertices=100) as c:
        ok = c.post("/ogc/collections/streets/items", json={"type": "Feature", "geometry": line(100),
                    "properties": {"name": "Short"}}, headers=GEOJSON)  # fmt: skip
        assert ok.status_code == 201, ok.text
        fid = ok.headers["Location"].rsplit("/", 1)[1]
        feature = {"type": "Feature", "geometry": line(101), "properties": {"name": "Long"}}
        body = assert_problem(c.post("/ogc/collections/streets/items", json=feature, headers=GEOJSON), 413)
        assert body["property"] == "geometry"
        assert "more than 100 vertices" in body["detail"] and "Simplify" in body["detail"]
        replaced = c.put(f"/ogc/collections/streets/items/{fid}", json=feature, headers=GEOJSON)
        assert replaced.status_code == 413
        patched = c.patch(f"/ogc/collections/streets/items/{fid}", json={"geometry": line(500)},
                          headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
        assert patched.status_code == 413
        intervention = {"geometry": line(101), "properties": {"kind": "paving", "title": "Too detailed"}}
        assert c.post("/interventions", json=intervention).status_code == 413
        stored = c.get(f"/ogc/collections/streets/items/{fid}").json()["geometry"]
        assert stored["type"] == "MultiLineString" and len(stored["coordinates"][0]) == 100  # unchanged
    with make(demo_db_url) as c:  # the default limit takes the same geometry
        assert c.post("/ogc/collections/streets/items", json=feature, headers=GEOJSON).status_code == 201


# Time budget and concurrency of reports, indicators and exports -------------------------------------

HEAVY = {
    "indicators": (f"/indicators?neighbourhood={CODE}", "neighbourhoods"),
    "report": (f"/reports/achievement?neighbourhood={CODE}&from=2020-01-01&to=2030-12-31", "neighbourhoods"),
    "export": ("/exports?format=geojson&layers=workshops", "workshops"),
}


class Locked:
    """A table locked by another session, so a request that reads it waits in the database."""

    def __init__(self, url: str, table: str):
        self.conn = psycopg.connect(url)
        self.conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def waiting_queries(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = 'mahalle' AND state = 'active'"
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("kind", sorted(HEAVY))
def test_a_heavy_request_past_its_budget_is_cancelled_with_503(demo_db_url, kind):
    path, table = HEAVY[kind]
    with make(demo_db_url, heavy_budget_s=3.0) as c:  # the report takes about 1 s on a busy machine
        lock = Locked(demo_db_url, table)
        try:
            started = time.monotonic()
            response = c.get(path)
            elapsed = time.monotonic() - started
            assert waiting_queries(demo_db_url) == []  # the query was cancelled, not left waiting
        finally:
            lock.release()
        body = assert_problem(response, 503)
        assert body["title"] == "The request took too long" and "time budget of 3 s" in body["detail"]
        assert response.headers["Retry-After"] == "30"
        assert 2.9 < elapsed < 12  # the budget, far below the 30 s statement timeout
        assert c.get(path).status_code == 200  # the pool is healthy afterwards


def test_heavy_requests_wait_for_a_slot_then_get_503_and_light_ones_go_on(demo_db_url):
    path, table = HEAVY["export"]
    with serve(demo_db_url, heavy_concurrency=1, heavy_wait_s=0.3, heavy_budget_s=30) as base:
        lock = Locked(demo_db_url, table)
        try:
            with (
                httpx.Client(base_url=base, timeout=60, headers=ADMIN_HEADERS) as http,
                concurrent.futures.ThreadPoolExecutor(2) as pool,
            ):
                first = pool.submit(http.get, path)
                deadline = time.monotonic() + 10
                while not waiting_queries(demo_db_url) and time.monotonic() < deadline:
                    time.sleep(0.05)  # the first request holds the slot, waiting for the lock
                busy = http.get(path)
                body = assert_problem(busy, 503)
                assert body["title"] == "The server is busy with other reports"
                assert busy.headers["Retry-After"] == "5"
                assert http.get("/ogc/collections/streets/items?limit=5").status_code == 200  # items go on
                assert http.get(HEAVY["indicators"][0]).status_code == 503  # indicators and reports share the slots
                assert not first.done()
                lock.release()
                lock = None
                assert first.result(timeout=30).status_code == 200
                assert http.get(path).status_code == 200  # the slot is free again
        finally:
            if lock:
                lock.release()


def test_a_statement_timeout_is_503_with_retry_after(demo_db_url):
    with make(demo_db_url, statement_timeout_ms=1) as c:
        response = c.get("/ogc/collections/parcels/items?limit=10000")
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "30"
