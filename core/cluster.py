"""The private PostgreSQL + PostGIS cluster Mahalle runs itself when MAHALLE_DATABASE_URL is unset.

Layout inside the data folder::

    pg/     PGDATA (owned by the server user, mode 0700)
    run/    Unix socket directory (.s.PGSQL.<port>, 5432 by default)
    log/    postgres.log, written by pg_ctl as the server user

By default only the Unix socket is used, so two checkouts never fight over a port, and ``trust``
authentication is safe: the socket directory is mode 0700 and owned by the server user.

With ``MAHALLE_DB_LISTEN=HOST:PORT`` the server also listens on TCP (for QGIS on another desk): its ``port`` is
that PORT (so the socket file is ``.s.PGSQL.<that port>``), and pg_hba.conf lets only roles with a scram-sha-256
password log in over TCP; the superuser, the owner and the application role are always refused there.

PostgreSQL refuses to run as root, so under root every server command runs as ``postgres``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg

from core import databases
from core.roles import APP_ROLE, OWNER_ROLE
from core.settings import parse_db_listen

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger("mahalle.cluster")

SUPERUSER = "mahalle"
PORT = 5432
SOCKET_NAME = f".s.PGSQL.{PORT}"
# sockaddr_un.sun_path is 108 bytes including the trailing NUL.
MAX_SOCKET_PATH = 107
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
CONF_NAME = "mahalle.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_NAME}'"
HBA_NAME = "pg_hba.conf"
# Listen hosts that mean "every address": a client needs this machine's name instead.
WILDCARD_HOSTS = ("*", "0.0.0.0", "::")
# Sized for a small server (2 cores, 24 GB): generous caches, a modest shared_buffers.
# listen_addresses and port are the defaults without MAHALLE_DB_LISTEN (no TCP at all).
SERVER_SETTINGS = {
    "listen_addresses": "''",
    "port": str(PORT),
    "password_encryption": "'scram-sha-256'",
    "unix_socket_permissions": "0777",
    "max_connections": "100",
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "max_parallel_workers_per_gather": "1",
}


class ClusterError(RuntimeError):
    """The embedded cluster cannot be found, prepared, started or stopped."""


# --- locating the server binaries -------------------------------------------------------------


def _has_server_binaries(directory: Path) -> bool:
    return all((directory / name).is_file() for name in SERVER_BINARIES)


def _version_key(directory: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: "15" -> (15,), "9.6" -> (9, 6)
    try:
        return tuple(int(part) for part in directory.parent.name.split("."))
    except ValueError:
        return ()


def _debian_bin_dirs() -> list[Path]:
    found = [d for d in DEBIAN_PG_ROOT.glob("*/bin") if _version_key(d)]
    return sorted(found, key=_version_key, reverse=True)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def _bin_dir_candidates() -> Iterator[Path]:
    # Lazy, so later (slower or less precise) probes only run when earlier ones fail.
    if (bindir := _pg_config_bindir()) is not None:
        yield bindir
    if (initdb := shutil.which("initdb")) is not None:
        yield Path(initdb).resolve().parent
    yield from _debian_bin_dirs()


def _install_hint() -> str:
    # A client-only install (psql) already tells us the distribution's version number.
    versions = [d.parent.name for d in _debian_bin_dirs()]
    if versions:
        return f"Install them with: apt-get install -y postgresql postgresql-{versions[0]}-postgis-3"
    return (
        "Install them with: apt-get install -y postgresql postgresql-<version>-postgis-3 "
        "(run `apt-cache policy postgresql` to find <version>, e.g. 15 on Debian 12)"
    )


def find_pg_bin_dir(explicit: Path | None = None) -> Path:
    """The folder holding initdb, pg_ctl and postgres."""
    if explicit is not None:
        explicit = Path(explicit).expanduser().resolve()
        if _has_server_binaries(explicit):
            return explicit
        raise ClusterError(
            f"{explicit} (MAHALLE_PG_BIN_DIR) does not hold the PostgreSQL server binaries "
            f"{', '.join(SERVER_BINARIES)}. {_install_hint()}."
        )
    for candidate in _bin_dir_candidates():
        if _has_server_binaries(candidate):
            return candidate
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) are missing. "
        f"{_install_hint()}, or set MAHALLE_PG_BIN_DIR to their folder, "
        "or set MAHALLE_DATABASE_URL to use an existing PostgreSQL + PostGIS server."
    )


def server_major(bin_dir: Path) -> str:
    """Major version of the server in bin_dir, e.g. "15"."""
    if bin_dir.parent.name.isdigit():  # Debian layout: /usr/lib/postgresql/15/bin
        return bin_dir.parent.name
    result = subprocess.run([bin_dir / "postgres", "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"\(PostgreSQL\) (\d+)", result.stdout)
    return match.group(1) if match else "<version>"


def _share_dir(bin_dir: Path) -> Path:
    pg_config = bin_dir / "pg_config"
    if pg_config.is_file():
        result = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    return Path("/usr/share/postgresql") / bin_dir.parent.name


def postgis_available(bin_dir: Path) -> bool:
    """Whether the server in bin_dir can CREATE EXTENSION postgis."""
    return (_share_dir(bin_dir) / "extension" / "postgis.control").is_file()


def require_postgis(bin_dir: Path) -> None:
    if not postgis_available(bin_dir):
        major = server_major(bin_dir)
        raise ClusterError(
            f"PostGIS is not installed for PostgreSQL {major} (no postgis.control under "
            f"{_share_dir(bin_dir) / 'extension'}). "
            f"Install it with: apt-get install -y postgresql-{major}-postgis-3"
        )


# --- processes and files ----------------------------------------------------------------------


def _proc_alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negatives would address process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but owned by another user
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        return True  # no /proc (not Linux): trust kill()
    return state not in ("Z", "X")  # an unreaped zombie holds no lock


def _is_live_postgres(pid: int, pgdata: Path) -> bool:
    """Whether pid is a running postgres serving pgdata (pids are reused, e.g. across container restarts)."""
    if not _proc_alive(pid):
        return False
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    if comm not in ("postgres", "postmaster"):
        return False
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == pgdata  # postgres chdirs into PGDATA
    except OSError:
        return True  # cannot look (another user's process): assume it is ours


def _read_pid(path: Path) -> int | None:
    """First line of a postmaster.pid or socket lock file; 0 if unreadable (a half-written file)."""
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except FileNotFoundError:
        return None
    except OSError:
        return 0
    return int(first) if first.isdigit() else 0


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), uid, gid, follow_symlinks=False)


def _ensure_traversable(path: Path, user: pwd.struct_passwd) -> None:
    """Let user reach path: add the missing execute bit to any parent that blocks it (e.g. /root is 0700)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            os.chmod(directory, stat.S_IMODE(st.st_mode) | bit)
            log.warning("Made %s traversable so user %s can reach %s", directory, user.pw_name, path)


