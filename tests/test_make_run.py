"""`make run` as a newcomer uses it: it serves the demo with /health green and stops PostgreSQL on exit."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="mahalle-run-"))  # not under pytest's 0700 tmp dir (see conftest)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start(command: list[str], data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAHALLE_")}
    env.update(MAHALLE_DATA_DIR=str(data_dir), MAHALLE_PORT=str(port))
    return subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{proc.stdout.read()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("server did not become healthy in time")


def stop(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    return output


def test_make_run_serves_the_demo_and_stops_cleanly(data_dir):
    port = free_port()
    proc = start(["make", "run"], data_dir, port)
    try:
        health = wait_healthy(proc, port)
        assert health["status"] == "ok" and health["embedded"] is True
        page = httpx.get(f"http://127.0.0.1:{port}/").text
        assert "Helsinki city centre" in page and "OpenStreetMap contributors" in page
        streets = next(
            x for x in httpx.get(f"http://127.0.0.1:{port}/layers?counts=true").json() if x["name"] == "streets"
        )
        assert streets["feature_count"] > 2000
    finally:
        output = stop(proc)
    assert "Stopped PostgreSQL" in output
    assert not (data_dir / "pg" / "postmaster.pid").exists()

    # The next start reuses the data: same streets, the demo is not loaded twice.
    proc = start([str(ROOT / ".venv" / "bin" / "mahalle"), "serve"], data_dir, port)
    try:
        wait_healthy(proc, port, timeout=60)
        again = next(
            x for x in httpx.get(f"http://127.0.0.1:{port}/layers?counts=true").json() if x["name"] == "streets"
        )
        assert again["feature_count"] == streets["feature_count"]
    finally:
        output = stop(proc)
    assert "demo not loaded" in output
