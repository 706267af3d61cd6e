"""The tile cache measured (issue 19): the same tiles as a kept tile served by Mahalle with its cache on, made afresh
by the bench's own minimal ``ST_AsMVT`` statement (``workload.limit_tile_sql``, not Mahalle's), served as static
files over HTTP by uvicorn, and read from a file in the load generator's own process; and the cache's hit rate
under that load (the ``X-Tile-Cache`` header of every answer, warm-up included)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import httpx

from bench import loadgen, servers
from bench.loadgen import Call, Sample
from bench.measure import Peer
from bench.workload import Tile, mahalle_tile

ZOOMS = (12, 14)  # where making a tile costs most (z12) and the detail zoom


def file_path(root: Path, t: Tile) -> Path:
    return root / str(t.z) / str(t.x) / f"{t.y}.mvt"


def write_files(base_url: str, headers: dict[str, str], tiles: Sequence[Tile], root: Path) -> int:
    """Each tile's bytes as Mahalle serves them, in ``root/z/x/y.mvt`` (an empty tile: an empty file); bytes in
    all."""
    total = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as http:
        for t in tiles:
            r = http.get(mahalle_tile(t))
            r.raise_for_status()
            path = file_path(root, t)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(r.content)
            total += len(r.content)
    (root / "ready").write_text("ok")
    return total


def start_files(root: Path, workdir: Path, workers: int) -> servers.Server:
    port = servers.free_port()
    env = servers._env({"BENCH_TILE_DIR": str(root)})
    args = [str(servers.BIN / "uvicorn"), "bench.tilefiles:app", "--app-dir", str(Path(__file__).parent.parent),
            "--host", servers.HOST, "--port", str(port), "--workers", str(workers)]  # fmt: skip
    return servers._spawn("tile-files", args, env, workdir, "/ready")


def file_url(t: Tile) -> str:
    return f"/{t.z}/{t.x}/{t.y}.mvt"


def cached_get(http: aiohttp.ClientSession, seen: Counter) -> Call:
    """GET the tile; the sample is labelled by the cache's answer (hit or miss), which ``seen`` also counts."""

    async def call(worker: int, path: str) -> list[Sample]:
        started = time.perf_counter()
        async with http.get(path) as r:
            body = await r.read()
        answer = r.headers.get("X-Tile-Cache", "none")
        seen[answer] += 1
        return [Sample(answer, time.perf_counter() - started, r.status in (200, 204), len(body))]

    return call


def cached_peer(name: str, base_url: str, paths: Sequence[str], headers: dict[str, str], seen: Counter) -> Peer:
    @asynccontextmanager
    async def make(concurrency: int):
        async with loadgen.client(base_url, concurrency, headers) as http:
            yield cached_get(http, seen)

    return Peer(name, paths, make)


def file_peer(name: str, root: Path, tiles: Sequence[Tile]) -> Peer:
    """Read the tile's file in full (open, read, close), in the load generator's own process: the floor."""

    async def call(worker: int, path: Path) -> list[Sample]:
        started = time.perf_counter()
        data = path.read_bytes()
        return [Sample("request", time.perf_counter() - started, True, len(data))]

    @asynccontextmanager
    async def make(concurrency: int):
        yield call

    return Peer(name, [file_path(root, t) for t in tiles], make)


def hit_rate(seen: Counter) -> float | None:
    answered = seen["hit"] + seen["miss"]
    return seen["hit"] / answered if answered else None
