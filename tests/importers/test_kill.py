"""SIGKILL an import in the middle of its COPY: the database is as it was, the job shows failed, and
a retry is idempotent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importers import jobs
from importers.run import ImportOptions, run_import
from layers.catalogue import core_catalogue

ROWS = 40_000
MAHALLE = Path(sys.executable).parent / "mahalle"


def big_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write("ref,kind,condition,lon,lat\n")
        for i in range(ROWS):
            f.write(f"a{i},tree,good,{24.90 + (i % 1000) * 1e-4:.6f},{60.15 + (i // 1000) * 1e-4:.6f}\n")
    return path


def wait_for(conn, query: str, params: tuple, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute(query, params).fetchone()[0]:
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the import ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for: {query}")


@pytest.mark.slow
def test_sigkill_mid_copy_leaves_the_database_unchanged(db_url, conn, tmp_path):
    path = big_csv(tmp_path / "trees.csv")
    conn.execute("INSERT INTO assets (kind, geom) VALUES ('bench', 'SRID=4326;POINT(24.94 60.17)')")
    before = conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0]
    env = {**os.environ, "MAHALLE_DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [str(MAHALLE), "import", str(path), "--layer", "assets", "--id-field", "ref"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Mid-load: its transaction has staged rows with COPY and is still open.
        copying = (
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query ILIKE 'COPY _mahalle_stage%%' AND xact_start IS NOT NULL)"
        )
        wait_for(conn, copying, (), 120, proc)
        running = conn.execute("SELECT status FROM mahalle.jobs").fetchall()
        assert running == [("running",)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # PostgreSQL ends the killed client's sessions (and so its job lock) once it sees the sockets close.
    gone = (
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend')"
    )
    wait_for(conn, gone, (), 30)
    assert conn.execute("SELECT count(*), min(kind) FROM assets").fetchone() == (1, "bench")
    assert conn.execute("SELECT count(*) FROM mahalle.history").fetchone()[0] == before
    job = conn.execute("SELECT id FROM mahalle.jobs").fetchone()[0]
    state = jobs.get(conn, job)
    assert (state["status"], state["message"]) == ("failed", jobs.DIED)
    # The retry loads everything once; a second retry changes nothing.
    options = ImportOptions(layer="assets", id_field="ref")
    first = run_import(conn, core_catalogue(), path, options, "tester").layers["assets"]
    again = run_import(conn, core_catalogue(), path, options, "tester").layers["assets"]
    assert (first.new, again.new, again.updated, again.unchanged) == (ROWS, 0, 0, ROWS)
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == ROWS + 1
