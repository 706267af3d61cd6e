"""The HTTP servers under test, each its own process on a free loopback port: Mahalle (``mahalle serve``),
tipg and pygeoapi (uvicorn). The same number of worker processes each, uvicorn's defaults (access log on) for
all three, the same connection pool size where the server lets it be set (``POOL``), the cluster's settings
(bench/cluster.py) for all; ``describe`` says how each peer was configured, one line each."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.cluster import BenchCluster
from core.cluster import PORT, SUPERUSER
from core.settings import Settings

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
POOL = (1, 10)  # connections per worker process, least and most: Mahalle's and tipg's defaults, set explicitly


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    """The process's high-water resident set (VmHWM), while it runs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _spawn(name: str, args: list[str], env: dict[str, str], workdir: Path, ready_path: str) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    port = int(args[args.index("--port") + 1])
    # cwd is the bench's own folder, so no developer's .env file changes the settings.
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, proc, port, log)
    _wait_ready(server, ready_path)
    return server


def _wait_ready(server: Server, path: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(server.base_url + path, timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {path} within {timeout:.0f} s; see {server.log}")


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAHALLE_", "TIPG_", "PYGEOAPI_", "DB_"))}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def start_mahalle(
    db_url: str, workdir: Path, name: str = "mahalle", workers: int = 1, settings: dict[str, str] | None = None
) -> Server:
    """``settings``: more MAHALLE_ variables (the tile cache's size)."""
    port = free_port()
    env = _env({"MAHALLE_DATABASE_URL": db_url, "MAHALLE_LOAD_DEMO": "false", **mahalle_pool(), **(settings or {})})
    args = [str(BIN / "mahalle"), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return _spawn(name, args, env, workdir, "/health")


def mahalle_pool() -> dict[str, str]:
    return {"MAHALLE_POOL_MIN_SIZE": str(POOL[0]), "MAHALLE_POOL_MAX_SIZE": str(POOL[1])}


def tipg_env(bc: BenchCluster, dbname: str, max_tile_features: int) -> dict[str, str]:
    """tipg pointed at the same table, doing the same work per tile as Mahalle: same feature cap and buffer (the
    simplification is asked per request, bench/workload.py), the same pool size."""
    return {
        "DB_MIN_CONN_SIZE": str(POOL[0]),  # tipg's PostgresSettings have no prefix
        "DB_MAX_CONN_SIZE": str(POOL[1]),
        "DATABASE_URL": bc.asyncpg_url(dbname),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.parcels"]',  # schema-qualified
        "TIPG_DB_SPATIAL_EXTENT": "false",  # no full-table scans at start-up
        "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_MAX_FEATURES_PER_TILE": str(max_tile_features),
        "TIPG_TILE_BUFFER": "64",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        "TIPG_DEBUG": "false",
    }


def start_tipg(bc: BenchCluster, dbname: str, workdir: Path, workers: int = 1) -> Server:
    port = free_port()
    env = _env(tipg_env(bc, dbname, Settings().max_tile_features))
    args = [str(BIN / "python"), "-m", "uvicorn", "tipg.main:app", "--host", HOST, "--port", str(port)]
    args += ["--workers", str(workers)]
    return _spawn("tipg", args, env, workdir, "/collections/public.parcels")


def pygeoapi_config(bc: BenchCluster, dbname: str, port: int) -> dict:
    """A minimal pygeoapi configuration: one collection, PostgreSQL provider on the same table."""
    url = f"http://{HOST}:{port}"
    return {
        "server": {
            "bind": {"host": HOST, "port": port},
            "url": url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "Mahalle benchmark peer",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": url,
                "url": url,
            },
            "license": {"name": "CC-BY 4.0", "url": url},
            "provider": {"name": "bench", "url": url},
            "contact": {"name": "bench"},
        },
        "resources": {
            "parcels": {
                "type": "collection",
                "title": "Parcels",
                "description": "Synthetic parcels",
                "keywords": ["parcels"],
                "extents": {
                    "spatial": {"bbox": [-180, -90, 180, 90], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": {
                            "host": str(bc.socket_dir),
                            "port": PORT,
                            "dbname": dbname,
                            "user": SUPERUSER,
                            "password": "",
                            "search_path": ["public"],
                        },
                        "id_field": "id",
                        "table": "parcels",
                        "geom_field": "geom",
                    }
                ],
            }
        },
    }


def start_pygeoapi(bc: BenchCluster, dbname: str, workdir: Path, workers: int = 1) -> Server:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config, openapi = workdir / "pygeoapi-config.yml", workdir / "pygeoapi-openapi.yml"
    config.write_text(json.dumps(pygeoapi_config(bc, dbname, port), indent=1))  # JSON is YAML
    env = _env({"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)})
    subprocess.run(
        [str(BIN / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    args = [str(BIN / "python"), "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--host", HOST, "--port", str(port)]
    args += ["--workers", str(workers)]
    return _spawn("pygeoapi", args, env, workdir, "/collections/parcels?f=json")


def describe(workers: int, concurrency: int, jit: dict[str, str]) -> dict[str, str]:
    """One line per peer: how it was configured and how its tiles are asked. ``jit``: the value a new connection
    of each peer's role sees (bench/cluster.py ``settings``), by peer."""
    from gis.tiles import BUFFER, DETAIL_ZOOM

    pool = f"{POOL[0]}–{POOL[1]} connections per worker"
    procs = f"{workers} uvicorn worker process{'es' if workers > 1 else ''}"
    return {
        "mahalle": f"`mahalle serve`, {procs}, psycopg pool {pool} (MAHALLE_POOL_MIN/MAX_SIZE) as the application "
        f"role, jit = {jit['mahalle']} (its pool also sets jit = off per connection: the same value); tile cache off "
        f"for tiles/items/growth; tiles: rows in the {BUFFER}-px buffer, below z{DETAIL_ZOOM} {mahalle_low_zoom()}, "
        f"key and label below z{DETAIL_ZOOM}, every attribute from it",
        "tipg": f"tipg {_version('tipg')}, {procs}, asyncpg pool {pool} (DB_MIN/MAX_CONN_SIZE) as the superuser, "
        f"jit = {jit['tipg']}; tiles: TIPG_TILE_BUFFER={BUFFER} but rows chosen by the unbuffered tile (tipg's "
        f"query), `simplify=` one pixel in degrees below z{DETAIL_ZOOM} (ST_SimplifyPreserveTopology + "
        "ST_SnapToGrid in lon/lat), `properties=` the same attributes as Mahalle's",
        "pygeoapi": f"pygeoapi {_version('pygeoapi')}, {procs}, SQLAlchemy's default pool (5 + 10 overflow per "
        f"worker: its PostgreSQL provider offers no pool setting) as the superuser, jit = {jit['pygeoapi']}; items "
        "only",
        "raw": f"the bench's own minimal statements (ST_AsMVT: rows in the {BUFFER}-px buffer, ST_Simplify by one "
        f"pixel below z{DETAIL_ZOOM}, no reduction of tiny features; items: json_agg of the page and the count), "
        f"psycopg, one connection per client ({concurrency}), no session settings, as the superuser, "
        f"jit = {jit['raw']}",
    }


def mahalle_low_zoom() -> str:
    """What Mahalle's own tiles do below the detail zoom (gis/tiles.py), as this checkout has it."""
    from gis import tiles

    if hasattr(tiles, "LOW_SQL"):
        return "features under a screen pixel reduced (polygons merged into pixel cells), the rest simplified"
    return "ST_Simplify by one pixel (Web Mercator, collapsed parts kept)"


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "(not installed)"
