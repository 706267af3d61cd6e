// The task board: one column per task status (from the catalogue, in its order), filters by domain,
// assignee and neighbourhood; each card shows its progress and can show its features on the map.
// Moving a card (drag and drop, or the "Move to" list for keyboards) is a PATCH with If-Match. Users whose
// roles do not plan (session.js `can.plan`) see the board without the controls that change it.

import { ApiError, etagOf, get, request, withQuery } from "./api.js";
import { attribute, displayValue, layerOf } from "./catalogue.js";
import { clear, el, toast } from "./dom.js";
import { buildForm } from "./form.js";
import { formatDate, formatNumber, label, t } from "./i18n.js";
import { highlight } from "./mapview.js";
import { canPlan, errorNode } from "./session.js";
import { goalOf, openTaskDialog, PROGRESS_TEXT } from "./taskcard.js";

const state = { domain: "", assignee: "", goal: "", all: false };
let byId = new Map();  // the board's tasks, for each card's goal
let root = null;
export const hooks = { neighbourhood: () => "", neighbourhoodId: () => null, showMap: () => {} };

const tasks = () => layerOf("tasks");
const choices = (name) => attribute(tasks(), name).choices;

export async function renderBoard(container) {
  root = container;
  let board;
  try {
    board = await get(withQuery("/tasks/board", { neighbourhood: state.all ? "" : hooks.neighbourhood() }));
  } catch (error) {
    clear(container).append(errorNode(error));
    return;
  }
  const cards = Object.values(board).flat();
  byId = new Map(cards.map((c) => [c.id, c]));
  const goals = cards.filter((c) => c.level === "goal").sort((a, b) => a.title.localeCompare(b.title));
  if (state.goal && !goals.some((g) => String(g.id) === state.goal)) state.goal = "";
  const goal = el("select", { id: "board-goal", onchange: (e) => { state.goal = e.target.value; renderBoard(container); } },
    el("option", { value: "", text: t("plan.all_goals") }),
    goals.map((g) => el("option", { value: String(g.id), text: g.title, selected: String(g.id) === state.goal })));
  const inGoal = (task) => !state.goal || String(task.id) === state.goal || String((goalOf(task, byId) || {}).id) === state.goal;
  const assignees = [...new Set(cards.map((c) => c.assignee).filter(Boolean))].sort();
  const domain = el("select", { id: "board-domain", onchange: (e) => { state.domain = e.target.value; renderBoard(container); } },
    el("option", { value: "", text: t("board.all_domains") }),
    choices("domain").map((c) => el("option", { value: c.value, text: label(c.label), selected: c.value === state.domain })));
  const assignee = el("select", { id: "board-assignee", onchange: (e) => { state.assignee = e.target.value; renderBoard(container); } },
    el("option", { value: "", text: t("board.all_assignees") }),
    assignees.map((a) => el("option", { value: a, text: a, selected: a === state.assignee })));
  const all = el("input", { type: "checkbox", id: "board-all", checked: state.all, onchange: (e) => { state.all = e.target.checked; renderBoard(container); } });
  const shown = (task) => (!state.domain || task.domain === state.domain) && (!state.assignee || task.assignee === state.assignee) && inGoal(task);
  const columns = choices("status").map((status) => column(status, (board[status.value] || []).filter(shown)));
  // On a phone one column fits the screen: a strip of the statuses jumps to a column.
  const jump = el("nav", { class: "board-jump", "aria-label": t("nav.board_columns") },
    choices("status").map((status, i) => el("button", { type: "button", dataset: { jump: status.value },
      style: { borderBlockEndColor: status.color || "#546e7a" },
      onclick: () => columns[i].scrollIntoView({ inline: "start", block: "nearest", behavior: "smooth" }) },
    label(status.label), " ", el("span", { class: "count", text: formatNumber(columns[i].querySelectorAll(".card").length) }))));
  const newTask = el("div", { class: "new-task", id: "new-task-box" });
  clear(container).append(
    el("div", { class: "board-head" },
      el("h2", { text: t("board.title") }),
      el("label", { for: "board-domain", text: t("board.domain") }), domain,
      el("label", { for: "board-assignee", text: t("board.assignee") }), assignee,
      el("label", { for: "board-goal", text: t("plan.filter_goal") }), goal,
      el("label", { class: "check" }, all, " ", t("board.all_neighbourhoods")),
      canPlan() ? el("button", { type: "button", class: "btn btn-primary", id: "new-task", onclick: () => taskForm(newTask), text: t("board.new_task") }) : null),
    newTask,
    jump,
    el("div", { class: "board" }, columns));
}

function column(status, list) {
  const body = el("ol", { class: "cards" }, list.map(card));
  const col = el("section", { class: "column", dataset: { status: status.value }, "aria-label": label(status.label) },
    el("h3", { style: { borderColor: status.color || "#546e7a" } }, label(status.label), " ",
      el("span", { class: "count", text: formatNumber(list.length) })), body);
  if (!canPlan()) return col;
  col.addEventListener("dragover", (e) => { e.preventDefault(); col.classList.add("drop"); });
  col.addEventListener("dragleave", () => col.classList.remove("drop"));
  col.addEventListener("drop", (e) => {
    e.preventDefault();
    col.classList.remove("drop");
    const data = JSON.parse(e.dataTransfer.getData("application/x-mahalle-task") || "null");
    if (data && data.status !== status.value) move(data.id, data.version, status.value);
  });
  return col;
}

