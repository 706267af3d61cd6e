"""The embedded cluster against a real PostgreSQL + PostGIS (each test starts real servers)."""

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from core import cluster as cluster_module
from core.cluster import (
    SOCKET_NAME,
    SUPERUSER,
    ClusterError,
    EmbeddedCluster,
    find_pg_bin_dir,
    hba_lines,
    postgis_available,
    require_postgis,
    socket_name,
)
from core.roles import APP_ROLE, OWNER_ROLE

pytestmark = pytest.mark.slow


def query(url: str, statement: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def own_folder() -> Iterator[Path]:
    """A folder for a cluster outside pytest's temporary root: each new pytest session resets that root's
    permissions (0700), which would cut the server user off from a cluster of a session still running."""
    folder = Path(tempfile.mkdtemp(prefix="mahalle-test-cluster-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    with own_folder() as folder:
        yield folder


@pytest.fixture(scope="module")
def running() -> Iterator[EmbeddedCluster]:
    """One shared server for tests that only read or make their own databases."""
    with own_folder() as folder, EmbeddedCluster(folder / "data") as server:
        yield server


@pytest.fixture
def fresh(cluster_dir: Path) -> Iterator[EmbeddedCluster]:
    server = EmbeddedCluster(cluster_dir / "data")
    yield server
    server.stop()


def test_serves_postgis_over_the_socket_only(running: EmbeddedCluster) -> None:
    (version,) = query(running.url, "SELECT postgis_full_version()")[0]
    assert "POSTGIS=" in version
    assert query(running.url, "SHOW listen_addresses") == [("",)]
    assert running.socket_dir == running.data_dir / "run"
    assert (running.data_dir / "run" / SOCKET_NAME).is_socket()
    assert running.owns_server and running.is_running()


def test_sqlalchemy_url_connects(running: EmbeddedCluster) -> None:
    engine = sqlalchemy.create_engine(running.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT current_database()")).scalar() == "mahalle"
    finally:
        engine.dispose()


def test_database_copied_from_template(running: EmbeddedCluster) -> None:
    query(running.owner_url, "CREATE TABLE IF NOT EXISTS parcel (id int PRIMARY KEY, geom geometry(Point, 4326))")
    running.create_database("copy_of_mahalle", template="mahalle")
    try:
        copy_url = running.url_for("copy_of_mahalle")
        assert query(copy_url, "SELECT count(*) FROM parcel") == [(0,)]
        assert query(copy_url, "SELECT ST_AsText(ST_MakePoint(1, 2))") == [("POINT(1 2)",)]
    finally:
        running.drop_database("copy_of_mahalle")
    running.drop_database("copy_of_mahalle")  # idempotent
    assert query(running.url, "SELECT count(*) FROM pg_database WHERE datname = 'copy_of_mahalle'") == [(0,)]


def test_second_cluster_on_same_folder_is_refused(running: EmbeddedCluster) -> None:
    intruder = EmbeddedCluster(running.data_dir)
    with pytest.raises(ClusterError, match=re.escape(str(running.data_dir))) as excinfo:
        intruder.start()
    assert "Another Mahalle" in str(excinfo.value)
    assert not intruder.owns_server
    assert query(running.url, "SELECT 1") == [(1,)]


def test_reuse_running_connects_without_owning(running: EmbeddedCluster) -> None:
    guest = EmbeddedCluster(running.data_dir, reuse_running=True)
    guest.start()
    assert not guest.owns_server
    assert query(guest.url, "SELECT current_database()") == [("mahalle",)]
    guest.stop()
    assert running.is_running()
    assert query(running.url, "SELECT 1") == [(1,)]


def test_restart_keeps_data(fresh: EmbeddedCluster) -> None:
    fresh.start()
    query(fresh.owner_url, "CREATE TABLE kept (name text); INSERT INTO kept VALUES ('before restart')")
    fresh.stop()
    assert not fresh.is_running()
    assert not (fresh.pgdata / "postmaster.pid").exists()
    fresh.start()
    assert query(fresh.owner_url, "SELECT name FROM kept") == [("before restart",)]


def test_init_is_idempotent(fresh: EmbeddedCluster) -> None:
    fresh.init()
    fresh.init()
    assert (fresh.pgdata / "PG_VERSION").is_file()
    assert (fresh.pgdata / "postgresql.conf").read_text().count("mahalle.conf") == 1
    assert f'"{fresh.socket_dir}"' in (fresh.pgdata / "mahalle.conf").read_text()
    if os.geteuid() == 0:  # the server runs as postgres, so it must own its folders
        assert (fresh.pgdata.owner(), fresh.socket_dir.owner()) == ("postgres", "postgres")


def test_stale_pid_file_with_dead_pid_is_recovered(fresh: EmbeddedCluster, caplog: pytest.LogCaptureFixture) -> None:
    fresh.start()
    fresh.stop()
    # What a crash or a killed container leaves behind.
    (fresh.pgdata / "postmaster.pid").write_text(f"999999\n{fresh.pgdata}\n")
    (fresh.socket_dir / f"{SOCKET_NAME}.lock").write_text("999999\n")
    with caplog.at_level(logging.INFO, logger="mahalle.cluster"):
        fresh.start()
    assert "stale postmaster.pid" in caplog.text
    assert query(fresh.url, "SELECT 1") == [(1,)]


def test_stale_pid_file_with_reused_pid_is_recovered(fresh: EmbeddedCluster) -> None:
    # After a restart the old pid often belongs to an unrelated live process.
    fresh.start()
    fresh.stop()
    other = subprocess.Popen(["sleep", "60"])
    try:
        (fresh.pgdata / "postmaster.pid").write_text(f"{other.pid}\n{fresh.pgdata}\n")
        fresh.start()
        assert query(fresh.url, "SELECT 1") == [(1,)]
        assert other.poll() is None  # left alone
    finally:
        other.kill()
        other.wait()


def test_restart_after_postmaster_was_killed(fresh: EmbeddedCluster) -> None:
    fresh.start()
    pid = fresh.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # a crash: postmaster.pid and the socket lock stay behind
    deadline = time.monotonic() + 10
    while fresh.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (fresh.pgdata / "postmaster.pid").exists()
    fresh.stop()  # knows the server is gone
    fresh.start()
    assert fresh.owns_server
    assert query(fresh.url, "SELECT 1") == [(1,)]


def test_context_manager_starts_and_stops(cluster_dir: Path) -> None:
    with EmbeddedCluster(cluster_dir / "data", database="plans") as server:
        assert query(server.url, "SELECT current_database()") == [("plans",)]
    assert not server.is_running()
    server.stop()  # idempotent


def test_long_data_path_puts_socket_under_tmp(cluster_dir: Path) -> None:
    deep = cluster_dir.joinpath(*["a-rather-long-folder-name"] * 4) / "data"
    server = EmbeddedCluster(deep)
    assert len(os.fsencode(deep / "run" / SOCKET_NAME)) > 107
    assert server.socket_fallback
    assert re.fullmatch(r"/tmp/mahalle-[0-9a-f]{8}", str(server.socket_dir))
    try:
        server.start()
        assert (server.socket_dir / SOCKET_NAME).is_socket()
        assert query(server.url, "SELECT postgis_version() IS NOT NULL") == [(True,)]
    finally:
        server.stop()
        shutil.rmtree(server.socket_dir, ignore_errors=True)


def test_find_pg_bin_dir_finds_server_binaries() -> None:
    bin_dir = find_pg_bin_dir()
    for name in ("initdb", "pg_ctl", "postgres"):
        assert (bin_dir / name).is_file()
    assert find_pg_bin_dir(bin_dir) == bin_dir


def test_find_pg_bin_dir_rejects_a_wrong_explicit_folder(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="apt-get install -y postgresql postgresql-"):
        find_pg_bin_dir(tmp_path)


def test_missing_binaries_message_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine without PostgreSQL: nothing on PATH and no Debian install folder.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cluster_module, "DEBIAN_PG_ROOT", tmp_path)
    with pytest.raises(ClusterError) as excinfo:
        find_pg_bin_dir()
    message = str(excinfo.value)
    assert "PostgreSQL server binaries" in message
    assert "apt-get install -y postgresql postgresql-<version>-postgis-3" in message
    assert "apt-cache policy postgresql" in message


def test_postgis_detection(tmp_path: Path) -> None:
    assert postgis_available(find_pg_bin_dir())
    missing = tmp_path / "99" / "bin"
    missing.mkdir(parents=True)
    assert not postgis_available(missing)
    with pytest.raises(ClusterError, match=re.escape("apt-get install -y postgresql-99-postgis-3")):
        require_postgis(missing)


def test_the_app_connects_as_a_role_without_rights_on_the_host(running: EmbeddedCluster) -> None:
    """The embedded cluster makes an owner for the schema and an application role that can do neither DDL nor
    anything a superuser can; the superuser is only used to set them up."""
    rows = query(running.url, "SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    assert rows == [("mahalle_app", False, False)]
    assert query(running.owner_url, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user") == [
        ("mahalle_owner", False)
    ]
    assert query(
        running.url_for("postgres"), "SELECT datdba::regrole::text FROM pg_database WHERE datname = 'mahalle'"
    ) == [("mahalle_owner",)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        query(running.url, "COPY (SELECT 1) TO PROGRAM 'true'")


# --- TCP with scram passwords (MAHALLE_DB_LISTEN) ---------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_listens_on_tcp_for_roles_with_a_scram_password_only(cluster_dir: Path) -> None:
    port = free_port()
    server = EmbeddedCluster(cluster_dir / "data", listen=f"127.0.0.1:{port}")
    assert server.listening == ("127.0.0.1", port)
    try:
        server.start()
        assert (server.socket_dir / socket_name(port)).is_socket()  # the socket file follows the port
        admin = server.url_for("postgres")
        assert f"port={port}" in admin
        assert query(admin, "SHOW listen_addresses") == [("127.0.0.1",)]
        assert query(admin, "SHOW password_encryption") == [("scram-sha-256",)]
        query(admin, "CREATE ROLE mahalle_u_test LOGIN PASSWORD 'kaf:sh/8@?'")
        query(admin, "GRANT CONNECT ON DATABASE mahalle TO mahalle_u_test")
        (secret,) = query(admin, "SELECT rolpassword FROM pg_authid WHERE rolname = 'mahalle_u_test'")[0]
        assert secret.startswith("SCRAM-SHA-256$")

        tcp = server.tcp_url_for("mahalle", "mahalle_u_test", "kaf:sh/8@?")
        assert tcp == f"postgresql://mahalle_u_test:kaf%3Ash%2F8%40%3F@127.0.0.1:{port}/mahalle"
        assert query(tcp, "SELECT current_user, inet_server_port()") == [("mahalle_u_test", port)]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            query(server.tcp_url_for("mahalle", "mahalle_u_test", "wrong"), "SELECT 1")
        # The shared and privileged roles are refused over TCP whatever the password (they have none).
        for role in (APP_ROLE, OWNER_ROLE, SUPERUSER):
            with pytest.raises(psycopg.OperationalError, match="rejects connection"):
                query(server.tcp_url_for("mahalle", role, "anything"), "SELECT 1")
        # The Unix socket works as before, for the application role and the superuser.
        assert query(server.url, "SELECT current_user") == [(APP_ROLE,)]
        assert query(admin, "SELECT current_user") == [(SUPERUSER,)]
        # Another process without the setting that shares this server follows its actual port.
        guest = EmbeddedCluster(cluster_dir / "data", reuse_running=True)
        guest.start()
        assert guest.listening == ("127.0.0.1", port)
        assert query(guest.url, "SELECT inet_server_port()") == [(None,)]  # a Unix-socket connection
        guest.stop()
    finally:
        server.stop()

    # Turned off for the next start: the rewritten configuration opens no TCP port and has no host lines.
    EmbeddedCluster(cluster_dir / "data").init()
    conf = (server.pgdata / "mahalle.conf").read_text()
    assert "listen_addresses = ''" in conf and "port = 5432" in conf
    hba = [line for line in (server.pgdata / "pg_hba.conf").read_text().splitlines() if not line.startswith("#")]
    assert [line.split()[0] for line in hba] == ["local", "local"]


def test_tcp_urls_name_this_machine_for_a_wildcard_listen(tmp_path: Path) -> None:
    server = EmbeddedCluster(tmp_path / "data", listen="0.0.0.0:5433")
    name = socket.gethostname()
    assert server.listening == ("0.0.0.0", 5433)
    assert (
        server.tcp_url_for("mahalle", "mahalle_u_ana", "p w") == f"postgresql://mahalle_u_ana:p%20w@{name}:5433/mahalle"
    )
    assert server.tcp_url_for("x", "u", "p", host="gis.example.org") == "postgresql://u:p@gis.example.org:5433/x"
    assert "port=5433" in server.url and "port=5433" in server.sqlalchemy_url
    for listen in ("*:5433", "[::]:5433"):
        assert f"@{name}:5433/" in EmbeddedCluster(tmp_path / "data", listen=listen).tcp_url_for("d", "u", "p")
    assert EmbeddedCluster(tmp_path / "data", listen="[::1]:6000").tcp_url_for("d", "u", "p") == (
        "postgresql://u:p@[::1]:6000/d"
    )
    plain = EmbeddedCluster(tmp_path / "data")
    assert plain.listening is None and "port=5432" in plain.url
    with pytest.raises(ClusterError, match="MAHALLE_DB_LISTEN"):
        plain.tcp_url_for("mahalle", "u", "p")
    with pytest.raises(ClusterError, match="port"):
        EmbeddedCluster(tmp_path / "data", listen="0.0.0.0:0")


def test_hba_refuses_the_shared_roles_before_allowing_scram() -> None:
    lines = [line.split() for line in hba_lines(listening=True) if not line.startswith("#")]
    assert lines[2] == ["host", "all", f"{SUPERUSER},{OWNER_ROLE},{APP_ROLE}", "all", "reject"]
    assert lines[3] == ["host", "all", "all", "all", "scram-sha-256"]
    assert not [line for line in hba_lines(listening=False) if line.startswith("host")]
