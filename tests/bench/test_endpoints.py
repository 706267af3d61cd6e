"""The ``endpoints`` part of the benchmark at a tiny scale, against a real Mahalle server: the roll-up group and the
heavy endpoints answer, the dense boundary is the same shape with the vertices asked for and gives the same
indicators, the planner of some neighbourhoods edits their parcels and cannot see the others.

No timing is asserted here: speed targets live in the benchmark (python -m bench), never in tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from api.identity import store
from api.identity.store import Grant
from bench import city, endpoints, servers
from bench.measure import edit_peer, measure
from layers import groups

SMALL = 2_000


@pytest.fixture
def conn(admin_db_url: str) -> Iterator[psycopg.Connection]:
    """As the superuser, as the benchmark runs."""
    with psycopg.connect(admin_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def mahalle(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> Iterator[servers.Server]:
    city.generate(conn, SMALL, 6)
    city.load_neighbourhoods(conn)
    city.fast_load(conn, city.PARCELS)
    city.fast_load(conn, city.STREETS)
    server = servers.start_mahalle(db_url, tmp_path / "work")
    yield server
    server.stop()


def test_the_endpoints_part_on_a_tiny_city(conn: psycopg.Connection, mahalle: servers.Server) -> None:
    store.add_user(conn, "bench-all", [Grant("planner")])
    everyone = {"Authorization": f"Bearer {store.create_token(conn, 'bench-all', 'test')}"}
    codes = [c for (c,) in conn.execute("SELECT code FROM public.neighbourhoods ORDER BY code")]
    assert len(codes) == city.City(SMALL).neighbourhoods >= 2

    h = endpoints.prepare_heavy(conn)
    assert sorted(h.members) == codes  # fewer than 50 in a tiny city: every one of them
    assert h.code == h.members[0] == endpoints.busiest(conn, 1)[0]
    assert groups.member_codes(conn, endpoints.GROUP)[2] == sorted(codes)
    for scenario, path in endpoints.heavy_paths(h).items():
        got = httpx.get(mahalle.base_url + path, headers=everyone, timeout=120)
        assert got.status_code == 200, (scenario, got.text)
        body = got.json()
        if "roll-up" in scenario and scenario.startswith("indicators"):
            assert body["scope"]["group"] == endpoints.GROUP and sorted(body["scope"]["neighbourhoods"]) == codes
    one = httpx.get(mahalle.base_url + endpoints.indicators_path(h.code), headers=everyone, timeout=120).json()
    assert one["parcels"]["count"] > 0

    plain_n, dense_n = endpoints.densify(conn, h.code, 20_000)
    assert plain_n == 5 and 20_000 <= dense_n <= 20_000 + 10
    boundary = "SELECT ST_NPoints(geom), geom FROM public.neighbourhoods WHERE code = %s"
    _, plain = conn.execute(boundary, (h.code,)).fetchone()
    path = endpoints.indicators_path(h.code)
    before = endpoints.answer(mahalle.base_url, everyone, path)
    endpoints.set_boundary(conn, h.code, "dense")
    n, dense = conn.execute(boundary, (h.code,)).fetchone()
    assert n == dense_n
    assert conn.execute("SELECT ST_HausdorffDistance(%s::geometry, %s::geometry)", (plain, dense)).fetchone()[0] < 1e-9
    after = endpoints.answer(mahalle.base_url, everyone, path)
    assert before[0] == after[0] == 200 and after[1]["parcels"]["count"] > 0
    assert endpoints.differences(before, after) == []
    other = endpoints.answer(mahalle.base_url, everyone, endpoints.indicators_path(h.members[-1]))
    assert "parcels" in endpoints.differences(before, other)
    versions = "SELECT version FROM public.neighbourhoods WHERE code = %s"
    version = conn.execute(versions, (h.code,)).fetchone()[0]
    endpoints.set_boundary(conn, h.code, "plain")
    assert conn.execute(boundary, (h.code,)).fetchone()[0] == 5
    assert conn.execute(versions, (h.code,)).fetchone()[0] == version  # the switch leaves no trace

    auth = endpoints.prepare_auth(conn, 16, random.Random(1))
    assert h.code in auth.granted and 1 <= len(auth.granted) < len(codes)
    assert len(auth.fids) == 16 and auth.hidden is not None
    inside = conn.execute(
        "SELECT count(*) FROM public.parcels p JOIN public.neighbourhoods n ON n.id = p.neighbourhood_id "
        "WHERE p.id = ANY(%s) AND n.code = ANY(%s)",
        (auth.fids, auth.granted),
    ).fetchone()[0]
    assert inside == 16
    assert endpoints.hidden_is_hidden(mahalle.base_url, auth).endswith("inside their neighbourhoods 200, outside 404")
    history = "SELECT count(*) FROM mahalle.history WHERE layer = 'parcels' AND operation = 'UPDATE'"
    before = conn.execute(history).fetchone()[0]
    got = measure([edit_peer("mahalle", mahalle.base_url, "parcels", auth.fids, auth.headers)], 2, 0.5, 1, 0.0)
    stats = got["mahalle"]
    assert stats["GET"].requests > 0 and stats["PATCH"].requests > 0
    assert stats["GET"].errors == 0 and stats["PATCH"].errors == 0
    assert conn.execute(history).fetchone()[0] - before == stats["PATCH"].requests

    endpoints.set_boundary(conn, h.code, "dense")
    endpoints.cleanup(conn, h.code)
    assert conn.execute(boundary, (h.code,)).fetchone()[0] == 5
    assert conn.execute("SELECT to_regnamespace(%s)", (endpoints.SIDE,)).fetchone()[0] is None
    assert conn.execute("SELECT count(*) FROM public.neighbourhood_groups").fetchone()[0] == 0
