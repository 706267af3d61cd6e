// The intervention planner: the list with its status pipeline, drawing a new intervention and linking
// the features it acts on by clicking them, moving it along its lifecycle (the database decides which
// moves are allowed and what they need; its message is shown), and tasks for it. Users whose roles do not
// plan (session.js `can.plan`) see the same without the controls that change anything.

import { ApiError, get, request, withQuery } from "./api.js";
import { attribute, displayValue, drawShapes, fitGeometry, layerOf, layerTitle } from "./catalogue.js";
import { closeDetail, openDetail } from "./detail.js";
import { conflictDialog } from "./dialog.js";
import { append, clear, el, toast } from "./dom.js";
import { showHistory, startDrawing } from "./editor.js";
import { buildForm, changed, widget } from "./form.js";
import { label, t } from "./i18n.js";
import { highlight, mapState, reload } from "./mapview.js";
import { photoSection } from "./photos.js";
import { canPlan, errorNode } from "./session.js";
import { interventionTasks } from "./taskcard.js";

const NO_TARGET = new Set(["interventions", "neighbourhoods", "observations"]);
let panel = null;
let filter = null;
let linking = null;  // {add(layer, id)} while the user links features by clicking the map
export const hooks = { neighbourhood: () => "", showBoard: () => {} };

const interventions = () => layerOf("interventions");
const statusChoices = () => attribute(interventions(), "status").choices;
const statusLabel = (value) => label((statusChoices().find((c) => c.value === value) || {}).label) || value;
const statusColor = (value) => (statusChoices().find((c) => c.value === value) || {}).color || "#546e7a";

export const linkingActive = () => linking !== null;
export function linkClicked(layerName, id) {
  if (!linking || NO_TARGET.has(layerName)) return false;
  linking.add(layerName, id);
  return true;
}

function badge(status) {
  return el("span", { class: "badge", style: { background: statusColor(status) }, text: statusLabel(status) });
}

// The list --------------------------------------------------------------------------------------

export async function renderPlanner(container) {
  panel = container;
  clear(container);
  const layer = interventions();
  let list;
  try {
    list = (await get(withQuery("/interventions", { neighbourhood: hooks.neighbourhood() }))).features;
  } catch (error) {
    container.append(errorNode(error));
    return;
  }
  const counts = Object.fromEntries(statusChoices().map((c) => [c.value, list.filter((f) => f.properties.status === c.value).length]));
  const pipeline = el("ol", { class: "pipeline", "aria-label": t("planner.pipeline") },
    statusChoices().map((c) => el("li", {}, el("button", {
      type: "button", class: `stage ${filter === c.value ? "active" : ""}`, style: { borderColor: c.color || "#546e7a" },
      "aria-pressed": String(filter === c.value), dataset: { status: c.value },
      onclick: () => { filter = filter === c.value ? null : c.value; renderPlanner(container); },
    }, el("span", { class: "stage-count", text: String(counts[c.value]) }), " ", label(c.label)))));
  const draw = el("div", { class: "draw-buttons" }, drawShapes(layer).map((shape) => el("button", {
    type: "button", class: "btn btn-primary", dataset: { drawIntervention: shape },
    onclick: () => startDrawing("interventions", shape, (_, drawn) => newIntervention(drawn)),
    text: t(`planner.draw_${shape.toLowerCase()}`),
  })));
  const shown = list.filter((f) => !filter || f.properties.status === filter);
  const items = el("ul", { class: "intervention-list" }, shown.map((f) => el("li", {},
    el("button", { type: "button", class: "intervention-item", dataset: { id: f.id }, onclick: () => openIntervention(f.id) },
      el("span", { class: "title", text: f.properties.title }), " ", badge(f.properties.status),
      el("span", { class: "meta", text: [displayValue(layer, "kind", f.properties.kind),
        f.properties.planned_quantity ? `${displayValue(layer, "planned_quantity", f.properties.planned_quantity)} ${displayValue(layer, "unit", f.properties.unit)}` : ""]
        .filter(Boolean).join(" · ") })))));
  append(container, [el("h2", { text: t("planner.title") }), pipeline,
    canPlan() ? [el("h3", { text: t("planner.new") }), draw] : null,
    el("h3", { text: filter ? t("planner.list_filtered", { status: statusLabel(filter) }) : t("planner.list") }),
    shown.length ? items : el("p", { class: "muted", text: t("planner.empty") })]);
}

const refreshList = () => { if (panel && !panel.hidden) renderPlanner(panel); reload("interventions"); };

// Targets -----------------------------------------------------------------------------------------

async function targetFeatures(targets) {
  const out = [];
  for (const target of targets.slice(0, 50)) {
    try {
      out.push({ target, feature: await get(`/ogc/collections/${target.layer}/items/${target.feature_id}`) });
    } catch {
      out.push({ target, feature: null });
    }
  }
  return out;
}

