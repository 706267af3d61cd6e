"""Reports, indicators and exports: a few at a time, each within a time budget.

``heavy_conn`` is the connection dependency of those routes. It

1. takes one of ``MAHALLE_HEAVY_CONCURRENCY`` slots of this server process, waiting at most
   ``MAHALLE_HEAVY_WAIT_S`` (else 503 with Retry-After), so a dozen concurrent reports never take every
   pooled connection from the requests that serve items and tiles;
2. gives a pooled connection;
3. starts the request's time budget (``MAHALLE_HEAVY_BUDGET_S``, the whole request, not each statement):
   when it runs out, the running query is cancelled (and any the handler starts afterwards), and the
   request ends in 503 with Retry-After. A connection whose budget ran out is closed, not pooled again, so
   a late cancel can never reach another request's query.

The dependency ends with the handler (``scope="function"``): an export's file is produced within the
budget, and streaming it to the client holds neither a slot nor a connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from psycopg_pool import ConnectionPool, PoolTimeout

from api.deps import bind_request, take_connection
from core.errors import MahalleError
from core.settings import Settings

log = logging.getLogger("mahalle.api")
RETRY_BUSY_S = 5
RETRY_OVER_BUDGET_S = 30
CANCEL_REPEAT_S = 0.25  # after the budget ran out, a statement the handler starts is cancelled within this


class Busy(MahalleError):
    """Every slot for heavy requests (or every connection) is taken; ``retry_after``: seconds to wait."""

    def __init__(self, message: str, retry_after: int = RETRY_BUSY_S):
        super().__init__(message)
        self.retry_after = retry_after


class ImportsBusy(Busy):
    """Every import slot (``MAHALLE_IMPORT_CONCURRENCY``) is taken."""


class UploadTooSlow(MahalleError):
    """An upload did not arrive within ``MAHALLE_UPLOAD_TIMEOUT_S``."""


class OverBudget(MahalleError):
    """The request ran past its time budget and was stopped; ``retry_after``: seconds to wait."""

    retry_after = RETRY_OVER_BUDGET_S


class Gate:
    """The per-process state: the slots and the settings. Made in the app's lifespan (in its event loop)."""

    def __init__(self, settings: Settings):
        self.concurrency = settings.heavy_concurrency
        self.slots = asyncio.Semaphore(settings.heavy_concurrency)
        self.wait_s = settings.heavy_wait_s
        self.budget_s = settings.heavy_budget_s

    async def enter(self) -> None:
        if not self.slots.locked():
            await self.slots.acquire()  # free: returns without waiting
            return
        try:
            await asyncio.wait_for(self.slots.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise Busy(
                f"{self.concurrency} reports, indicators or exports are already running on this server, the most "
                "it runs at once; try again in a few seconds."
            ) from None

    def leave(self) -> None:
        self.slots.release()


class Budget:
    """A timer thread that cancels the connection's query when the budget runs out, and keeps cancelling
    whatever the handler runs next until the request ends."""

    def __init__(self, conn: psycopg.Connection, seconds: float):
        self.conn = conn
        self.seconds = seconds
        self.expired = False
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="mahalle-budget", daemon=True)

    def start(self) -> Budget:
        self._thread.start()
        return self

    def _run(self) -> None:
        if self._stopped.wait(self.seconds):
            return
        with self._lock:
            if self._stopped.is_set():
                return
            self.expired = True
        log.warning("a request ran past its time budget of %s s; cancelling its query", self.seconds)
        while True:
            try:
                self.conn.cancel_safe(timeout=5)
            except Exception as exc:  # the connection may be closing; nothing more to cancel then
                log.debug("cancel failed: %s", exc)
            if self._stopped.wait(CANCEL_REPEAT_S):
                return

    def stop(self) -> bool:
        """End the timer; whether the budget ran out (then the connection may still get a cancel)."""
        with self._lock:
            self._stopped.set()
            return self.expired


async def heavy_conn(request: Request) -> AsyncIterator[psycopg.Connection]:
    gate: Gate = request.app.state.heavy
    await gate.enter()
    try:
        pool: ConnectionPool = request.app.state.pool
        try:
            conn = await take_connection(pool, gate.budget_s)
        except PoolTimeout:
            raise Busy("Every database connection is busy; try again in a few seconds.") from None
        budget = Budget(conn, gate.budget_s).start()
        try:
            await bind_request(request, conn)
            yield conn
        except Exception as exc:
            if budget.stop():
                raise OverBudget(
                    f"The request ran past its time budget of {gate.budget_s:g} s and was stopped; narrow it "
                    "(a smaller area, fewer layers or a shorter period) or try again when the server is less busy."
                ) from exc
            raise
        finally:
            if budget.stop():
                conn.close()  # a cancel may still be on its way: this connection serves no other request
            pool.putconn(conn)
    finally:
        gate.leave()


HeavyConn = Annotated[psycopg.Connection, Depends(heavy_conn, scope="function")]
