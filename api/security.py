"""Browser-facing safety and bounded request bodies, as two pure ASGI middlewares.

``BrowserSafety`` (outermost):

- answers only to the host names of ``MAHALLE_ALLOWED_HOSTS`` (400 otherwise: DNS rebinding, poisoned links);
- refuses POST/PUT/PATCH/DELETE sent by a page of another origin (403): the ``Origin`` header, or without
  it a ``Sec-Fetch-Site: cross-site`` or a foreign ``Referer``, must be the server's own origin or one of
  ``MAHALLE_ALLOWED_ORIGINS``. Requests with none of these headers (curl, QGIS, GDAL, OWSLib) are not
  browser requests and pass;
- adds ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` to every response, and to every HTML page
  that sets none a Content-Security-Policy without inline script (``web.csp``; a page that needs inline
  script, the report with its folium map, asks for a per-response nonce).

``BodyLimit``: one limit on the request body of every route, counted while the body streams, so a chunked
upload without Content-Length is cut at the limit (413) before it lands on disk; a Content-Length above
the limit is refused at once. The upload route (``POST /imports``) has the upload limit
(``MAHALLE_MAX_UPLOAD_MB``, or ``MAHALLE_IMPORT_MAX_FILE_MB``), every other route ``MAHALLE_MAX_BODY_MB``.
It also sets the vertex limit (``core.limits``) of the app's settings for the request.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem, problem_for
from core import limits
from core.errors import PayloadTooLarge
from core.settings import Settings
from importers.archive import ImportLimits
from web import csp

log = logging.getLogger("mahalle.api")
MB = 1024 * 1024
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPLOAD_ROUTES = frozenset({("POST", "/imports"), ("POST", "/imports/preview"), ("POST", "/field/checkin")})
MULTIPART_OVERHEAD = MB  # the form fields and boundaries around the uploaded file
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
REFERRER_POLICY = "same-origin"


def install(app: FastAPI, settings: Settings) -> None:
    """Register both middlewares; the last added runs first, so BrowserSafety wraps BodyLimit."""
    if settings.allowed_hosts is None and settings.host in ("0.0.0.0", "::", ""):
        log.warning(
            "MAHALLE_HOST=%s listens on every address, but only %s are accepted as host names: set "
            "MAHALLE_ALLOWED_HOSTS to the names or addresses clients use",
            settings.host,
            ", ".join(settings.host_allow_list[1:]),
        )
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(BrowserSafety, settings=settings)


# Hosts and origins --------------------------------------------------------------------------------


def _bracketed(host: str) -> str:
    """IPv6 addresses in brackets, as they appear in Host headers and URLs; names lower-case."""
    host = host.strip().lower().rstrip(".")
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_name(header: str) -> str:
    """The name in a Host header, without the port: ``example.org:8000`` → ``example.org``, ``[::1]:80`` → ``[::1]``."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[: end + 1] if end != -1 else header
    name, colon, port = header.rpartition(":")
    return (name if colon and port.isdigit() and ":" not in name else header).rstrip(".")


class HostAllowList:
    def __init__(self, hosts: list[str]):
        entries = [h.strip().lower() for h in hosts if h.strip()]
        self.any = "*" in entries
        self.exact = frozenset(_bracketed(h) for h in entries if not h.startswith("*."))
        self.suffixes = tuple(h[1:].rstrip(".") for h in entries if h.startswith("*."))  # ".example.org"

    def allows(self, header: str | None) -> bool:
        if self.any:
            return True
        if not header:
            return False
        name = host_name(header)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, the default port left out; None if it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        return None
    host = _bracketed(parts.hostname)
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def own_origin(scope: Scope, headers: Headers) -> str | None:
    host = headers.get("host")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{_bracketed(server_host)}:{server_port}" if server_port else _bracketed(server_host)
    return origin_of(f"{scope.get('scheme', 'http')}://{host}") if host else None


# The middlewares ------------------------------------------------------------------------------------


