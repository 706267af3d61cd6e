"""Interventions and the action plan: the operations planners perform.

The rules themselves live in the database (layers/sql/planning_rules.sql) so that QGIS edits meet
them too; this module turns planners' requests into single statements inside the caller's transaction
(``core.db.attributed``) and turns the database's refusals into the errors the API reports.
Writes of feature content go through ``layers.edit`` (catalogue-checked input, versioned writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.crs import STORAGE
from core.db import TRANSITION_REFUSED
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from layers import edit, interventions, outputs, tasks
from layers.geojson import feature_json

INTERVENTIONS = interventions.LAYER
TASKS = tasks.LAYER
OUTPUTS = outputs.LAYER
# What a transition may record besides the status (the rest is edited with PATCH).
TRANSITION_FIELDS = ("status_reason", "actual_start", "actual_end", "achieved_quantity", "actual_cost")
CLOSED_TASK = ("done", "cancelled")


@dataclass(frozen=True)
class Target:
    layer: str
    feature_id: int


def parse_targets(value: Any, field: str = "targets") -> list[Target]:
    """``[{"layer": "streets", "feature_id": 12}, …]`` from a request body."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list of {{layer, feature_id}} objects", field)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - {"layer", "feature_id"}:
            raise InvalidInput(f"{field}[{i}] must be an object with layer and feature_id", field)
        layer = edit.check_value(f"{field}[{i}].layer", "text", item.get("layer"))
        fid = edit.check_value(f"{field}[{i}].feature_id", "integer", item.get("feature_id"))
        if layer is None or fid is None:
            raise InvalidInput(f"{field}[{i}] needs both layer and feature_id", field)
        out.append(Target(layer, fid))
    return out


def neighbourhood_id(conn: psycopg.Connection, code: str) -> int:
    row = conn.execute("SELECT id FROM public.neighbourhoods WHERE code = %s", (code,)).fetchone()
    if row is None:
        raise NotFound(f"There is no neighbourhood with code {code!r}.")
    return row[0]


def _cascade(conn: psycopg.Connection, cascade: bool) -> None:
    conn.execute("SELECT set_config('mahalle.cascade', %s, true)", ("on" if cascade else "off",))


def _cause_if_unset(conn: psycopg.Connection, cause: sql.Composable, params: tuple[Any, ...]) -> None:
    """Name the cause in the history unless the caller already did."""
    query = sql.SQL(
        "SELECT set_config('mahalle.cause', coalesce(nullif(current_setting('mahalle.cause', true), ''), {}), true)"
    ).format(cause)
    conn.execute(query, params)


# Interventions -------------------------------------------------------------------------------------


def create_intervention(conn: psycopg.Connection, data: edit.FeatureInput, targets: list[Target]) -> int:
    """A new intervention (always ``proposed``: later states are reached by transitions) and its targets."""
    if data.values.get("status", "proposed") != "proposed":
        raise InvalidInput("status: a new intervention is proposed; move it on with a transition", "status")
    iid, _, _ = edit.create(conn, INTERVENTIONS, data)
    add_targets(conn, iid, targets)
    return iid


def update_intervention(
    conn: psycopg.Connection, iid: int, data: edit.FeatureInput, expected: int | str | None = None
) -> int:
    if "status" in data.values:
        raise InvalidInput(
            "the status of an intervention changes only by a step of its lifecycle (a transition), "
            "which records what the step needs, such as the actual end date",
            "status",
        )
    return edit.patch(conn, INTERVENTIONS, iid, data, expected, STORAGE)


def delete_intervention(
    conn: psycopg.Connection, iid: int, *, cascade: bool = False, expected: int | str | None = None
) -> None:
    """Refused (HasDependents) while it has installed assets, unless ``cascade``; history keeps all."""
    _cascade(conn, cascade)
    edit.delete(conn, INTERVENTIONS, iid, expected)  # HasDependents while rows depend on it


def allowed_transitions(conn: psycopg.Connection, status: str) -> list[str]:
    return conn.execute("SELECT mahalle.allowed_intervention_transitions(%s)", (status,)).fetchone()[0]


