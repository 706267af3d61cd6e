// Exporting from the browser (everyone who may read): the layers, the neighbourhood (the one in use, or all),
// the format, a date to export the layers as they were then, and the photos → GET /exports, read chunk by
// chunk under a progress bar, then saved under the server's file name. A refusal shows the server's reason.

import { withQuery } from "./api.js";
import { layerTitle, spatialLayers } from "./catalogue.js";
import { $$, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { errorNode } from "./session.js";
import { bytes, download, isolate, progressBar } from "./transfer-jobs.js";

export const hooks = { neighbourhood: () => "" };
const FORMATS = [["gpkg", "GeoPackage (.gpkg)"], ["shp", "Shapefile (.zip)"], ["geojson", "GeoJSON"], ["csv", "CSV (.zip)"],
  ["xlsx", "Excel (.xlsx)"], ["kml", "KML"], ["kmz", "KMZ"]];
const WITH_PHOTOS = new Set(["gpkg", "shp"]);

const state = { layers: null, neighbourhood: null, format: "gpkg", asOf: "", photos: false, busy: false, result: null, error: null };
let ui = {};

/** The neighbourhoods of the top bar's list (code, name). */
function neighbourhoods() {
  return [...document.querySelectorAll("#neighbourhood option")].filter((o) => o.value).map((o) => [o.value, o.textContent]);
}

export function renderExport(container) {
  const layers = spatialLayers();
  if (state.layers === null) state.layers = new Set(layers.map((l) => l.name));
  if (state.neighbourhood === null) state.neighbourhood = hooks.neighbourhood();
  ui = { root: container, status: el("div", { class: "transfer-step", id: "export-status", "aria-live": "polite" }) };
  const photos = el("input", { type: "checkbox", id: "export-photos", checked: state.photos && WITH_PHOTOS.has(state.format),
    disabled: !WITH_PHOTOS.has(state.format), onchange: (e) => { state.photos = e.target.checked; } });
  const form = el("form", { class: "transfer-export", id: "export-form", onsubmit: (e) => { e.preventDefault(); start(); } },
    el("fieldset", { class: "export-layers" },
      el("legend", { text: t("transfer.export_layers") }),
      el("div", { class: "layer-checks" }, layers.map((l) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "export-layer", value: l.name, checked: state.layers.has(l.name),
          onchange: (e) => { if (e.target.checked) state.layers.add(l.name); else state.layers.delete(l.name); } }),
        " ", layerTitle(l)))),
      el("div", { class: "row" },
        el("button", { type: "button", class: "btn btn-small", id: "export-all", onclick: () => tick(true), text: t("transfer.all_layers") }),
        el("button", { type: "button", class: "btn btn-small", id: "export-none", onclick: () => tick(false), text: t("transfer.no_layers") }))),
    el("div", { class: "transfer-fields" },
      el("label", { class: "field-row" }, el("span", { text: t("nav.neighbourhood") }),
        el("select", { id: "export-neighbourhood", onchange: (e) => { state.neighbourhood = e.target.value; } },
          el("option", { value: "", text: t("transfer.all_neighbourhoods") }),
          neighbourhoods().map(([code, name]) => el("option", { value: code, selected: code === state.neighbourhood, text: name })))),
      el("label", { class: "field-row" }, el("span", { text: t("transfer.format") }),
        el("select", { id: "export-format", onchange: (e) => { state.format = e.target.value; renderExport(container); } },
          FORMATS.map(([value, text]) => el("option", { value, selected: value === state.format, text })))),
      el("label", { class: "field-row" }, el("span", { text: t("transfer.as_of") }),
        el("input", { type: "date", id: "export-as-of", value: state.asOf, onchange: (e) => { state.asOf = e.target.value; } })),
      el("label", { class: "check" }, photos, " ", t("transfer.photos"))),
    el("p", { class: "hint", text: t("transfer.as_of_help") }),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "btn btn-primary", id: "export-start", disabled: state.busy,
      text: t("transfer.export") })));
  clear(container).append(el("h3", { id: "export-title", text: t("transfer.export_title") }), form, ui.status);
  paint();
}

function tick(on) {
  for (const box of $$('input[name="export-layer"]', ui.root)) {
    box.checked = on;
    if (on) state.layers.add(box.value); else state.layers.delete(box.value);
  }
}

/** The end of the chosen day in the browser's time zone, as the server takes it (ISO, UTC). */
function asOfParam() {
  if (!state.asOf) return "";
  const [y, m, d] = state.asOf.split("-").map(Number);
  const end = new Date(2000, 0, 1, 23, 59, 59);
  end.setFullYear(y, m - 1, d);  // not new Date(y, …): that reads the years 0–99 as 1900–1999
  return end.toISOString();
}

function exportUrl() {
  const layers = spatialLayers().map((l) => l.name).filter((n) => state.layers.has(n));
  return withQuery("/exports", { format: state.format, layers: layers.join(","), neighbourhood: state.neighbourhood,
    as_of: asOfParam(), photos: WITH_PHOTOS.has(state.format) && state.photos ? "true" : "" });
}

let bar = null;

async function start() {
  if (!state.layers.size) { state.error = new Error(t("transfer.choose_layers")); paint(); return; }
  if (state.result) URL.revokeObjectURL(state.result.url);
  Object.assign(state, { busy: true, result: null, error: null });
  bar = progressBar("export-progress");
  bar.set(null, t("transfer.export_preparing"));
  paint();
  const button = document.getElementById("export-start");
  if (button) button.disabled = true;
  try {
    const { blob, name } = await download(exportUrl(), (received, total) => {
      if (bar) bar.set(total ? received / total : null, total ? `${bytes(received)} / ${bytes(total)}` : bytes(received));
    });
    state.result = { url: URL.createObjectURL(blob), name, size: blob.size };
  } catch (error) {
    state.error = error;
  } finally {
    state.busy = false;
    bar = null;
  }
  if (ui.root && ui.root.isConnected) renderExport(ui.root);
  if (state.result) save();
}

/** The browser saves the file (the link stays, to save it again). */
function save() {
  const link = document.getElementById("export-link");
  if (link) link.click();
}

function paint() {
  const box = ui.status;
  if (!box) return;
  clear(box);
  if (state.busy && bar) box.append(bar.node);
  if (state.error) box.append(errorNode(state.error));
  if (state.result) {
    box.append(el("p", { class: "transfer-result transfer-ok" },
      el("a", { href: state.result.url, download: state.result.name, id: "export-link", class: "btn", text: t("transfer.save_file", { file: isolate(state.result.name) }) }),
      " ", el("span", { class: "muted", text: bytes(state.result.size) })));
  }
}
