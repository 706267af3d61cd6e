"""The world of the office-settings tests (coverage distances, plausibility rules): the demo database, a client of
the app on it, and a planner's headers (administrators use tests.auth.ADMIN_HEADERS)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity import store
from api.runtime import Database
from core.settings import Settings
from importers.demo import CODE
from tests.auth import token_for


@dataclass
class World:
    client: TestClient
    conn: psycopg.Connection
    planner: dict[str, str]
    url: str


@pytest.fixture
def world(demo_db_url: str, tmp_path) -> Iterator[World]:
    with psycopg.connect(demo_db_url, autocommit=True) as conn:
        planner = token_for(conn, "amina", store.Grant("planner", CODE))
        settings = Settings(database_url=demo_db_url, load_demo=False, data_dir=tmp_path)
        with TestClient(create_app(settings, database=Database(demo_db_url))) as client:
            yield World(client, conn, planner, demo_db_url)
