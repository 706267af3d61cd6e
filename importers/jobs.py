"""Import and export jobs in ``mahalle.jobs``: created, followed (progress) and finished.

A job's progress is written on its own autocommit connection, so it is visible while the work's own
transaction is still open. While running, that connection holds an advisory lock named after the job;
if the process dies (SIGKILL, power cut), PostgreSQL drops the lock with the connection, and the next
reader of the job list marks a "running" job without its lock as failed. The work itself was one
transaction, so nothing of it was written.

An import job runs one way whoever asks for it (``mahalle import``, ``POST /imports``): ``create_import``
records it, ``run_import_job`` follows, runs and finishes it; the caller only gathers the inputs and
shows the progress.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import fields
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.db import connect
from core.errors import MahalleError, NotFound
from importers.archive import ImportLimits
from importers.run import ImportOptions, ImportRejected, ImportReport, Progress, run_import
from layers.catalogue import UnknownLayer, load_catalogue

log = logging.getLogger("mahalle.import")
LOCK_CLASS = 0x4D48  # "MH": the first key of our two-key advisory locks
DIED = "the job stopped unexpectedly (its process ended); nothing of it was written"


def create(conn: psycopg.Connection, kind: str, params: dict[str, Any], actor: str) -> uuid.UUID:
    with conn.transaction():
        conn.execute("SELECT set_config('mahalle.actor', %s, true)", (actor,))
        return conn.execute(
            "INSERT INTO mahalle.jobs (kind, params) VALUES (%s, %s) RETURNING id", (kind, Jsonb(params))
        ).fetchone()[0]


def mark_stale(conn: psycopg.Connection) -> int:
    """Fail the running jobs whose process is gone (their advisory lock is free)."""
    with conn.transaction():
        return conn.execute(
            """
            UPDATE mahalle.jobs j SET status = 'failed', message = %s, finished_at = now()
             WHERE j.status = 'running'
               AND NOT EXISTS (SELECT 1 FROM pg_locks l
                                WHERE l.locktype = 'advisory' AND l.classid = %s
                                  AND l.objid::bigint = (hashtext(j.id::text)::bigint & 4294967295) AND l.objsubid = 2)
            """,
            (DIED, LOCK_CLASS),
        ).rowcount


def get(conn: psycopg.Connection, job_id: uuid.UUID | str, kind: str | None = None) -> dict[str, Any]:
    mark_stale(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT id, kind, status, progress, message, params, report, result_path, created_at, created_by, "
            "started_at, finished_at FROM mahalle.jobs WHERE id = %s AND (%s::text IS NULL OR kind = %s)",
            (str(job_id), kind, kind),
        ).fetchone()
    if row is None:
        raise NotFound(f"There is no {kind or ''} job {job_id}.".replace("  ", " "))
    return row


def list_imports(conn: psycopg.Connection, user: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest import jobs (of ``user``; None: everyone's), without their reports: what a list shows."""
    mark_stale(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT id, status, progress, message, params->>'file' AS file, params->>'layer' AS layer,
                   coalesce((params->>'dry_run')::boolean, false) AS dry_run,
                   coalesce((report->>'committed')::boolean, false) AS committed,
                   created_by, created_at, finished_at
              FROM mahalle.jobs
             WHERE kind = 'import' AND (%(user)s::text IS NULL OR created_by = %(user)s)
             ORDER BY created_at DESC, id
             LIMIT %(limit)s
            """,
            {"user": user, "limit": limit},
        ).fetchall()


class Tracker:
    """Follows one job on its own connection; use as a context manager around the work."""

    def __init__(self, url: str, job_id: uuid.UUID, min_interval: float = 0.5):
        self.job_id = job_id
        self.min_interval = min_interval
        self._last = 0.0
        self.conn = connect(url, autocommit=True)

    def __enter__(self) -> Tracker:
        self.conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, str(self.job_id)))
        self.conn.execute(
            "UPDATE mahalle.jobs SET status = 'running', started_at = now() WHERE id = %s", (self.job_id,)
        )
        return self

    def progress(self, fraction: float, message: str | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        self.conn.execute(
            "UPDATE mahalle.jobs SET progress = %s, message = coalesce(%s, message) WHERE id = %s",
            (min(max(fraction, 0.0), 1.0), message, self.job_id),
        )

    def finish(self, status: str, message: str, report: dict[str, Any] | None, result_path: str | None = None) -> None:
        self.conn.execute(
            "UPDATE mahalle.jobs SET status = %s, message = %s, report = %s, result_path = %s, finished_at = now(), "
            "progress = CASE WHEN %s = 'succeeded' THEN 1 ELSE progress END WHERE id = %s",
            (status, message, Jsonb(report) if report is not None else None, result_path, status, self.job_id),
        )

    def __exit__(self, *exc: object) -> None:
        self.conn.close()  # releases the advisory lock


# Import jobs ---------------------------------------------------------------------------------------

# What a job records of its options: every plain option (the mapping and the file name are recorded otherwise).
IMPORT_PARAMS = tuple(f.name for f in fields(ImportOptions) if f.name not in ("mapping", "name"))


def create_import(conn: psycopg.Connection, file: str, options: ImportOptions, actor: str) -> uuid.UUID:
    """Record an import job of ``file`` (its name as the user knows it), queued until it runs."""
    return create(conn, "import", {"file": file, **{k: getattr(options, k) for k in IMPORT_PARAMS}}, actor)


def run_import_job(
    url: str,
    job_id: uuid.UUID,
    path: Path,
    options: ImportOptions,
    actor: str,
    progress: Progress | None = None,
    limits: ImportLimits | None = None,
    grants: str | None = None,
) -> ImportReport:
    """Run the import job ``job_id`` (made by ``create_import``) on connections of its own, with the rights of
    ``grants`` (the requesting user's, as ``mahalle.grants`` takes them; None: the server's, for the CLI).

    Its progress goes to the job and to ``progress``; its end (the report, or why it failed) is recorded
    before this returns the report or raises. An error that is not a refusal (``MahalleError``, an unknown
    layer) is logged and recorded without its details, then raised again.
    """
    try:
        with Tracker(url, job_id) as tracker, connect(url, autocommit=True) as conn:
            if grants is not None:  # the rows the user may not add are refused by the database (permit triggers)
                conn.execute("SELECT set_config('mahalle.grants', %s, false)", (grants,))

            def follow(done: int, total: int | None, what: str) -> None:
                tracker.progress(done / total if total else 0.0, what)
                if progress is not None:
                    progress(done, total, what)

            try:
                report = run_import(conn, load_catalogue(conn), path, options, actor, follow, limits)
            except ImportRejected as exc:
                tracker.finish("failed", str(exc), exc.report.to_json())
                raise
            except (MahalleError, UnknownLayer) as exc:
                tracker.finish("failed", str(exc), None)
                raise
            except Exception as exc:
                why = f"the import failed unexpectedly ({type(exc).__name__}); it has been logged"
                tracker.finish("failed", why, None)
                raise
            tracker.finish("succeeded", report.summary(), report.to_json())
            return report
    except (MahalleError, UnknownLayer):
        raise
    except Exception:
        log.exception("import job %s failed", job_id)
        raise
