"""Counting a client's round trips to PostgreSQL, from libpq's protocol trace (tests of the cheap paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq


def round_trips(conn: psycopg.Connection, work: Any, log: Path) -> tuple[Any, int]:
    """What ``work()`` returns and how many times the client waited for the server: in libpq's protocol trace, each
    turn from messages sent (F) to messages received (B)."""
    with log.open("w") as sink:
        conn.pgconn.trace(sink.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            got = work()
        finally:
            conn.pgconn.untrace()
    sides = [line.split("\t", 1)[0] for line in log.read_text().splitlines()]
    return got, sum(1 for a, b in zip(sides, sides[1:], strict=False) if (a, b) == ("F", "B"))
