"""What every request needs to know about the database — the catalogue and the CRS list — kept in memory.

Reading both on every request cost a round trip and a second pooled connection each. The database
announces a change to either source (the layer registry, the neighbourhoods) on the ``mahalle_metadata``
channel (migration 0003); one listener thread per process drops the cache when it hears one. While the
listener is not connected (starting, or the database restarted) nothing is cached, so a server never
answers from a catalogue it cannot know to be current.

The same listener hears changes to users, roles, tokens and sessions (``mahalle_identity``, migration 0019) and
drops the principals kept per credential (``principals``, api/identity/principal.py), on the same terms.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from api.identity.principal import Principals
from core.crs import offered_crs
from core.db import as_server, libpq_url
from gis.features import utm_zones
from layers.catalogue import Catalogue, load_catalogue

CHANNEL = "mahalle_metadata"
IDENTITY_CHANNEL = "mahalle_identity"
RETRY_SECONDS = 1.0
log = logging.getLogger("mahalle")
T = TypeVar("T")


class Metadata:
    def __init__(self, url: str, pool: ConnectionPool, principal_seconds: float = 0.0) -> None:
        self._url = libpq_url(url)
        self.principals = Principals(principal_seconds)
        self._pool = pool
        self._lock = threading.Lock()
        self._cache: dict[str, object] = {}
        self._generation = 0  # bumped by every change heard; a load that straddles one is not kept
        self._listening = False
        self._warned = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="mahalle-metadata", daemon=True)

    # --- reading --------------------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        return self._get("catalogue", load_catalogue)

    def crs(self) -> tuple[str, ...]:
        return self._get("crs", lambda conn: offered_crs(utm_zones(conn)))

    def cached(self, key: str) -> object | None:
        """The cached value of ``catalogue`` or ``crs`` without touching the database, or None."""
        with self._lock:
            return self._cache.get(key)

    def _get(self, key: str, load: Callable[[psycopg.Connection], T]) -> T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]  # type: ignore[return-value]
            generation, listening = self._generation, self._listening
        with self._pool.connection() as pooled, as_server(pooled) as conn:  # not the last request's user's view
            value = load(conn)
        with self._lock:
            if listening and self._listening and generation == self._generation:
                self._cache[key] = value
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._cache.clear()

    # --- listening ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    @property
    def listening(self) -> bool:
        return self._listening

    def _set_listening(self, on: bool) -> None:
        with self._lock:
            self._listening = on
            self._generation += 1
            self._cache.clear()
        self.principals.set_listening(on)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, application_name="mahalle-listener") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {IDENTITY_CHANNEL}")
                    self._set_listening(True)  # only now: a change before LISTEN is not in any cache
                    self._warned = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=RETRY_SECONDS):
                            if note.channel == IDENTITY_CHANNEL:
                                self.principals.invalidate()
                            else:
                                self.invalidate()
            except psycopg.Error as exc:
                if self._listening or not self._warned:  # once per outage, not every retry
                    log.warning("metadata listener: %s; reading the catalogue per request until it reconnects", exc)
                    self._warned = True
            finally:
                self._set_listening(False)
            self._stop.wait(RETRY_SECONDS)
