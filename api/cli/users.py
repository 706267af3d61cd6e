"""``mahalle user …`` and ``mahalle token …``: people, their roles per neighbourhood, API tokens and their own
database logins (for QGIS). The rules the roles stand for live in the database (layers/sql/identity.sql)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.base import _fail, app, console, database
from api.identity import db_login, passwords, store
from core.db import attributed, connect
from core.errors import MahalleError
from core.settings import Settings, cli_actor

user_app = typer.Typer(
    help="Users, their roles per neighbourhood, passwords and database logins.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (for scripts and other systems).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

RoleOption = Annotated[str, typer.Option("--role", help="admin, planner, field or viewer")]
NeighbourhoodOption = Annotated[
    list[str] | None,
    typer.Option("--neighbourhood", "-n", help="A neighbourhood code, repeatable; none: every neighbourhood"),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (one line); else one is generated")
]


def _grants(role: str, neighbourhoods: list[str] | None) -> list[store.Grant]:
    if role not in store.ROLES:
        raise _fail(f"{role!r} is not a role; the roles are {', '.join(store.ROLES)}")
    return [store.Grant(role, code) for code in neighbourhoods] if neighbourhoods else [store.Grant(role)]


def _read_password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise _fail("--password-stdin: nothing to read on stdin")
    password = line.rstrip("\n").rstrip("\r")
    try:
        passwords.check(password)
    except MahalleError as exc:
        raise _fail(str(exc)) from None
    return password


def _check_name(name: str) -> str:
    try:
        return store.check_name(name)
    except MahalleError as exc:
        raise _fail(str(exc)) from None


def roles_text(roles: list[dict[str, Any]]) -> str:
    """``planner · N01, viewer · all``; ``none`` without roles."""
    return ", ".join(f"{r['role']} · {r['neighbourhood'] or 'all'}" for r in roles) or "none"


def _user(conn, name: str) -> dict[str, Any]:
    for user in store.list_users(conn):
        if user["name"] == name:
            return user
    raise _fail(f"there is no user named {name!r}")


# --- users -------------------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    name: str,
    role: RoleOption,
    neighbourhood: NeighbourhoodOption = None,
    full_name: Annotated[str | None, typer.Option("--full-name", help="The person's name as shown")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user with a role (in the given neighbourhoods, or in every neighbourhood)."""
    _check_name(name)
    grants = _grants(role, neighbourhood)
    password = _read_password() if password_stdin else passwords.new_password()
    with database() as db, connect(db.url) as conn:
        with attributed(conn, cli_actor(Settings())):
            store.add_user(conn, name, grants, password=password, full_name=full_name)
        roles = roles_text(_user(conn, name)["roles"])
    console.print(f"added user [bold]{escape(name)}[/] ({escape(roles)})")
    if not password_stdin:
        console.print("their password, shown once:")
        typer.echo(password)


@user_app.command("role")
def user_role(
    name: str,
    role: RoleOption,
    neighbourhood: NeighbourhoodOption = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the role away (everywhere, without -n)")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="This role instead of every role they had")] = False,
) -> None:
    """Grant a role (default), revoke it, or replace all of a user's roles; applies from their next request."""
    if revoke and replace:
        raise _fail("give --revoke or --replace, not both")
    grants = _grants(role, neighbourhood)
    with database() as db, connect(db.url) as conn:
        with attributed(conn, cli_actor(Settings())):
            store.change_roles(conn, name, grants, revoke=revoke, replace=replace)
        roles = roles_text(_user(conn, name)["roles"])
    console.print(f"{escape(name)}: {escape(roles)}")


@user_app.command("list")
def user_list() -> None:
    """List the users with their roles, last login, database login and live API tokens."""
    with database() as db, connect(db.url) as conn:
        users = store.list_users(conn)
    table = Table("name", "full name", "roles", "active", "last login", "database login", "tokens")
    for u in users:
        table.add_row(
            escape(u["name"]),
            escape(u["full_name"] or ""),
            escape(roles_text(u["roles"])),
            "yes" if u["active"] else "no",
            store.when(u["last_login"]),
            escape(u["db_login"] or ""),
            str(u["tokens"]),
        )
    console.print(table)


