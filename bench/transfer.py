"""Import and export, timed as whole processes: Mahalle's CLI (``mahalle import`` / ``mahalle export``) against
``ogr2ogr`` on the same file and table. Wall time from start to exit; peak RSS from the child's rusage."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cluster import BenchCluster
from bench.servers import BIN

OGR_SCHEMA = "bench_ogr"


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str
    how: str = ""


def run_timed(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, log: Path | None = None
) -> Timed:
    """Run to the end; the child's own peak RSS comes from wait4 (ru_maxrss, kB on Linux)."""
    log = log or Path(os.devnull)
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = Path(log).read_text(errors="replace")[-4000:] if log.name != os.devnull else ""
    return Timed(seconds, usage.ru_maxrss / 1024, proc.returncode, text)


def cli_has(command: str) -> bool:
    """Whether the ``mahalle`` CLI offers ``command`` (import/export are built in another branch of work)."""
    result = subprocess.run([str(BIN / "mahalle"), command, "--help"], capture_output=True, text=True)
    return result.returncode == 0


def mahalle_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAHALLE_")}
    # A million parcels make a GeoPackage larger than the default upload limit, which local imports share.
    return {
        **env,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),  # the drivers run from the work folder
        "MAHALLE_DATABASE_URL": db_url,
        "MAHALLE_IMPORT_MAX_FILE_MB": "100000",
        "MAHALLE_DEFAULT_ACTOR": "bench",
    }


def mahalle_import(
    db_url: str,
    gpkg: Path,
    layer: str,
    workdir: Path,
    wrap: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Timed:
    """``mahalle import FILE --layer LAYER``, or the bench driver over importers/ when the CLI lacks it."""
    if cli_has("import"):
        args, how = [str(BIN / "mahalle"), "import", str(gpkg), "--layer", layer], "mahalle import (CLI)"
    else:
        args, how = [sys.executable, "-m", "bench.drivers", "import", db_url, str(gpkg), layer], "bench driver"
    env = {**mahalle_env(db_url), **(extra_env or {})}
    timed = run_timed([*(wrap or []), *args], env, workdir, workdir / f"import-{layer}.log")
    timed.how = how
    return timed


def mahalle_export(
    db_url: str,
    out: Path,
    layer: str,
    workdir: Path,
    wrap: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Timed:
    out.unlink(missing_ok=True)
    if cli_has("export"):
        args = [str(BIN / "mahalle"), "export", "--format", "gpkg", "--out", str(out), "--layers", layer]
        args += ["--bbox", ",".join(map(str, bbox))] if bbox else []
        how = "mahalle export (CLI)"
    else:
        args, how = [sys.executable, "-m", "bench.drivers", "export", db_url, str(out), layer], "bench driver"
    timed = run_timed([*(wrap or []), *args], mahalle_env(db_url), workdir, workdir / f"export-{layer}.log")
    timed.how = how
    return timed


def ogr_import(bc: BenchCluster, dbname: str, gpkg: Path, layer: str, workdir: Path) -> Timed:
    """ogr2ogr into a table of its own (schema bench_ogr), COPY mode, spatial index as it makes by default."""
    args = [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        bc.ogr(dbname),
        str(gpkg),
        layer,
        "--config",
        "PG_USE_COPY",
        "YES",
        "-nln",
        f"{OGR_SCHEMA}.{layer}",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-overwrite",
    ]
    timed = run_timed(args, None, workdir, workdir / f"ogr-import-{layer}.log")
    timed.how = "ogr2ogr -f PostgreSQL --config PG_USE_COPY YES"
    return timed


def ogr_export(bc: BenchCluster, dbname: str, table: str, out: Path, workdir: Path) -> Timed:
    out.unlink(missing_ok=True)
    args = ["ogr2ogr", "-f", "GPKG", str(out), bc.ogr(dbname), table, "-nln", table.split(".")[-1]]
    timed = run_timed(args, None, workdir, workdir / "ogr-export.log")
    timed.how = "ogr2ogr -f GPKG"
    return timed


def warm_file(path: Path) -> None:
    """Read the file once so neither contender pays the first cold read."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass
