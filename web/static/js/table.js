// The attribute table of one layer: sort and filter (done by the server: sortby, CQL2 filter, bbox),
// selection shared with the map, bulk edit of one attribute for the selection (one PATCH per feature,
// each with its If-Match; failures are listed), and export of the selection as GeoJSON. The bulk edit offers
// only the attributes the user's roles may change (none: no bulk edit).

import { ApiError, etagOf, get, request, withQuery } from "./api.js";
import { attribute, attributeLabel, displayValue, layerOf, layerTitle, spatialLayers } from "./catalogue.js";
import { $, clear, download, el, toast } from "./dom.js";
import { widget } from "./form.js";
import { t } from "./i18n.js";
import { highlight, mapState, reload } from "./mapview.js";
import { editableAttributes, errorNode } from "./session.js";

const PAGE = 200;
const state = { layer: null, features: [], next: null, matched: 0, sort: null, filter: null, inView: false, selected: new Set() };
let nodes = {};
export const hooks = { openFeature: () => {} };

export const tableLayer = () => (nodes.root && !nodes.root.hidden ? state.layer && state.layer.name : null);

export function openTable(name) {
  const root = $("#table");
  root.hidden = false;
  document.body.classList.add("has-table");
  if (!state.layer || state.layer.name !== name) {
    Object.assign(state, { layer: layerOf(name), sort: null, filter: null, selected: new Set() });
  }
  render(root);
  load();
  setTimeout(() => mapState.map.invalidateSize(), 50);
}

export function closeTable() {
  nodes.root.hidden = true;
  document.body.classList.remove("has-table");
  highlight([]);
  setTimeout(() => mapState.map.invalidateSize(), 50);
}

function render(root) {
  clear(root);
  const layer = state.layer;
  const names = layer.attributes.map((a) => a.name);
  const layerSelect = el("select", { "aria-label": t("table.layer"), onchange: (e) => openTable(e.target.value) },
    spatialLayers().map((l) => el("option", { value: l.name, text: layerTitle(l), selected: l.name === layer.name })));
  // Filter: attribute, operator, value.
  const filterAttr = el("select", { "aria-label": t("table.filter_attribute"), id: "filter-attr" },
    names.map((n) => el("option", { value: n, text: attributeLabel(layer, n) })));
  const filterOp = el("select", { "aria-label": t("table.filter_operator"), id: "filter-op" },
    ["=", "<>", "contains", ">", "<"].map((op) => el("option", { value: op, text: t(`table.op_${{ "=": "eq", "<>": "ne", contains: "contains", ">": "gt", "<": "lt" }[op]}`) })));
  const filterValue = el("input", { type: "text", "aria-label": t("table.filter_value"), id: "filter-value", dir: "auto" });
  const inView = el("input", { type: "checkbox", id: "table-in-view", checked: state.inView });
  const applyFilter = () => {
    state.filter = filterValue.value.trim() ? { attr: filterAttr.value, op: filterOp.value, value: filterValue.value.trim() } : null;
    state.inView = inView.checked;
    load();
  };
  filterValue.addEventListener("keydown", (e) => { if (e.key === "Enter") applyFilter(); });
  if (state.filter) { filterAttr.value = state.filter.attr; filterOp.value = state.filter.op; filterValue.value = state.filter.value; }
  // Bulk edit: one attribute, one value, for every selected feature (of the attributes the user may change).
  const some = editableAttributes(layer.name);
  const changeable = some === null ? names : names.filter((n) => some.includes(n));
  const bulkAttr = el("select", { "aria-label": t("table.bulk_attribute"), id: "bulk-attr", onchange: () => bulkWidget() },
    changeable.map((n) => el("option", { value: n, text: attributeLabel(layer, n) })));
  const bulkSlot = el("span", { class: "bulk-value" });
  let bulk = null;
  function bulkWidget() {
    clear(bulkSlot);
    if (!bulkAttr.value) return;
    bulk = widget(attribute(layer, bulkAttr.value), null, "bulk-value");
    (bulk.focus || bulk.node).setAttribute("aria-label", t("table.bulk_value"));
    bulkSlot.append(bulk.node);
  }
  bulkWidget();
  const bulkControls = changeable.length ? [el("strong", { text: t("table.bulk") }), bulkAttr, bulkSlot,
    el("button", { type: "button", class: "btn btn-primary", id: "bulk-apply", onclick: () => bulkEdit(bulkAttr.value, bulk.get()), text: t("table.bulk_apply") })] : [];
  nodes = {
    root,
    count: el("span", { class: "count", role: "status" }),
    selection: el("span", { class: "selection-count" }),
    report: el("div", { class: "bulk-report", role: "status", "aria-live": "polite" }),
    table: el("table", { class: "attr-table" }),
    more: el("button", { type: "button", class: "btn", onclick: () => load(true), text: t("table.more") }),
  };
  root.append(
    el("div", { class: "table-head" },
      el("h2", { text: t("table.title") }), layerSelect,
      el("button", { type: "button", class: "btn btn-icon", "aria-label": t("table.close"), title: t("table.close"), onclick: closeTable, text: "×" })),
    el("div", { class: "table-controls" },
      el("span", { class: "group" }, el("strong", { text: t("table.filter") }), filterAttr, filterOp, filterValue,
        el("label", { class: "check" }, inView, " ", t("table.in_view")),
        el("button", { type: "button", class: "btn", id: "filter-apply", onclick: applyFilter, text: t("table.apply") }),
        el("button", { type: "button", class: "btn", onclick: () => { filterValue.value = ""; inView.checked = false; applyFilter(); }, text: t("table.clear") }))),
    el("div", { class: "table-controls" },
      el("span", { class: "group" }, nodes.selection, bulkControls,
        el("button", { type: "button", class: "btn", id: "export-selection", onclick: exportSelection, text: t("table.export") }),
        el("button", { type: "button", class: "btn", onclick: () => { state.selected.clear(); refreshSelection(); }, text: t("table.unselect") }))),
    nodes.report,
    el("div", { class: "table-scroll" }, nodes.table),
    el("div", { class: "table-foot" }, nodes.count, nodes.more));
}

