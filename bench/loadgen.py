"""A bounded load generator: fixed concurrency, fixed duration, fixed request list, on loopback only.

``run`` starts ``concurrency`` workers that walk the list round and round, each from its own starting point
(with ``partition``, worker ``w`` takes only items ``w, w + c, w + 2c …``, so no two workers ever share an item
when the list length is a multiple of ``c``) until the time is up. A request
that has started is allowed to finish; req/s is the finished requests over the time until the last one.
Latencies are per request, in seconds; percentiles use the nearest-rank method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psycopg

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Sample:
    label: str
    seconds: float
    ok: bool
    nbytes: int = 0


Call = Callable[[int, Any], Awaitable[list[Sample]]]


@dataclass
class Stats:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    nbytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.latencies) * 1000 if self.latencies else None

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies, 99) * 1000 if self.latencies else None

    @property
    def rps(self) -> float | None:
        return self.requests / self.elapsed if self.elapsed > 0 else None

    def merge(self, other: Stats) -> Stats:
        return Stats(
            self.label,
            self.latencies + other.latencies,
            self.errors + other.errors,
            self.elapsed + other.elapsed,
            self.nbytes + other.nbytes,
        )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


async def _phase(
    call: Call, items: Sequence[Any], concurrency: int, seconds: float, label: str, partition: bool
) -> dict[str, Stats]:
    deadline = time.perf_counter() + seconds
    samples: list[Sample] = []

    async def worker(w: int) -> None:
        i, step = (w, concurrency) if partition else (w * len(items) // concurrency, 1)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                samples.extend(await call(w, items[i % len(items)]))
            except Exception:  # a failed request is counted, not fatal
                samples.append(Sample(label, time.perf_counter() - started, False))
            i += step

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - start
    out: dict[str, Stats] = {}
    for s in samples:
        st = out.setdefault(s.label, Stats(s.label, elapsed=elapsed))
        if s.ok:
            st.latencies.append(s.seconds)
            st.nbytes += s.nbytes
        else:
            st.errors += 1
    return out


async def run(
    call: Call,
    items: Sequence[Any],
    concurrency: int,
    seconds: float,
    warmup: float = 0.0,
    label: str = "request",
    partition: bool = False,
) -> dict[str, Stats]:
    """Warm up (results dropped), then measure for ``seconds``; stats per sample label."""
    if not items:
        raise ValueError("an empty request list")
    if warmup > 0:
        await _phase(call, items, concurrency, warmup, label, partition)
    return await _phase(call, items, concurrency, seconds, label, partition)


def check_loopback(base_url: str) -> None:
    """Load is only ever sent to this machine."""
    host = urlsplit(base_url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise ValueError(f"load tests target loopback only, not {host!r}")


def client(base_url: str, concurrency: int, headers: dict[str, str] | None = None) -> aiohttp.ClientSession:
    """One keep-alive connection per worker. aiohttp, not httpx: httpx's client spent 3.5 ms of CPU a request
    on this machine (aiohttp 0.3 ms), so on 2 cores the load generator, not the server, set the p99.
    ``headers`` go with every request (Mahalle's API token)."""
    check_loopback(base_url)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120.0)
    return aiohttp.ClientSession(base_url, connector=connector, timeout=timeout, headers=headers)


def http_get(http: aiohttp.ClientSession, label: str, ok: tuple[int, ...] = (200, 204)) -> Call:
    """GET the item (a path); the body is read in full."""

    async def call(worker: int, path: str) -> list[Sample]:
        started = time.perf_counter()
        async with http.get(path) as r:
            body = await r.read()
        return [Sample(label, time.perf_counter() - started, r.status in ok, len(body))]

    return call


def sql_replay(conns: Sequence[psycopg.AsyncConnection], label: str) -> Call:
    """Run the item's statements (query text, params) on the worker's own connection, reading every row."""

    async def call(worker: int, statements: Sequence[tuple[str, Any]]) -> list[Sample]:
        conn = conns[worker]
        started = time.perf_counter()
        nbytes = 0
        for query, params in statements:
            cur = await conn.execute(query, params, binary=True)  # a tile's bytea as bytes, as Mahalle reads it
            for row in await cur.fetchall():
                nbytes += sum(len(v) for v in row if isinstance(v, str | bytes))
        return [Sample(label, time.perf_counter() - started, True, nbytes)]

    return call


EDITS = itertools.count(1)


def feature_edit(http: aiohttp.ClientSession, collection: str) -> Call:
    """GET a feature, then PATCH it with the ETag just read (If-Match): one GET and one PATCH sample."""

    async def call(worker: int, fid: int) -> list[Sample]:
        counter = next(EDITS)  # unique over every round: a repeated value would be a no-op edit (no version)
        path = f"/ogc/collections/{collection}/items/{fid}"
        started = time.perf_counter()
        async with http.get(path) as got:
            body = await got.read()
        read = time.perf_counter()
        samples = [Sample("GET", read - started, got.status == 200, len(body))]
        patch = json.dumps({"properties": {"note": f"bench edit {worker}-{counter}"}})
        headers = {"If-Match": got.headers.get("etag", "*"), "Content-Type": "application/merge-patch+json"}
        async with http.patch(path, data=patch, headers=headers) as patched:
            body = await patched.read()
        samples.append(Sample("PATCH", time.perf_counter() - read, patched.status == 200, len(body)))
        return samples

    return call
