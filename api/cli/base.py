"""What every ``mahalle`` command shares: the typer app, the consoles, failing with a message, the database.

The command modules (``api/cli/*.py``) register on ``app``; this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from core.cluster import ClusterError
from core.errors import MahalleError
from core.settings import Settings
from layers.spec import SpecError

if TYPE_CHECKING:
    from api.runtime import Database

app = typer.Typer(
    help="Mahalle: GIS planning and asset mapping for neighbourhood regeneration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


@contextmanager
def database(upgrade: bool = True) -> Iterator[Database]:
    """The configured database; the embedded cluster is reused if a running Mahalle already owns it."""
    from api.runtime import PrivilegedRole, open_database  # alembic: only for the commands that open the database

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
