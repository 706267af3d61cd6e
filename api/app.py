"""The FastAPI application factory. The lifespan owns the database and the connection pool."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import heavy, problems, security
from api.metadata import Metadata
from api.ogc import features as ogc_features
from api.ogc import openapi as ogc_openapi
from api.ogc import schema as ogc_schema
from api.ogc import tiles as ogc_tiles
from api.routes import (
    auth,
    coverage,
    docs,
    field,
    field_package,
    groups,
    health,
    home,
    layers,
    planning,
    plausibility,
    review,
    search,
    transfer,
    vocabulary,
    web,
)
from api.runtime import Database, announce_first_admin, ensure_first_admin, load_demo_if_empty, open_database
from core.db import make_pool
from core.settings import Settings, get_settings

log = logging.getLogger("mahalle")


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. With ``database`` given, the caller owns it; otherwise the lifespan opens one
    (starting the embedded cluster when no URL is configured) and closes it on shutdown."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or open_database(settings)
        try:
            if database is None:
                load_demo_if_empty(settings, db.url)
                announce_first_admin(ensure_first_admin(settings, db.url))
            app.state.pool = make_pool(
                db.url, settings.pool_min_size, settings.pool_max_size, settings.statement_timeout_ms
            )
            app.state.metadata = Metadata(db.url, app.state.pool, settings.principal_cache_s)
            app.state.heavy = heavy.Gate(settings)  # reports, indicators, exports: a few at a time, each timed
            # import jobs: a few at a time, each holding connections of its own (api/routes/transfer.py)
            app.state.import_slots = threading.BoundedSemaphore(settings.import_concurrency)
            # uploads arriving (each request holds a pooled connection meanwhile): as many as the import slots
            app.state.upload_slots = threading.BoundedSemaphore(settings.import_concurrency)
            if settings.cache_catalogue:  # not started: never listening, so nothing is cached
                app.state.metadata.start()
            try:
                yield
            finally:
                app.state.metadata.close()
                app.state.pool.close()
        finally:
            if database is None:
                db.close()

    app = FastAPI(
        title="Mahalle",
        summary="GIS planning and asset mapping for neighbourhood regeneration offices",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's /docs and /redoc load from a CDN; api/routes/docs.py serves local files
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)
    security.install(app, settings)
    app.include_router(docs.router)
    app.include_router(home.router)
    app.include_router(web.router)
    app.include_router(health.router)
    app.include_router(layers.router)
    app.include_router(ogc_features.router)
    app.include_router(ogc_tiles.router)
    app.include_router(ogc_openapi.router)
    app.include_router(ogc_schema.router)
    app.include_router(planning.router)
    app.include_router(transfer.router)
    app.include_router(auth.router)
    app.include_router(field.router)
    app.include_router(field_package.router)
    app.include_router(review.router)
    app.include_router(search.router)
    app.include_router(groups.router)
    app.include_router(vocabulary.router)
    app.include_router(coverage.router)
    app.include_router(plausibility.router)
    return app


def worker_app() -> FastAPI:
    """The app of one of several server processes (``MAHALLE_WORKERS``): the parent process has started the
    database and brought it up to date, and passes its URL in ``MAHALLE_DATABASE_URL``."""
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("a worker process needs MAHALLE_DATABASE_URL from `mahalle serve`")
    return create_app(settings, database=Database(settings.database_url))
