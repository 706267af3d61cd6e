"""Users, their roles, API tokens and sessions in ``mahalle.users`` & co. (layers/sql/identity.sql).

Secrets (tokens, session ids) are 256-bit random values shown once; only their SHA-256 is stored, so a copy of
the database lets no one in. Passwords are Argon2 hashes (api/identity/passwords.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from api.identity import passwords
from core.errors import InvalidInput, NotFound

ROLES = ("admin", "planner", "field", "viewer")
Role = Literal["admin", "planner", "field", "viewer"]
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
TOKEN_PREFIX = "mht_"  # recognisable in logs and secret scanners
FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class Grant:
    """A role in one neighbourhood (its code), or in every neighbourhood (``None``)."""

    role: str
    neighbourhood: str | None = None

    def __str__(self) -> str:
        return f"{self.role} in {self.neighbourhood or 'every neighbourhood'}"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidInput(
            f"{name!r} cannot be a user name: use 1-48 lower-case letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def audit(conn: psycopg.Connection, event: str, user_name: str | None, ip: str | None = None, detail: str = "") -> None:
    conn.execute(
        "INSERT INTO mahalle.audit_log (event, user_name, ip, detail) VALUES (%s, %s, %s, %s)",
        (event, user_name, ip, detail[:1000] or None),
    )


def _user_id(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("SELECT id FROM mahalle.users WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise NotFound(f"there is no user named {name!r}")
    return row[0]


def _neighbourhood_ids(conn: psycopg.Connection, grants: list[Grant]) -> list[tuple[str, int | None]]:
    out = []
    for g in grants:
        if g.role not in ROLES:
            raise InvalidInput(f"{g.role!r} is not a role; the roles are {', '.join(ROLES)}")
        if g.neighbourhood is None:
            out.append((g.role, None))
            continue
        row = conn.execute("SELECT id FROM public.neighbourhoods WHERE code = %s", (g.neighbourhood,)).fetchone()
        if row is None:
            raise NotFound(f"there is no neighbourhood with the code {g.neighbourhood!r}")
        out.append((g.role, row[0]))
    return out


def add_user(
    conn: psycopg.Connection,
    name: str,
    grants: list[Grant],
    password: str | None = None,
    full_name: str | None = None,
) -> None:
    """A new user with these roles (and a password, if given: without one they can use API tokens only)."""
    check_name(name)
    hashed = passwords.hash_password(password) if password is not None else None
    with conn.transaction():
        resolved = _neighbourhood_ids(conn, grants)
        try:
            uid = conn.execute(
                "INSERT INTO mahalle.users (name, full_name, password_hash) VALUES (%s, %s, %s) RETURNING id",
                (name, full_name, hashed),
            ).fetchone()[0]
        except psycopg.errors.UniqueViolation:
            raise InvalidInput(f"there is already a user named {name!r}") from None
        _insert_roles(conn, uid, resolved)
        audit(conn, "user_added", name, detail=", ".join(map(str, grants)))


def _insert_roles(conn: psycopg.Connection, uid: int, resolved: list[tuple[str, int | None]]) -> None:
    for role, nid in resolved:
        conn.execute(
            "INSERT INTO mahalle.user_roles (user_id, role, neighbourhood_id) VALUES (%s, %s, %s) "
            "ON CONFLICT ON CONSTRAINT user_roles_once DO NOTHING",
            (uid, role, nid),
        )


def change_roles(conn: psycopg.Connection, name: str, grants: list[Grant], *, revoke: bool = False,
                 replace: bool = False) -> None:  # fmt: skip
    """Give ``grants`` to the user (``replace``: instead of every role they had), or take them away (``revoke``;
    a grant without a neighbourhood revokes that role everywhere). Applies from the user's next request."""
    with conn.transaction():
        uid = _user_id(conn, name)
        resolved = _neighbourhood_ids(conn, grants)
        if replace:
            conn.execute("DELETE FROM mahalle.user_roles WHERE user_id = %s", (uid,))
        if revoke:
            for role, nid in resolved:
                conn.execute(
                    "DELETE FROM mahalle.user_roles WHERE user_id = %s AND role = %s "
                    "AND (%s::bigint IS NULL OR neighbourhood_id = %s)",
                    (uid, role, nid, nid),
                )
        else:
            _insert_roles(conn, uid, resolved)
        verb = "revoked" if revoke else "replaced by" if replace else "granted"
        audit(conn, "user_changed", name, detail=f"roles {verb}: {', '.join(map(str, grants))}")


def set_password(conn: psycopg.Connection, name: str, password: str) -> None:
    hashed = passwords.hash_password(password)
    with conn.transaction():
        uid = _user_id(conn, name)
        conn.execute("UPDATE mahalle.users SET password_hash = %s WHERE id = %s", (hashed, uid))
        conn.execute("DELETE FROM mahalle.sessions WHERE user_id = %s", (uid,))  # log out everywhere
        audit(conn, "user_changed", name, detail="password changed")


def remove_user(conn: psycopg.Connection, name: str) -> str | None:
    """Remove the user (their sessions and tokens go with them; the history keeps their name). Returns the
    user's database login, which the caller drops (that needs a role allowed to drop roles)."""
    with conn.transaction():
        uid = _user_id(conn, name)
        login = conn.execute("SELECT db_login FROM mahalle.users WHERE id = %s", (uid,)).fetchone()[0]
        conn.execute("DELETE FROM mahalle.users WHERE id = %s", (uid,))
        audit(conn, "user_removed", name)
    return login


