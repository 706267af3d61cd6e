"""``mahalle user …`` and ``mahalle token …`` end to end, against a copy of the demo database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from api.cli import base
from api.identity import db_login, store
from api.identity.principal import Credentials, bind
from api.runtime import Database
from core.cluster import EmbeddedCluster
from core.db import with_role
from core.roles import OWNER_ROLE
from tests.api.cli.runner import cli


@pytest.fixture
def admin_url(pg_server, demo_db_url) -> str:
    """The demo copy as the superuser (roles, pg_authid)."""
    return pg_server.admin(conninfo_to_dict(demo_db_url)["dbname"])


@pytest.fixture
def conn(demo_db_url):
    with psycopg.connect(demo_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def code(conn) -> str:
    return conn.execute("SELECT code FROM neighbourhoods ORDER BY id LIMIT 1").fetchone()[0]


@pytest.fixture
def names(admin_url):
    """Unique user names (database logins are server-wide); their logins are dropped after the test."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(f"{prefix}-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield make
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in made:
            db_login.drop_login(admin, db_login.LOGIN_PREFIX + name)


@pytest.fixture
def run(demo_db_url, admin_url, monkeypatch):
    monkeypatch.setenv("MAHALLE_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MAHALLE_MIGRATION_DATABASE_URL", with_role(demo_db_url, OWNER_ROLE))
    monkeypatch.setenv("MAHALLE_ROLES_DATABASE_URL", admin_url)
    monkeypatch.setenv("MAHALLE_CLI_ACTOR", "cli:tester")
    monkeypatch.setattr(base.console, "width", 250)  # tables unwrapped, one row a line
    return cli()


def last_line(result) -> str:
    return result.output.rstrip("\n").splitlines()[-1]


def test_user_add_list_role_remove(run, conn, code, names):
    alice, bob = names("alice"), names("bob")
    add = ("user", "add", alice, "--role", "planner", "-n", code, "--full-name", "Alice Ahmadi", "--password-stdin")
    out = run(*add, stdin="correct horse battery\n").output
    assert f"planner · {code}" in out and "correct horse" not in out
    assert store.check_login(conn, alice, "correct horse battery")
    generated = last_line(run("user", "add", bob, "--role", "viewer"))
    assert store.check_login(conn, bob, generated)

    listed = run("user", "list").output
    assert alice in listed and "Alice Ahmadi" in listed and f"planner · {code}" in listed and "viewer · all" in listed
    assert conn.execute("SELECT created_by FROM mahalle.users WHERE name = %s", (alice,)).fetchone()[0] == "cli:tester"

    assert f"planner · {code}, viewer · all" in run("user", "role", alice, "--role", "viewer").output
    assert "viewer · all" in run("user", "role", alice, "--role", "planner", "-n", code, "--revoke").output
    assert f"{alice}: field · {code}" in run("user", "role", alice, "--role", "field", "-n", code, "--replace").output
    assert f"{alice}: none" in run("user", "role", alice, "--role", "field", "--revoke").output

    assert f"removed user {bob}" in run("user", "remove", bob).output
    assert bob not in run("user", "list").output
    audit = "SELECT event FROM mahalle.audit_log WHERE user_name IN (%s, %s) ORDER BY id"
    events = [r[0] for r in conn.execute(audit, (alice, bob))]
    assert events.count("user_added") == 2 and events.count("user_changed") == 4 and "user_removed" in events


def test_user_password(run, conn, names):
    alice = names("alice")
    run("user", "add", alice, "--role", "viewer", "--password-stdin", stdin="first password 1\n")
    run("user", "password", alice, "--password-stdin", stdin="second password 2\r\n")
    assert store.check_login(conn, alice, "second password 2")
    assert not store.check_login(conn, alice, "first password 1")
    generated = last_line(run("user", "password", alice))
    assert store.check_login(conn, alice, generated) and len(generated) >= 10