function card(task) {
  const layer = tasks();
  const progress = task.progress ?? 0;
  const move_ = el("select", { "aria-label": t("board.move_to"), class: "move", dataset: { task: task.id },
    onchange: (e) => { if (e.target.value) move(task.id, task.version, e.target.value); } },
  el("option", { value: "", text: t("board.move_to") }),
  choices("status").filter((c) => c.value !== task.status).map((c) => el("option", { value: c.value, text: label(c.label) })));
  const planner = canPlan();
  const node = el("li", { class: `card priority-${task.priority}${planner ? "" : " locked"}`, draggable: planner ? "true" : "false", dataset: { id: task.id } },
    // The title opens the task's dialog (edit for planners, read-only otherwise): no extra row on the card.
    el("p", { class: "card-title" }, el("button", { type: "button", class: "card-open", dataset: { editTask: task.id },
      title: t(planner ? "plan.edit" : "plan.details"), onclick: () => openTaskDialog(task.id, { onChange: () => renderBoard(root) }), text: task.title })),
    task.level === "goal" ? null : goalLine(task),
    el("p", { class: "card-meta" },
      task.level === "task" ? null : [el("span", { class: "tag tag-level", text: displayValue(layer, "level", task.level) }), " "],
      el("span", { class: "tag", text: displayValue(layer, "domain", task.domain) }), " ",
      el("span", { class: "tag", text: displayValue(layer, "priority", task.priority) }),
      task.assignee ? el("span", { class: "assignee", text: ` · ${task.assignee}` }) : null),
    task.due_date ? el("p", { class: "due" }, t("board.due"), " ", el("time", { datetime: task.due_date, text: formatDate(task.due_date) })) : null,
    el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(progress),
      "aria-label": t("board.progress") },
    el("span", { style: { width: `${Math.max(0, Math.min(100, progress))}%` } })),
    el("p", { class: "progress-text", text: t(PROGRESS_TEXT[task.progress_source] || "board.progress_manual",
      { pct: formatNumber(progress, { maximumFractionDigits: 0 }) }) }),
    el("div", { class: "card-actions" }, planner ? move_ : null,
      el("button", { type: "button", class: "btn btn-small", dataset: { showTask: task.id }, onclick: () => showOnMap(task.id), text: t("board.show_on_map") })));
  node.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData("application/x-mahalle-task", JSON.stringify({ id: task.id, version: task.version, status: task.status }));
    e.dataTransfer.effectAllowed = "move";
  });
  return node;
}

/** "Goal: …" under the title of a task (or subtask) that belongs to a goal. */
function goalLine(task) {
  const goal = goalOf(task, byId);
  return goal ? el("p", { class: "card-goal", dataset: { goal: goal.id }, text: t("plan.goal", { title: goal.title }) }) : null;
}

async function move(id, version, status) {
  try {
    await request("PATCH", `/tasks/${id}`, { body: { status }, etag: etagOf(version), type: "application/merge-patch+json" });
    toast(t("board.moved", { status: label(choices("status").find((c) => c.value === status).label) }), "ok");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    toast(error.status === 412 ? t("board.conflict") : error.message, "error");
  }
  renderBoard(root);
}

/** The task's linked features (and, for linked interventions, the features those act on) on the map. */
async function showOnMap(id) {
  const task = await get(`/tasks/${id}`);
  const features = [];
  for (const link of task.links) {
    try {
      if (link.layer === "interventions") {
        const intervention = await get(`/interventions/${link.feature_id}`);
        features.push(intervention);
        for (const target of intervention.targets.slice(0, 30)) {
          features.push(await get(`/ogc/collections/${target.layer}/items/${target.feature_id}`));
        }
      } else if (layerOf(link.layer) && layerOf(link.layer).geometry_type) {
        features.push(await get(`/ogc/collections/${link.layer}/items/${link.feature_id}`));
      }
    } catch { /* a linked feature deleted since: show the others */ }
  }
  if (!features.length) { toast(t("board.no_features"), "error"); return; }
  hooks.showMap();
  setTimeout(() => highlight(features, { fit: true }), 100);
  toast(t("board.showing", { title: task.title, n: features.length }));
}

function taskForm(box) {
  const layer = tasks();
  const form = buildForm(layer, Object.fromEntries(layer.attributes.map((a) => [a.name, a.default ?? null])), { skip: ["parent_id"] });
  const create = async () => {
    form.clearErrors();
    const values = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
    try {
      await request("POST", "/tasks", { body: { ...values, neighbourhood_id: hooks.neighbourhoodId() } });
      clear(box);
      renderBoard(root);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      form.showError(error.message, error.property);
    }
  };
  clear(box).append(el("h3", { text: t("board.new_task") }), form.element,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "btn btn-primary", id: "create-task", onclick: create, text: t("planner.create_task") }),
      el("button", { type: "button", class: "btn", onclick: () => clear(box), text: t("edit.cancel") })));
}