def transition(conn: psycopg.Connection, iid: int, to: str, changes: dict[str, Any] | None = None) -> int:
    """Move an intervention to status ``to``; the database checks the move and applies its effects.

    ``changes`` may record what the move needs (actual_end, status_reason …). Returns the new version.
    """
    changes = changes or {}
    row = conn.execute("SELECT status FROM public.interventions WHERE id = %s FOR UPDATE", (iid,)).fetchone()
    if row is None:
        raise NotFound(f"interventions has no feature {iid}.")
    current = row[0]
    values = {"status": edit.check_value("status", "choice", to)}
    for name, value in changes.items():
        if name not in TRANSITION_FIELDS:
            raise InvalidInput(f"{name} cannot be set by a transition; allowed: {', '.join(TRANSITION_FIELDS)}", name)
        values[name] = edit.check_value(name, INTERVENTIONS.attribute(name).type, value)
    _cause_if_unset(conn, sql.SQL("mahalle.intervention_cause(%s, %s)"), (iid, to))
    allowed = allowed_transitions(conn, current)
    query = sql.SQL("UPDATE public.interventions SET {} WHERE id = %s RETURNING version").format(
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in values)
    )
    try:
        return conn.execute(query, [*values.values(), iid]).fetchone()[0]
    except psycopg.errors.IntegrityError as exc:
        if exc.diag.sqlstate == TRANSITION_REFUSED:
            raise TransitionNotAllowed(exc.diag.message_primary, current, to, allowed) from exc
        raise


def add_targets(conn: psycopg.Connection, iid: int, targets: list[Target]) -> None:
    """Link features the intervention acts on; the database checks layer, existence and neighbourhood."""
    if not targets:
        return
    conn.cursor().executemany(
        "INSERT INTO public.intervention_targets (intervention_id, layer, feature_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (intervention_id, layer, feature_id) DO NOTHING",
        [(iid, t.layer, t.feature_id) for t in targets],
    )


