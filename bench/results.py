"""Results: one row per scenario and peer, the targets with met/missed, the machine and versions; printed as a
rich table and written to bench/RESULTS.md — only from a clean commit: the run records ``git rev-parse HEAD`` and
``git status --porcelain``, and from a tree with uncommitted changes it writes elsewhere (``destination``) unless
asked to (``--allow-dirty``), and then says so at the top of the file."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.loadgen import Stats
from bench.transfer import Timed


@dataclass
class Row:
    scenario: str
    peer: str
    requests: int | None = None
    median_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None
    seconds: float | None = None  # wall time of a one-shot job (import, export)
    rss_mb: float | None = None
    errors: int = 0
    note: str = ""

    @classmethod
    def from_stats(cls, scenario: str, peer: str, st: Stats, note: str = "") -> Row:
        return cls(scenario, peer, st.requests, st.median_ms, st.p99_ms, st.rps, errors=st.errors, note=note)

    @classmethod
    def from_job(cls, scenario: str, peer: str, job: Timed, note: str = "") -> Row:
        """A one-shot process (import, export): its wall time, peak RSS and exit status."""
        return cls(scenario, peer, seconds=job.seconds, rss_mb=job.peak_rss_mb, errors=int(job.returncode != 0),
                   note="; ".join(n for n in (job.how, note) if n))  # fmt: skip


@dataclass
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: could not be measured in this run

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "not measured"}[self.met]


@dataclass
class Finding:
    title: str
    text: str
    blocks: list[str] = field(default_factory=list)  # profiles and plans, shown verbatim


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    growth: list[tuple[int, str, float | None, float | None]] = field(default_factory=list)  # size, scenario, med, p99
    settings: dict[str, str] = field(default_factory=dict)
    peers: dict[str, str] = field(default_factory=dict)  # peer → how it was configured, one line
    notes: list[str] = field(default_factory=list)

    def row(self, scenario: str, peer: str) -> Row | None:
        return next((r for r in self.rows if r.scenario == scenario and r.peer == peer), None)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


COLUMNS = ("scenario", "peer", "requests", "median ms", "p99 ms", "req/s", "time s", "peak RSS MB", "errors", "note")


def _cells(r: Row) -> list[str]:
    return [
        r.scenario,
        r.peer,
        "–" if r.requests is None else f"{r.requests:,}",
        fmt(r.median_ms, 2),
        fmt(r.p99_ms, 2),
        fmt(r.rps),
        fmt(r.seconds),
        fmt(r.rss_mb, 0),
        str(r.errors),
        r.note,
    ]


def print_tables(res: Results, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(*COLUMNS, title="Mahalle and its peers, same database, same data, same run")
    for r in res.rows:
        table.add_row(*_cells(r), style="bold" if r.peer == "mahalle" else None)
    console.print(table)
    targets = Table("target", "goal", "measured", "verdict", title="Targets")
    for t in res.targets:
        colour = {True: "green", False: "red", None: "yellow"}[t.met]
        targets.add_row(t.name, t.goal, t.measured, f"[{colour}]{t.verdict}[/]")
    console.print(targets)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(res: Results, info: dict[str, str], git: GitState | None = None) -> str:
    out = ["# Benchmark results", ""]
    if git is not None and not git.clean:
        out += [f"> **{UNCOMMITTED}** — {git.describe()}. These figures belong to no commit.", ""]
    out += ["Written by `python -m bench` (`make bench`); every number below comes from one run.", ""]
    out += ["## Machine and versions", "", _md_table(["", ""], [[k, v] for k, v in info.items()]), ""]
    out += ["## Run settings", "", _md_table(["", ""], [[k, v] for k, v in res.settings.items()]), ""]
    if res.peers:
        out += ["## How each peer was configured", ""]
        out += [f"- **{peer}**: {line}" for peer, line in res.peers.items()] + [""]
    out += [
        "## Targets",
        "",
        _md_table(
            ["target", "goal", "measured", "verdict"],
            [[t.name, t.goal, t.measured, f"**{t.verdict}**"] for t in res.targets],
        ),
        "",
    ]
    out += ["## Measurements", "", _md_table(list(COLUMNS), [_cells(r) for r in res.rows]), ""]
    if res.growth:
        out += ["## Cost growth (Mahalle, the same requests on tables of growing size)", ""]
        out += [
            _md_table(
                ["parcels", "scenario", "median ms", "p99 ms"],
                [[f"{n:,}", s, fmt(m, 2), fmt(p, 2)] for n, s, m, p in res.growth],
            ),
            "",
        ]
    if res.findings:
        out += ["## Findings", ""]
        for f in res.findings:
            out += [f"### {f.title}", "", f.text, ""]
            for block in f.blocks:
                out += ["```", block.rstrip(), "```", ""]
    if res.notes:
        out += ["## How the peers were run", ""] + [f"- {n}" for n in res.notes] + [""]
    return "\n".join(out)


def write(res: Results, path: Path, info: dict[str, str], git: GitState | None = None) -> None:
    path.write_text(markdown(res, info, git), encoding="utf-8")


# --- the commit the results belong to -------------------------------------------------------------------

UNCOMMITTED = "From uncommitted changes"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GitState:
    commit: str  # git rev-parse HEAD ("" outside a repository)
    changes: tuple[str, ...]  # git status --porcelain lines, the results file itself left out

    @property
    def clean(self) -> bool:
        return bool(self.commit) and not self.changes

    def describe(self) -> str:
        if not self.commit:
            return "not in a git repository"
        if self.clean:
            return f"{self.commit} (clean)"
        shown = ", ".join(c.strip() for c in self.changes[:5]) + (" …" if len(self.changes) > 5 else "")
        return f"{self.commit} with {len(self.changes)} uncommitted change(s): {shown}"

    def merge(self, later: GitState) -> GitState:
        """The state over a run: dirty if it was dirty at either end, or HEAD moved under it."""
        changes = tuple(dict.fromkeys(self.changes + later.changes))
        if later.commit != self.commit:
            changes += (f"HEAD moved to {later.commit or '?'} during the run",)
        return GitState(self.commit, changes)


def git_state(repo: Path = REPO, ignore: Sequence[Path] = ()) -> GitState:
    """HEAD and the uncommitted changes of ``repo`` (untracked files included), leaving out ``ignore`` (the results
    file a previous run wrote: it changes no figure)."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return GitState("", ())
    status = git("status", "--porcelain", "--untracked-files=all")
    skip = set()
    for path in ignore:
        if path.resolve().is_relative_to(repo.resolve()):
            skip.add(path.resolve().relative_to(repo.resolve()).as_posix())
    lines = [line for line in status.stdout.splitlines() if line.strip()]
    return GitState(head.stdout.strip(), tuple(line for line in lines if line[3:].strip('"') not in skip))


