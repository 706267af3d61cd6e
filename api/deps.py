"""Typed dependencies the routes share: a pooled connection, the catalogue, the settings."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from fastapi import Request

from gis.settings import Settings
from layers.catalogue import Catalogue, load_catalogue


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    with request.app.state.pool.connection() as conn:
        yield conn


def get_catalogue(request: Request) -> Iterator[Catalogue]:
    # Custom layers can be added while the app runs, so the catalogue is read per request (one query).
    with request.app.state.pool.connection() as conn:
        yield load_catalogue(conn)


def get_actor(request: Request) -> str:
    """Who the history trigger records for this request's writes.

    Until logins exist, edits are attributed to ``MAHALLE_DEFAULT_ACTOR``; behind a reverse proxy that
    authenticates users, ``MAHALLE_TRUST_USER_HEADER=true`` takes the name from ``X-Mahalle-User``.
    """
    settings: Settings = request.app.state.settings
    if settings.trust_user_header:
        user = request.headers.get("x-mahalle-user", "").strip()
        if user:
            return user[:200]
    return settings.default_actor
