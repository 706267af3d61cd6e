// Importing a file from the browser (planners and administrators): choose the file (or drop it) and the layer
// it fills → the preview (POST /imports/preview: the first rows, the proposed mapping of the file's fields to
// the layer's attributes, the values of value lists, the CRS, a table's coordinate columns), which the planner
// corrects → a dry run (POST /imports with dry_run=true, followed with a progress bar) and its report → what
// to do with rows outside every neighbourhood → the import itself, its report and a download of it.
//
// Everything chosen lives in `state`, so the view can be drawn again (another language, another
// neighbourhood, coming back to the view) without losing the file or the choices. The server decides: what
// the preview proposes is only a proposal, and every refusal is shown with the server's reason.

import { attribute, catalogue, layerOf, layerTitle } from "./catalogue.js";
import { append, clear, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { canCreate, errorNode } from "./session.js";
import { bytes, choiceText, finished, followJob, isolate, outsideCount, postForm, progressBar, reportView, statusText } from "./transfer-jobs.js";

export const ACCEPT = ".zip,.shp,.gpkg,.geojson,.json,.kml,.kmz,.csv,.xlsx,.fgb,.osm,.pbf";
const OSM = /\.(osm|pbf)$/i;
const CHOICE_TYPES = new Set(["choice", "choices"]);

export const hooks = { onFinished: () => {} };

const state = {
  file: null, layer: "", sourceLayer: "", encoding: "", crs: "", repair: false,
  preview: null, previewing: false, previewError: null, refreshing: false, refreshError: null,
  targets: {}, idField: "", x: "", y: "", wkt: "", values: {}, defaults: {}, defaultsOpen: false,
  check: null, run: null,
  outside: "keep", distance: 100, skipRejected: false,
};
const ui = {};
let previewSeq = 0;  // only the answer to the latest preview asked is taken
let refreshTimer = null;

// The section ---------------------------------------------------------------------------------------

/** The import part of the view, drawn from `state`. */
export function renderImport(container) {
  ui.root = container;
  ui.file = el("div", { class: "transfer-step", id: "import-step-file" });
  ui.preview = el("div", { class: "transfer-step", id: "import-step-preview", "aria-live": "polite" });
  ui.check = el("div", { class: "transfer-step", id: "import-step-check", "aria-live": "polite" });
  ui.run = el("div", { class: "transfer-step", id: "import-step-run", "aria-live": "polite" });
  clear(container).append(
    el("h3", { id: "import-title", text: t("transfer.import_title") }),
    el("p", { class: "hint", text: t("transfer.import_help") }),
    ui.file, ui.preview, ui.check, ui.run);
  renderFile();
  renderPreview();
  renderCheck();
  renderRun();
}

function reset({ keepFile = true } = {}) {
  clearTimeout(refreshTimer);
  previewSeq += 1;  // an answer still on its way belongs to the file or layer left
  Object.assign(state, { preview: null, previewError: null, refreshing: false, refreshError: null, previewing: false,
    targets: {}, idField: "", x: "", y: "", wkt: "", values: {}, defaults: {}, defaultsOpen: false, check: null, run: null,
    sourceLayer: keepFile ? state.sourceLayer : "" });
  if (!keepFile) Object.assign(state, { file: null, crs: "", encoding: "", repair: false });
}

// Step 1: the file and the layer ---------------------------------------------------------------------

function targetLayers() {
  return catalogue.layers.filter((l) => canCreate(l.name) && l.name !== "observations");
}

function renderFile() {
  // The browser's own file button speaks the browser's language: it is hidden behind a label of the page's.
  const input = el("input", { type: "file", id: "import-file", class: "visually-hidden", accept: ACCEPT,
    onchange: (e) => takeFile(e.target.files[0]) });
  const zone = el("div", { class: "drop-zone", id: "import-drop" },
    el("label", { for: "import-file", class: "btn drop-label", text: t("transfer.choose_file") }), input,
    el("p", { class: "hint", text: t("transfer.drop_here") }),
    state.file ? el("p", { class: "chosen-file", id: "import-chosen" }, el("bdi", {}, el("strong", { text: state.file.name })), " · ",
      el("span", { text: bytes(state.file.size) })) : null);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    if (e.dataTransfer && e.dataTransfer.files.length) takeFile(e.dataTransfer.files[0]);
  });
  const osm = state.file && OSM.test(state.file.name);
  const layers = el("select", { id: "import-layer", required: true, onchange: (e) => takeLayer(e.target.value) },
    el("option", { value: "", text: osm ? t("transfer.osm_every_layer") : t("transfer.choose_layer") }),
    targetLayers().map((l) => el("option", { value: l.name, selected: l.name === state.layer, text: layerTitle(l) })));
  const advanced = el("details", { class: "transfer-advanced", open: !!(state.encoding || state.repair) },
    el("summary", { text: t("transfer.advanced") }),
    el("label", { class: "field-row" }, el("span", { text: t("transfer.encoding") }),
      el("input", { type: "text", id: "import-encoding", value: state.encoding, placeholder: "UTF-8, cp1256 …", size: 12,
        onchange: (e) => { state.encoding = e.target.value.trim(); if (state.preview) askPreview(); } })),
    el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-repair", checked: state.repair,
      onchange: (e) => { state.repair = e.target.checked; renderCheck(); renderRun(); } }), " ", t("transfer.repair")));
  clear(ui.file).append(zone,
    el("div", { class: "transfer-fields" },
      el("label", { class: "field-row" }, el("span", { text: t("transfer.target_layer") }), layers),
      el("button", { type: "button", class: "btn", id: "import-preview-button", disabled: !state.file || state.previewing,
        onclick: () => askPreview(), text: t("transfer.preview") })),
    advanced);
}