def destination(requested: Path, canonical: Path, git: GitState, allow_dirty: bool, elsewhere: Path) -> Path:
    """Where the results go: ``requested``, except that the committed results file (``canonical``) is written only
    from a clean commit; from uncommitted changes it goes to ``elsewhere`` unless ``allow_dirty`` (then the file
    says at its top that it comes from uncommitted changes)."""
    if git.clean or allow_dirty or requested.resolve() != canonical.resolve():
        return requested
    return elsewhere


# --- machine and versions ------------------------------------------------------------------------------


def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return "?"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "?"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "?"


def _memory() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    except (OSError, AttributeError):
        return "?"
    return f"{kb / 1024 / 1024:.1f} GiB"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(git: GitState, server_versions: dict[str, str] | None = None) -> dict[str, str]:
    info = {
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": f"{os.cpu_count()} CPUs ({_cpu_model()}), {_memory()} memory, {platform.platform()}",
        "load average at start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "Mahalle commit": git.describe() if git.clean else f"**{UNCOMMITTED}**: {git.describe()}",
        "Python": platform.python_version(),
        "GDAL (ogr2ogr)": _cmd(["ogr2ogr", "--version"]),
        "tipg": _package("tipg"),
        "pygeoapi": _package("pygeoapi"),
        "psycopg": _package("psycopg"),
        "uvicorn": _package("uvicorn"),
    }
    return {**info, **(server_versions or {})}
