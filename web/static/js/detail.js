// The side panel that shows one feature, an intervention or a history.

import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";

let onClose = null;

// The map is narrower while the panel is open: Leaflet re-measures on the window's resize event.
const resized = () => requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));

export function openDetail(title, nodes, close = null) {
  const panel = $("#detail");
  if (onClose && onClose !== close) { const previous = onClose; onClose = null; previous(); }
  onClose = close;
  clear(panel);
  panel.append(
    el("div", { class: "detail-head" },
      el("h2", { id: "detail-title", text: title }),
      el("button", { type: "button", class: "btn btn-icon", "aria-label": t("detail.close"), title: t("detail.close"),
        onclick: () => closeDetail(), text: "×" })),
    el("div", { class: "detail-body" }, nodes));
  panel.setAttribute("aria-labelledby", "detail-title");
  panel.hidden = false;
  document.body.classList.add("has-detail");
  resized();
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