function takeFile(file) {
  if (!file) return;
  reset({ keepFile: false });
  state.file = file;
  renderImport(ui.root);
  if (state.layer || OSM.test(file.name)) askPreview();
}

function takeLayer(name) {
  state.layer = name;
  reset();
  renderImport(ui.root);
  if (state.file) askPreview();
}

// Step 2: the preview and the mapping ----------------------------------------------------------------

/** Ask the preview again with the planner's choices (coordinate columns, CRS, mapping) kept, so that the problems
 * shown are those of what is chosen now; the preview stays on screen meanwhile. Quick changes make one request. */
function refreshPreview() {
  if (!state.file || !state.preview) return;
  clearTimeout(refreshTimer);
  state.refreshing = true;
  markRefreshing();
  refreshTimer = setTimeout(() => askPreview(true), 250);
}

function markRefreshing() {
  const box = ui.preview;
  if (!box) return;
  box.setAttribute("aria-busy", String(!!state.refreshing));
  const note = box.querySelector("#import-refreshing");
  if (state.refreshing && !note) box.prepend(el("p", { class: "hint", id: "import-refreshing", text: t("transfer.preview_updating") }));
  if (!state.refreshing && note) note.remove();
}

async function askPreview(withMapping = false) {
  if (!state.file) return;
  clearTimeout(refreshTimer);
  const seq = ++previewSeq;
  if (!state.layer && OSM.test(state.file.name)) {  // every layer: matched by tags, nothing to preview
    takePreview({ file: state.file.name, format: "osm", layers: [], fields: [], rows: [], values: {}, crs: "EPSG:4326", problems: [] }, false);
    renderImport(ui.root);
    return;
  }
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  const fields = { layer: state.layer, source_layer: state.sourceLayer, crs: state.crs, encoding: state.encoding,
    x_field: state.x, y_field: state.y, wkt_field: state.wkt };
  for (const [key, value] of Object.entries(fields)) if (value) form.append(key, value);
  if (withMapping) form.append("mapping", JSON.stringify(mappingJson()));
  const refresh = withMapping && !!state.preview;  // the planner's choices are kept: so are the dry run and the import
  state.refreshError = null;
  if (refresh) {
    state.refreshing = true;
    markRefreshing();
  } else {
    state.previewing = true;
    state.previewError = null;
    renderFile();
    renderPreview();
  }
  let preview = null;
  let failure = null;
  try {
    preview = await postForm("/imports/preview", form);
  } catch (error) {
    failure = error;
  }
  if (seq !== previewSeq) return;  // a newer preview was asked meanwhile
  if (failure && refresh) state.refreshError = failure;  // the preview on screen stays, with the server's reason
  else if (failure) Object.assign(state, { preview: null, previewError: failure });
  else takePreview(preview, withMapping);
  Object.assign(state, { previewing: false, refreshing: false });
  if (!refresh) Object.assign(state, { check: null, run: null });
  renderFile();
  renderPreview();
  renderCheck();
  renderRun();
}

