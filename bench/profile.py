"""Why a target was missed: py-spy samples of a Python process, EXPLAIN (ANALYZE, BUFFERS) of a statement,
and auto_explain's plan (with trigger times) of the statements an import runs."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from bench.servers import BIN

REPO = str(Path(__file__).resolve().parent.parent) + "/"
VENV = REPO + ".venv/"


def pyspy_available() -> bool:
    return (BIN / "py-spy").exists()


def pyspy_attach(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """Start sampling a running process for ``seconds``; wait on the returned process, then ``summarise``."""
    args = [
        str(BIN / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        "--subprocesses",  # a server with several workers: the workers are its children
        "--full-filenames",
    ]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pyspy_wrap(out: Path) -> list[str]:
    """The prefix that samples a command from start to end (its subprocesses too)."""
    return [
        str(BIN / "py-spy"),
        "record",
        "--format",
        "raw",
        "--output",
        str(out),
        "--subprocesses",
        "--full-filenames",
        "--",
    ]


IDLE = {"EpollSelector.select", "Condition.wait", "Event.wait", "Thread._wait_for_tstate_lock", "Queue.get"}


def _frame_name(frame: str) -> str:
    # raw frames read "function (path/file.py:line)"; keep the function and a short path, drop the line
    match = re.match(r"(.*) \((.*?):\d+\)$", frame.strip())
    if not match:
        return frame.strip()
    func, path = match.groups()
    short = (
        path[len(REPO) :] if path.startswith(REPO) and not path.startswith(VENV) else "/".join(Path(path).parts[-2:])
    )
    return f"{func} ({short})"


def _stacks(raw: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if "(" in f]
        if count.isdigit() and frames:
            out.append((frames, int(count)))
    return out


def summarise(raw: Path, top: int = 12) -> str:
    """Share of busy samples per function, inclusive (anywhere on the stack) and self (the leaf frame); threads
    that only wait (the event loop's select, idle pool threads) are counted apart."""
    if not raw.exists():
        return "(no py-spy samples)"
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    busy = idle = 0
    for frames, n in _stacks(raw):
        last = _frame_name(frames[-1])
        if last.split(" (")[0] in IDLE:
            idle += n
            continue
        busy += n
        for name in {_frame_name(f) for f in frames if REPO in f and VENV not in f}:
            inclusive[name] += n
        leaf[last] += n
    if not busy:
        return "(no busy py-spy samples)"
    lines = [
        f"{busy} busy samples ({idle} more only waiting: event loop select, idle pool threads)",
        "",
        "inclusive, project code:",
    ]
    lines += [f"  {100 * n / busy:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self (leaf frame):"]
    lines += [f"  {100 * n / busy:5.1f} %  {name}" for name, n in leaf.most_common(top)]
    return "\n".join(lines)


def shares(raw: Path, patterns: dict[str, str]) -> dict[str, float]:
    """Per label, the % of busy samples with a frame (short name) matching its regex anywhere on the stack."""
    hits = dict.fromkeys(patterns, 0)
    busy = 0
    for frames, n in _stacks(raw) if raw.exists() else []:
        names = [_frame_name(f) for f in frames]
        if names[-1].split(" (")[0] in IDLE:
            continue
        busy += n
        for label, pattern in patterns.items():
            if any(re.search(pattern, name) for name in names):
                hits[label] += n
    return {label: 100 * n / busy for label, n in hits.items()} if busy else {}


def explain(conn: psycopg.Connection, statements: list[tuple[str, Any]]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement, parameters bound as the server would see them."""
    out = []
    for query, params in statements:
        text = psycopg.ClientCursor(conn).mogrify(query, params)
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + text).fetchall()
        out.append("\n".join(r[0] for r in rows))
    return "\n\n".join(out)


def auto_explain_options(min_ms: int = 1000) -> str:
    """PGOPTIONS that make the server log the plan, with trigger times, of every slow statement of a session."""
    settings = {
        "session_preload_libraries": "auto_explain",
        "auto_explain.log_min_duration": str(min_ms),
        "auto_explain.log_analyze": "on",
        "auto_explain.log_triggers": "on",
        "auto_explain.log_buffers": "on",
        "auto_explain.log_nested_statements": "off",
    }
    return " ".join(f"-c {k}={v}" for k, v in settings.items())


def logged_plans(log: Path, since: int, pattern: str = "INSERT INTO public") -> str:
    """The auto_explain plans logged after byte ``since`` whose query matches ``pattern``."""
    try:
        with log.open("rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no server log)"
    plans = [p for p in re.split(r"\n(?=\S.*LOG:  duration: )", text) if "Query Text:" in p and pattern in p]
    if not plans:
        return "(no plan logged)"
    keep = [ln for ln in plans[-1].splitlines() if not ln.lstrip().startswith(("SELECT", "FROM", "WHERE", "WITH"))]
    return "\n".join(keep[:80])
