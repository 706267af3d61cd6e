"""Smoke tests of the benchmark harness at a tiny scale: the city generator, the load generator, the results.

No timing is asserted here: speed targets live in the benchmark (python -m bench), never in tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import morecantile
import psycopg
import pyogrio
import pytest
from rich.console import Console

from bench import city, loadgen, results, transfer, workload
from bench.measure import http_peer, measure
from core.settings import Settings
from gis.tiles import tile
from layers.catalogue import core_catalogue
from layers.parcels import LAND_USE, TENURE

SMALL = 2_000


@pytest.fixture
def conn(admin_db_url: str) -> Iterator[psycopg.Connection]:
    """As the superuser, as the benchmark runs: it builds its city in a staging schema, with triggers off."""
    with psycopg.connect(admin_db_url, autocommit=True) as c:
        yield c


def _generate(conn: psycopg.Connection, parcels: int, seed: int) -> dict[str, str]:
    city.generate(conn, parcels, seed)
    return city.checksums(conn)


def test_the_same_seed_makes_the_same_city_and_another_seed_another(conn: psycopg.Connection) -> None:
    first = _generate(conn, SMALL, 7)
    again = _generate(conn, SMALL, 7)
    other = _generate(conn, SMALL, 8)
    assert first == again
    assert set(first) == {"neighbourhoods", "parcels", "streets", "service_points"}
    for layer in first:
        assert other[layer] != first[layer], layer


def test_a_small_city_is_the_first_part_of_a_bigger_one(conn: psycopg.Connection) -> None:
    query = "SELECT md5(string_agg(md5(t::text), '' ORDER BY fid)) FROM bench_src.parcels t WHERE fid <= 500"
    city.generate(conn, 500, 3)
    small = conn.execute(query).fetchone()[0]
    city.generate(conn, SMALL, 3)
    assert conn.execute(query).fetchone()[0] == small


def test_the_city_has_the_promised_sizes_and_shapes(conn: psycopg.Connection) -> None:
    c = city.generate(conn, SMALL, 11)
    counts = {
        name: conn.execute(f"SELECT count(*) FROM bench_src.{name}").fetchone()[0]
        for name in ("parcels", "streets", "service_points", "neighbourhoods")
    }
    assert counts == {
        "parcels": SMALL,
        "streets": c.streets,
        "service_points": SMALL // 20,
        "neighbourhoods": c.neighbourhoods,
    }
    assert c.streets == 400  # 3.2 street segments per block of 16 parcels: 200,000 for a million parcels
    valid, avg, lo, hi, kinds = conn.execute(
        "SELECT bool_and(ST_IsValid(geom)), avg(ST_Area(geom::geography)), min(ST_Area(geom::geography)), "
        "max(ST_Area(geom::geography)), array_agg(DISTINCT GeometryType(geom)) FROM bench_src.parcels"
    ).fetchone()
    assert valid
    assert 285 < avg < 315
    assert lo > 150 and hi < 500
    assert kinds == ["MULTIPOLYGON"]
    assert conn.execute("SELECT count(DISTINCT ST_NPoints(geom)) FROM bench_src.parcels").fetchone()[0] == 1
    assert conn.execute("SELECT min(ST_NPoints(geom)) FROM bench_src.parcels").fetchone()[0] == 6  # 5 corners


def test_parcels_tile_the_blocks_without_overlap_and_lie_in_one_neighbourhood(conn: psycopg.Connection) -> None:
    city.generate(conn, SMALL, 5)
    overlaps = conn.execute(
        "SELECT count(*) FROM bench_src.parcels a JOIN bench_src.parcels b "
        "ON a.fid < b.fid AND a.geom && b.geom AND ST_Overlaps(a.geom, b.geom)"
    ).fetchone()[0]
    assert overlaps == 0
    homes = conn.execute(
        "SELECT count(*) FROM bench_src.parcels p JOIN bench_src.neighbourhoods n ON ST_Within(p.geom, n.geom)"
    ).fetchone()[0]
    assert homes == SMALL
    inside = conn.execute(
        "SELECT count(*) FROM bench_src.service_points s WHERE EXISTS "
        "(SELECT 1 FROM bench_src.parcels p WHERE ST_Contains(p.geom, s.geom))"
    ).fetchone()[0]
    assert inside == SMALL // 20


def test_attributes_come_from_the_catalogue_with_realistic_weights(conn: psycopg.Connection) -> None:
    city.generate(conn, SMALL, 9)
    uses = dict(conn.execute("SELECT land_use, count(*) FROM bench_src.parcels GROUP BY 1").fetchall())
    assert set(uses) <= {c.value for c in LAND_USE}
    assert max(uses, key=uses.__getitem__) == "residential"
    tenures = {r[0] for r in conn.execute("SELECT DISTINCT tenure FROM bench_src.parcels")}
    assert tenures == {c.value for c in TENURE}
    no_building = conn.execute(
        "SELECT count(*) FROM bench_src.parcels WHERE land_use IN ('vacant', 'park') "
        "AND (building_status <> 'none' OR floors IS NOT NULL)"
    ).fetchone()[0]
    assert no_building == 0


def test_weights_refuse_a_value_the_catalogue_does_not_have() -> None:
    with pytest.raises(ValueError, match="not in the catalogue"):
        city.weights(LAND_USE, {"skyscraper": 5})
    assert city.weights(TENURE, {"informal": 3})["unknown"] == 1.0


def test_the_city_loads_into_mahalle(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    city.generate(conn, SMALL, 4)
    city.load_neighbourhoods(conn)
    gpkg = tmp_path / "city.gpkg"
    host = conn.info.host
    city.write_gpkg(f"PG:host={host} port={conn.info.port} dbname={conn.info.dbname} user={conn.info.user}", gpkg)
    assert pyogrio.read_info(gpkg, layer="parcels")["features"] == SMALL
    for layer, expected in (("parcels", SMALL), ("service_points", SMALL // 20)):
        done = transfer.mahalle_import(db_url, gpkg, layer, tmp_path)
        assert done.returncode == 0, done.output
        assert conn.execute(f"SELECT count(*), count(neighbourhood_id) FROM public.{layer}").fetchone() == (
            expected,
            expected,
        )
    history = conn.execute("SELECT count(*) FROM mahalle.history WHERE layer = 'parcels'").fetchone()[0]
    assert history == SMALL
    assert city.fast_load(conn, city.STREETS) == city.City(SMALL).streets
    assert conn.execute("SELECT count(*) FROM public.streets WHERE neighbourhood_id IS NULL").fetchone()[0] == 0


# --- the load generator -------------------------------------------------------------------------------


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert loadgen.percentile(values, 99) == 99.0
    assert loadgen.percentile(values, 50) == 50.0
    assert loadgen.percentile(values, 100) == 100.0
    assert loadgen.percentile([7.0], 99) == 7.0
    assert loadgen.percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    st = loadgen.Stats("x", [0.001, 0.002, 0.003, 0.010], elapsed=2.0)
    assert st.median_ms == pytest.approx(2.5)
    assert st.p99_ms == pytest.approx(10.0)
    assert st.rps == pytest.approx(2.0)
    with pytest.raises(ValueError):
        loadgen.percentile([], 50)


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the load generator's client expects
    hits: Counter[str] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.hits[self.path] += 1
        body = b"fail" if self.path == "/fail" else b"ok" * 50
        self.send_response(500 if self.path == "/fail" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Counter[str]]]:
    _Counting.hits = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Counting.hits
    server.shutdown()
    server.server_close()


def test_the_load_generator_counts_every_request_and_error(endpoint: tuple[str, Counter[str]]) -> None:
    base, hits = endpoint

    async def go() -> dict[str, loadgen.Stats]:
        async with loadgen.client(base, 3) as http:
            return await loadgen.run(loadgen.http_get(http, "get"), ["/a", "/b", "/fail"], 3, 0.5)

    stats = asyncio.run(go())["get"]
    assert stats.requests == hits["/a"] + hits["/b"] > 0
    assert stats.errors == hits["/fail"] > 0
    assert stats.nbytes == 100 * stats.requests
    assert stats.elapsed >= 0.5
    assert stats.rps == pytest.approx(stats.requests / stats.elapsed)
    assert len(stats.latencies) == stats.requests and all(v > 0 for v in stats.latencies)


def test_partitioned_workers_never_share_an_item() -> None:
    seen: dict[int, set[int]] = {}

    async def call(worker: int, item: int) -> list[loadgen.Sample]:
        seen.setdefault(item, set()).add(worker)
        await asyncio.sleep(0.001)
        return [loadgen.Sample("x", 0.001, True)]

    asyncio.run(loadgen.run(call, list(range(8)), 4, 0.2, partition=True))
    assert sorted(seen) == list(range(8))
    assert all(len(workers) == 1 for workers in seen.values())
    seen.clear()
    asyncio.run(loadgen.run(call, list(range(8)), 4, 0.2))
    assert any(len(workers) > 1 for workers in seen.values())  # unpartitioned, every worker walks the list


def test_interleaved_rounds_add_up(endpoint: tuple[str, Counter[str]]) -> None:
    base, hits = endpoint
    got = measure([http_peer("a", base, ["/a"]), http_peer("b", base, ["/b"])], 2, 0.4, 2, 0.0)
    assert got["a"]["request"].requests == hits["/a"] > 0
    assert got["b"]["request"].requests == hits["/b"] > 0
    assert got["a"]["request"].elapsed >= 0.4


def test_load_is_only_sent_to_this_machine() -> None:
    loadgen.check_loopback("http://127.0.0.1:8000")
    loadgen.check_loopback("http://localhost:8000")
    with pytest.raises(ValueError, match="loopback"):
        loadgen.check_loopback("http://10.1.2.3:8000")


# --- the results ----------------------------------------------------------------------------------------


def test_the_results_writer_produces_the_table(tmp_path: Path) -> None:
    res = results.Results()
    stats = loadgen.Stats("r", [0.002, 0.004], elapsed=1)
    res.rows.append(results.Row.from_stats("vector tiles z14", "mahalle", stats))
    res.rows.append(results.Row("import parcels", "ogr2ogr", seconds=12.5, rss_mb=80))
    res.targets += [
        results.Target("tiles z14", "req/s ≥ tipg's", "1.40× tipg", True),
        results.Target("import", "≤ 1.0× ogr2ogr", "3.10×", False),
    ]
    res.growth.append((100_000, "items", 12.0, 20.0))
    res.findings.append(results.Finding("Import: missed", "history trigger", ["Trigger z90_history: time=1"]))
    out = tmp_path / "RESULTS.md"
    results.write(res, out, {"date": "2026-01-01", "machine": "2 CPUs | test"})
    text = out.read_text()
    assert "| vector tiles z14 | mahalle | 2 | 3.00 | 4.00 | 2.0 |" in text
    assert "| import parcels | ogr2ogr | – | – | – | – | 12.5 | 80 |" in text
    assert "| tiles z14 | req/s ≥ tipg's | 1.40× tipg | **met** |" in text
    assert "| import | ≤ 1.0× ogr2ogr | 3.10× | **MISSED** |" in text
    assert "2 CPUs \\| test" in text
    assert "| 100,000 | items | 12.00 | 20.00 |" in text
    assert "Trigger z90_history: time=1" in text
    console = Console(record=True, width=200)
    results.print_tables(res, console)
    shown = console.export_text()
    assert "MISSED" in shown and "vector tiles z14" in shown and "3.00" in shown


class _Later:
    """Collects the profiles a missed target asks for (the bench runs them at the end)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def later(self, name: str, job: object) -> None:
        self.asked.append(name)


