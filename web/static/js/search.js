// The search box of the top bar: features found by name, code, address or id as the user types (GET /search,
// which answers only what the user may read), listed in an ARIA combobox: arrow keys move, Enter opens, Escape
// closes. A hit zooms the map to the feature and opens it in the editor's form.

import { get, withQuery } from "./api.js";
import { attributeLabel, layerOf, layerTitle } from "./catalogue.js";
import { $, clear, el } from "./dom.js";
import * as editor from "./editor.js";
import { formatNumber, t } from "./i18n.js";
import { mapState } from "./mapview.js";

const DEBOUNCE_MS = 250;
const LIMIT = 20;
/** `beforeOpen()`: app.js shows the map view and folds the phone's menu away before a hit opens. */
export const hooks = { beforeOpen: () => {} };

let input = null;
let list = null;
let status = null;
let hits = [];
let active = -1;
let timer = null;
let asked = 0;  // the latest request: an older answer arriving late is dropped

export function initSearch(root) {
  input = $("#search-input", root);
  list = $("#search-results", root);
  status = $("#search-status", root);
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, DEBOUNCE_MS); });
  input.addEventListener("keydown", onKey);
  input.addEventListener("focus", () => { if (hits.length) show(true); });
  // A click on a hit lands before the blur closes the list (mousedown keeps the focus in the box).
  input.addEventListener("blur", () => setTimeout(() => show(false), 150));
  list.addEventListener("mousedown", (e) => e.preventDefault());
}

/** A feature id in the digits the user chose ("#۲۳۰۵" in Persian). */
const idText = (id) => `#${formatNumber(id, { useGrouping: false })}`;

const searchable = (text) => text.length >= 2 || /^\d+$/.test(text);

async function run() {
  const text = input.value.trim();
  const mine = ++asked;
  if (!searchable(text)) { hits = []; render(); return; }
  let found;
  try {
    found = await get(withQuery("/search", { q: text, limit: LIMIT }));
  } catch (error) {
    if (mine !== asked) return;
    hits = [];
    render(t("search.failed", { message: error.message }));
    return;
  }
  if (mine !== asked) return;
  hits = found.filter((h) => layerOf(h.layer));  // a layer this page does not know (made since it loaded): skipped
  render(hits.length ? "" : t("search.none", { q: text }));
}

function render(message = "") {
  active = -1;
  input.removeAttribute("aria-activedescendant");
  clear(list).append(...hits.map(option));
  status.textContent = message;
  status.hidden = !message;
  show(hits.length > 0);
}

function option(hit, i) {
  const layer = layerOf(hit.layer);
  const title = hit.label || `${layerTitle(layer)} ${idText(hit.id)}`;
  const m = hit.matched;
  const shownAlready = m.attribute === "id" || m.text === hit.label;
  const meta = [shownAlready ? null : t("search.matched", { attribute: attributeLabel(layer, m.attribute), text: m.text }),
    hit.neighbourhood ? hit.neighbourhood.name : null].filter(Boolean).join(" · ");
  return el("li", { role: "option", id: `search-hit-${i}`, class: "search-hit", "aria-selected": "false",
    dataset: { layer: hit.layer, id: hit.id }, onclick: () => pick(i) },
  el("span", { class: "hit-title", dir: "auto", text: title }),
  el("span", { class: "hit-layer", text: hit.label ? `${layerTitle(layer)} ${idText(hit.id)}` : layerTitle(layer) }),
  meta ? el("span", { class: "hit-meta", dir: "auto", text: meta }) : null);
}

function show(open) {
  const on = open && hits.length > 0;
  list.hidden = !on;
  input.setAttribute("aria-expanded", String(on));
}

function move(to) {
  if (!hits.length) return;
  show(true);
  active = (to + hits.length) % hits.length;
  for (const [i, node] of [...list.children].entries()) node.setAttribute("aria-selected", String(i === active));
  const node = list.children[active];
  input.setAttribute("aria-activedescendant", node.id);
  node.scrollIntoView({ block: "nearest" });
}

function onKey(e) {
  const open = !list.hidden;
  if (e.key === "ArrowDown") { e.preventDefault(); move(open ? active + 1 : 0); }
  else if (e.key === "ArrowUp") { e.preventDefault(); move(open ? active - 1 : hits.length - 1); }
  else if (e.key === "Enter") {
    if (open && hits.length) { e.preventDefault(); pick(active >= 0 ? active : 0); }
  } else if (e.key === "Escape") {
    // First Escape closes the list (and not the phone's menu around it); a second one empties the box.
    if (open) { e.stopPropagation(); show(false); } else if (input.value) { e.stopPropagation(); input.value = ""; hits = []; render(); }
  }
}

async function pick(i) {
  const hit = hits[i];
  if (!hit) return;
  show(false);
  input.removeAttribute("aria-activedescendant");
  hooks.beforeOpen();
  await new Promise((resolve) => setTimeout(resolve, 50));  // the map view shown (hashchange) before it is measured
  zoomTo(hit);
  await editor.openFeature(hit.layer, hit.id);
}

function zoomTo(hit) {
  const map = mapState.map;
  map.invalidateSize();
  if (hit.point) {
    map.setView([hit.point[1], hit.point[0]], Math.max(map.getZoom(), 18), { animate: false });
  } else if (hit.bbox) {
    const [w, s, e, n] = hit.bbox;
    map.fitBounds([[s, w], [n, e]], { maxZoom: 18, padding: [30, 30], animate: false });
  }
}