def test_tokens(run, conn, names):
    alice = names("alice")
    run("user", "add", alice, "--role", "planner")
    result = run("token", "create", alice, "--label", "nightly export", "--days", "30")
    token = last_line(result)
    assert token.startswith(store.TOKEN_PREFIX) and result.output.count(token) == 1
    row = conn.execute(
        "SELECT u.name, t.label, t.expires_at FROM mahalle.api_tokens t JOIN mahalle.users u ON u.id = t.user_id "
        "WHERE t.secret_sha256 = %s",
        (store.digest(token),),
    ).fetchone()
    assert row[0] == alice and row[1] == "nightly export"
    assert abs(row[2] - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert bind(conn, Credentials(token=token)).name == alice

    second = last_line(run("token", "create", alice))
    listed = run("token", "list", alice).output
    prefix = store.token_prefix(token)
    assert prefix in listed and store.token_prefix(second) in listed and "nightly export" in listed
    assert token.split("_", 2)[2][:12] not in listed and second.split("_", 2)[2][:12] not in listed
    assert "2" in run("user", "list").output.split(alice, 1)[1].splitlines()[0]  # two live tokens

    assert f"token {prefix} of {alice} revoked" in run("token", "revoke", prefix).output
    assert bind(conn, Credentials(token=token)).invalid
    run("token", "revoke", second)
    assert bind(conn, Credentials(token=second)).invalid
    assert run("token", "list").output.count("revoked") == 2
    assert "no such token" in run("token", "revoke", "deadbeef", ok=False).output


def test_db_login(run, conn, admin_url, names):
    alice = names("alice")
    role = db_login.LOGIN_PREFIX + alice
    run("user", "add", alice, "--role", "viewer")
    url = last_line(run("user", "db-login", alice))
    assert url.startswith(f"postgresql://{role}:")
    with psycopg.connect(url) as own:
        assert own.execute("SELECT current_user, mahalle.actor()").fetchone() == (role, alice)
    assert conn.execute("SELECT db_login FROM mahalle.users WHERE name = %s", (alice,)).fetchone()[0] == role
    with psycopg.connect(admin_url) as admin:
        first = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0]
        assert first.startswith("SCRAM-SHA-256$")
        assert admin.execute(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls, rolconnlimit, "
            "pg_has_role(oid, 'mahalle_login', 'MEMBER') FROM pg_roles WHERE rolname = %s",
            (role,),
        ).fetchone() == (False, 10, True)

    again = last_line(run("user", "db-login", alice))  # a new password each time
    assert again != url and again.startswith(f"postgresql://{role}:")
    with psycopg.connect(admin_url) as admin:
        assert admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0] != first
    audit = "SELECT detail FROM mahalle.audit_log WHERE event = 'db_login' AND user_name = %s ORDER BY id"
    details = [r[0] for r in conn.execute(audit, (alice,))]
    assert details == [f"database login {role} created", f"database login {role} password renewed"]

    out = run("user", "remove", alice).output
    assert f"dropped their database login {role}" in out
    with psycopg.connect(admin_url) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None


def test_db_login_without_a_roles_connection(run, conn, admin_url, names, monkeypatch):
    alice = names("alice")
    role = db_login.LOGIN_PREFIX + alice
    run("user", "add", alice, "--role", "viewer")
    run("user", "db-login", alice)
    monkeypatch.delenv("MAHALLE_ROLES_DATABASE_URL")
    assert "MAHALLE_ROLES_DATABASE_URL" in run("user", "db-login", alice, ok=False).output
    out = run("user", "remove", alice).output
    assert f"database login {role} remains" in out and "DROP ROLE" in out
    with psycopg.connect(admin_url) as admin:  # still there, for an administrator to drop
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def test_bad_input(run, code, names):
    alice = names("alice")
    run("user", "add", alice, "--role", "viewer")
    cases = [
        (("user", "add", names("x"), "--role", "boss"), "is not a role"),
        (("user", "add", names("x"), "--role", "planner", "-n", "NOWHERE"), "no neighbourhood with the code 'NOWHERE'"),
        (("user", "add", "Not A Name", "--role", "viewer"), "cannot be a user name"),
        (("user", "add", alice, "--role", "viewer"), "already a user named"),
        (("user", "role", "nobody", "--role", "viewer"), "no user named 'nobody'"),
        (("user", "role", alice, "--role", "viewer", "--revoke", "--replace"), "not both"),
        (("user", "role", alice, "--role", "planner", "-n", "NOWHERE"), "no neighbourhood"),
        (("user", "remove", "nobody"), "no user named"),
        (("user", "password", "nobody"), "no user named"),
        (("user", "db-login", "nobody"), "no user named"),
        (("token", "create", "nobody"), "no user named"),
        (("token", "create", alice, "--days", "0"), "between 1 and 3650 days"),
    ]
    for args, message in cases:
        assert message in run(*args, ok=False).output, args
    short = run("user", "add", names("x"), "--role", "viewer", "--password-stdin", stdin="short\n", ok=False)
    assert "at least 10 characters" in short.output
    assert "at least 10" in run("user", "password", alice, "--password-stdin", stdin="tiny\n", ok=False).output
    assert "nothing to read" in run("user", "password", alice, "--password-stdin", stdin="", ok=False).output


def test_connection_urls(tmp_path):
    """Over TCP when the embedded cluster listens, else its socket; an external database's host and port."""
    listening = EmbeddedCluster(tmp_path / "a", database="mahalle", listen="192.0.2.7:5433")
    assert db_login.connection_url(Database("x", listening), "mahalle_u_a", "p w/@") == (
        "postgresql://mahalle_u_a:p%20w%2F%40@192.0.2.7:5433/mahalle"
    )
    socket_only = EmbeddedCluster(tmp_path / "b", database="mahalle")
    url = db_login.connection_url(Database("x", socket_only), "mahalle_u_a", "secret")
    parts = {"user": "mahalle_u_a", "password": "secret", "dbname": "mahalle"}
    assert conninfo_to_dict(url) == {**parts, "host": str(socket_only.socket_dir), "port": str(socket_only.port)}
    external = Database("postgresql://mahalle_app:apppw@db.example.org:6432/mahalle?sslmode=require")
    assert db_login.connection_url(external, "mahalle_u_a", "secret") == (
        "postgresql://mahalle_u_a:secret@db.example.org:6432/mahalle?sslmode=require"
    )
    assert (
        db_login.with_credentials("host=::1 port=5432 dbname=m user=app", "u", "s") == "postgresql://u:s@[::1]:5432/m"
    )