def test_the_z12_tile_target_asks_ten_times_tipgs_rate() -> None:
    from bench.loadgen import Stats
    from bench.run import RAW_MVT, Bench, Config

    def peers(mahalle_rps: float) -> dict:
        def stats(rps: float) -> dict:
            return {"request": Stats("request", [0.1] * int(rps * 10), elapsed=10.0)}

        return {"mahalle": stats(mahalle_rps), "tipg": stats(1.0), RAW_MVT: stats(1.0)}

    bench = Bench(Config())
    bench.findings = _Later()  # type: ignore[assignment]
    for z, rps in ((12, 5.0), (12, 10.0), (14, 1.5)):
        bench.tile_target(z, f"tiles z{z}", peers(rps), [])
    verdicts = [(t.name, t.goal.split(";")[0], t.met) for t in bench.res.targets]
    assert verdicts == [
        ("tiles z12", "req/s ≥ 10× tipg's", False),
        ("tiles z12", "req/s ≥ 10× tipg's", True),
        ("tiles z14", "req/s ≥ tipg's", True),
    ]
    assert bench.findings.asked == ["tiles z12"]  # type: ignore[union-attr]


def test_the_profiles_record_mahalles_tile_statement(demo_db_url: str) -> None:
    """``workload.tile_sql`` (the statements a missed tile target's profile explains) records what ``tile`` runs,
    and replaying the record gives the tile's bytes."""
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) c FROM parcels) s"
        ).fetchone()
        for z in (12, 16):
            at = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, z)
            statements = workload.tile_sql(conn, workload.Tile(z, at.x, at.y))
            assert len(statements) == 1
            made, _ = tile(conn, core_catalogue()["parcels"], z, at.x, at.y, Settings().max_tile_features)
            replayed = conn.execute(statements[0][0], statements[0][1], binary=True).fetchone()[0]
            assert made and bytes(replayed) == made
