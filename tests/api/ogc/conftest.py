"""An app on a copy of the demo database, through the test client and as a live server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS
from tests.live import serve


def make_app(url: str, **settings: object):
    return create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url))


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    with TestClient(make_app(demo_db_url), headers=ADMIN_HEADERS) as c:
        yield c


@pytest.fixture
def demo_conn(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def live_server(demo_db_url: str) -> Iterator[str]:
    """The app on a free loopback port, for real clients (GDAL, OWSLib)."""
    with serve(demo_db_url) as url:
        yield url
