"""`mahalle serve --workers 2`: two server processes on the one database, both answering, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.auth import ADMIN_HEADERS
from tests.test_make_run import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


def test_two_workers_serve_edits_and_stop(db_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAHALLE_")}
    env.update(MAHALLE_DATABASE_URL=db_url, MAHALLE_LOAD_DEMO="false", MAHALLE_PORT=str(port))
    command = [str(ROOT / ".venv" / "bin" / "mahalle"), "serve", "--workers", "2"]
    proc = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_healthy(proc, port, timeout=120)
        deadline = time.monotonic() + 30
        while len(children(proc.pid)) < 2 and time.monotonic() < deadline:  # uvicorn's workers (and its helper)
            time.sleep(0.2)
        assert len(children(proc.pid)) >= 2
        base = f"http://127.0.0.1:{port}/ogc/collections/workshops/items"
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
                   "properties": {"kind": "metal"}}  # fmt: skip
        with httpx.Client(headers=ADMIN_HEADERS) as client:  # several requests, so both workers take some
            made = [client.post(base, json=feature) for _ in range(6)]
            assert all(r.status_code == 201 for r in made)
            listed = client.get(base, params={"limit": 100}).json()
        assert {f["id"] for f in listed["features"]} >= {r.json()["id"] for r in made}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert not children(proc.pid)
