"""An app on a copy of the demo database, through the test client and as a live server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Database
from gis.settings import Settings


def make_app(url: str, **settings: object):
    return create_app(Settings(database_url=url, load_demo=False, **settings), database=Database(url))


@pytest.fixture
def client(demo_db_url: str) -> Iterator[TestClient]:
    with TestClient(make_app(demo_db_url)) as c:
        yield c


@pytest.fixture
def demo_conn(demo_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def live_server(demo_db_url: str) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for real clients (GDAL, OWSLib)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(demo_db_url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
