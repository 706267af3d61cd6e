"""Schemathesis over the app's own OpenAPI document (``/openapi.json``): for every operation, requests built
from what the document says (valid ones and, in the negative phases, invalid ones), against the app on a
throwaway copy of the demo database. Checks: no server error (5xx) and every response matches the schema
documented for its status and media type.

Every case is sent as the office's administrator (``tests/auth.py``): an anonymous client would meet 401 on every
write and on every layer that is not public, and check little else. A 401 or 403 the document does not list is
still a valid answer (only a documented status is checked against its schema).

Bounded and reproducible: a fixed number of examples per operation, derandomized (the same cases every run),
no deadline (a database call may be slow on a busy machine). Nothing is excluded: operations whose answers
are free-form (the OGC documents, files, HTML) document them so (``{}`` schemas, or a media type without a
JSON schema), and are still checked for server errors.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from api.runtime import Database
from core.settings import Settings
from tests.auth import ADMIN_HEADERS

# Examples per operation: ~55 operations × 12 take about a minute and a half on two cores. A deeper run:
# MAHALLE_SCHEMATHESIS_EXAMPLES=200 pytest tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("MAHALLE_SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def throwaway_demo_url(pg_server, demo_template) -> Iterator[str]:
    """A copy of the demo database for this module (what ``demo_db_url`` makes per test, kept for all the
    operations: one copy instead of sixty). Whatever schemathesis writes goes there and is dropped with it."""
    name = f"mahalle_st_{uuid.uuid4().hex[:12]}"
    yield pg_server.create(name, template=demo_template)
    pg_server.drop(name)


@pytest.fixture(scope="module")
def app(throwaway_demo_url: str) -> Iterator[FastAPI]:
    settings_ = Settings(database_url=throwaway_demo_url, load_demo=False)
    yield create_app(settings_, database=Database(throwaway_demo_url))
    asgi.shutdown_lifespans()  # schemathesis started the app's lifespan: its pool closes before the drop


# The document is the app's own; building it needs no database (the lifespan is not run here). The cases are
# sent to the app of the fixture above, on the throwaway database.
DOCUMENT = create_app(Settings(load_demo=False)).openapi()
schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=schemathesis.Config.from_dict({"seed": 13, "generation": {"deterministic": True}})
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_the_api_keeps_to_its_openapi_document(case, app):
    case.call_and_validate(app=app, headers=ADMIN_HEADERS, checks=[not_a_server_error, response_schema_conformance])
