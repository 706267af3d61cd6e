// A mobile unit's visit, recorded in the field with or without a connection: the task it works for (from the
// downloaded package's open tasks), the service point it went to (the package's service points) or a place (GPS,
// a tap, or none), and the counts of the catalogue's visits layer (people served, by sex, sessions, team,
// services). It only queues a change (store.js); the server keeps the task's outputs the visit counts.

import { layerOf } from "../catalogue.js";
import { el, toast, uuid } from "../dom.js";
import { label, t } from "../i18n.js";
import { buildForm } from "../form.js";
import { closeButton, closeSheet, hooks, openSheet, placeChooser, placePoint, pointGeometry } from "./forms.js";
import { queueChange } from "./store.js";
import { gps } from "./util.js";

const today = () => new Date().toISOString().slice(0, 10);

function select(id, empty, options) {
  return el("select", { id, class: "wide" }, el("option", { value: "", text: empty }),
    options.map(([value, text]) => el("option", { value: String(value), text })));
}

/** Open the visit form for the neighbourhood package `pkg` (GET /field/extract, kept on the device). */
export function openVisit(pkg) {
  const layer = layerOf("visits");
  if (!layer || !pkg) { toast(t(layer ? "field.no_package" : "field.no_catalogue"), "error"); return; }
  const tasks = (pkg.tasks || []).filter((task) => task.level !== "goal");
  if (!tasks.length) { toast(t("field.no_tasks"), "error"); return; }
  const points = ((pkg.layers.service_points || {}).features || [])
    .map((f) => [f.id, f.properties.name || `#${f.id}`]).sort((a, b) => a[1].localeCompare(b[1]));
  const taskSelect = select("visit-task", t("field.choose"), tasks.map((task) => [task.id, task.title]));
  if (tasks.length === 1) taskSelect.value = String(tasks[0].id);
  const pointSelect = select("visit-service-point", "—", points);
  const form = buildForm(layer, { date: today() }, { skip: ["task_id", "service_point_id", "note"] });
  const place = { source: null, point: null };
  const chooser = placeChooser(place, { optional: true });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const sheetForm = el("form", { class: "sheet-form", id: "visit-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    form.clearErrors();
    const saved = await saveVisit(taskSelect, pointSelect, form, place);
    if (saved.error) { error.textContent = saved.error; error.hidden = false; return; }
    closeSheet();
  } },
  el("div", { class: "sheet-head" }, el("h2", { text: t("field.new_visit") }), closeButton()),
  el("label", { class: "field-label", for: "visit-task" }, `${label(layer.attributes.find((a) => a.name === "task_id").label)} *`),
  taskSelect,
  el("label", { class: "field-label", for: "visit-service-point" },
    label(layer.attributes.find((a) => a.name === "service_point_id").label)),
  pointSelect,
  ...chooser.elements,
  form.element,
  el("p", { class: "hint", text: t("field.visit_counts") }),
  error,
  el("div", { class: "button-row sheet-actions" },
    el("button", { type: "submit", class: "btn btn-primary btn-big", id: "visit-save", text: t("field.save_visit") }),
    el("button", { type: "button", class: "btn btn-big", text: t("dialog.cancel"), onclick: closeSheet })));
  openSheet(sheetForm);
  if (gps.position) chooser.render();
}

async function saveVisit(taskSelect, pointSelect, form, place) {
  if (!taskSelect.value) return { error: t("field.task_needed") };
  const values = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
  if (values.people_served === undefined) {
    form.showError(t("field.people_needed"), "people_served");
    return { error: t("field.people_needed") };
  }
  const { point, error } = await placePoint(place, { optional: true });
  if (error) return { error };
  const properties = { ...values, task_id: Number(taskSelect.value) };
  if (pointSelect.value) properties.service_point_id = Number(pointSelect.value);
  const task = taskSelect.selectedOptions[0].textContent;
  await queueChange({ uid: uuid(), op: "create", layer: "visits", properties,
    geometry: point ? pointGeometry(point) : null, label: `${t("field.kind_visit")} · ${task}` });
  toast(t("field.queued"), "ok");
  hooks.changed();
  return { ok: true };
}
