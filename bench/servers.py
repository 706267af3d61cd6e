"""The HTTP servers under test, each its own process on a free loopback port: Mahalle (``mahalle serve``),
tipg and pygeoapi (uvicorn). The same number of worker processes each, uvicorn's defaults (access log on) for
all three."""

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAHALLE_", "TIPG_", "PYGEOAPI_"))}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def start_mahalle(
    db_url: str, workdir: Path, name: str = "mahalle", workers: int = 1, settings: dict[str, str] | None = None
) -> Server:
    """``settings``: more MAHALLE_ variables (the tile cache's size)."""
    port = free_port()
    env = _env({"MAHALLE_DATABASE_URL": db_url, "MAHALLE_LOAD_DEMO": "false", **(settings or {})})
    args = [str(BIN / "mahalle"), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return _spawn(name, args, env, workdir, "/health")


def tipg_env(bc: BenchCluster, dbname: str, max_tile_features: int) -> dict[str, str]:
    """tipg pointed at the same table, doing the same work per tile as Mahalle: same feature cap and buffer."""
    return {
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