function takePreview(preview, keepChoices) {
  state.preview = preview;
  state.sourceLayer = preview.source_layer || state.sourceLayer || "";
  if (keepChoices) {
    for (const [attr, table] of Object.entries(preview.values || {})) {
      const kept = state.values[attr] || {};
      state.values[attr] = Object.fromEntries(Object.entries(table).map(([src, value]) => [src, kept[src] || value || ""]));
    }
    return;
  }
  state.targets = Object.fromEntries((preview.fields || []).map((f) => [f.name, (f.targets || []).filter(Boolean)]));
  state.idField = preview.id_field || "";
  const where = preview.coordinates || {};
  Object.assign(state, { x: where.x_field || "", y: where.y_field || "", wkt: where.wkt_field || "" });
  state.values = Object.fromEntries(Object.entries(preview.values || {}).map(([attr, table]) =>
    [attr, Object.fromEntries(Object.entries(table).map(([src, value]) => [src, value || ""]))]));
}

const previewLayer = () => layerOf(state.layer);
const fieldNames = () => (state.preview ? (state.preview.fields || []).map((f) => f.name) : []);
const isCoordinate = (name) => !!name && [state.x, state.y, state.wkt].includes(name);

function renderPreview() {
  const box = ui.preview;
  if (!box) return;
  clear(box);
  if (state.previewing) {
    const bar = progressBar("import-preview-progress");
    bar.set(null, t("transfer.reading_file"));
    box.append(bar.node);
    return;
  }
  if (state.previewError) { box.append(errorNode(state.previewError)); return; }
  const p = state.preview;
  if (!p) return;
  const layer = previewLayer();
  append(box, [
    el("h4", { text: t("transfer.preview_title") }),
    state.refreshError ? errorNode(state.refreshError) : null,
    el("p", { class: "transfer-summary", id: "import-summary" },
      t("transfer.preview_summary", { file: isolate(p.file || state.file.name), format: (p.format || "").toUpperCase(), n: p.features ?? 0 })),
    sourceLayerChoice(p),
    crsChoice(p),
    problemsOf(p).length ? el("ul", { class: "transfer-problems", id: "import-problems" },
      problemsOf(p).map((text) => el("li", { lang: "en", dir: "auto", text }))) : null,
    rowsTable(p),
    coordinatesChoice(p),
    layer ? mappingTable(p, layer) : el("p", { class: "hint", text: t("transfer.osm_mapping") }),
    layer ? idFieldChoice() : null,
    ui.defaults = layer ? el("div", { id: "import-defaults" }) : null,
    ui.values = el("div", { id: "import-values" })]);
  box.setAttribute("aria-busy", "false");
  renderDefaults();
  renderValues();
  markRefreshing();
}

function sourceLayerChoice(p) {
  const names = p.layers || [];
  if (names.length < 2) return null;
  return el("label", { class: "field-row" }, el("span", { text: t("transfer.source_layer") }),
    el("select", { id: "import-source-layer", onchange: (e) => { state.sourceLayer = e.target.value; state.defaults = {}; askPreview(); } },
      names.map((n) => el("option", { value: n, selected: n === state.sourceLayer, text: n }))));
}