class BrowserSafety:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.hosts = HostAllowList(settings.host_allow_list)
        self.origins = frozenset(o for o in (origin_of(x) for x in settings.allowed_origins) if o)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonces, token = csp.start_response_scope()
        request_headers = Headers(scope=scope)
        personal = "authorization" in request_headers or "mahalle_session=" in request_headers.get("cookie", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(message.get("headers", []), nonces, personal)
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            csp.end_response_scope(token)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = Headers(scope=scope)
        if not self.hosts.allows(headers.get("host")):
            return problem(
                400,
                "Unknown host",
                f"This server does not answer to the host name {headers.get('host', '')!r}; "
                "add it to MAHALLE_ALLOWED_HOSTS if it is meant to.",
            )
        if scope["method"] in UNSAFE_METHODS and self._foreign(scope, headers):
            return problem(
                403,
                "Cross-origin request refused",
                "A page of another site may not change data here; open Mahalle itself (or add that site's "
                "origin to MAHALLE_ALLOWED_ORIGINS).",
            )
        return None

    def _foreign(self, scope: Scope, headers: Headers) -> bool:
        """Whether a browser sent this request from a page of another origin."""
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site", "").lower() == "cross-site":
                return True
            referer = headers.get("referer")
            if not referer:
                return False  # not a browser's cross-site request: curl, QGIS, GDAL
            origin = origin_of(referer) or "null"
        if origin.strip().lower() == "null":  # sandboxed frames, file: pages, privacy redirects
            return True
        normalized = origin_of(origin)
        return normalized is None or (normalized != own_origin(scope, headers) and normalized not in self.origins)

    @staticmethod
    def _headers(raw: list[tuple[bytes, bytes]], nonces: list[str], personal: bool) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in raw}
        # What a user sees depends on who they are (row-level security): caches must keep answers apart per user,
        # and a shared cache must not keep an answer made for a logged-in user at all.
        out = [(n, b"private, " + v if personal and n.lower() == b"cache-control" and b"private" not in v else v)
               for n, v in raw]  # fmt: skip
        out.append((b"vary", b"Authorization, Cookie"))
        if b"x-content-type-options" not in names:
            out.append((b"x-content-type-options", b"nosniff"))
        if b"referrer-policy" not in names:
            out.append((b"referrer-policy", REFERRER_POLICY.encode()))
        content_type = next((value for name, value in raw if name.lower() == b"content-type"), b"")
        if content_type.lower().startswith(b"text/html") and b"content-security-policy" not in names:
            out.append((b"content-security-policy", csp.policy(nonces[0] if nonces else None).encode()))
        return out


class BodyTooLarge(PayloadTooLarge, HTTPException):
    """Raised from ``receive`` when the body passes the limit. An HTTPException too, so FastAPI's body
    parsing passes it on instead of turning it into a 400; the problem-details handler of
    ``MahalleError`` answers it (as a ``PayloadTooLarge``, 413)."""

    def __init__(self, message: str):
        HTTPException.__init__(self, 413, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.body_mb = settings.max_body_mb
        self.upload_mb = ImportLimits().max_file_mb or settings.max_upload_mb
        self.max_vertices = settings.max_vertices

    def limit(self, scope: Scope) -> tuple[int, str]:
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        if (scope["method"], path.rstrip("/") or "/") in UPLOAD_ROUTES:
            return self.upload_mb * MB + MULTIPART_OVERHEAD, f"the upload limit of {self.upload_mb} MB"
        return self.body_mb * MB, f"the limit of {self.body_mb} MB for a request body"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with limits.use_max_vertices(self.max_vertices):
            await self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit, what = self.limit(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            too_large = problem_for(PayloadTooLarge(f"The request body is {_size(int(declared))}; {what}."))
            too_large.headers["Connection"] = "close"
            await too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(f"The request body is larger than {what}; it was not read further.")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:  # raised where no exception handler answered it
            if started:
                raise
            await problem_for(exc)(scope, receive, send)


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n:,} bytes"
