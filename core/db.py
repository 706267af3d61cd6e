"""Connections to PostGIS: URLs, attributed transactions, the pool and error translation."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

from core.errors import Conflict, Forbidden, HasDependents, RuleViolation

TRANSITION_REFUSED = "23M01"  # SQLSTATE of the intervention lifecycle trigger (layers/sql/planning_rules.sql)
HAS_DEPENDENTS = "23M02"  # a delete refused while intervention targets or task links name the row (integrity.sql)
UID_TAKEN = "23M03"  # a restore whose uid another feature took meanwhile (layers/sql/integrity.sql)


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL with the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"Not a PostgreSQL URL: {url.split('@')[-1]}")


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL (psycopg, psql, QGIS)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), **kwargs)


@contextmanager
def attributed(conn: psycopg.Connection, actor: str, cause: str | None = None) -> Iterator[psycopg.Connection]:
    """One transaction whose changes the history trigger attributes to ``actor`` (and ``cause``).

    A rejection by the database becomes a ``RuleViolation`` carrying its message; the transaction
    is rolled back, so nothing partial is written.
    """
    try:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('mahalle.actor', %s, true), set_config('mahalle.cause', %s, true)",
                (actor, cause or ""),
            )
            yield conn
    except psycopg.errors.InsufficientPrivilege as exc:  # the user's roles do not allow it (permit triggers)
        raise Forbidden(exc.diag.message_primary or str(exc)) from exc
    except (psycopg.IntegrityError, psycopg.DataError, psycopg.errors.RaiseException) as exc:
        if exc.diag.sqlstate == HAS_DEPENDENTS:  # links name the row being deleted: 409
            raise HasDependents(exc.diag.message_primary or str(exc)) from exc
        if exc.diag.sqlstate in (TRANSITION_REFUSED, UID_TAKEN):  # a lifecycle step or restore refused: 409
            raise Conflict(exc.diag.message_primary or str(exc)) from exc
        raise RuleViolation.from_db(exc) from exc


# Requests run short queries (a page, a tile, a feature): compiling them with LLVM costs more than it saves
# (a z12 tile at 100,000 parcels spent 1.2 s of 2.7 s in JIT; see bench/RESULTS.md).
SESSION_SETTINGS = {"jit": "off"}
# The rights of nobody in particular (layers/sql/identity.sql, mahalle.grants): public layers, read only.
ANONYMOUS_GRANTS = '{"user": null, "roles": {}}'


def make_pool(url: str, min_size: int = 1, max_size: int = 10, statement_timeout_ms: int = 30_000) -> ConnectionPool:
    def configure(conn: psycopg.Connection) -> None:
        # Autocommit: reads need no transaction, and every write opens its own (core.db.attributed),
        # so a change is committed before the response says it succeeded.
        conn.autocommit = True
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(statement_timeout_ms),))
        # Until a request says who it runs for (api/auth.py), a connection has the rights of an anonymous user.
        set_grants(conn, ANONYMOUS_GRANTS)
        for name, value in SESSION_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))

    return ConnectionPool(
        libpq_url(url),
        min_size=min_size,
        max_size=max_size,
        configure=configure,
        open=True,
        kwargs={"application_name": "mahalle"},
    )


def with_role(url: str, role: str) -> str:
    """The same server URL as another role (no password: the embedded cluster trusts its private socket)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}@{host}"))


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


@contextmanager
def as_server(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """A pooled connection reading as the server itself (what every user shares, e.g. the CRS of every
    neighbourhood), then back to an anonymous user's rights until a request binds it again (api/deps.py)."""
    set_grants(conn, "")
    try:
        yield conn
    finally:
        if not conn.closed:
            set_grants(conn, ANONYMOUS_GRANTS)


# The rights (``mahalle.grants``) each open connection was last given, so a request by the same user as the
# connection's last one needs no round trip to say who it runs for (api/identity/principal.py). Every change of
# the setting goes through ``set_grants`` or ``note_grants`` (tests/test_architecture.py checks).
_GRANTS: weakref.WeakKeyDictionary[psycopg.Connection, str] = weakref.WeakKeyDictionary()


def set_grants(conn: psycopg.Connection, grants: str) -> None:
    """Run ``conn`` (autocommit, outside a transaction) with ``grants`` from now on."""
    _GRANTS.pop(conn, None)  # unknown until the database has answered
    conn.execute("SELECT set_config('mahalle.grants', %s, false)", (grants,))
    note_grants(conn, grants)


def note_grants(conn: psycopg.Connection, grants: str) -> None:
    """Record the grants a statement of the caller's set (``set_config`` returns what it set). Only a setting
    made outside a transaction is sure to last (a rollback would undo one made inside)."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        _GRANTS[conn] = grants
    else:
        _GRANTS.pop(conn, None)


def grants_of(conn: psycopg.Connection) -> str | None:
    """The grants ``conn`` runs with, when they are known; None when they are not."""
    return _GRANTS.get(conn)
