"""Typed dependencies the routes share: a pooled connection, the catalogue, the settings, the If-Match version."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Depends, Request
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.concurrency import run_in_threadpool

from api.identity.principal import bind, credentials, from_memory
from api.metadata import Metadata
from core.errors import MahalleError, PayloadTooLarge, PreconditionFailed, UnsupportedMediaType
from core.settings import Settings
from layers.catalogue import Catalogue

IDLE_WAIT = 0.0005  # seconds the event loop may wait for a connection before handing the wait to a thread

# The light dependencies are ``async``: FastAPI runs a plain ``def`` dependency in a worker thread, and
# the hop costs more than the work.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_conn(request: Request) -> AsyncIterator[psycopg.Connection]:
    """A pooled connection for the request. An idle one is taken in the event loop (a thread hop to enter
    and one to leave a ``def`` dependency cost more than the handler's query); only when every connection
    is busy does the wait happen in a worker thread. Handlers are ``def`` and run in a worker thread."""
    pool: ConnectionPool = request.app.state.pool
    conn = await take_connection(pool)
    try:
        await bind_request(request, conn)
        yield conn
    finally:
        pool.putconn(conn)  # autocommit and idle: no I/O (a failed transaction was rolled back by ``attributed``)


async def bind_request(request: Request, conn: psycopg.Connection) -> None:
    """Run the connection with the rights of the request's user (api/identity/principal.py): every connection a
    request takes is bound before its first query, so nothing carries over from the previous request."""
    creds, principals = credentials(request), request.app.state.metadata.principals
    principal = from_memory(conn, creds, principals)  # no I/O, no thread: the usual case for a busy client
    if principal is None:
        principal = await run_in_threadpool(bind, conn, creds, principals)
    request.state.principal = principal


async def take_connection(pool: ConnectionPool, timeout: float | None = None) -> psycopg.Connection:
    """An idle connection at once, in the event loop; else wait for one in a worker thread (PoolTimeout after
    ``timeout`` seconds, or the pool's own timeout)."""
    try:
        return pool.getconn(timeout=IDLE_WAIT)
    except PoolTimeout:
        return await run_in_threadpool(pool.getconn, timeout)


def metadata(request: Request) -> Metadata:
    return request.app.state.metadata


async def get_catalogue(request: Request) -> Catalogue:
    """The catalogue, from memory while it is known to be current (api.metadata), else read in a thread."""
    md = metadata(request)
    cached = md.cached("catalogue")
    return cached if isinstance(cached, Catalogue) else await run_in_threadpool(md.catalogue)


async def get_crs(request: Request) -> tuple[str, ...]:
    """The CRS URIs every collection offers (CRS84, EPSG:4326, Web Mercator, the neighbourhoods' UTM zones)."""
    md = metadata(request)
    cached = md.cached("crs")
    return cached if isinstance(cached, tuple) else await run_in_threadpool(md.crs)


async def read_json(request: Request, settings: Settings, media_types: tuple[str, ...]) -> Any:
    """The JSON body, refusing wrong media types (415), oversized bodies (413), NaN/Infinity and text that
    cannot be stored (NUL, lone surrogates) (400)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in media_types:
        raise UnsupportedMediaType(f"send the body as {' or '.join(media_types)}, not {ctype or 'nothing'}")
    limit = settings.max_body_mb * 1024 * 1024
    declared = request.headers.get("content-length", "").strip()
    if declared.isdecimal() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {settings.max_body_mb} MB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {settings.max_body_mb} MB")
        chunks.append(chunk)

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    raw = b"".join(chunks)
    try:
        data = json.loads(raw, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:
        raise MahalleError(f"the body is not valid JSON: {exc}") from None
    if _SUSPECT_ESCAPE.search(raw):  # only an escape can put NUL or a lone surrogate into the parsed text
        _check_text(data)
    return data


# ``\u0000`` or a surrogate escape (``\ud800``-``\udfff``; a valid pair is fine and is let through below).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _check_text(data: Any) -> None:
    """Refuse (400) text that cannot be stored: NUL (PostgreSQL text cannot hold it) or a lone surrogate
    (not Unicode; it cannot be encoded as UTF-8). Walks the parsed body without recursion."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{_shown(key)}" if where else _shown(key)
                _check_string(key, f"the name of {path}")
                stack.append((item, path))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value) if isinstance(item, str | list | dict))
        elif isinstance(value, str):
            _check_string(value, where or "the body")


def _shown(key: str) -> str:
    """A key as it may appear in a message: escaped where it is not printable, and not too long."""
    text = key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
    return text if len(text) <= 60 else text[:57] + "…"


def _check_string(text: str, where: str) -> None:
    if "\x00" in text:
        raise MahalleError(f"{where}: text may not contain the NUL character (\\u0000)")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise MahalleError(
                f"{where}: the text is not valid Unicode (it has an unpaired surrogate such as \\ud800)"
            ) from None


def json_body(*media_types: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency reading the JSON body in the event loop, so the handler can be a plain ``def`` that
    FastAPI runs in a worker thread: its blocking database calls then never stall other requests."""

    async def body(request: Request) -> Any:
        return await read_json(request, request.app.state.settings, media_types)

    return body


async def get_actor(request: Request, conn: Annotated[psycopg.Connection, Depends(get_conn)]) -> str:
    """Who the history records for this request's writes: its user (``permit`` has made sure there is one)."""
    principal = request.state.principal
    return principal.name or "anonymous"


# ETags and If-Match -------------------------------------------------------------------------------------
# A feature's (or an intervention's, a task's) ETag is its version; a write with If-Match is conditional on it.


def etag(version: int) -> str:
    """The (strong) ETag of a version."""
    return f'"{version}"'


async def if_match(request: Request) -> int | Literal["*"] | None:
    """The version the request's If-Match names; ``"*"`` for any (the feature must exist); None without one.

    RFC 9110 §13.1.1: If-Match compares strongly, so a weak ETag (``W/"3"``) never matches (412), nor does a
    value this server never gave out."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return "*"
    if value.startswith("W/"):
        raise PreconditionFailed(
            f"If-Match {header} is a weak ETag, and If-Match needs a strong match: "
            'send the ETag exactly as the server gave it, e.g. "3"'
        )
    value = value.strip('"')
    if not (value.isascii() and value.isdigit()) or len(value) > 18:  # "²".isdigit() is true, int("²") fails
        raise PreconditionFailed(f"If-Match {header!r} is not an ETag this server gave out")
    return int(value)


IfMatch = Annotated[int | Literal["*"] | None, Depends(if_match)]
