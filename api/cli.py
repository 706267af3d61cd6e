"""The ``mahalle`` command line: serve, db, layer, history, demo."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api import cli_planning, cli_transfer
from api.runtime import Database, PrivilegedRole, load_demo_if_empty, open_database, upgrade_database
from core.cluster import ClusterError
from core.db import attributed, connect
from core.errors import MahalleError
from core.settings import Settings
from layers import custom, history, migrate
from layers.catalogue import load_catalogue
from layers.counts import feature_counts
from layers.spec import SpecError

app = typer.Typer(
    help="Mahalle: GIS planning and asset mapping for neighbourhood regeneration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: migrations and status.", no_args_is_help=True)
layer_app = typer.Typer(help="Layers of the catalogue, and custom layers.", no_args_is_help=True)
history_app = typer.Typer(help="A feature's history; restoring earlier versions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layer_app, name="layer")
app.add_typer(history_app, name="history")
cli_transfer.register(app)
cli_planning.register(app)
console = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


@contextmanager
def database(upgrade: bool = True) -> Iterator[Database]:
    """The configured database; the embedded cluster is reused if a running Mahalle already owns it."""
    try:
        db = open_database(Settings(), upgrade=upgrade, reuse_running=True)
    except (ClusterError, PrivilegedRole) as exc:
        raise _fail(str(exc)) from exc
    try:
        yield db
    except (MahalleError, SpecError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        db.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (MAHALLE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MAHALLE_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Server processes (MAHALLE_WORKERS)")] = None,
) -> None:
    """Start Mahalle (and its embedded PostGIS when no MAHALLE_DATABASE_URL is set)."""
    import uvicorn

    from api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    try:
        db = open_database(settings)
    except (ClusterError, PrivilegedRole) as exc:
        raise _fail(str(exc)) from exc
    try:
        load_demo_if_empty(settings, db.url)
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


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    with database(upgrade=False) as db:
        upgrade_database(db, revision)
        console.print(f"database at revision {migrate.current_revision(db.migration_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = "base") -> None:
    """Undo migrations down to REVISION (default: base, an empty database)."""
    with database(upgrade=False) as db:
        upgrade_database(db, revision, down=True)
        console.print(f"database at revision {migrate.current_revision(db.migration_url) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the latest one."""
    with database(upgrade=False) as db:
        console.print(f"current: {migrate.current_revision(db.url) or 'base'}  head: {migrate.head_revision()}")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (for psql or QGIS)."""
    with database(upgrade=False) as db:
        console.print(db.url, soft_wrap=True)


@app.command("demo")
def demo() -> None:
    """Load the demo neighbourhood into an empty database."""
    from importers.demo import load_demo

    with database() as db:
        loaded = load_demo(db.url)
        console.print("demo loaded" if loaded else "the database already has data; demo not loaded")


@layer_app.command("list")
def layer_list() -> None:
    """List every layer with its geometry type and number of features."""
    with database() as db, connect(db.url) as conn:
        cat = load_catalogue(conn)
        counts = feature_counts(conn, cat)
    table = Table("layer", "kind", "geometry", "attributes", "features")
    for layer in cat:
        table.add_row(
            layer.name, layer.kind, layer.geometry_type or "-", str(len(layer.attributes)), f"{counts[layer.name]:,}"
        )
    console.print(table)


@layer_app.command("create")
def layer_create(
    definition: Annotated[Path | None, typer.Argument(help="JSON file with name, geometry_type, attributes")] = None,
    name: Annotated[str | None, typer.Option(help="Layer name (a-z, 0-9, _)")] = None,
    geometry: Annotated[str | None, typer.Option(help="Point, MultiLineString, MultiPolygon")] = None,
    attr: Annotated[list[str] | None, typer.Option(help="name:type[:value1|value2…], repeatable")] = None,
    title: Annotated[str | None, typer.Option(help="Title shown to people")] = None,
) -> None:
    """Create a custom layer, from a JSON definition or from options."""
    if definition:
        data = json.loads(definition.read_text(encoding="utf-8"))
    elif name:
        data = {
            "name": name,
            "geometry_type": geometry,
            "title": title or None,
            "attributes": [_parse_attr(a) for a in attr or []],
        }
    else:
        raise _fail("give a JSON definition file or --name")
    with database() as db, connect(db.url) as conn, attributed(conn, Settings().default_actor):
        layer = custom.create_custom_layer(conn, custom.layer_from_definition(data))
    console.print(
        f"created layer [bold]{layer.name}[/] ({layer.geometry_type or 'table'}, {len(layer.attributes)} attributes)"
    )


def _parse_attr(text: str) -> dict[str, object]:
    name, _, rest = text.partition(":")
    kind, _, values = rest.partition(":")
    out: dict[str, object] = {"name": name, "type": kind or "text"}
    if values:
        out["choices"] = values.split("|")
    return out


@layer_app.command("drop")
def layer_drop(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False) -> None:
    """Drop a custom layer (its history is kept)."""
    if not yes:
        typer.confirm(f"Drop layer {name} and all its features?", abort=True)
    with database() as db, connect(db.url) as conn:
        custom.drop_custom_layer(conn, name)
        conn.commit()
    console.print(f"dropped layer {name}")


@history_app.command("show")
def history_show(layer: str, feature_id: int) -> None:
    """Show every change of one feature."""
    with database() as db, connect(db.url) as conn:
        rows = history.feature_history(conn, layer, feature_id)
    table = Table("version", "operation", "who", "when", "cause", "changed")
    for r in rows:
        before, after = r["before"] or {}, r["after"] or {}
        changed = sorted(
            k
            for k in set(before) | set(after)
            if before.get(k) != after.get(k) and k not in ("version", "updated_at", "updated_by")
        )
        table.add_row(
            str(r["version"]),
            r["operation"],
            r["actor"],
            r["at"].isoformat(timespec="seconds"),
            r["cause"] or "",
            ", ".join(changed) if r["operation"] == "UPDATE" else "",
        )
    console.print(table)


@history_app.command("restore")
def history_restore(
    layer: str,
    feature_id: int,
    version: Annotated[int | None, typer.Option(help="Version to restore; default: undelete")] = None,
) -> None:
    """Restore a deleted feature, or an earlier version of it."""
    with database() as db, connect(db.url) as conn, attributed(conn, Settings().default_actor):
        new_version = history.restore(conn, layer, feature_id, version)
    console.print(f"{layer} feature {feature_id} restored; it is now at version {new_version}")