@user_app.command("remove")
def user_remove(name: str) -> None:
    """Remove a user: their sessions, tokens and database login go; the history keeps their name."""
    settings = Settings()
    with database() as db, connect(db.url) as conn:
        with attributed(conn, cli_actor(settings)):
            login = store.remove_user(conn, name)
        console.print(f"removed user [bold]{escape(name)}[/]")
        if login:
            url = db_login.roles_url(db, settings)
            if url is None:
                console.print(
                    f"their database login {login} remains ({db_login.NO_ROLES_CONNECTION}). "
                    f"{db_login.drop_hint(login)}",
                    markup=False,
                )
                return
            with db_login.connect_roles(url) as admin:
                db_login.drop_login(admin, login)
            console.print(f"dropped their database login {escape(login)}")


@user_app.command("password")
def user_password(name: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password (from stdin, or a generated one shown once); logs them out everywhere."""
    password = _read_password() if password_stdin else passwords.new_password()
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        store.set_password(conn, name, password)
    console.print(f"password of [bold]{escape(name)}[/] changed; their web sessions are closed")
    if not password_stdin:
        console.print("the new password, shown once:")
        typer.echo(password)


@user_app.command("db-login")
def user_db_login(name: str) -> None:
    """Create the user's own PostgreSQL login (or give it a new password) and print its URL, for QGIS."""
    _check_name(name)
    settings = Settings()
    with database() as db:
        with (
            connect(db.url) as conn,
            db_login.connect_roles(db_login.roles_url(db, settings)) as admin,
            attributed(conn, cli_actor(settings)),
        ):
            role, password = db_login.ensure_login(conn, admin, name)
        url = db_login.connection_url(db, role, password)
        socket_only = db.cluster is not None and not db.cluster.listening
    console.print(
        f"database login [bold]{escape(role)}[/] of {escape(name)}: its password is in the URL below, shown once "
        "(run this again for a new one)."
    )
    console.print(
        f"It reads and changes what {escape(name)}'s roles allow, and its edits are recorded as {escape(name)}. "
        "In QGIS: a new PostGIS connection with this host, port, database, user and password."
    )
    if socket_only:
        console.print(
            "The embedded cluster listens on its Unix socket only (QGIS on this machine): for QGIS on another desk "
            "set MAHALLE_DB_LISTEN=HOST:PORT and restart."
        )
    typer.echo(url)


# --- tokens ------------------------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    name: str,
    label: Annotated[str | None, typer.Option("--label", help="What the token is for")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Days until it expires (default: never)")] = None,
) -> None:
    """Create an API token for a user; it is printed once, alone on the last line."""
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        token = store.create_token(conn, name, label=label, days=days)
    prefix = store.token_prefix(token)
    expiry = f"expires in {days} days" if days else "does not expire"
    console.print(
        f"API token {prefix} of {escape(name)} ({expiry}); it acts with their roles. Send it as "
        "'Authorization: Bearer <token>'. It is shown once; revoke it with `mahalle token revoke "
        f"{prefix}`:"
    )
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token: Annotated[str, typer.Argument(help="The whole token, or its prefix")]) -> None:
    """Revoke an API token, given whole or by its prefix."""
    with database() as db, connect(db.url) as conn, attributed(conn, cli_actor(Settings())):
        owner = store.revoke_token(conn, token)
    console.print(f"token {escape(store.token_prefix(token))} of {escape(owner)} revoked")


@token_app.command("list")
def token_list(name: Annotated[str | None, typer.Argument(help="Only this user's tokens")] = None) -> None:
    """List API tokens (prefixes only, never the secrets)."""
    with database() as db, connect(db.url) as conn:
        tokens = store.list_tokens(conn, name)
    table = Table("user", "prefix", "label", "created", "expires", "last used", "state")
    now = datetime.now(UTC)
    for t in tokens:
        expired = t["expires_at"] is not None and t["expires_at"] <= now
        state = "revoked" if t["revoked_at"] else "expired" if expired else "live"
        table.add_row(
            escape(t["name"]),
            t["prefix"],
            escape(t["label"] or ""),
            store.when(t["created_at"]),
            store.when(t["expires_at"]) or "never",
            store.when(t["last_used_at"]),
            state,
        )
    console.print(table)