function crsChoice(p) {
  // A table never says its CRS (the server reads longitude/latitude unless told): editable like a file that does not say.
  if (p.crs && !p.coordinates) return el("p", { class: "transfer-crs", id: "import-crs-known" }, t("transfer.crs_known", { crs: p.crs }));
  return el("div", { class: "transfer-crs" }, el("label", { class: "field-row" }, el("span", { text: t("transfer.crs_unknown") }),
    el("input", { type: "text", id: "import-crs", value: state.crs, placeholder: p.crs || "EPSG:4326", size: 14,
      // "change": once the planner leaves the field or presses Enter, not at every key.
      onchange: (e) => { state.crs = e.target.value.trim(); renderCheck(); renderRun(); refreshPreview(); } })),
  el("p", { class: "hint", text: t("transfer.crs_table_help") }));
}

/** The server's problems with the file, less the one the CRS field above already says in the page's language. */
const problemsOf = (p) => (p.problems || []).filter((text) => !(p.coordinates && /does not say its CRS/.test(text)));

function cellText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function rowsTable(p) {
  const rows = p.rows || [];
  const names = fieldNames().length ? fieldNames() : Object.keys(rows[0] || {});
  if (!rows.length || !names.length) return null;
  return el("details", { class: "transfer-rows", open: true },
    el("summary", { text: t("transfer.first_rows", { n: rows.length }) }),
    el("div", { class: "transfer-scroll" }, el("table", { class: "transfer-table", id: "import-rows" },
      el("thead", {}, el("tr", {}, names.map((n) => el("th", { scope: "col", text: n })))),
      el("tbody", {}, rows.map((r) => el("tr", {}, names.map((n) => el("td", { text: cellText(r[n]) }))))))));
}

function fieldSelect(id, value, emptyText, onchange) {
  return el("select", { id, onchange },
    el("option", { value: "", text: emptyText }),
    fieldNames().map((n) => el("option", { value: n, selected: n === value, text: n })));
}

function coordinatesChoice(p) {
  if (!p.coordinates) return null;
  const changed = () => { renderMappingRows(); renderDefaults(); renderValues(); markStale(); refreshPreview(); };
  return el("fieldset", { class: "transfer-coordinates", id: "import-coordinates" },
    el("legend", { text: t("transfer.coordinates") }),
    el("label", { class: "field-row" }, el("span", { text: t("transfer.x_field") }),
      fieldSelect("import-x", state.x, "—", (e) => { state.x = e.target.value; if (state.x) clearWkt(); changed(); })),
    el("label", { class: "field-row" }, el("span", { text: t("transfer.y_field") }),
      fieldSelect("import-y", state.y, "—", (e) => { state.y = e.target.value; if (state.y) clearWkt(); changed(); })),
    el("label", { class: "field-row" }, el("span", { text: t("transfer.wkt_field") }),
      fieldSelect("import-wkt", state.wkt, "—", (e) => {
        state.wkt = e.target.value;
        if (state.wkt) { state.x = ""; state.y = ""; for (const id of ["import-x", "import-y"]) document.getElementById(id).value = ""; }
        changed();
      })),
    el("p", { class: "hint", text: t("transfer.coordinates_help") }));
}

function clearWkt() {
  state.wkt = "";
  const select = document.getElementById("import-wkt");
  if (select) select.value = "";
}

// The mapping: one row per source field --------------------------------------------------------------

const HOW = { mapping: "transfer.how_mapping", name: "transfer.how_name", label: "transfer.how_label", short: "transfer.how_short" };

function attributeOptions(layer, selected, emptyText) {
  return [el("option", { value: "", text: emptyText }),
    layer.attributes.map((a) => el("option", { value: a.name, selected: a.name === selected,
      text: `${label(a.label) || a.name}${a.required ? " *" : ""}` }))];
}

