// Attribute forms generated from the layer catalogue: value lists as selects, required marks, units,
// help text. The browser does not validate (novalidate): the server decides, and its message is shown
// next to the field it names.

import { get as fetchJson } from "./api.js";
import { layerOf, unitLabel } from "./catalogue.js";
import { el } from "./dom.js";
import { formatDate, isRTL, label, language, t } from "./i18n.js";
import { datePicker } from "./jalali.js";

let counter = 0;

/** One input for an attribute; returns {node, get(), set(value)}. */
export function widget(attr, value, id) {
  const type = attr.type;
  // A retired entry of a value list is offered only where the feature has it already.
  const offered = (c) => !c.retired || c.value === value || (Array.isArray(value) && value.includes(c.value));
  if (type === "choice") {
    const select = el("select", { id, name: attr.name },
      el("option", { value: "", text: attr.required ? t("form.choose") : "—" }),
      attr.choices.filter(offered).map((c) => el("option", { value: c.value, text: label(c.label) || c.value })));
    if (value !== null && value !== undefined && !attr.choices.some((c) => c.value === value)) {
      select.append(el("option", { value, text: String(value) }));  // a value the list no longer has
    }
    select.value = value ?? "";
    return { node: select, get: () => select.value || null, set: (v) => { select.value = v ?? ""; } };
  }
  if (type === "choices") {
    const boxes = attr.choices.filter(offered).map((c) => el("label", { class: "check" },
      el("input", { type: "checkbox", value: c.value, checked: Array.isArray(value) && value.includes(c.value) }),
      " ", label(c.label) || c.value));
    const node = el("div", { id, class: "checks", role: "group" }, boxes);
    const get = () => { const v = boxes.map((b) => b.firstChild).filter((i) => i.checked).map((i) => i.value); return v.length ? v : null; };
    const set = (v) => boxes.forEach((b) => { b.firstChild.checked = Array.isArray(v) && v.includes(b.firstChild.value); });
    return { node, get, set };
  }
  if (type === "boolean") {
    const select = el("select", { id, name: attr.name },
      el("option", { value: "", text: "—" }),
      el("option", { value: "true", text: t("value.yes") }),
      el("option", { value: "false", text: t("value.no") }));
    const set = (v) => { select.value = v === true ? "true" : v === false ? "false" : ""; };
    set(value);
    return { node: select, get: () => (select.value === "" ? null : select.value === "true"), set };
  }
  if (type === "date" || type === "datetime") {
    const input = el("input", { id, name: attr.name, type: type === "date" ? "date" : "datetime-local" });
    const shown = el("span", { class: "calendar-hint" });
    const show = () => { shown.textContent = input.value && language() !== "en" ? formatDate(input.value) : ""; };
    input.addEventListener("input", show);
    const node = el("span", { class: "date-field" }, input, shown);
    // In Persian a date is typed and picked in the Jalali calendar (jalali.js); the input keeps the ISO date.
    const typed = type === "date" ? datePicker(input, { takeId: true }) : null;
    const set = (v) => { input.value = v ? String(v).slice(0, type === "date" ? 10 : 16) : ""; show(); };
    set(value);
    const get = () => (input.value ? input.value : null);
    return { node, get, set, focus: typed || input };
  }
  if (type === "reference") return referenceWidget(attr, value, id);
  if (type === "integer" || type === "number") {
    const input = el("input", { id, name: attr.name, type: "text", inputmode: type === "number" ? "decimal" : "numeric", dir: "ltr",
      class: "num" });
    const set = (v) => { input.value = v === null || v === undefined ? "" : String(v); };
    set(value);
    // A number when it reads as one; otherwise the text itself, so the server names the problem.
    const get = () => {
      const text = normaliseDigits(input.value.trim());
      if (text === "") return null;
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    };
    return { node: input, get, set };
  }
  const long = !attr.max_length || attr.max_length > 300;
  const input = long
    ? el("textarea", { id, name: attr.name, rows: 2, dir: "auto" })
    : el("input", { id, name: attr.name, type: "text", dir: "auto" });
  input.value = value ?? "";
  return { node: input, get: () => (input.value === "" ? null : input.value), set: (v) => { input.value = v ?? ""; } };
}

/** A reference to a feature of another layer (a visit's task, an output's service point): typed as its id, or
 * picked by name from a list of that layer's features the user may read, loaded the first time the field is used. */