function cql(filter, layer) {
  const attr = attribute(layer, filter.attr);
  const numeric = attr && ["integer", "number", "reference"].includes(attr.type);
  const quoted = (v) => `'${v.replaceAll("'", "''")}'`;
  let value = filter.value;
  if (attr && attr.type === "choice") {
    // Planners type the label they see; the filter needs the stored value.
    const hit = attr.choices.find((c) => Object.values(c.label).some((l) => l.toLowerCase() === value.toLowerCase()));
    if (hit) value = hit.value;
  }
  if (filter.op === "contains") return `CASEI(${filter.attr}) LIKE CASEI(${quoted(`%${value}%`)})`;
  return `${filter.attr} ${filter.op} ${numeric && Number.isFinite(Number(value)) ? Number(value) : quoted(value)}`;
}

let loading = 0;  // the latest load: an older answer arriving late is dropped, not drawn over a newer one

async function load(more = false) {
  const layer = state.layer;
  const mine = ++loading;
  let url;
  if (more && state.next) {
    url = new URL(state.next).pathname + new URL(state.next).search;  // same host, relative
  } else {
    const params = { limit: PAGE };
    if (state.sort) params.sortby = `${state.sort.dir < 0 ? "-" : "+"}${state.sort.attr}`;
    if (state.filter) params.filter = cql(state.filter, layer);
    if (state.inView) {
      const b = mapState.map.getBounds();
      params.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    }
    url = withQuery(`/ogc/collections/${layer.name}/items`, params);
  }
  try {
    const data = await get(url);
    if (mine !== loading) return;
    state.features = more ? [...state.features, ...data.features] : data.features;
    state.matched = data.numberMatched;
    const next = (data.links || []).find((l) => l.rel === "next");
    state.next = next ? next.href : null;
  } catch (error) {
    if (mine === loading) clear(nodes.report).append(errorNode(error));
    return;
  }
  if (!more) nodes.report.textContent = "";
  drawRows();
}