function mappingTable(p, layer) {
  ui.mappingBody = el("tbody", {});
  const table = el("div", { class: "transfer-scroll" }, el("table", { class: "transfer-table transfer-mapping", id: "import-mapping" },
    el("thead", {}, el("tr", {}, ["transfer.source_field", "transfer.examples", "transfer.attribute", "transfer.matched_by"]
      .map((key) => el("th", { scope: "col", text: t(key) })))),
    ui.mappingBody));
  renderMappingRows();
  return el("div", { class: "transfer-part" }, el("h4", { text: t("transfer.mapping_title", { layer: layerTitle(layer) }) }),
    el("p", { class: "hint", text: t("transfer.mapping_help") }), table);
}

function renderMappingRows() {
  const layer = previewLayer();
  if (!ui.mappingBody || !layer || !state.preview) return;
  clear(ui.mappingBody).append(...(state.preview.fields || []).map((f) => mappingRow(f, layer)));
}

function mappingRow(f, layer) {
  const samples = (f.samples || []).slice(0, 3).map(cellText).filter(Boolean).join(" · ");
  const how = f.how && HOW[f.how] ? t(HOW[f.how]) : "";
  return el("tr", { dataset: { field: f.name } },
    el("th", { scope: "row", text: f.name }),
    el("td", { class: "samples", text: samples }),
    el("td", { class: "targets" }, isCoordinate(f.name) ? el("span", { class: "muted", text: t("transfer.is_coordinates") }) : targetsCell(f.name, layer)),
    el("td", { class: "muted", text: how }));
}

function targetsCell(name, layer) {
  const cell = el("div", { class: "target-list" });
  const draw = () => {
    const targets = state.targets[name] || [];
    const selects = [targets[0] || "", ...targets.slice(1)].map((value, i) => el("select", {
      class: i ? "target-extra" : "target-main", "aria-label": i ? t("transfer.also_into", { field: name }) : t("transfer.into", { field: name }),
      dataset: { field: name, index: i },
      onchange: (e) => { setTarget(name, i, e.target.value); draw(); renderDefaults(); renderValues(); markStale(); } },
    attributeOptions(layer, value, i ? "—" : t("transfer.not_imported"))));
    const more = targets.length && targets.length < layer.attributes.length ? el("button", { type: "button", class: "btn btn-small target-more",
      title: t("transfer.add_target"), "aria-label": t("transfer.also_into", { field: name }),
      onclick: () => { state.targets[name] = [...targets, ""]; draw(); cell.querySelector("select.target-extra:last-of-type").focus(); }, text: "+" }) : null;
    append(clear(cell), [selects, more]);
  };
  draw();
  return cell;
}

function setTarget(name, index, value) {
  const targets = [...(state.targets[name] || [])];
  targets[index] = value;
  // The first select says whether the field is imported at all; an emptied extra one goes away.
  state.targets[name] = index === 0 && !value ? [] : targets.filter((v, i) => i === 0 || v);
}

function idFieldChoice() {
  return el("label", { class: "field-row", id: "import-id-row" }, el("span", { text: t("transfer.id_field") }),
    fieldSelect("import-id-field", state.idField, t("transfer.id_none"), (e) => { state.idField = e.target.value; markStale(); }),
    el("span", { class: "hint", text: t("transfer.id_help") }));
}

// The same value for every row: attributes no field of the file fills ----------------------------------

/** The attributes some field of the file (not a coordinate column) fills. */
function fedAttributes() {
  const fed = new Set();
  for (const [field, targets] of Object.entries(state.targets)) if (!isCoordinate(field)) for (const name of targets) if (name) fed.add(name);
  return fed;
}

/** Attributes no field fills, the required ones first: a value given here goes into every row (the mapping's
 * "defaults"); the server checks it, and a value it refuses fails the dry run with its reason. */
