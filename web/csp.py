"""Content-Security-Policy pieces shared by the pages: the default policy and per-response script nonces.

Pages load script only from this host (``script-src 'self'``). The one page that must carry inline script,
the printable report with its folium map (it opens offline as a single file), marks its ``<script>`` tags
with a nonce: ``script_nonce()`` makes one for the current response, and the API's security middleware
(``api/security.py``) adds it to that response's policy. Outside a request (the CLI writing a report
file) there is no policy and no nonce.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar, Token

_nonces: ContextVar[list[str] | None] = ContextVar("mahalle_csp_nonce", default=None)

# Every HTML page that does not set its own policy gets this one (the nonce, when a page used one, is added
# to script-src). Inline styles stay allowed: the pages and Swagger UI set style attributes.
DEFAULT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def start_response_scope() -> tuple[list[str], Token[list[str] | None]]:
    """Called by the middleware for each request: a holder the page's nonce, if any, is put in."""
    holder: list[str] = []
    return holder, _nonces.set(holder)


def end_response_scope(token: Token[list[str] | None]) -> None:
    _nonces.reset(token)


def script_nonce() -> str | None:
    """The nonce of the current response (made on first use), or None outside a request."""
    holder = _nonces.get()
    if holder is None:
        return None
    if not holder:
        holder.append(secrets.token_urlsafe(18))
    return holder[0]


def policy(nonce: str | None = None) -> str:
    directives = dict(DEFAULT_POLICY)
    if nonce:
        directives["script-src"] += f" 'nonce-{nonce}'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())