function drawRows() {
  const layer = state.layer;
  const names = layer.attributes.map((a) => a.name);
  const system = ["length_m", "area_m2"].filter((n) => state.features.some((f) => f.properties[n]));
  const columns = [...names, ...system];
  const allBox = el("input", { type: "checkbox", "aria-label": t("table.select_all"),
    checked: state.features.length > 0 && state.features.every((f) => state.selected.has(f.id)),
    onchange: (e) => { for (const f of state.features) e.target.checked ? state.selected.add(f.id) : state.selected.delete(f.id); refreshSelection(); } });
  const sortButton = (name) => {
    const active = state.sort && state.sort.attr === name;
    return el("button", { type: "button", class: "sort", dataset: { sort: name },
      onclick: () => {  // toggled from the state now, not as drawn: a second click may come before the redraw
        const on = state.sort && state.sort.attr === name;
        state.sort = { attr: name, dir: on && state.sort.dir > 0 ? -1 : 1 };
        load();
      } },
    attributeLabel(layer, name), active ? (state.sort.dir > 0 ? " ▲" : " ▼") : "");
  };
  const head = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, allBox), el("th", { scope: "col", text: "id" }),
    columns.map((n) => el("th", { scope: "col", "aria-sort": state.sort && state.sort.attr === n ? (state.sort.dir > 0 ? "ascending" : "descending") : "none" }, sortButton(n)))));
  const body = el("tbody", {}, state.features.map((f) => el("tr", { dataset: { id: f.id }, class: state.selected.has(f.id) ? "selected" : "" },
    el("td", {}, el("input", { type: "checkbox", checked: state.selected.has(f.id), "aria-label": t("table.select_row", { id: f.id }),
      onchange: (e) => { e.target.checked ? state.selected.add(f.id) : state.selected.delete(f.id); refreshSelection(); } })),
    el("td", {}, el("button", { type: "button", class: "link", onclick: () => { state.selected = new Set([f.id]); refreshSelection(true); hooks.openFeature(layer.name, f.id); }, text: String(f.id) })),
    columns.map((n) => el("td", { text: displayValue(layer, n, f.properties[n]) })))));
  clear(nodes.table).append(head, body);
  nodes.count.textContent = t("table.count", { shown: state.features.length, matched: state.matched, n: state.matched });
  nodes.more.hidden = !state.next;
  refreshSelection();
}

function selectedFeatures() { return state.features.filter((f) => state.selected.has(f.id)); }

function refreshSelection(fit = false) {
  nodes.selection.textContent = t("table.selected", { n: state.selected.size });
  for (const row of nodes.table.querySelectorAll("tbody tr")) {
    const on = state.selected.has(Number(row.dataset.id));
    row.classList.toggle("selected", on);
    row.querySelector("input").checked = on;
  }
  highlight(selectedFeatures(), { fit });
}

/** A click on the map: select that feature's row (with Shift/Ctrl: add to the selection). */
export function selectFromMap(name, id, add) {
  if (tableLayer() !== name) return;
  if (!add) state.selected.clear();
  if (add && state.selected.has(id)) state.selected.delete(id); else state.selected.add(id);
  refreshSelection();
  const row = nodes.table.querySelector(`tbody tr[data-id="${id}"]`);
  if (row) row.scrollIntoView({ block: "nearest" });
  else nodes.report.textContent = t("table.not_listed", { id });
}

async function bulkEdit(name, value) {
  const features = selectedFeatures();
  if (!features.length) { toast(t("table.none_selected"), "error"); return; }
  const failures = [];
  let done = 0;
  nodes.report.textContent = t("table.bulk_running", { n: features.length });
  for (const f of features) {
    try {
      const result = await request("PATCH", `/ogc/collections/${state.layer.name}/items/${f.id}`,
        { body: { properties: { [name]: value } }, etag: etagOf(f.properties.version), type: "application/merge-patch+json" });
      Object.assign(f, result.data);
      done += 1;
    } catch (error) {
      const why = error instanceof ApiError && error.status === 412 ? t("table.bulk_conflict") : error.message;
      failures.push({ id: f.id, why });
    }
  }
  clear(nodes.report).append(
    el("p", { class: failures.length ? "warn" : "ok", text: t("table.bulk_done", { done, failed: failures.length }) }),
    failures.length ? el("ul", {}, failures.map((x) => el("li", { text: `${x.id}: ${x.why}` }))) : null);
  drawRows();
  reload(state.layer.name);
  if (done) document.dispatchEvent(new CustomEvent("mahalle:edited", { detail: { layer: state.layer.name, kind: "bulk" } }));
}

/** The user saved, deleted or restored a feature elsewhere (the form, undo, the deleted list): the rows of that layer
 * are read again, so the table shows it and a bulk edit sends the version just saved, not the one the table had (a
 * 412 "changed by someone else" for the user's own save). A saved feature's row is updated at once. */
function followEdit(event) {
  const { layer, kind, id, feature } = event.detail || {};
  if (kind === "bulk" || !state.layer || layer !== state.layer.name || !nodes.root || nodes.root.hidden) return;
  const row = feature && state.features.find((f) => f.id === id);
  if (row) { Object.assign(row, feature); drawRows(); }
  load();
}
document.addEventListener("mahalle:edited", followEdit);

function exportSelection() {
  const features = selectedFeatures();
  if (!features.length) { toast(t("table.none_selected"), "error"); return; }
  const body = JSON.stringify({ type: "FeatureCollection", features }, null, 1);
  download(`${state.layer.name}-selection.geojson`, body);
  toast(t("table.exported", { n: features.length }), "ok");  // t() formats {n} and picks its plural form
}
