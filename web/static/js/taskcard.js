// The action plan in the browser, shared by the board and the intervention panel: a task's dialog (title,
// level and parent goal, status, priority, assignee, due date; saved as a merge patch with If-Match, a 412
// reloads the task and says someone else changed it) with its update log; the tasks an intervention is
// linked to, linking it to an existing task of its neighbourhood and unlinking; a task's goal. The server
// checks everything: its messages are shown next to the field they name (`property`).

import { ApiError, get, request } from "./api.js";
import { attribute, displayValue, layerOf } from "./catalogue.js";
import { $, append, clear, el, toast } from "./dom.js";
import { buildForm, changed, normaliseDigits } from "./form.js";
import { formatDateTime, formatNumber, label, t } from "./i18n.js";
import { canPlan } from "./session.js";

/** How a card words its progress by where it comes from (GET /tasks: progress_source). */
export const PROGRESS_TEXT = { interventions: "board.progress_derived", targets: "board.progress_targets", manual: "board.progress_manual" };

const FIELDS = ["title", "domain", "level", "parent_id", "status", "priority", "assignee", "due_date"];
const tasksLayer = () => layerOf("tasks");
const statusChoice = (value) => attribute(tasksLayer(), "status").choices.find((c) => c.value === value) || {};
const pct = (value) => formatNumber(value ?? 0, { maximumFractionDigits: 0 });

export function statusBadge(status) {
  return el("span", { class: "badge", style: { background: statusChoice(status).color || "#546e7a" },
    text: label(statusChoice(status).label) || status });
}

/** The goal a task belongs to: the first ancestor whose level is `goal` (null if none is loaded). */
export function goalOf(task, byId) {
  let seen = 0;
  let parent = task.parent_id != null ? byId.get(task.parent_id) : null;
  while (parent && seen++ < 10) {
    if (parent.level === "goal") return parent;
    parent = parent.parent_id != null ? byId.get(parent.parent_id) : null;
  }
  return null;
}

/** The tasks of a neighbourhood (by id; all visible tasks when null). */
async function neighbourhoodTasks(nid) {
  const all = await get("/tasks");
  return nid == null ? all : all.filter((task) => task.neighbourhood_id === nid);
}

// The task dialog ---------------------------------------------------------------------------------

/** Opens the task in the page's dialog; `onChange()` runs after every saved change (the board redraws). */
export async function openTaskDialog(id, { onChange = () => {} } = {}) {
  let result;
  try {
    result = await request("GET", `/tasks/${id}`);
  } catch (error) {
    toast(error.message, "error");
    return null;
  }
  let task = result.data;
  let etag = result.etag;
  let others = [];
  try {
    others = (await neighbourhoodTasks(task.neighbourhood_id)).filter((o) => o.id !== task.id);
  } catch { /* the parent list then offers only the current parent */ }
  const layer = tasksLayer();
  const planner = canPlan();
  const form = buildForm(layer, task, { skip: layer.attributes.map((a) => a.name).filter((n) => !FIELDS.includes(n)),
    readonly: planner ? [] : FIELDS });
  parentSelect(form, task, others, planner);
  const message = el("p", { class: "ok", id: "task-saved", role: "status", hidden: true });
  const progress = el("p", { class: "muted", id: "task-progress" });
  const drawProgress = () => { progress.textContent = t(PROGRESS_TEXT[task.progress_source] || "board.progress_manual",
    { pct: pct(task.progress) }); };
  const log = el("ol", { class: "task-log", id: "task-log" });
  const drawLog = () => {
    clear(log);
    const updates = [...(task.updates || [])].reverse();  // the latest first
    if (!updates.length) log.append(el("li", { class: "muted", text: t("plan.log_empty") }));
    for (const u of updates) {
      log.append(el("li", { dataset: { update: u.id } },
        el("p", { class: "log-head" }, el("time", { datetime: u.created_at, text: formatDateTime(u.created_at) }),
          u.created_by ? ` · ${u.created_by}` : "",
          u.status ? [" · ", statusBadge(u.status)] : null,
          u.progress != null ? ` · ${t("plan.log_progress", { pct: pct(u.progress) })}` : ""),
        el("p", { class: "log-note", text: u.note })));
    }
  };
  const reload = async () => {
    const again = await request("GET", `/tasks/${id}`);
    task = again.data;
    etag = again.etag;
    form.set(task);
    drawLog();
    drawProgress();
  };
  const save = async () => {
    form.clearErrors();
    message.hidden = true;
    const props = changed(task, form.values());
    if (!Object.keys(props).length) { message.textContent = t("edit.nothing"); message.hidden = false; return; }
    try {
      const saved = await request("PATCH", `/tasks/${id}`, { body: props, etag, type: "application/merge-patch+json" });
      task = saved.data;
      etag = saved.etag;
      form.set(task);
      drawLog();
      drawProgress();
      message.textContent = t("plan.saved", { title: task.title });
      message.hidden = false;
      onChange(task);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 412) {
        await reload();
        form.showError(t("plan.conflict"), null);
        onChange(task);
        return;
      }
      form.showError(error.message, error.property && form.fields[error.property] ? error.property : null);
    }
  };
  const updateForm = planner ? newUpdateForm(id, async () => { await reload(); onChange(task); }) : null;
  const dialog = $("#dialog");
  const close = () => dialog.close();
  clear(dialog).append(el("div", { class: "dialog-body task-dialog" },
    el("div", { class: "photo-view-head" },
      el("h2", { id: "dialog-title", text: t("plan.task_title", { title: task.title }) }),
      el("button", { type: "button", class: "btn btn-icon", id: "task-close", "aria-label": t("detail.close"), title: t("detail.close"),
        onclick: close, text: "×" })),
    progress,
    form.element,
    planner ? el("div", { class: "dialog-buttons" },
      el("button", { type: "button", class: "btn btn-primary", id: "save-task", onclick: save, text: t("edit.save") }),
      el("button", { type: "button", class: "btn", onclick: close, text: t("detail.close") })) : null,
    message,
    el("h3", { text: t("plan.log") }), log, updateForm));
  dialog.setAttribute("aria-labelledby", "dialog-title");
  drawLog();
  drawProgress();
  if (!dialog.open) dialog.showModal();
  return dialog;
}

