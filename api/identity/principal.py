"""Who a request runs for, and telling the database so on the request's connection.

``bind`` checks the request's credential (a session cookie or a Bearer token) and, in the same statement, sets
``mahalle.grants`` on the connection: from then on row-level security and the permit triggers apply that user's
roles (layers/sql/identity.sql). A connection is bound at the start of every request, so nothing carries over
from the request that used it before.

What a credential stands for is kept a few seconds (``Principals``), and a connection whose grants are already
that user's (``core.db.grants_of``) is not told again: a client sending requests with one token then costs no
round trip for who it is. What is kept is dropped at once when the database announces a change to users, roles,
tokens or sessions (``mahalle_identity``, migration 0019, heard by api.metadata's listener); while nothing
listens, nothing is kept. Unknown credentials are never kept: each is asked of the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import psycopg
from starlette.requests import Request

from api.identity.store import audit, digest
from core.db import ANONYMOUS_GRANTS, grants_of, note_grants, set_grants

log = logging.getLogger("mahalle.auth")


@dataclass(frozen=True)
class RoleGrant:
    role: str
    neighbourhood_id: int | None  # None: every neighbourhood


@dataclass(frozen=True)
class Credentials:
    """What the request presented: a Bearer token wins over a session cookie (and needs no CSRF token)."""

    token: str | None = None
    session: str | None = None
    ip: str | None = None

    @property
    def presented(self) -> bool:
        return bool(self.token or self.session)


@dataclass(frozen=True)
class Principal:
    name: str | None = None  # None: anonymous
    full_name: str | None = None
    roles: tuple[RoleGrant, ...] = ()
    via: Literal["anonymous", "session", "token"] = "anonymous"
    csrf: str | None = field(default=None, repr=False)
    session_id: int | None = None
    invalid: bool = False  # a credential was presented and is unknown, expired or revoked

    @property
    def authenticated(self) -> bool:
        return self.name is not None

    def holds(self, *roles: str, everywhere: bool = False) -> bool:
        """Whether the user has one of ``roles`` somewhere (``everywhere``: in every neighbourhood)."""
        return any(r.role in roles and (r.neighbourhood_id is None or not everywhere) for r in self.roles)

    def grants_json(self) -> str:
        if not self.authenticated:
            return ANONYMOUS_GRANTS
        # {role: [neighbourhood ids] or None for every one}: compact, so a role in 400 neighbourhoods stays cheap
        # for the database to read on every statement (mahalle.grants()).
        roles: dict[str, list[int] | None] = {}
        for r in self.roles:
            if r.neighbourhood_id is None or roles.get(r.role, []) is None:
                roles[r.role] = None
            else:
                roles.setdefault(r.role, []).append(r.neighbourhood_id)
        return json.dumps({"user": self.name, "roles": roles})


ANONYMOUS = Principal()
MAX_SESSION = timedelta(days=30)  # however active, a session ends this long after its login
COOKIE = "mahalle_session"
CSRF_HEADER = "x-csrf-token"


def credentials(request: Request) -> Credentials:
    """The token and session cookie the request carries (no database needed; api.auth checks the CSRF header)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    return Credentials(
        token=token[:200] or None,
        session=(request.cookies.get(COOKIE) or "")[:200] or None,
        ip=request.client.host if request.client else None,
    )


# One statement: find the credential's user and roles, and set the connection's grants to them (or to those of
# an anonymous user when there is none). Only mahalle.* tables without row-level security are read before the
# grants are set.
_BIND = """
WITH cred AS (
  SELECT s.user_id, s.id AS session_id, NULL::bigint AS token_id, s.csrf, s.last_seen_at AS touched, s.expires_at
    FROM mahalle.sessions s WHERE s.secret_sha256 = %(session)s AND s.expires_at > now()
  UNION ALL
  SELECT t.user_id, NULL, t.id, NULL, t.last_used_at, t.expires_at
    FROM mahalle.api_tokens t
   WHERE t.secret_sha256 = %(token)s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
  LIMIT 1
), who AS (
  SELECT u.name, u.full_name, c.session_id, c.token_id, c.csrf, c.touched, c.expires_at,
         coalesce((SELECT jsonb_object_agg(h.role, h.ids) FROM (
                     SELECT r.role, CASE WHEN bool_or(r.neighbourhood_id IS NULL) THEN NULL
                                         ELSE jsonb_agg(r.neighbourhood_id ORDER BY r.neighbourhood_id) END AS ids
                       FROM mahalle.user_roles r WHERE r.user_id = u.id GROUP BY r.role) h), '{}') AS roles
    FROM cred c JOIN mahalle.users u ON u.id = c.user_id AND u.active
)
SELECT w.name, w.full_name, w.session_id, w.token_id, w.csrf, w.roles,
       w.touched IS NULL OR w.touched < now() - interval '1 minute' AS stale, w.expires_at - now() AS left,
       set_config('mahalle.grants', CASE WHEN w.name IS NULL THEN %(anonymous)s
                                         ELSE jsonb_build_object('user', w.name, 'roles', w.roles)::text END, false)
  FROM (SELECT 1) one LEFT JOIN who w ON true
"""