def list_users(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every user with their roles (neighbourhood codes), last login, database login and live token count."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT u.name, u.full_name, u.active, u.last_login, u.db_login, u.created_at,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('role', r.role, 'neighbourhood', n.code)
                                              ORDER BY r.role, n.code NULLS FIRST)
                               FROM mahalle.user_roles r LEFT JOIN public.neighbourhoods n ON n.id = r.neighbourhood_id
                              WHERE r.user_id = u.id), '[]') AS roles,
                   (SELECT count(*) FROM mahalle.api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL
                       AND (t.expires_at IS NULL OR t.expires_at > now())) AS tokens
              FROM mahalle.users u ORDER BY u.name
            """
        ).fetchall()


# --- tokens ------------------------------------------------------------------------------------------------


def create_token(conn: psycopg.Connection, name: str, label: str | None = None, days: int | None = None) -> str:
    """A new API token for the user, returned once: ``mht_<prefix>_<secret>``."""
    if days is not None and not 1 <= days <= 3650:
        raise InvalidInput("a token lasts between 1 and 3650 days")
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with conn.transaction():
        uid = _user_id(conn, name)
        conn.execute(
            "INSERT INTO mahalle.api_tokens (user_id, prefix, secret_sha256, label, expires_at) "
            "VALUES (%s, %s, %s, %s, now() + %s)",
            (uid, prefix, digest(token), label, timedelta(days=days) if days else None),
        )
        audit(conn, "token_created", name, detail=f"token {prefix}" + (f" ({label})" if label else ""))
    return token


def token_prefix(token: str) -> str:
    """The short public part of a token (``mht_1a2b3c4d_…`` → ``1a2b3c4d``); a bare prefix is returned as it is."""
    if token.startswith(TOKEN_PREFIX):
        return token[len(TOKEN_PREFIX) :].split("_", 1)[0]
    return token


def revoke_token(conn: psycopg.Connection, token: str) -> str:
    """Revoke a token, given whole or by its prefix; returns its owner's name."""
    with conn.transaction():
        whole = token.startswith(TOKEN_PREFIX) and token.count("_") >= 2
        row = conn.execute(
            "UPDATE mahalle.api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) FROM mahalle.users u "
            "WHERE u.id = t.user_id AND (t.secret_sha256 = %s OR t.prefix = %s) RETURNING u.name, t.prefix",
            (digest(token) if whole else None, None if whole else token_prefix(token)),
        ).fetchone()
        if row is None:
            raise NotFound("there is no such token")
        audit(conn, "token_revoked", row[0], detail=f"token {row[1]}")
    return row[0]


def list_tokens(conn: psycopg.Connection, name: str | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT u.name, t.prefix, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
            "FROM mahalle.api_tokens t JOIN mahalle.users u ON u.id = t.user_id "
            "WHERE %(name)s::text IS NULL OR u.name = %(name)s ORDER BY u.name, t.created_at",
            {"name": name},
        ).fetchall()


# --- sessions ----------------------------------------------------------------------------------------------


def check_login(conn: psycopg.Connection, name: str, password: str) -> bool:
    """Whether the name and password belong to an active user (the same work whether or not the name exists)."""
    row = conn.execute(
        "SELECT password_hash FROM mahalle.users WHERE name = %s AND active", (name if NAME_RE.match(name) else "",)
    ).fetchone()
    return passwords.verify(password, row[0] if row else None)


def failed_logins(conn: psycopg.Connection, name: str, ip: str | None, minutes: int) -> int:
    """Failed logins in the last ``minutes`` for this name or from this address (counted across every server
    process, from the audit log)."""
    return conn.execute(
        "SELECT count(*) FROM mahalle.audit_log WHERE event = 'login_failed' AND at > now() - %s "
        "AND (user_name = %s OR ip = %s)",
        (timedelta(minutes=minutes), name[:100], ip),
    ).fetchone()[0]


def open_session(conn: psycopg.Connection, name: str, hours: float, ip: str | None, agent: str | None) -> str:
    """A new web session for the user; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    with conn.transaction():
        uid = _user_id(conn, name)
        conn.execute(
            "INSERT INTO mahalle.sessions (user_id, secret_sha256, csrf, expires_at, ip, user_agent) "
            "VALUES (%s, %s, %s, now() + %s, %s, %s)",
            (uid, digest(secret), secrets.token_urlsafe(32), timedelta(hours=hours), ip, (agent or "")[:300]),
        )
        conn.execute("UPDATE mahalle.users SET last_login = now() WHERE id = %s", (uid,))
        conn.execute("DELETE FROM mahalle.sessions WHERE expires_at < now()")  # tidy up as we go
        audit(conn, "login", name, ip)
    return secret


def close_session(conn: psycopg.Connection, session_id: int, name: str, ip: str | None) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM mahalle.sessions WHERE id = %s", (session_id,))
        audit(conn, "logout", name, ip)


def ensure_first_admin(conn: psycopg.Connection, password: str | None) -> str | None:
    """With no user at all, create ``admin`` (administrator of every neighbourhood). Returns the password when
    it was generated here (to be shown once), else None."""
    if conn.execute("SELECT EXISTS (SELECT 1 FROM mahalle.users)").fetchone()[0]:
        return None
    generated = password is None
    password = password or passwords.new_password()
    try:
        add_user(conn, FIRST_ADMIN, [Grant("admin")], password=password)
    except InvalidInput:  # another process made it first
        return None
    return password if generated else None


def recent_audit(conn: psycopg.Connection, limit: int = 100) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT at, event, user_name, ip, detail FROM mahalle.audit_log ORDER BY at DESC, id DESC LIMIT %s",
            (limit,),
        ).fetchall()


def recent_activity(conn: psycopg.Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The latest changes of any layer (the history, as the caller's rights show it)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT at, actor, layer, feature_id, operation, cause FROM mahalle.history ORDER BY id DESC LIMIT %s",
            (limit,),
        ).fetchall()


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""
