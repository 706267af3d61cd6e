"""All configuration in one place: environment variables with the ``MAHALLE_`` prefix.

Every variable is listed in ``docs/configuration.md``.
"""

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
DB_LISTEN_EXAMPLES = "e.g. 0.0.0.0:5433, 127.0.0.1:5433, [::]:5433 or *:5433"


def parse_db_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` of ``MAHALLE_DB_LISTEN`` as (host, port); an IPv6 host comes without its brackets.

    The host is an IP address (IPv6 in brackets), ``*`` (every address), ``localhost`` or a host name; the port
    is 1-65535. Raises ValueError with a message that says what is wrong."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"MAHALLE_DB_LISTEN must be HOST:PORT ({DB_LISTEN_EXAMPLES}), not {value!r}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"MAHALLE_DB_LISTEN {value!r}: the port must be a number from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise ValueError(f"MAHALLE_DB_LISTEN {value!r}: {inner!r} in brackets is not an IPv6 address") from None
        return inner, int(port_text)
    if ":" in host:
        raise ValueError(f"MAHALLE_DB_LISTEN {value!r}: put an IPv6 address in brackets, e.g. [::]:5433")
    if host != "*":
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if re.fullmatch(r"[0-9.]+", host) or not _HOST_NAME.fullmatch(host):
                raise ValueError(
                    f"MAHALLE_DB_LISTEN {value!r}: {host!r} is neither an IP address, `*`, `localhost` nor a host name"
                ) from None
    return host, int(port_text)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAHALLE_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL + PostGIS URL. Unset: Mahalle starts its own embedded cluster in data_dir.",
    )
    data_dir: Path = Field(default=Path(".mahalle"), description="Embedded cluster, uploads and caches.")
    database_name: str = Field(default="mahalle", description="Database created in the embedded cluster.")
    pg_bin_dir: Path | None = Field(default=None, description="Folder of initdb/pg_ctl/postgres, if not found.")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1, ge=1, description="Server processes `mahalle serve` runs (uvicorn workers); about one per core."
    )
    load_demo: bool = Field(default=True, description="Load the demo neighbourhood into an empty database.")
    pool_min_size: int = 1
    pool_max_size: int = 10
    cache_catalogue: bool = Field(
        default=True,
        description="Keep the catalogue and CRS list in memory, dropped on the database's change notices "
        "(LISTEN), and principals per credential. Turn off where LISTEN cannot work.",
    )
    statement_timeout_ms: int = Field(default=30_000, description="Longer queries are cancelled (503).")
    cli_actor: str | None = Field(
        default=None, description="Who edits made with the CLI are attributed to (default: cli:<system user>)."
    )
    session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="A web session ends after this long without a request."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only; unset: when the request came over HTTPS "
        "(behind a TLS proxy, start uvicorn with --proxy-headers).",
    )
    login_max_failures: int = Field(
        default=10, ge=1, description="Failed logins for one name or from one address before logins wait (429)."
    )
    login_window_minutes: int = Field(default=15, ge=1, description="The period failed logins are counted over.")
    admin_password: SecretStr | None = Field(
        default=None, description="The first administrator's password (else one is generated and shown once)."
    )
    admin_password_file: Path | None = Field(default=None, description="A file holding the first admin's password.")
    default_items: int = Field(default=100, description="Features per page when the client gives no limit.")
    max_items: int = Field(default=10_000, description="Largest page of features a client may ask for.")
    max_body_mb: int = Field(
        default=20, description="Largest request body of any route but the upload (413 above, while it streams)."
    )
    max_tile_features: int = Field(
        default=200_000, description="Features in one vector tile before it is cut (and says so in a header)."
    )
    tile_cache_mb: int = Field(
        default=256,
        ge=0,
        description="Vector tiles kept in the database (an unlogged table) up to this size, the oldest dropped "
        "first; edits drop exactly the tiles they touch. 0: every tile is made afresh.",
    )
    upload_timeout_s: int = Field(
        default=900, ge=1, description="An upload (import, preview, check-in) must arrive within this (408)."
    )
    max_upload_mb: int = Field(default=200, description="Largest file accepted by an upload (413 above).")
    files_dir: Path | None = Field(
        default=None, description="Where photos and uploads in progress are kept; unset: data_dir/files."
    )
    max_photo_mb: float = Field(
        default=15, gt=0, le=200, description="Largest photo or document a field device or the web app may attach."
    )
    field_max_accuracy_m: float = Field(
        default=25,
        gt=0,
        description="GPS accuracy (metres) worse than which the field mode asks before placing a point there.",
    )
    field_sync_batch: int = Field(default=500, ge=1, le=5000, description="Most changes in one field sync request.")
    basemap_url: str | None = Field(
        default=None,
        description="XYZ tile URL template of a background map for the web app, e.g. a local tile server's "
        "http://tiles.example/{z}/{x}/{y}.png. Unset: offline, the app's own layers are the background.",
    )

    db_listen: str | None = Field(
        default=None,
        description="HOST:PORT the embedded cluster also listens on over TCP (scram password logins of the users' "
        "own database roles, e.g. QGIS on another desk), e.g. 0.0.0.0:5433 or [::]:5433. Unset: Unix socket only.",
    )

    # --- hardening: roles (see docs/deployment.md) -------------------------------------------------
    migration_database_url: str | None = Field(
        default=None,
        description="URL of the owner role that runs migrations (DDL) on an external database; unset: "
        "MAHALLE_DATABASE_URL runs them. The embedded cluster creates and uses its own owner role.",
    )
    roles_database_url: str | None = Field(
        default=None,
        description="URL of a role with CREATEROLE on an external database, used only by `mahalle user db-login` and "
        "`mahalle user remove` to create, renew and drop the users' own database logins (the embedded cluster uses "
        "its superuser). Unset on an external database: those logins cannot be managed from Mahalle.",
    )
    allow_superuser: bool = Field(
        default=False,
        description="Let the server start although MAHALLE_DATABASE_URL connects as a superuser (not advised: "
        "a superuser can run programs on the database host).",
    )
    # --- hardening: browser-facing safety and request bounds (helper A adds below this line) ----------
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Host names the server answers to (the Host header; 400 otherwise), comma-separated or a JSON "
        "list; `*` allows any, `*.example.org` any subdomain. Unset: MAHALLE_HOST, localhost, 127.0.0.1 and [::1].",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Other origins (scheme://host[:port]) whose pages may send POST/PUT/PATCH/DELETE; the "
        "server's own origin always may, and requests without Origin (curl, QGIS, GDAL) are not checked.",
    )
    max_vertices: int = Field(
        default=250_000, ge=1, description="Most vertices of one geometry written through the API or an import."
    )
    heavy_concurrency: int = Field(
        default=2, ge=1, description="Reports, indicators and exports running at once per server process."
    )
    import_concurrency: int = Field(
        default=2, ge=1, description="Import jobs running at once per server process (503 for another upload)."
    )
    heavy_wait_s: float = Field(
        default=2.0, ge=0, description="How long a report, indicator or export waits for a free slot (503 after)."
    )
    principal_cache_s: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description="How long a server keeps who a token or session stands for (0: asks on every request); any "
        "change to users, roles, tokens or sessions drops what is kept at once.",
    )
    heavy_budget_s: float = Field(
        default=60.0, gt=0, description="Time budget of one report, indicator or export request (503 after)."
    )
    max_filter_length: int = Field(
        default=20_000, ge=100, description="Longest CQL2 filter (characters) the API and exports accept (400 above)."
    )
    max_filter_depth: int = Field(
        default=50,
        ge=5,
        le=200,
        description="Deepest nesting of a CQL2 filter (a chain of AND or of OR counts once); 400 deeper.",
    )

    @field_validator("db_listen")
    @classmethod
    def _check_db_listen(cls, value: str | None) -> str | None:
        """``HOST:PORT`` checked (``parse_db_listen``); blank means unset."""
        if value is None or not value.strip():
            return None
        parse_db_listen(value)
        return value.strip()

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """``a,b`` or ``["a", "b"]`` from the environment; lists as they are."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @property
    def host_allow_list(self) -> list[str]:
        """The Host names allowed: ``allowed_hosts``, or by default the bind address and the loopback names."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return list(dict.fromkeys([self.host, "localhost", "127.0.0.1", "[::1]"]))

    @property
    def files_folder(self) -> Path:
        return (self.files_dir or self.data_dir / "files").expanduser()

    @property
    def embedded(self) -> bool:
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()


def first_admin_password(settings: Settings) -> str | None:
    """The first administrator's password from the environment or a file (never from the repository)."""
    if settings.admin_password is not None:
        return settings.admin_password.get_secret_value()
    if settings.admin_password_file is not None:
        return settings.admin_password_file.read_text(encoding="utf-8").strip()
    return None


def cli_actor(settings: Settings) -> str:
    """Who the CLI's edits are attributed to."""
    import getpass

    return settings.cli_actor or f"cli:{getpass.getuser()}"