function renderDefaults() {
  const box = ui.defaults;
  const layer = previewLayer();
  if (!box || !layer || !state.preview) return;
  const fed = fedAttributes();
  const open = layer.attributes.filter((a) => !fed.has(a.name));
  const ordered = [...open.filter((a) => a.required), ...open.filter((a) => !a.required)];
  if (!ordered.length) { clear(box); return; }
  const details = el("details", { class: "transfer-part transfer-defaults",
    open: state.defaultsOpen || ordered.some((a) => a.required || state.defaults[a.name]) },
  el("summary", { text: t("transfer.defaults_title") }),
  el("p", { class: "hint", text: t("transfer.defaults_help") }),
  el("div", { class: "defaults-rows" }, ordered.map((a) => el("label", { class: "field-row", dataset: { attribute: a.name } },
    el("span", { text: `${label(a.label) || a.name}${a.required ? " *" : ""}` }), defaultInput(layer, a)))));
  details.addEventListener("toggle", () => { state.defaultsOpen = details.open; });
  clear(box).append(details);
}

function defaultInput(layer, attr) {
  const value = state.defaults[attr.name] ?? "";
  const props = { id: `import-default-${attr.name}`, dataset: { attribute: attr.name },
    onchange: (e) => { state.defaults[attr.name] = e.target.value.trim(); markStale(); } };
  const options = (pairs) => el("select", props, el("option", { value: "", text: "—" }),
    pairs.map(([v, text]) => el("option", { value: v, selected: v === value, text })));
  if (CHOICE_TYPES.has(attr.type)) {
    return options((attr.choices || []).filter((c) => !c.retired).map((c) => [c.value, choiceText(layer, attr.name, c.value)]));
  }
  if (attr.type === "boolean") return options([["true", t("value.yes")], ["false", t("value.no")]]);
  if (attr.type === "date") return el("input", { ...props, type: "date", value });
  if (attr.type === "integer" || attr.type === "number") {
    return el("input", { ...props, type: "text", inputmode: attr.type === "number" ? "decimal" : "numeric", dir: "ltr", size: 10, value });
  }
  return el("input", { ...props, type: "text", size: 20, value, maxlength: attr.max_length || null });
}

// Values of value lists ------------------------------------------------------------------------------

/** The value-list attributes the mapping fills, with the source fields that fill them. */
function choiceTargets(layer) {
  const out = new Map();
  for (const [field, targets] of Object.entries(state.targets)) {
    if (isCoordinate(field)) continue;
    for (const name of targets) {
      const attr = name && attribute(layer, name);
      if (attr && CHOICE_TYPES.has(attr.type)) out.set(name, [...(out.get(name) || []), field]);
    }
  }
  return out;
}

/** The distinct source values to map for `attr`: the preview's, else what the samples and first rows show. */
function sourceValues(attr, fields) {
  const known = state.preview.values && state.preview.values[attr];
  if (known && Object.keys(known).length) return Object.keys(known);
  const seen = new Set();
  for (const f of state.preview.fields || []) if (fields.includes(f.name)) for (const v of f.samples || []) if (cellText(v)) seen.add(cellText(v));
  for (const row of state.preview.rows || []) for (const f of fields) if (cellText(row[f])) seen.add(cellText(row[f]));
  return [...seen];
}

function renderValues() {
  const box = ui.values;
  const layer = previewLayer();
  if (!box || !layer || !state.preview) return;
  const groups = [...choiceTargets(layer)].map(([name, fields]) => {
    const attr = attribute(layer, name);
    const values = sourceValues(name, fields);
    if (!values.length) return null;
    const table = state.values[name] || (state.values[name] = {});
    return el("fieldset", { class: "transfer-value-map", dataset: { attribute: name } },
      el("legend", { text: `${label(attr.label) || name} ← ${fields.join(", ")}` }),
      el("div", { class: "value-rows" }, values.map((src) => el("label", { class: "value-row" },
        el("code", { text: src }), el("span", { "aria-hidden": "true", text: "→" }),
        el("select", { dataset: { attribute: name, value: src }, onchange: (e) => { table[src] = e.target.value; markStale(); } },
          el("option", { value: "", text: t("transfer.value_unmatched") }),
          (attr.choices || []).map((c) => el("option", { value: c.value, selected: table[src] === c.value,
            text: choiceText(layer, name, c.value) })))))));
  }).filter(Boolean);
  clear(box).append(...(groups.length ? [el("h4", { text: t("transfer.values_title") }),
    el("p", { class: "hint", text: t("transfer.values_help") }), ...groups,
    el("button", { type: "button", class: "btn btn-small", id: "import-refresh-values", onclick: () => askPreview(true),
      text: t("transfer.refresh_values") })] : []));
}