/** The parent (a goal, or a task for a subtask) as a list of the neighbourhood's goals and tasks. */
function parentSelect(form, task, others, planner) {
  const field = form.fields.parent_id;
  if (!field) return;
  const group = (level, key) => {
    const list = others.filter((o) => o.level === level).sort((a, b) => a.title.localeCompare(b.title));
    return list.length ? el("optgroup", { label: t(key) }, list.map((o) => el("option", { value: String(o.id), text: o.title }))) : null;
  };
  const select = el("select", { id: field.control.id, name: "parent_id", disabled: !planner,
    "aria-describedby": field.control.getAttribute("aria-describedby") },
  el("option", { value: "", text: t("plan.no_parent") }), group("goal", "plan.goals"), group("task", "plan.tasks"));
  if (task.parent_id != null && !others.some((o) => o.id === task.parent_id)) {
    select.append(el("option", { value: String(task.parent_id), text: `#${task.parent_id}` }));
  }
  field.node.replaceWith(select);
  Object.assign(field, {
    node: select, control: select,
    get: () => (select.value ? Number(select.value) : null),
    set: (v) => { select.value = v == null ? "" : String(v); },
  });
  field.set(task.parent_id);
}

/** Adding to the update log: a note, optionally a new status and a progress (the server applies them). */
function newUpdateForm(id, done) {
  const errors = {};
  const row = (name, labelKey, control) => {
    errors[name] = el("p", { class: "field-error", id: `update-${name}-error`, role: "alert", hidden: true });
    control.setAttribute("aria-describedby", `update-${name}-error`);
    return el("div", { class: "field", dataset: { name } }, el("label", { for: control.id, text: t(labelKey) }), control, errors[name]);
  };
  const note = el("textarea", { id: "update-note", rows: 2, dir: "auto" });
  const status = el("select", { id: "update-status" }, el("option", { value: "", text: t("plan.unchanged") }),
    attribute(tasksLayer(), "status").choices.map((c) => el("option", { value: c.value, text: label(c.label) })));
  const progress = el("input", { id: "update-progress", type: "text", inputmode: "numeric", dir: "ltr", class: "num" });
  const general = el("p", { class: "form-error", role: "alert", hidden: true });
  const add = async () => {
    general.hidden = true;
    for (const e of Object.values(errors)) e.hidden = true;
    const body = { note: note.value };
    if (status.value) body.status = status.value;
    const typed = normaliseDigits(progress.value.trim());
    if (typed !== "") body.progress = Number.isFinite(Number(typed)) ? Number(typed) : typed;
    try {
      await request("POST", `/tasks/${id}/updates`, { body });
      note.value = "";
      status.value = "";
      progress.value = "";
      toast(t("plan.update_added"), "ok");
      await done();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const target = error.property && errors[error.property];
      (target || general).textContent = error.message;
      (target || general).hidden = false;
    }
  };
  return el("form", { class: "attr-form update-form", novalidate: true, onsubmit: (e) => e.preventDefault() },
    el("h3", { text: t("plan.add_update") }), general,
    row("note", "plan.note", note), row("status", "plan.new_status", status), row("progress", "plan.new_progress", progress),
    el("button", { type: "button", class: "btn btn-primary", id: "add-update", onclick: add, text: t("plan.add_update") }));
}

