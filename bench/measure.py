"""Peers under the same load: each gets the same request list, concurrency and time, in interleaved rounds
(A B C, A B C …) so a burst of outside load on the shared machine falls on every peer alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from bench import loadgen
from bench.loadgen import Call, Stats


@dataclass
class Peer:
    name: str
    items: Sequence[Any]
    make: Callable[[int], AbstractAsyncContextManager[Call]]  # concurrency → the call, ready to use
    partition: bool = False  # each worker keeps to its own items (edits: no two clients race for a feature)


def http_peer(name: str, base_url: str, paths: Sequence[str], headers: dict[str, str] | None = None) -> Peer:
    @asynccontextmanager
    async def make(concurrency: int):
        async with loadgen.client(base_url, concurrency, headers) as http:
            yield loadgen.http_get(http, "request")

    return Peer(name, paths, make)


def sql_peer(name: str, url: str, statements: Sequence[list[tuple[str, Any]]]) -> Peer:
    """The limit: the bench's own statements for each request, run from one psycopg connection per worker with
    no session settings of its own: the cluster's (``bench.cluster.SETTINGS``), the same as every peer's."""

    @asynccontextmanager
    async def make(concurrency: int):
        conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(concurrency)]
        try:
            yield loadgen.sql_replay(conns, "request")
        finally:
            for conn in conns:
                await conn.close()

    return Peer(name, statements, make)


def edit_peer(
    name: str, base_url: str, collection: str, fids: Sequence[int], headers: dict[str, str] | None = None
) -> Peer:
    @asynccontextmanager
    async def make(concurrency: int):
        async with loadgen.client(base_url, concurrency, headers) as http:
            yield loadgen.feature_edit(http, collection)

    return Peer(name, fids, make, partition=True)


async def _once(peer: Peer, concurrency: int, seconds: float, warmup: float) -> dict[str, Stats]:
    async with peer.make(concurrency) as call:
        return await loadgen.run(call, peer.items, concurrency, seconds, warmup, partition=peer.partition)


def measure(
    peers: Sequence[Peer],
    concurrency: int,
    seconds: float,
    rounds: int,
    warmup: float,
    on_round: Callable[[str, int], None] | None = None,
) -> dict[str, dict[str, Stats]]:
    """Stats per peer and sample label; ``seconds`` per peer in all, split over ``rounds``."""
    out: dict[str, dict[str, Stats]] = {p.name: {} for p in peers}
    for r in range(rounds):
        for peer in peers:
            if on_round:
                on_round(peer.name, r)
            got = asyncio.run(_once(peer, concurrency, seconds / rounds, warmup if r == 0 else 0.0))
            for label, st in got.items():
                mine = out[peer.name]
                mine[label] = mine[label].merge(st) if label in mine else st
    return out