// What is sent -----------------------------------------------------------------------------------

function mappingJson() {
  const fields = {};
  for (const name of fieldNames()) {
    if (isCoordinate(name)) continue;
    const targets = [...new Set((state.targets[name] || []).filter(Boolean))];
    fields[name] = targets.length === 0 ? null : targets.length === 1 ? targets[0] : targets;
  }
  const used = new Set(Object.values(state.targets).flat());
  const values = {};
  for (const [attr, table] of Object.entries(state.values)) {
    if (!used.has(attr)) continue;
    const chosen = Object.fromEntries(Object.entries(table).filter(([, v]) => v));
    if (Object.keys(chosen).length) values[attr] = chosen;
  }
  const fed = fedAttributes();
  const defaults = Object.fromEntries(Object.entries(state.defaults).filter(([attr, v]) => v && !fed.has(attr)));
  const out = { fields, values, defaults };
  if (state.idField) out.id_field = state.idField;
  return out;
}

/** The form fields of an import but the file, the run's own choices left out (they make the dry run's key). */
function importFields() {
  const fields = { layer: state.layer, source_layer: state.sourceLayer, crs: state.crs, encoding: state.encoding,
    id_field: state.idField, x_field: state.x, y_field: state.y, wkt_field: state.wkt, repair: String(state.repair) };
  if (state.preview && previewLayer()) fields.mapping = JSON.stringify(mappingJson());
  return fields;
}

const checkKey = () => JSON.stringify(importFields());

function importForm(extra) {
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  for (const [key, value] of Object.entries({ ...importFields(), ...extra })) if (value !== "" && value !== null && value !== undefined) form.append(key, value);
  return form;
}

function markStale() {
  if (state.check && state.check.key !== checkKey()) { renderCheck(); renderRun(); }
}

// Step 3 and 4: the dry run, then the import -----------------------------------------------------------

const running = () => [state.check, state.run].some((s) => s && s.job && !finished(s.job) && !s.error);

async function start(kind, extra) {
  const slot = { key: checkKey(), job: { status: "queued", progress: 0 }, error: null };
  state[kind] = slot;
  if (kind === "check") state.run = null;
  const paint = () => { if (state[kind] === slot) { renderCheck(); renderRun(); } };
  paint();
  try {
    const created = await postForm("/imports", importForm(extra));
    slot.id = created.id;
    await followJob(created.id, (job) => { slot.job = job; paint(); });
  } catch (error) {
    slot.error = error;
  }
  paint();
  hooks.onFinished();
}

function jobView(slot, id) {
  if (slot.error) return errorNode(slot.error);
  const job = slot.job;
  if (!finished(job)) {
    const bar = progressBar(`${id}-progress`);
    bar.set(job.status === "queued" ? null : Number(job.progress) || 0, job.message || statusText(job.status));
    return bar.node;
  }
  const ok = job.status === "succeeded";
  return el("div", { class: `transfer-result ${ok ? "transfer-ok" : "transfer-failed"}`, id: `${id}-result`, dataset: { status: job.status } },
    el("p", { class: ok ? "result-line" : "result-line form-error" }, el("strong", { text: statusText(job.status) }),
      ok && job.report ? ` — ${t(job.report.committed ? "transfer.result_committed" : "transfer.result_dry")}`
        : job.message ? [" — ", el("span", { lang: "en", dir: "auto", text: job.message })] : ""),
    reportView(job.report));
}