// The tasks of an intervention ----------------------------------------------------------------------

/** The tasks linked to an intervention. The API has no filter by link: every task of the neighbourhood is
 * read with its links (`GET /tasks/{id}`) and filtered here (see docs/web.md). */
async function linkedTasks(iid, tasks) {
  const details = await Promise.all(tasks.map((task) => get(`/tasks/${task.id}`).catch(() => null)));
  return details.filter((d) => d && d.links.some((l) => l.layer === "interventions" && l.feature_id === iid));
}

/** The intervention panel's tasks: listed with status and progress (a click opens the task), unlinked and
 * linked to an existing task of the neighbourhood (searchable by title) by planners. Returns {node, refresh}. */
export function interventionTasks(feature) {
  const iid = feature.id;
  const planner = canPlan();
  const node = el("div", { class: "intervention-tasks", id: "intervention-tasks" });
  const refresh = async () => {
    let tasks;
    let linked;
    try {
      tasks = await neighbourhoodTasks(feature.properties.neighbourhood_id ?? null);
      linked = await linkedTasks(iid, tasks);
    } catch (error) {
      clear(node).append(el("p", { class: "form-error", role: "alert", text: error.message }));
      return;
    }
    const unlink = async (task) => {
      try {
        await request("DELETE", `/tasks/${task.id}/links/interventions/${iid}`);
        toast(t("plan.unlinked_task", { title: task.title }), "ok");
      } catch (error) { toast(error.message, "error"); }
      refresh();
    };
    const list = linked.length
      ? el("ul", { class: "task-links" }, linked.map((task) => el("li", { dataset: { taskId: task.id } },
        el("button", { type: "button", class: "link-button", onclick: () => openTaskDialog(task.id, { onChange: refresh }), text: task.title }),
        " ", statusBadge(task.status), " ",
        el("span", { class: "muted", text: t("plan.log_progress", { pct: pct(task.progress) }) }), " ",
        planner ? el("button", { type: "button", class: "btn btn-small", dataset: { unlinkTask: task.id },
          "aria-label": t("planner.unlink_what", { what: task.title }), onclick: () => unlink(task), text: t("planner.unlink") }) : null)))
      : el("p", { class: "muted", text: t("plan.no_tasks") });
    append(clear(node), [list, planner ? linkExisting(iid, tasks.filter((task) => !linked.some((l) => l.id === task.id)), refresh) : null]);
  };
  refresh();
  return { node, refresh };
}

function linkExisting(iid, candidates, refresh) {
  const search = el("input", { type: "search", id: "task-search", dir: "auto", placeholder: t("plan.search_tasks"),
    "aria-label": t("plan.search_tasks") });
  const choice = el("select", { id: "task-choice", "aria-label": t("plan.link_existing") });
  const sorted = [...candidates].sort((a, b) => a.title.localeCompare(b.title));
  const fill = () => {
    const q = search.value.trim().toLocaleLowerCase();
    const shown = sorted.filter((task) => !q || task.title.toLocaleLowerCase().includes(q));
    append(clear(choice), [el("option", { value: "", text: t("plan.choose_task", { n: formatNumber(shown.length) }) }),
      shown.map((task) => el("option", { value: String(task.id),
        text: `${task.title} · ${displayValue(tasksLayer(), "level", task.level)}` }))]);
    if (shown.length === 1) choice.value = String(shown[0].id);
  };
  search.addEventListener("input", fill);
  fill();
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const link = async () => {
    error.hidden = true;
    if (!choice.value) { error.textContent = t("plan.choose_first"); error.hidden = false; return; }
    const task = sorted.find((x) => String(x.id) === choice.value);
    try {
      await request("POST", `/tasks/${choice.value}/links`, { body: { layer: "interventions", feature_id: iid } });
      toast(t("plan.linked_task", { title: task ? task.title : choice.value }), "ok");
      refresh();
    } catch (error_) {
      if (!(error_ instanceof ApiError)) throw error_;
      error.textContent = error_.message;
      error.hidden = false;
    }
  };
  return el("div", { class: "link-existing" },
    el("h4", { text: t("plan.link_existing") }), search,
    el("div", { class: "row" }, choice,
      el("button", { type: "button", class: "btn", id: "link-task", onclick: link, text: t("plan.link_task") })),
    error);
}
