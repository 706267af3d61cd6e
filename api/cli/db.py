"""``mahalle db …`` (migrations and status) and ``mahalle demo`` (the demo data into an empty database)."""

from __future__ import annotations

import typer

from api.cli.base import app, console, database

db_app = typer.Typer(help="The database: migrations and status.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command("demo")
def demo() -> None:
    """Load the demo neighbourhood into an empty database."""
    from importers.demo import load_demo

    with database() as db:
        loaded = load_demo(db.url)
        console.print("demo loaded" if loaded else "the database already has data; demo not loaded")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from api.runtime import upgrade_database  # alembic, for the commands that migrate
    from layers import migrate

    with database(upgrade=False) as db:
        upgrade_database(db, revision)
        console.print(f"database at revision {migrate.current_revision(db.migration_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = "base") -> None:
    """Undo migrations down to REVISION (default: base, an empty database)."""
    from api.runtime import upgrade_database  # alembic, for the commands that migrate
    from layers import migrate

    with database(upgrade=False) as db:
        upgrade_database(db, revision, down=True)
        console.print(f"database at revision {migrate.current_revision(db.migration_url) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the latest one."""
    from layers import migrate

    with database(upgrade=False) as db:
        console.print(f"current: {migrate.current_revision(db.url) or 'base'}  head: {migrate.head_revision()}")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (for psql or QGIS)."""
    with database(upgrade=False) as db:
        console.print(db.url, soft_wrap=True)