function renderCheck() {
  const box = ui.check;
  if (!box) return;
  clear(box);
  if (!state.preview) return;
  const slot = state.check;
  const stale = slot && slot.key !== checkKey() && !running();
  append(box, [el("h4", { text: t("transfer.check_title") }),
    el("div", { class: "actions" }, el("button", { type: "button", class: "btn btn-primary", id: "import-check",
      disabled: running() || (!state.layer && !OSM.test(state.file.name)), onclick: () => start("check", { dry_run: "true" }),
      text: slot && !stale ? t("transfer.check_again") : t("transfer.check") })),
    !slot ? el("p", { class: "hint", text: t("transfer.check_help") }) : null,
    stale ? el("p", { class: "hint stale", id: "import-stale", text: t("transfer.check_stale") }) : null,
    slot ? jobView(slot, "import-check") : null]);
}

const rejectedIn = (report) => Object.values((report && report.layers) || {}).reduce((sum, c) => sum + (Number(c.rejected) || 0), 0);

function renderRun() {
  const box = ui.run;
  if (!box) return;
  clear(box);
  const check = state.check;
  const checked = check && !check.error && finished(check.job) && check.job.report && check.key === checkKey();
  if (!checked && !state.run) return;
  const report = checked ? check.job.report : null;
  const rejected = rejectedIn(report);
  const outside = outsideCount(report);
  const busy = running();
  const doneRun = state.run && finished(state.run.job) && state.run.job.status === "succeeded";
  box.append(el("h4", { text: t("transfer.run_title") }));
  if (report && !doneRun) {
    append(box, [outsideChoice(outside),
      rejected ? el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-skip-rejected", checked: state.skipRejected,
        onchange: (e) => { state.skipRejected = e.target.checked; renderRun(); } }), " ", t("transfer.skip_rejected", { n: rejected })) : null,
      el("div", { class: "actions" }, el("button", { type: "button", class: "btn btn-primary", id: "import-run",
        disabled: busy || (rejected > 0 && !state.skipRejected),
        onclick: () => start("run", { dry_run: "false", outside: state.outside, outside_distance: String(state.distance),
          skip_rejected: String(state.skipRejected) }),
        text: t("transfer.run") })),
      rejected && !state.skipRejected ? el("p", { class: "hint", text: t("transfer.fix_or_skip") }) : null]);
  }
  if (state.run) {
    box.append(jobView(state.run, "import-run"));
    if (state.run.id && finished(state.run.job)) {
      box.append(el("div", { class: "actions" },
        el("a", { class: "btn", id: "import-report-link", href: `/imports/${encodeURIComponent(state.run.id)}/report`, download: "",
          text: t("transfer.download_report") }),
        el("button", { type: "button", class: "btn", id: "import-again", onclick: () => { state.layer = ""; reset({ keepFile: false }); renderImport(ui.root); },
          text: t("transfer.import_another") })));
    }
  }
}

function outsideChoice(outside) {
  const radio = (value, text, extra = null) => el("label", { class: "check" },
    el("input", { type: "radio", name: "import-outside", value, checked: state.outside === value,
      onchange: () => { state.outside = value; } }), " ", text, extra);
  const distance = el("input", { type: "number", id: "import-outside-distance", class: "num", min: 1, max: 100000, step: 1,
    value: state.distance, "aria-label": t("transfer.outside_distance"),
    onchange: (e) => { state.distance = Number(e.target.value) || 100; } });
  return el("fieldset", { class: "transfer-outside", id: "import-outside" },
    el("legend", { text: t("transfer.outside_title", { n: outside }) }),
    outside ? null : el("p", { class: "hint", text: t("transfer.outside_none") }),
    radio("keep", t("transfer.outside_keep")),
    radio("nearest", t("transfer.outside_nearest"), el("span", { class: "inline-number" }, " ", distance, " ", t("unit.m"))),
    radio("reject", t("transfer.outside_reject")));
}
