// The side panel that shows one feature, an intervention or a history.

import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";

let onClose = null;
/** `extras(body)`: more parts for a panel just opened (app.js adds a feature's photos); null for none. */
export const hooks = { extras: () => null };
const NARROW = window.matchMedia("(max-width: 900px)");  // the panels stack under the map (app.css)

// The map is narrower while the panel is open: Leaflet re-measures on the window's resize event.
const resized = () => requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));

export function openDetail(title, nodes, close = null) {
  const panel = $("#detail");
  const wasHidden = panel.hidden;
  const previousTitle = panel.querySelector("#detail-title") ? panel.querySelector("#detail-title").textContent : null;
  if (onClose && onClose !== close) { const previous = onClose; onClose = null; previous(); }
  onClose = close;
  clear(panel);
  panel.append(
    el("div", { class: "detail-head" },
      el("h2", { id: "detail-title", text: title }),
      el("button", { type: "button", class: "btn btn-icon", "aria-label": t("detail.close"), title: t("detail.close"),
        onclick: () => closeDetail(), text: "×" })),
    el("div", { class: "detail-body" }, nodes));
  const body = panel.querySelector(".detail-body");
  const extra = hooks.extras(body);
  if (extra) body.insertBefore(extra, body.querySelector(":scope > .system-info"));  // above the record's details (or last)
  panel.setAttribute("aria-labelledby", "detail-title");
  panel.hidden = false;
  document.body.classList.add("has-detail");
  resized();
  // On a phone the panel sits under the map: bring its head on screen (a new panel, not a re-render of the same).
  if (NARROW.matches && (wasHidden || previousTitle !== title)) requestAnimationFrame(() => panel.scrollIntoView({ block: "start" }));
  return panel;
}

export function closeDetail() {
  const panel = $("#detail");
  panel.hidden = true;
  document.body.classList.remove("has-detail");
  resized();
  clear(panel);
  if (onClose) { const f = onClose; onClose = null; f(); }
}

export const detailOpen = () => !$("#detail").hidden;
