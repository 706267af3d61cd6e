// The deleted features (GET /api/history/deleted): who deleted what and when, newest first, as the user may read
// them, with a Restore button where the user may edit the feature (the server decides again when it is pressed).
// Restoring brings the feature back on the map, in the counts and in an open table (the "mahalle:edited" event).

import { request, withQuery } from "./api.js";
import { layerOf, layerTitle, spatialLayers } from "./catalogue.js";
import { openDetail } from "./detail.js";
import { $, clear, el, toast } from "./dom.js";
import { edited } from "./editor.js";
import { formatDateTime, formatNumber, t } from "./i18n.js";
import { reload } from "./mapview.js";
import { errorNode } from "./session.js";

const LIMIT = 100;
/** A feature id in the digits the user chose ("#۲۳۰۵" in Persian). */
const idText = (id) => `#${formatNumber(id, { useGrouping: false })}`;
const filters = { layer: "", here: false };

const chosenNeighbourhood = () => {
  const option = $("#neighbourhood") && $("#neighbourhood").selectedOptions[0];
  return option && option.value ? { code: option.value, name: option.textContent.trim() } : null;
};

/** The list in the side panel. */
export function openTrash() {
  const list = el("ul", { class: "trash-list", id: "trash-list", "aria-live": "polite" });
  const layerSelect = el("select", { id: "trash-layer", onchange: () => { filters.layer = layerSelect.value; load(list); } },
    el("option", { value: "", text: t("trash.all_layers") }),
    spatialLayers().map((l) => el("option", { value: l.name, text: layerTitle(l), selected: l.name === filters.layer })));
  const hood = chosenNeighbourhood();
  const here = hood ? el("label", { class: "check" },
    el("input", { type: "checkbox", id: "trash-here", checked: filters.here,
      onchange: (e) => { filters.here = e.target.checked; load(list); } }),
    " ", t("trash.only_neighbourhood", { neighbourhood: hood.name })) : null;
  const controls = el("div", { class: "trash-controls" },
    el("label", { for: "trash-layer", text: t("trash.layer") }), layerSelect, here);
  openDetail(t("trash.title"), [controls, list], null);
  load(list);
}

let asked = 0;

async function load(list) {
  const mine = ++asked;
  const hood = filters.here ? chosenNeighbourhood() : null;
  const url = withQuery("/api/history/deleted", { layer: filters.layer, neighbourhood: hood && hood.code, limit: LIMIT });
  let rows;
  try {
    rows = (await request("GET", url)).data;
  } catch (error) {
    if (mine === asked) clear(list).append(el("li", {}, errorNode(error)));
    return;
  }
  if (mine !== asked) return;
  const shown = rows.filter((r) => layerOf(r.layer) && layerOf(r.layer).geometry_type);  // what the map can show again
  clear(list).append(...(shown.length ? shown.map((r) => row(r, list)) : [el("li", { class: "muted", text: t("trash.none") })]));
}

function what(r) {
  const layer = layerOf(r.layer);
  return r.label ? `${layerTitle(layer)}: ${r.label}` : `${layerTitle(layer)} ${idText(r.id)}`;
}

function row(r, list) {
  const restore = r.restorable
    ? el("button", { type: "button", class: "btn btn-small", dataset: { restore: `${r.layer}/${r.id}` },
      "aria-label": t("trash.restore_of", { what: what(r) }), onclick: (e) => restoreRow(r, e.target, list), text: t("trash.restore") })
    : el("span", { class: "hint", text: t("trash.not_yours") });
  return el("li", { class: "trash-row", dataset: { layer: r.layer, id: r.id } },
    el("div", { class: "trash-what" },
      el("strong", { dir: "auto", text: what(r) }),
      r.label ? el("span", { class: "muted", text: ` ${idText(r.id)}` }) : null),
    el("p", { class: "trash-who" },
      el("span", { dir: "auto", text: t("trash.deleted_by", { who: r.deleted_by, when: formatDateTime(r.deleted_at) }) }),
      r.neighbourhood ? el("span", { class: "muted", dir: "auto", text: ` · ${r.neighbourhood.name}` }) : null),
    restore);
}

async function restoreRow(r, button, list) {
  button.disabled = true;
  try {
    await request("POST", `/api/history/${encodeURIComponent(r.layer)}/${r.id}/restore`);
  } catch (error) {
    button.disabled = false;
    toast(error.message, "error");
    return;
  }
  toast(t("trash.restored", { what: what(r) }), "ok");
  reload(r.layer);
  edited(r.layer, "restore", r.id);
  load(list);
}
