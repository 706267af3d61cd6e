"""``mahalle serve``: the web application on its database."""

from __future__ import annotations

import logging
import os
import signal
from typing import Annotated

import typer

from api.cli.base import _fail, app, console
from core.cluster import ClusterError
from core.settings import Settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (MAHALLE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MAHALLE_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Server processes (MAHALLE_WORKERS)")] = None,
) -> None:
    """Start Mahalle (and its embedded PostGIS when no MAHALLE_DATABASE_URL is set)."""
    import uvicorn

    from api.app import create_app
    from api.runtime import (  # alembic and the app: for this command only
        PrivilegedRole,
        announce_first_admin,
        ensure_first_admin,
        load_demo_if_empty,
        open_database,
    )

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    try:
        db = open_database(settings)
    except (ClusterError, PrivilegedRole) as exc:
        raise _fail(str(exc)) from exc
    try:
        load_demo_if_empty(settings, db.url)
        announce_first_admin(ensure_first_admin(settings, db.url))
        where = (
            "embedded cluster in " + str(settings.data_dir.resolve()) if settings.embedded else "MAHALLE_DATABASE_URL"
        )
        bind = {"host": host or settings.host, "port": port or settings.port}
        console.print(f"Mahalle on http://{bind['host']}:{bind['port']}  (database: {where})")
        # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit it still lets us stop PostgreSQL.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        if (workers or settings.workers) > 1:  # each process opens its own pool on the database started here
            os.environ.update(MAHALLE_DATABASE_URL=db.url, MAHALLE_LOAD_DEMO="false")
            uvicorn.run("api.app:worker_app", factory=True, workers=workers or settings.workers, **bind)
        else:
            uvicorn.run(create_app(settings, database=db), **bind)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        db.close()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
