"""The users every test database has (made once in the template, tests/conftest.py): an administrator of every
neighbourhood whose API token and password the tests use to act as the office's admin."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from api.identity import store
from api.identity.passwords import hash_password

ADMIN = "admin"
# Random per test process (each pytest-xdist worker has its own template database): no secret in the repository.
ADMIN_TOKEN = f"{store.TOKEN_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
ADMIN_PASSWORD = secrets.token_urlsafe(16)
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_admin(conn: psycopg.Connection) -> None:
    """The template's administrator with the known token and password (hashed as the app does)."""
    store.add_user(conn, ADMIN, [store.Grant("admin")])
    conn.execute("UPDATE mahalle.users SET password_hash = %s WHERE name = %s", (hash_password(ADMIN_PASSWORD), ADMIN))
    conn.execute(
        "INSERT INTO mahalle.api_tokens (user_id, prefix, secret_sha256, label) "
        "SELECT id, %s, %s, 'tests' FROM mahalle.users WHERE name = %s",
        (store.token_prefix(ADMIN_TOKEN), store.digest(ADMIN_TOKEN), ADMIN),
    )


def token_for(conn: psycopg.Connection, name: str, *grants: store.Grant) -> dict[str, str]:
    """A new user with these roles and the headers of an API token of theirs."""
    store.add_user(conn, name, list(grants))
    return {"Authorization": f"Bearer {store.create_token(conn, name)}"}


@contextmanager
def heard(app: Any, seconds: float = 5.0) -> Iterator[None]:
    """A change to users, roles, tokens or sessions made in the block, as the CLI or psql would make it: waits until
    the app's listener has heard the database announce it (api/identity/principal.py keeps principals until then;
    a server that is not listening keeps none, so there is nothing to wait for)."""
    principals = app.state.metadata.principals
    before = principals.generation
    yield
    if app.state.metadata.listening:
        deadline = time.monotonic() + seconds
        while principals.generation == before:
            assert time.monotonic() < deadline, "the database did not announce the identity change"
            time.sleep(0.005)
