"""Who a request runs for, and telling the database so on the request's connection.

``bind`` checks the request's credential (a session cookie or a Bearer token) and, in the same statement, sets
``mahalle.grants`` on the connection: from then on row-level security and the permit triggers apply that user's
roles (layers/sql/identity.sql). A connection is bound at the start of every request, so nothing carries over
from the request that used it before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import psycopg
from starlette.requests import Request

from api.identity.store import audit, digest
from core.db import ANONYMOUS_GRANTS

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
  SELECT s.user_id, s.id AS session_id, NULL::bigint AS token_id, s.csrf, s.last_seen_at AS touched
    FROM mahalle.sessions s WHERE s.secret_sha256 = %(session)s AND s.expires_at > now()
  UNION ALL
  SELECT t.user_id, NULL, t.id, NULL, t.last_used_at
    FROM mahalle.api_tokens t
   WHERE t.secret_sha256 = %(token)s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
  LIMIT 1
), who AS (
  SELECT u.name, u.full_name, c.session_id, c.token_id, c.csrf, c.touched,
         coalesce((SELECT jsonb_object_agg(h.role, h.ids) FROM (
                     SELECT r.role, CASE WHEN bool_or(r.neighbourhood_id IS NULL) THEN NULL
                                         ELSE jsonb_agg(r.neighbourhood_id ORDER BY r.neighbourhood_id) END AS ids
                       FROM mahalle.user_roles r WHERE r.user_id = u.id GROUP BY r.role) h), '{}') AS roles
    FROM cred c JOIN mahalle.users u ON u.id = c.user_id AND u.active
)
SELECT w.name, w.full_name, w.session_id, w.token_id, w.csrf, w.roles,
       w.touched IS NULL OR w.touched < now() - interval '1 minute' AS stale,
       set_config('mahalle.grants', CASE WHEN w.name IS NULL THEN %(anonymous)s
                                         ELSE jsonb_build_object('user', w.name, 'roles', w.roles)::text END, false)
  FROM (SELECT 1) one LEFT JOIN who w ON true
"""


def bind(conn: psycopg.Connection, creds: Credentials) -> Principal:
    """The request's principal; the connection now runs with its rights."""
    session = digest(creds.session) if creds.session and not creds.token else None
    token = digest(creds.token) if creds.token else None
    row = conn.execute(_BIND, {"session": session, "token": token, "anonymous": ANONYMOUS_GRANTS}).fetchone()
    name, full_name, session_id, token_id, csrf, roles, stale, _ = row
    if name is None:
        return Principal(invalid=True) if creds.presented else ANONYMOUS
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