Key = tuple[str, bytes]  # ("token" or "session", the secret's SHA-256)


@dataclass(frozen=True)
class _Kept:
    principal: Principal
    grants: str
    until: float  # time.monotonic()


class Principals:
    """The principal each credential stood for, kept ``seconds`` (never past the credential's own expiry).

    ``listening`` follows the listener of identity changes: off, nothing is kept. A look-up that straddles a
    change heard (``generation``) is not kept, so a revocation is never undone by a slow request."""

    def __init__(self, seconds: float, most: int = 10_000) -> None:
        self.seconds = seconds
        self._most = most
        self._lock = threading.Lock()
        self._kept: dict[Key, _Kept] = {}
        self._generation = 0
        self._listening = False

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: Key) -> _Kept | None:
        kept = self._kept.get(key)
        if kept is None or kept.until <= time.monotonic():
            return None
        return kept

    def keep(self, key: Key, kept: _Kept, generation: int) -> None:
        with self._lock:
            if not self._listening or generation != self._generation or self.seconds <= 0:
                return
            if len(self._kept) >= self._most:  # many credentials: start again rather than grow without bound
                self._kept.clear()
            self._kept[key] = kept

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._kept.clear()

    def set_listening(self, on: bool) -> None:
        with self._lock:
            self._listening = on
            self._generation += 1
            self._kept.clear()


def key_of(creds: Credentials) -> Key | None:
    """The key a credential's principal is kept under (the token wins, as in ``bind``), or None for none."""
    if creds.token:
        return ("token", digest(creds.token))
    if creds.session:
        return ("session", digest(creds.session))
    return None


def _remembered(creds: Credentials, principals: Principals | None) -> tuple[str, Principal] | None:
    """(grants, principal) known without asking the database: none for no credential, or a kept one; else None."""
    key = key_of(creds)
    if key is None:
        return ANONYMOUS_GRANTS, ANONYMOUS
    kept = principals.get(key) if principals is not None else None
    return (kept.grants, kept.principal) if kept is not None else None


def from_memory(conn: psycopg.Connection, creds: Credentials, principals: Principals | None) -> Principal | None:
    """The principal without any I/O: it is known (``_remembered``) and ``conn`` already runs with its grants.
    None: ``bind`` must run."""
    known = _remembered(creds, principals)
    return known[1] if known is not None and grants_of(conn) == known[0] else None


def bind(conn: psycopg.Connection, creds: Credentials, principals: Principals | None = None) -> Principal:
    """The request's principal; the connection now runs with its rights."""
    known = _remembered(creds, principals)
    if known is not None:
        if grants_of(conn) != known[0]:
            set_grants(conn, known[0])
        return known[1]
    key = key_of(creds)
    assert key is not None  # a credential without one is known (anonymous)
    generation = principals.generation if principals is not None else 0
    session = key[1] if key[0] == "session" else None
    token = key[1] if key[0] == "token" else None
    row = conn.execute(_BIND, {"session": session, "token": token, "anonymous": ANONYMOUS_GRANTS}).fetchone()
    name, full_name, session_id, token_id, csrf, roles, stale, left, grants = row
    note_grants(conn, grants)
    if name is None:
        return Principal(invalid=True)
    principal = Principal(
        name=name,
        full_name=full_name,
        roles=tuple(
            RoleGrant(role, n) for role, ids in sorted(roles.items()) for n in (ids if ids is not None else [None])
        ),
        via="token" if token_id else "session",
        csrf=csrf,
        session_id=session_id,
    )
    if stale:
        _touch(conn, principal, token_id, creds.ip)
    if principals is not None:
        seconds = principals.seconds if left is None else min(principals.seconds, left.total_seconds())
        principals.keep(key, _Kept(principal, grants, time.monotonic() + seconds), generation)
    return principal


def _touch(conn: psycopg.Connection, principal: Principal, token_id: int | None, ip: str | None) -> None:
    """At most once a minute per credential: a token's last use (and an audit line), a session's sliding expiry."""
    with conn.transaction():
        if token_id is not None:
            conn.execute("UPDATE mahalle.api_tokens SET last_used_at = now() WHERE id = %s", (token_id,))
            audit(conn, "token_used", principal.name, ip)
        else:
            conn.execute(
                "UPDATE mahalle.sessions SET last_seen_at = now(), expires_at = least(created_at + %s, "
                "greatest(expires_at, now() + (expires_at - last_seen_at))) WHERE id = %s",
                (MAX_SESSION, principal.session_id),
            )
