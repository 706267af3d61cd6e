// The layer panel: every spatial layer of the catalogue with a toggle, its feature count, how it is
// drawn now (tiles or features), a legend of its key attribute and a button for its attribute table; the
// counts follow the user's own edits; a button opens the list of deleted features (trash.js).

import { get } from "./api.js";
import { catalogue, layerTitle, legend, spatialLayers, attributeLabel } from "./catalogue.js";
import { clear, el } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { layerMode, mapState, setVisible, tilesHeavy, truncated } from "./mapview.js";
import { me } from "./session.js";
import { openTrash } from "./trash.js";

let container = null;
let openTable = () => {};

export function renderLayers(target, onTable) {
  container = target;
  openTable = onTable;
  clear(container);
  container.append(el("h2", { text: t("layers.title") }),
    el("ul", { class: "layer-list" }, spatialLayers().map(layerItem)),
    me.user || me.open ? el("p", { class: "layer-tools" }, el("button", { type: "button", class: "btn", id: "trash-open",
      onclick: () => openTrash(), text: t("trash.open") })) : null);
  mapState.onChange = updateMode;
}

let countsTimer = null;
let countsAsked = 0;

/** Read the feature counts again (as the user may read them) and show them. */
export async function refreshCounts() {
  const mine = ++countsAsked;
  let layers;
  try {
    layers = await get("/layers?counts=true");
  } catch {
    return;  // offline: the counts stay as they were; the next edit sent asks again
  }
  if (mine !== countsAsked) return;
  for (const layer of layers) catalogue.counts[layer.name] = layer.feature_count || 0;
  if (!container) return;
  for (const node of container.querySelectorAll(".layer-item")) {
    node.querySelector(".count").textContent = formatNumber(catalogue.counts[node.dataset.layer]);
  }
}

// After the user's own edits (editor.js, table.js, trash.js) and edits the outbox sent later; a burst of them
// (a bulk edit) asks once.
const countsLater = () => { clearTimeout(countsTimer); countsTimer = setTimeout(refreshCounts, 300); };
document.addEventListener("mahalle:edited", countsLater);
document.addEventListener("mahalle:sent", countsLater);

function layerItem(layer) {
  const overlay = mapState.overlays[layer.name];
  const id = `layer-${layer.name}`;
  const items = legend(layer);
  const legendNode = items.length
    ? el("details", { class: "legend" },
      el("summary", { text: t("layers.legend", { attribute: attributeLabel(layer, layer.key_attribute) }) }),
      el("ul", {}, items.map((i) => el("li", {}, el("span", { class: "swatch", style: { background: i.color }, "aria-hidden": "true" }), i.label))))
    : null;
  return el("li", { class: "layer-item", dataset: { layer: layer.name } },
    el("div", { class: "layer-row" },
      el("input", { type: "checkbox", id, checked: overlay.visible, onchange: (e) => setVisible(layer.name, e.target.checked) }),
      el("label", { for: id }, el("span", { class: "swatch", style: { background: items[0] ? items[0].color : "#546e7a" }, "aria-hidden": "true" }),
        layerTitle(layer)),
      el("span", { class: "count", text: formatNumber(catalogue.counts[layer.name]) }),
      el("button", { type: "button", class: "btn btn-small", dataset: { table: layer.name },
        "aria-label": t("layers.table_of", { layer: layerTitle(layer) }), onclick: () => openTable(layer.name), text: t("layers.table") })),
    el("p", { class: "mode", id: `${id}-mode` }),
    legendNode);
}

function updateMode(name) {
  if (!container) return;
  const node = container.querySelector(`#layer-${name}-mode`);
  if (!node) return;
  const mode = layerMode(name);
  const tiles = tilesHeavy(name) ? t("layers.mode_tiles_heavy") : t("layers.mode_tiles");
  node.textContent = mode === "tiles" ? tiles : mode === "features"
    ? (truncated(name) ? t("layers.mode_truncated") : t("layers.mode_features")) : "";
}