function targetName(target, feature) {
  const layer = layerOf(target.layer);
  const text = feature && layer && layer.label_attribute ? feature.properties[layer.label_attribute] : null;
  return `${layer ? layerTitle(layer) : target.layer} ${target.feature_id}${text ? ` · ${text}` : ""}`;
}

function targetList(items, onRemove) {
  return el("ul", { class: "targets" }, items.map(({ target, feature }) => el("li", {},
    el("span", { text: targetName(target, feature) }), " ",
    onRemove && el("button", { type: "button", class: "btn btn-small", "aria-label": t("planner.unlink_what", { what: targetName(target, feature) }),
      onclick: () => onRemove(target), text: t("planner.unlink") }))));
}

function linkButton(onAdd) {
  const button = el("button", { type: "button", class: "btn", id: "link-targets", "aria-pressed": "false", text: t("planner.link") });
  const hint = el("p", { class: "hint", hidden: true, text: t("planner.link_hint") });
  button.addEventListener("click", () => {
    const on = !linking;
    linking = on ? { add: onAdd } : null;
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? t("planner.link_done") : t("planner.link");
    hint.hidden = !on;
    document.body.classList.toggle("linking", on);
  });
  return [button, hint];
}

function stopLinking() { linking = null; document.body.classList.remove("linking"); }

// A new intervention ----------------------------------------------------------------------------

function newIntervention(drawn) {
  const layer = interventions();
  const defaults = Object.fromEntries(layer.attributes.map((a) => [a.name, a.default ?? null]));
  const form = buildForm(layer, defaults, { readonly: ["status"] });
  const targets = [];
  const targetsBox = el("div", { class: "targets-box" });
  const drawTargets = async () => clear(targetsBox).append(targetList(await targetFeatures(targets), (tg) => {
    targets.splice(targets.indexOf(tg), 1);
    drawTargets();
  }));
  const [button, hint] = linkButton((layerName, id) => {
    if (!targets.some((x) => x.layer === layerName && x.feature_id === id)) targets.push({ layer: layerName, feature_id: id });
    drawTargets();
  });
  const save = async () => {
    form.clearErrors();
    const properties = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
    const body = { geometry: fitGeometry(layer, drawn.toGeoJSON().geometry), properties, targets };
    try {
      const result = await request("POST", "/interventions", { body });
      stopLinking();
      closeDetail();
      toast(t("planner.created", { title: result.data.properties.title }), "ok");
      refreshList();
      openIntervention(result.data.id);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      form.showError(error.message, error.property && form.fields[error.property] ? error.property : null);
    }
  };
  const cleanup = () => { stopLinking(); mapState.map.removeLayer(drawn); };
  openDetail(t("planner.new"), [form.element,
    el("h3", { text: t("planner.targets") }), button, hint, targetsBox,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "btn btn-primary", id: "save-intervention", onclick: save, text: t("edit.save") }),
      el("button", { type: "button", class: "btn", onclick: () => closeDetail(), text: t("edit.cancel") }))], cleanup);
  drawTargets();
}

// An existing intervention ------------------------------------------------------------------------

