"""``mahalle history …``: a feature's changes, and restoring an earlier version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.base import app, console, database
from core.db import attributed, connect
from core.settings import Settings, cli_actor
from layers import history

history_app = typer.Typer(help="A feature's history; restoring earlier versions.", no_args_is_help=True)
app.add_typer(history_app, name="history")


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
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        new_version = history.restore(conn, layer, feature_id, version)
    console.print(f"{layer} feature {feature_id} restored; it is now at version {new_version}")