function referenceWidget(attr, value, id) {
  const list = el("datalist", { id: `${id}-options` });
  const input = el("input", { id, name: attr.name, type: "text", inputmode: "search", dir: "auto", class: "ref",
    list: list.id, autocomplete: "off" });
  const names = new Map();  // id → shown text
  const show = (v) => (v === null || v === undefined || v === "" ? "" : names.get(Number(v)) || String(v));
  let loaded = null;
  const load = () => (loaded ||= referenceOptions(attr.references).then((options) => {
    for (const [key, text] of options) {
      names.set(key, `${text} · #${key}`);
      list.append(el("option", { value: `${text} · #${key}` }));
    }
    if (/^\d+$/.test(input.value.trim())) input.value = show(input.value.trim());
  }).catch(() => {}));
  input.addEventListener("focus", load);
  const set = (v) => { input.value = show(v); if (v !== null && v !== undefined && v !== "") load(); };
  set(value);
  // The id: "#12" at the end of a picked name, or a number typed; any other text goes to the server as it is, so
  // the server names the problem.
  const get = () => {
    const text = normaliseDigits(input.value.trim());
    if (text === "") return null;
    const picked = text.match(/#(\d+)$/) || text.match(/^(\d+)$/);
    return picked ? Number(picked[1]) : text;
  };
  return { node: el("span", { class: "ref-field" }, input, list), get, set, focus: input };
}

/** [id, name] of the features of `layerName` the user may read: tasks by title, other layers by their label. */
async function referenceOptions(layerName) {
  if (layerName === "tasks") return (await fetchJson("/tasks")).map((task) => [task.id, task.title]);
  const layer = layerOf(layerName);
  const labelAttr = layer && layer.label_attribute;
  const data = await fetchJson(`/ogc/collections/${encodeURIComponent(layerName)}/items?limit=1000`);
  return data.features.map((f) => [f.id, (labelAttr && f.properties[labelAttr]) || `${label(layer.title)}`]);
}

/** Persian and Arabic-Indic digits typed on a Persian keyboard read as numbers. */
export function normaliseDigits(text) {
  return text.replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[٫]/g, ".").replace(/[٬,]/g, "");
}

/** A form for the layer's attributes. `skip` names attributes not to show; `readonly` ones to disable (and to
 * leave out of `values()`): the status of an intervention, attributes the user's role may not change. */
export function buildForm(layer, values = {}, { skip = [], readonly = [] } = {}) {
  const fields = {};
  const form = el("form", { class: "attr-form", novalidate: true, onsubmit: (e) => e.preventDefault() });
  const general = el("p", { class: "form-error", role: "alert", hidden: true });
  form.append(general);
  for (const attr of layer.attributes) {
    if (skip.includes(attr.name)) continue;
    const id = `f${++counter}-${attr.name}`;
    const w = widget(attr, values[attr.name], id);
    const error = el("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
    const help = label(attr.help);
    const helpNode = help ? el("p", { class: "help", id: `${id}-help`, text: help }) : null;
    const control = w.focus || w.node;
    control.setAttribute("aria-describedby", [helpNode && `${id}-help`, `${id}-error`].filter(Boolean).join(" "));
    if (attr.required) control.setAttribute("aria-required", "true");
    if (readonly.includes(attr.name)) {
      // Read-only (status moves by transitions; attributes the user's role may not change): every input of it.
      for (const input of [control, ...w.node.querySelectorAll("input, select, textarea")]) input.disabled = true;
    }
    const unit = attr.unit ? el("span", { class: "unit", text: ` (${unitLabel(attr.unit)})` }) : null;
    const mark = attr.required ? el("span", { class: "required", title: t("form.required"), text: " *" }) : null;
    const field = el("div", { class: "field", dataset: { name: attr.name } },
      el("label", { for: id }, label(attr.label) || attr.name, unit, mark), w.node, helpNode, error);
    fields[attr.name] = { ...w, error, field, control };
    form.append(field);
  }
  const api = {
    element: form,
    fields,
    values() {
      return Object.fromEntries(Object.entries(fields).filter(([n]) => !readonly.includes(n)).map(([n, f]) => [n, f.get()]));
    },
    set(values) { for (const [n, v] of Object.entries(values)) if (fields[n]) fields[n].set(v); },
    clearErrors() {
      general.hidden = true;
      for (const f of Object.values(fields)) { f.error.hidden = true; f.field.classList.remove("invalid"); f.control.removeAttribute("aria-invalid"); }
    },
    /** Show the server's message next to the field it names, or above the form. */
    showError(message, property) {
      const f = property && fields[property];
      if (f) {
        f.error.textContent = message;
        f.error.hidden = false;
        f.field.classList.add("invalid");
        f.control.setAttribute("aria-invalid", "true");
        f.control.focus();
      } else {
        general.textContent = message;
        general.hidden = false;
      }
    },
  };
  form.dir = isRTL() ? "rtl" : "ltr";
  if (layer.attributes.every((a) => skip.includes(a.name) || readonly.includes(a.name))) form.classList.add("readonly");
  return api;
}

/** The properties that differ between two value sets (for PATCH bodies and conflict views). */
export function changed(before, after) {
  const out = {};
  for (const [name, value] of Object.entries(after)) {
    if (JSON.stringify(value ?? null) !== JSON.stringify(before[name] ?? null)) out[name] = value;
  }
  return out;
}