export async function openIntervention(id) {
  let result;
  try {
    result = await request("GET", `/interventions/${id}`);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  stopLinking();
  const layer = interventions();
  let feature = result.data;
  let etag = result.etag;
  const planner = canPlan();
  const form = buildForm(layer, feature.properties, { readonly: planner ? ["status"] : layer.attributes.map((a) => a.name) });
  const targetsBox = el("div", { class: "targets-box" });
  const transitions = el("div", { class: "transitions" });
  const drawTargets = async () => {
    const items = await targetFeatures(feature.targets);
    highlight([feature, ...items.map((i) => i.feature)], { fit: false });
    clear(targetsBox).append(items.length ? targetList(items, planner ? removeTarget : null) : el("p", { class: "muted", text: t("planner.no_targets") }));
  };
  const refresh = async () => {
    const again = await request("GET", `/interventions/${id}`);
    feature = again.data;
    etag = again.etag;
    form.set(feature.properties);
    drawTransitions();
    drawTargets();
  };
  async function removeTarget(target) {
    try {
      await request("DELETE", `/interventions/${id}/targets/${target.layer}/${target.feature_id}`);
      refresh();
    } catch (error) { toast(error.message, "error"); }
  }
  const [button, hint] = linkButton(async (layerName, fid) => {
    try {
      await request("POST", `/interventions/${id}/targets`, { body: { layer: layerName, feature_id: fid } });
      toast(t("planner.linked", { what: `${layerTitle(layerOf(layerName))} ${fid}` }), "ok");
      refresh();
    } catch (error) { toast(error.message, "error"); }
  });
  function drawTransitions(extra = null) {
    append(clear(transitions), [
      el("p", {}, t("planner.status"), " ", badge(feature.properties.status)),
      planner && feature.allowed_transitions.length ? el("div", { class: "row" }, feature.allowed_transitions.map((to) => el("button", {
        type: "button", class: "btn", dataset: { transition: to }, onclick: () => move(to), text: t("planner.move_to", { status: statusLabel(to) }),
      }))) : null,
      extra]);
  }
  // The server says what a move needs (e.g. the actual end date to complete): ask for that field.
  async function move(to, changes = {}) {
    try {
      const moved = await request("POST", `/interventions/${id}/transition`, { body: { to, ...changes } });
      toast(t("planner.moved", { status: statusLabel(to) }), "ok");
      feature = moved.data;
      etag = moved.etag;
      form.set(feature.properties);
      drawTransitions();
      refreshList();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const attr = error.property && error.property !== "status" ? attribute(layer, error.property) : null;
      if (!attr) { drawTransitions(el("p", { class: "form-error", role: "alert", text: error.message })); return; }
      const w = widget(attr, changes[attr.name] ?? null, `need-${attr.name}`);
      drawTransitions(el("div", { class: "need" },
        el("p", { class: "form-error", role: "alert", text: error.message }),
        el("label", { for: `need-${attr.name}`, text: label(attr.label) }), w.node,
        el("button", { type: "button", class: "btn btn-primary", id: "retry-transition",
          onclick: () => move(to, { ...changes, [attr.name]: w.get() }), text: t("planner.move_to", { status: statusLabel(to) }) })));
    }
  }
  async function save(useEtag = etag, mine = null) {
    form.clearErrors();
    const props = mine || changed(feature.properties, form.values());
    if (!Object.keys(props).length) { toast(t("edit.nothing")); return; }
    try {
      const saved = await request("PATCH", `/interventions/${id}`, { body: { properties: props }, etag: useEtag, type: "application/merge-patch+json" });
      feature = saved.data;
      etag = saved.etag;
      toast(t("edit.saved", { what: feature.properties.title }), "ok");
      refreshList();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== 412) { form.showError(error.message, error.property); return; }
      const theirs = await request("GET", `/interventions/${id}`);
      const choice = await conflictDialog(layer, feature, { properties: props, geometry: false }, theirs.data);
      if (choice === "mine") { feature = theirs.data; return save(theirs.etag, props); }
      if (choice === "theirs") { feature = theirs.data; etag = theirs.etag; form.set(feature.properties); }
    }
  }
  const linkedTasks = interventionTasks(feature);
  const taskBox = el("div", { class: "task-box" });
  const taskButton = el("button", { type: "button", class: "btn", id: "new-task-for-intervention",
    onclick: () => taskForm(taskBox, feature, linkedTasks.refresh), text: t("planner.add_task") });
  openDetail(`${layerTitle(layer)}: ${feature.properties.title}`, [
    transitions, form.element,
    el("div", { class: "actions" },
      planner ? el("button", { type: "button", class: "btn btn-primary", id: "save-intervention", onclick: () => save(), text: t("edit.save") }) : null,
      el("button", { type: "button", class: "btn", onclick: () => showHistory("interventions", id), text: t("edit.history") })),
    photoSection("interventions", id, { canAdd: planner, roles: ["before", "after", "photo"] }),
    el("h3", { text: t("planner.targets") }), planner ? [button, hint] : null, targetsBox,
    el("h3", { text: t("planner.tasks") }), linkedTasks.node, planner ? [taskButton, taskBox] : null,
  ], () => { stopLinking(); highlight([]); });
  drawTransitions();
  await drawTargets();
  const bounds = mapState.highlight.getBounds();
  if (bounds.isValid()) mapState.map.fitBounds(bounds, { maxZoom: 18, padding: [40, 40] });
}

/** A task of the action plan for this intervention (form from the tasks catalogue), linked to it. */
function taskForm(box, feature, created = () => {}) {
  const tasks = layerOf("tasks");
  const form = buildForm(tasks, { ...Object.fromEntries(tasks.attributes.map((a) => [a.name, a.default ?? null])),
    title: feature.properties.title }, { skip: ["parent_id", "progress"] });
  const create = async () => {
    form.clearErrors();
    const values = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
    try {
      const task = (await request("POST", "/tasks", { body: { ...values, neighbourhood_id: feature.properties.neighbourhood_id } })).data;
      await request("POST", `/tasks/${task.id}/links`, { body: { layer: "interventions", feature_id: feature.id } });
      clear(box).append(el("p", { class: "ok" }, t("planner.task_created", { title: task.title }), " ",
        el("a", { href: "#board", text: t("planner.to_board") })));
      created();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      form.showError(error.message, error.property);
    }
  };
  clear(box).append(form.element, el("button", { type: "button", class: "btn btn-primary", id: "create-task", onclick: create, text: t("planner.create_task") }));
}