def _server_account() -> pwd.struct_passwd | None:
    """The user that runs the server: None for the current user, or `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"PostgreSQL refuses to run as root and there is no '{SERVER_USER}' system user to run it as. "
            "Installing PostgreSQL (apt-get install -y postgresql) creates it; "
            "or run Mahalle as a normal user."
        ) from None


def socket_name(port: int = PORT) -> str:
    """The Unix socket file's name, which follows the server's ``port``."""
    return f".s.PGSQL.{port}"


def socket_dir_for(data_dir: Path, port: int = PORT) -> Path:
    """data_dir/run, or /tmp/mahalle-<hash> when that socket path would exceed the Unix limit."""
    run = data_dir / "run"
    if len(os.fsencode(run / socket_name(port))) <= MAX_SOCKET_PATH:
        return run
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:8]
    return Path("/tmp") / f"mahalle-{digest}"


# --- the cluster ------------------------------------------------------------------------------


def _url_host(host: str) -> str:
    """host as it goes into a URL: an IPv6 address in brackets."""
    try:
        return f"[{host}]" if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address) else host
    except ValueError:
        return host


def hba_lines(listening: bool) -> list[str]:
    """pg_hba.conf of the embedded cluster: trust on the private Unix socket; over TCP (when listening) only roles
    with a scram password, never the superuser, the owner or the application role (they have no password)."""
    lines = [
        "# Written by Mahalle on every start (core/cluster.py); edits are lost.",
        "# TYPE  DATABASE     USER  ADDRESS  METHOD",
        "local   all          all            trust",
        "local   replication  all            trust",
    ]
    if listening:
        lines += [
            f"host    all          {SUPERUSER},{OWNER_ROLE},{APP_ROLE}  all  reject",
            "host    all          all   all      scram-sha-256",
        ]
    return lines


class EmbeddedCluster:
    """A private PostgreSQL cluster in data_dir, reachable through its Unix socket and, when ``listen``
    (``HOST:PORT``, MAHALLE_DB_LISTEN) is given, over TCP with scram-sha-256 passwords."""

    def __init__(
        self,
        data_dir: Path,
        bin_dir: Path | None = None,
        database: str = "mahalle",
        *,
        reuse_running: bool = False,
        listen: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()  # postgres needs absolute socket paths
        self.bin_dir = find_pg_bin_dir(bin_dir)
        self.database = database
        self.reuse_running = reuse_running
        self._listen: tuple[str, int] | None = None
        if listen:
            try:
                self._listen = parse_db_listen(listen)
            except ValueError as exc:
                raise ClusterError(str(exc)) from None
        self.port = self._listen[1] if self._listen else PORT
        self.pgdata = self.data_dir / "pg"
        self.log_file = self.data_dir / "log" / "postgres.log"
        self.socket_dir = socket_dir_for(self.data_dir, self.port)
        self.socket_fallback = self.socket_dir != self.data_dir / "run"
        self._account = _server_account()
        self._owned = False  # True only when this object started the server
        if self.socket_fallback:
            log.info("Data folder path too long for a Unix socket; using %s for the socket", self.socket_dir)

    @classmethod
    def from_settings(cls, settings: Settings, *, reuse_running: bool = False) -> EmbeddedCluster:
        return cls(
            settings.data_dir,
            settings.pg_bin_dir,
            settings.database_name,
            reuse_running=reuse_running,
            listen=settings.db_listen,
        )

    def __repr__(self) -> str:
        return f"EmbeddedCluster({str(self.data_dir)!r}, database={self.database!r})"

    # URLs

    def url_for(self, dbname: str, driver: str = "postgresql", user: str = SUPERUSER) -> str:
        """A URL of the server as ``user`` (by default the superuser that administers the cluster)."""
        # port is explicit so a stray PGPORT cannot point libpq at another socket name.
        host = quote(str(self.socket_dir), safe="")
        return f"{driver}://{quote(user, safe='')}@/{quote(dbname, safe='')}?host={host}&port={self.port}"

    @property
    def listening(self) -> tuple[str, int] | None:
        """(host, port) the server listens on over TCP (an IPv6 host without brackets), or None: socket only."""
        return self._listen

    def tcp_url_for(self, dbname: str, user: str, password: str, host: str | None = None) -> str:
        """``postgresql://user:password@host:port/dbname`` over TCP, e.g. for QGIS on another desk. host defaults
        to the listen host, or this machine's name when the server listens on every address."""
        if self._listen is None:
            raise ClusterError("The embedded cluster does not listen on TCP: set MAHALLE_DB_LISTEN=HOST:PORT.")
        if host is None:
            host = self._listen[0]
            if host in WILDCARD_HOSTS:
                host = socket.gethostname()
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"postgresql://{credentials}@{_url_host(host)}:{self.port}/{quote(dbname, safe='')}"

    @property
    def url(self) -> str:
        """libpq URL of the Mahalle database as the application role (no DDL, not a superuser)."""
        return self.url_for(self.database, user=APP_ROLE)

    @property
    def owner_url(self) -> str:
        """libpq URL of the Mahalle database as its owner role: migrations and DDL."""
        return self.url_for(self.database, user=OWNER_ROLE)

    @property
    def sqlalchemy_url(self) -> str:
        return self.url_for(self.database, driver="postgresql+psycopg", user=APP_ROLE)

    @property
    def owns_server(self) -> bool:
        return self._owned

    # Running commands as the server user

    @property
    def _uid_gid(self) -> tuple[int, int]:
        if self._account is None:
            return os.getuid(), os.getgid()
        return self._account.pw_uid, self._account.pw_gid

    def _command(self, args: list[str]) -> list[str]:
        if self._account is None:
            return args
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", self._account.pw_name, "--", *args]
        uid, gid = self._uid_gid
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *args]

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # cwd "/" because the server user may not be able to enter our working directory.
        try:
            return subprocess.run(
                self._command(args), capture_output=True, text=True, cwd="/", timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{args[0]} did not finish within {timeout:.0f} s") from exc

    def _tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    # Folders

    def _own_dir(self, path: Path, mode: int) -> None:
        """Create path for the server user; only our own data folder's subdirs may be taken over."""
        uid, gid = self._uid_gid
        try:
            path.mkdir(mode=mode, parents=True)
            created = True
        except FileExistsError:
            created = False
        if not created and path.is_symlink() and not path.is_relative_to(self.data_dir):
            raise ClusterError(f"{path} is a symbolic link, not Mahalle's socket folder; remove it and retry.")
        st = path.stat()
        if st.st_uid != uid:
            if not created and not path.is_relative_to(self.data_dir):
                raise ClusterError(f"{path} belongs to another user (uid {st.st_uid}); remove it and retry.")
            os.chown(path, uid, gid)
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        uid, gid = self._uid_gid
        if self.pgdata.exists() and self.pgdata.stat().st_uid != uid:
            log.warning("Handing %s over to uid %d, the PostgreSQL server user", self.pgdata, uid)
            _chown_tree(self.pgdata, uid, gid)
        self._own_dir(self.pgdata, 0o700)
        self._own_dir(self.socket_dir, 0o700)
        self._own_dir(self.log_file.parent, 0o750)
        if self._account is not None:
            for path in (self.pgdata, self.socket_dir, self.log_file.parent):
                _ensure_traversable(path, self._account)

    # Lifecycle

    def init(self) -> None:
        """Create the cluster if needed and (re)write the settings Mahalle manages. Idempotent."""
        self._create()
        self._write_config()

    def _create(self) -> None:
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()

    def _initdb(self) -> None:
        if any(self.pgdata.iterdir()):
            raise ClusterError(
                f"{self.pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION). "
                "Move it away or set MAHALLE_DATA_DIR to another folder."
            )
        base = [self._tool("initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
        for locale in ("C.UTF-8", "C"):  # C.UTF-8 is missing on some minimal systems
            result = self._run([*base, f"--locale={locale}"])
            if result.returncode == 0:
                log.info("Created a PostgreSQL cluster in %s (locale %s)", self.pgdata, locale)
                return
            log.warning("initdb with locale %s failed: %s", locale, result.stderr.strip())
        raise ClusterError(f"initdb failed for {self.pgdata}:\n{result.stderr.strip()}")

    def _write_config(self) -> None:
        # Rewritten on every start, so a moved data folder gets its new socket path and MAHALLE_DB_LISTEN can be
        # turned on or off between starts.
        settings = {**SERVER_SETTINGS, "unix_socket_directories": _conf_quote(f'"{self.socket_dir}"')}
        if self._listen is not None:
            settings["listen_addresses"] = _conf_quote(self._listen[0])
            settings["port"] = str(self._listen[1])
        lines = ["# Written by Mahalle on every start; use ALTER SYSTEM to override."]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        conf = self.pgdata / CONF_NAME
        conf.write_text("\n".join(lines) + "\n")
        os.chown(conf, *self._uid_gid)
        hba = self.pgdata / HBA_NAME
        hba.write_text("\n".join(hba_lines(self._listen is not None)) + "\n")
        os.chown(hba, *self._uid_gid)
        os.chmod(hba, 0o600)
        main_conf = self.pgdata / "postgresql.conf"
        if INCLUDE_LINE not in main_conf.read_text():
            with main_conf.open("a") as handle:
                handle.write(f"\n# Settings managed by Mahalle\n{INCLUDE_LINE}\n")

    def _check_version(self) -> None:
        data_version = (self.pgdata / "PG_VERSION").read_text().strip()
        major = server_major(self.bin_dir)
        if major.isdigit() and data_version != major:
            raise ClusterError(
                f"The cluster in {self.pgdata} was made by PostgreSQL {data_version} but {self.bin_dir} is "
                f"PostgreSQL {major}. Set MAHALLE_PG_BIN_DIR to PostgreSQL {data_version}'s binaries, "
                "or upgrade the folder with pg_upgrade."
            )

    def running_pid(self) -> int | None:
        """pid of the postgres serving this data folder, if any (whoever started it)."""
        pid = _read_pid(self.pgdata / "postmaster.pid")
        return pid if pid and _is_live_postgres(pid, self.pgdata) else None

    def is_running(self) -> bool:
        return self.running_pid() is not None

    def _clear_stale_lock(self) -> None:
        """Remove postmaster.pid and the socket lock when their process is gone (crash, container restart)."""
        pid_file = self.pgdata / "postmaster.pid"
        pid = _read_pid(pid_file)
        if pid is not None and not _is_live_postgres(pid, self.pgdata):
            pid_file.unlink(missing_ok=True)
            log.warning("Recovered from a stale postmaster.pid in %s (pid %d is gone)", self.pgdata, pid)
        lock = self.socket_dir / f"{socket_name(self.port)}.lock"
        lock_pid = _read_pid(lock)
        if lock_pid is not None and not _is_live_postgres(lock_pid, self.pgdata):
            lock.unlink(missing_ok=True)
            (self.socket_dir / socket_name(self.port)).unlink(missing_ok=True)
            log.info("Removed a stale socket lock file in %s", self.socket_dir)

    def start(self, timeout: int = 30) -> None:
        """Initialise if needed, start the server, and create the database with PostGIS."""
        if self._owned:
            return
        require_postgis(self.bin_dir)
        self._create()
        self._check_version()
        self._clear_stale_lock()
        if (pid := self.running_pid()) is not None:
            if not self.reuse_running:
                raise ClusterError(
                    f"Another Mahalle is already using the data folder {self.data_dir} (postgres pid {pid}). "
                    "Stop it first, or set MAHALLE_DATA_DIR to another folder."
                )
            log.info("Using the PostgreSQL already running on %s (pid %d)", self.data_dir, pid)
            self._adopt_running_listen()
        else:
            # Only for a server we start: a shared running one keeps the configuration it was started with.
            self._write_config()
            self._pg_ctl_start(timeout)
        try:
            self._ensure_database()
        except Exception:
            self.stop()
            raise

    def _pg_ctl_start(self, timeout: int) -> None:
        args = [self._tool("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t"]
        result = self._run([*args, str(timeout), "start"], timeout=timeout + 15)
        if result.returncode != 0:
            output = result.stderr.strip() or result.stdout.strip()
            raise ClusterError(
                f"PostgreSQL did not start in {self.pgdata}: {output}\n"
                f"Last lines of {self.log_file}:\n{_tail(self.log_file)}"
            )
        self._owned = True
        log.info("Started PostgreSQL for %s (socket in %s)", self.data_dir, self.socket_dir)

    def _adopt_running_listen(self) -> None:
        """Follow the port and listen address of a server started by someone else with other settings (its
        postmaster.pid says them), so the URLs reach it; the new settings apply when it restarts."""
        try:
            fields = (self.pgdata / "postmaster.pid").read_text().split("\n")
        except OSError:
            return
        if len(fields) < 6 or not fields[3].strip().isdigit():
            return
        port, host = int(fields[3].strip()), fields[5].strip()
        running = (host, port) if host else None
        if (port, running) == (self.port, self._listen):
            return
        log.warning(
            "The PostgreSQL already running on %s listens on %s, not on %s (MAHALLE_DB_LISTEN): it keeps that until "
            "it restarts",
            self.data_dir,
            f"{host}:{port}" if running else f"its Unix socket only (port {port})",
            f"{self._listen[0]}:{self._listen[1]}" if self._listen else "its Unix socket only",
        )
        self.port = port
        self._listen = running
        self.socket_dir = socket_dir_for(self.data_dir, port)
        self.socket_fallback = self.socket_dir != self.data_dir / "run"

    def _connect(self, dbname: str) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url_for(dbname), autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise ClusterError(f"Cannot connect to the embedded PostgreSQL at {self.socket_dir}: {exc}") from exc

    def _ensure_database(self) -> None:
        """The database, owned by the owner role; the application role may connect. The superuser does only
        this and what needs a superuser (PostGIS); everything else runs as the owner or the application role."""
        self._connect("postgres").close()  # a clear ClusterError when the server cannot be reached
        # exist_ok: the database of an earlier start, or of another process sharing this server that won the race
        databases.create_database(self.url_for("postgres"), self.database, exist_ok=True)

    def stop(self, timeout: int = 60) -> None:
        """Stop the server if this object started it (a reused server keeps running). Idempotent."""
        if not self._owned:
            return
        if not self.is_running():  # crashed or killed: pg_ctl would signal a dead or reused pid
            self._owned = False
            log.warning("PostgreSQL for %s had already stopped", self.data_dir)
            return
        args = [self._tool("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(timeout), "stop"]
        result = self._run(args, timeout=timeout + 15)
        if result.returncode != 0 and self.is_running():
            raise ClusterError(f"PostgreSQL in {self.pgdata} did not stop: {result.stderr.strip()}")
        self._owned = False
        log.info("Stopped PostgreSQL for %s", self.data_dir)

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Databases

    def create_database(self, name: str, template: str | None = None) -> None:
        """A database of the owner role (``core.databases``); the template must have no other sessions."""
        databases.create_database(self.url_for("postgres"), name, template)

    def drop_database(self, name: str) -> None:
        databases.drop_database(self.url_for("postgres"), name)
