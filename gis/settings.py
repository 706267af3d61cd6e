"""All configuration in one place: environment variables with the ``MAHALLE_`` prefix.

Every variable is listed in ``docs/configuration.md``.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        "(LISTEN). Turn off behind a transaction-mode pooler, where LISTEN cannot work.",
    )
    statement_timeout_ms: int = Field(default=30_000, description="Longer queries are cancelled (503).")
    default_actor: str = Field(default="anonymous", description="Who edits are attributed to without login.")
    trust_user_header: bool = Field(
        default=False, description="Take the editing user from X-Mahalle-User (only behind an authenticating proxy)."
    )
    default_items: int = Field(default=100, description="Features per page when the client gives no limit.")
    max_items: int = Field(default=10_000, description="Largest page of features a client may ask for.")
    max_body_mb: int = Field(default=20, description="Largest JSON body a feature write accepts (413 above).")
    max_tile_features: int = Field(
        default=200_000, description="Features in one vector tile before it is cut (and says so in a header)."
    )
    max_upload_mb: int = Field(default=200, description="Largest file accepted by an upload (413 above).")
    basemap_url: str | None = Field(
        default=None,
        description="XYZ tile URL template of a background map for the web app, e.g. a local tile server's "
        "http://tiles.example/{z}/{x}/{y}.png. Unset: offline, the app's own layers are the background.",
    )

    # --- hardening: roles (see docs/deployment.md) -------------------------------------------------
    migration_database_url: str | None = Field(
        default=None,
        description="URL of the owner role that runs migrations (DDL) on an external database; unset: "
        "MAHALLE_DATABASE_URL runs them. The embedded cluster creates and uses its own owner role.",
    )
    allow_superuser: bool = Field(
        default=False,
        description="Let the server start although MAHALLE_DATABASE_URL connects as a superuser (not advised: "
        "a superuser can run programs on the database host).",
    )
    # --- hardening: browser-facing safety and request bounds (helper A adds below this line) ----------

    @property
    def embedded(self) -> bool:
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