def remove_target(conn: psycopg.Connection, iid: int, target: Target) -> None:
    row = conn.execute(
        "DELETE FROM public.intervention_targets WHERE intervention_id = %s AND layer = %s AND feature_id = %s "
        "RETURNING id",
        (iid, target.layer, target.feature_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"intervention {iid} has no target {target.layer} {target.feature_id}.")


def targets_of(conn: psycopg.Connection, iid: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT layer, feature_id FROM public.intervention_targets WHERE intervention_id = %s "
            "ORDER BY layer, feature_id",
            (iid,),
        ).fetchall()


def get_intervention(conn: psycopg.Connection, iid: int) -> dict[str, Any]:
    """The intervention as a GeoJSON Feature with its targets, installed assets and next states."""
    row = conn.execute(
        sql.SQL("SELECT ({})::jsonb FROM public.interventions t WHERE t.id = %s").format(
            feature_json(INTERVENTIONS, STORAGE)
        ),
        (iid,),
    ).fetchone()
    if row is None:
        raise NotFound(f"interventions has no feature {iid}.")
    feature = row[0]
    assets = conn.execute(
        "SELECT kind, count(*) FROM public.assets WHERE intervention_id = %s GROUP BY kind ORDER BY kind", (iid,)
    ).fetchall()
    feature["targets"] = targets_of(conn, iid)
    feature["installed_assets"] = dict(assets)
    feature["allowed_transitions"] = allowed_transitions(conn, feature["properties"]["status"])
    return feature


def list_interventions(
    conn: psycopg.Connection, *, neighbourhood: int | None = None, status: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        sql.SQL(
            "SELECT ({})::jsonb FROM public.interventions t "
            "WHERE (%(n)s::bigint IS NULL OR t.neighbourhood_id = %(n)s) AND (%(s)s::text IS NULL OR t.status = %(s)s) "
            "AND (%(k)s::text IS NULL OR t.kind = %(k)s) ORDER BY t.id"
        ).format(feature_json(INTERVENTIONS, STORAGE)),
        {"n": neighbourhood, "s": status, "k": kind},
    ).fetchall()
    return [r[0] for r in rows]


# Tasks ---------------------------------------------------------------------------------------------

TASK_SELECT = sql.SQL(
    "SELECT to_jsonb(t) || jsonb_build_object("
    "'progress_source', mahalle.task_progress_source(t.id), "
    "'neighbourhood', n.code) "
    "FROM public.tasks t LEFT JOIN public.neighbourhoods n ON n.id = t.neighbourhood_id"
)


def task_input(body: Any, *, patch: bool = False) -> edit.FeatureInput:
    """A task's properties (a plain JSON object) checked against the catalogue."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object of task properties")
    return edit.parse_feature(TASKS, {"type": "Feature", "properties": body}, patch=patch)


def create_task(conn: psycopg.Connection, data: edit.FeatureInput) -> int:
    tid, _, _ = edit.create(conn, TASKS, data)
    return tid


def update_task(conn: psycopg.Connection, tid: int, data: edit.FeatureInput, expected: int | str | None = None) -> int:
    return edit.patch(conn, TASKS, tid, data, expected, STORAGE)


def delete_task(
    conn: psycopg.Connection, tid: int, *, cascade: bool = False, expected: int | str | None = None
) -> None:
    """Refused (HasDependents) while it has subtasks, unless ``cascade``; history keeps all."""
    _cascade(conn, cascade)
    edit.delete(conn, TASKS, tid, expected)  # HasDependents while rows depend on it


def get_task(conn: psycopg.Connection, tid: int) -> dict[str, Any]:
    row = conn.execute(sql.SQL("{} WHERE t.id = %s").format(TASK_SELECT), (tid,)).fetchone()
    if row is None:
        raise NotFound(f"tasks has no feature {tid}.")
    task = row[0]
    with conn.cursor(row_factory=dict_row) as cur:
        task["links"] = cur.execute(
            "SELECT layer, feature_id, weight FROM public.task_links WHERE task_id = %s ORDER BY layer, feature_id",
            (tid,),
        ).fetchall()
        task["subtasks"] = [r["id"] for r in cur.execute("SELECT id FROM public.tasks WHERE parent_id = %s", (tid,))]
    task["updates"] = task_updates(conn, tid)
    task["targets"] = targets_of_task(conn, tid)
    return task


# Targets of tasks: planned vs achieved outputs -------------------------------------------------------------


def targets_of_task(conn: psycopg.Connection, tid: int) -> list[dict[str, Any]]:
    """Each target of the task with what its outputs of that kind add up to (``achieved``)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT kind, unit, target, achieved FROM mahalle.task_target_status(%s)", (tid,)).fetchall()


def set_target(conn: psycopg.Connection, tid: int, kind: str, target: Any, unit: Any = None) -> None:
    """Plan ``target`` outputs of ``kind`` for the task (replacing an earlier figure); progress follows."""
    kind = edit.check_value("kind", "choice", kind)  # a kind of output: the database checks it against the registry
    target = edit.check_value("target", "number", target)
    if target is None or target <= 0:
        raise InvalidInput("target: plan more than 0", "target")
    unit = edit.check_value("unit", "text", unit)
    if conn.execute("SELECT 1 FROM public.tasks WHERE id = %s FOR UPDATE", (tid,)).fetchone() is None:
        raise NotFound(f"tasks has no feature {tid}.")
    conn.execute(
        "INSERT INTO public.task_targets (task_id, kind, target, unit) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (task_id, kind) DO UPDATE SET target = EXCLUDED.target, unit = EXCLUDED.unit",
        (tid, kind, target, unit),
    )


def remove_target_of_task(conn: psycopg.Connection, tid: int, kind: str) -> None:
    row = conn.execute(
        "DELETE FROM public.task_targets WHERE task_id = %s AND kind = %s RETURNING id", (tid, kind)
    ).fetchone()
    if row is None:
        raise NotFound(f"task {tid} has no target for {kind}.")


def list_tasks(
    conn: psycopg.Connection,
    *,
    neighbourhood: int | None = None,
    status: str | None = None,
    domain: str | None = None,
) -> list[dict[str, Any]]:
    rows = conn.execute(
        sql.SQL(
            "{} WHERE (%(n)s::bigint IS NULL OR t.neighbourhood_id = %(n)s) "
            "AND (%(s)s::text IS NULL OR t.status = %(s)s) AND (%(d)s::text IS NULL OR t.domain = %(d)s) "
            "ORDER BY t.due_date NULLS LAST, t.id"
        ).format(TASK_SELECT),
        {"n": neighbourhood, "s": status, "d": domain},
    ).fetchall()
    return [r[0] for r in rows]


def link(conn: psycopg.Connection, tid: int, target: Target, weight: float | None = None) -> None:
    """Tie a task to an intervention or any feature; linking an intervention makes progress derived."""
    if weight is not None:
        weight = edit.check_value("weight", "number", weight)
    conn.execute(
        "INSERT INTO public.task_links (task_id, layer, feature_id, weight) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (task_id, layer, feature_id) DO UPDATE SET weight = EXCLUDED.weight",
        (tid, target.layer, target.feature_id, weight),
    )


def unlink(conn: psycopg.Connection, tid: int, target: Target) -> None:
    row = conn.execute(
        "DELETE FROM public.task_links WHERE task_id = %s AND layer = %s AND feature_id = %s RETURNING id",
        (tid, target.layer, target.feature_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"task {tid} is not linked to {target.layer} {target.feature_id}.")


def add_update(
    conn: psycopg.Connection, tid: int, note: Any, *, status: Any = None, progress: Any = None
) -> dict[str, Any]:
    """Log a note on a task; a status or progress given with it is applied to the task too."""
    note = edit.check_value("note", "text", note)
    if not note or not note.strip():
        raise InvalidInput("note: say what happened", "note")
    changes = {"status": status, "progress": progress}
    values = {k: edit.check_value(k, TASKS.attribute(k).type, v) for k, v in changes.items() if v is not None}
    if "status" in values and values["status"] not in TASKS.attribute("status").values:
        allowed = ", ".join(TASKS.attribute("status").values)
        raise InvalidInput(f"status {values['status']!r} is not one of: {allowed}", "status")
    if conn.execute("SELECT 1 FROM public.tasks WHERE id = %s FOR UPDATE", (tid,)).fetchone() is None:
        raise NotFound(f"tasks has no feature {tid}.")
    if values:
        update_task(conn, tid, edit.FeatureInput(values, None, False))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "INSERT INTO public.task_updates (task_id, note, status, progress) VALUES (%s, %s, %s, %s) "
            "RETURNING id, note, status, progress, created_at, created_by",
            (tid, note, values.get("status"), values.get("progress")),
        ).fetchone()


def task_updates(conn: psycopg.Connection, tid: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, note, status, progress, created_at, created_by FROM public.task_updates "
            "WHERE task_id = %s ORDER BY created_at, id",
            (tid,),
        ).fetchall()


def board(conn: psycopg.Connection, neighbourhood: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Tasks in columns by status, in the catalogue's order; urgent and soon-due first in each."""
    columns: dict[str, list[dict[str, Any]]] = {s: [] for s in TASKS.attribute("status").values}
    priority = list(TASKS.attribute("priority").values)
    for task in list_tasks(conn, neighbourhood=neighbourhood):
        columns.setdefault(task["status"], []).append(task)
    for items in columns.values():
        items.sort(key=lambda t: (-priority.index(t["priority"]), t["due_date"] or "9999", t["id"]))
    return columns


def overdue(conn: psycopg.Connection, today: date, neighbourhood: int | None = None) -> list[dict[str, Any]]:
    """Open tasks whose due date has passed (``today`` is explicit so reports and tests are exact)."""
    return [
        t
        for t in list_tasks(conn, neighbourhood=neighbourhood)
        if t["due_date"] and date.fromisoformat(t["due_date"]) < today and t["status"] not in CLOSED_TASK
    ]


def blocked(conn: psycopg.Connection, neighbourhood: int | None = None) -> list[dict[str, Any]]:
    """Blocked tasks, each with its latest logged note (usually why it is blocked)."""
    out = list_tasks(conn, neighbourhood=neighbourhood, status="blocked")
    for task in out:
        notes = task_updates(conn, task["id"])
        task["last_update"] = notes[-1] if notes else None
    return out
