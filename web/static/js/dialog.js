// Modal dialogs on the page's <dialog>: confirmations and the edit-conflict choice.

import { attributeLabel, displayValue } from "./catalogue.js";
import { $, clear, el } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";

function open(content, { labelledBy } = {}) {
  const dialog = $("#dialog");
  clear(dialog);
  dialog.append(content);
  if (labelledBy) dialog.setAttribute("aria-labelledby", labelledBy);
  if (!dialog.open) dialog.showModal();
  return dialog;
}

/** Resolves with the value of the button pressed (Escape resolves with `cancelValue`). */
function choose(title, body, buttons, cancelValue) {
  return new Promise((resolve) => {
    const dialog = $("#dialog");
    const done = (value) => { dialog.removeEventListener("cancel", onCancel); dialog.close(); resolve(value); };
    const onCancel = (e) => { e.preventDefault(); done(cancelValue); };
    dialog.addEventListener("cancel", onCancel);
    const row = el("div", { class: "dialog-buttons" },
      buttons.map((b) => el("button", { type: "button", class: `btn ${b.class || ""}`, dataset: { choice: b.value },
        onclick: () => done(b.value), text: b.label })));
    open(el("div", { class: "dialog-body" }, el("h2", { id: "dialog-title", text: title }), body, row), { labelledBy: "dialog-title" });
    row.querySelector("button").focus();
  });
}

export function confirmDialog(message, okLabel = t("dialog.ok"), danger = false) {
  return choose(message, null, [
    { value: "ok", label: okLabel, class: danger ? "btn-danger" : "btn-primary" },
    { value: "cancel", label: t("dialog.cancel") },
  ], "cancel").then((v) => v === "ok");
}

export function messageDialog(title, message) {
  return choose(title, el("p", { text: message }), [{ value: "ok", label: t("dialog.ok"), class: "btn-primary" }], "ok");
}

/**
 * Someone else saved the feature after this user opened it. Show both versions side by side and let
 * the user choose: "mine" (save again over the new version), "theirs" (drop my changes), "later".
 * `mine` holds the properties the user changed (and geometry: true when they reshaped it).
 */
export function conflictDialog(layer, original, mine, theirs) {
  const names = [...new Set([...Object.keys(mine.properties), ...layer.attributes.map((a) => a.name)
    .filter((n) => JSON.stringify(theirs.properties[n] ?? null) !== JSON.stringify(original.properties[n] ?? null))])];
  const rows = names.map((name) => {
    const yours = name in mine.properties ? mine.properties[name] : original.properties[name];
    const theirsValue = theirs.properties[name];
    const differs = JSON.stringify(yours ?? null) !== JSON.stringify(theirsValue ?? null);
    return el("tr", { class: differs ? "differs" : "" },
      el("th", { scope: "row", text: attributeLabel(layer, name) }),
      el("td", { text: displayValue(layer, name, yours) || "—" }),
      el("td", { text: displayValue(layer, name, theirsValue) || "—" }));
  });
  const theirGeometryMoved = JSON.stringify(theirs.geometry) !== JSON.stringify(original.geometry);
  if (mine.geometry || theirGeometryMoved) {
    rows.push(el("tr", { class: "differs" }, el("th", { scope: "row", text: t("conflict.geometry") }),
      el("td", { text: mine.geometry ? t("conflict.reshaped") : t("conflict.unchanged") }),
      el("td", { text: theirGeometryMoved ? t("conflict.reshaped") : t("conflict.unchanged") })));
  }
  const who = t("conflict.who", { who: theirs.properties.updated_by || "?", when: formatDateTime(theirs.properties.updated_at),
    version: theirs.properties.version });
  const body = el("div", { class: "conflict" },
    el("p", { text: t("conflict.explain") }),
    el("p", { class: "muted", text: who }),
    el("table", { class: "conflict-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("conflict.attribute") }),
        el("th", { scope: "col", text: t("conflict.yours") }), el("th", { scope: "col", text: t("conflict.theirs") }))),
      el("tbody", {}, rows)));
  return choose(t("conflict.title"), body, [
    { value: "mine", label: t("conflict.keep_mine"), class: "btn-primary" },
    { value: "theirs", label: t("conflict.take_theirs") },
    { value: "later", label: t("conflict.later") },
  ], "later");
}

/** A photo at full size (photos.js): its title, the image, what is known of it, the original file and, in a
 * series, the previous and next photo. Escape or *Close* closes it. */
export function photoDialog({ title, src, alt, meta, original, previous = null, next = null }) {
  const dialog = $("#dialog");
  const close = () => dialog.close();
  const body = el("div", { class: "dialog-body photo-view" },
    el("div", { class: "photo-view-head" },
      el("h2", { id: "dialog-title", text: title }),
      el("button", { type: "button", class: "btn btn-icon", id: "photo-close", "aria-label": t("detail.close"), title: t("detail.close"),
        onclick: close, text: "×" })),
    el("img", { class: "photo-full", src, alt }),
    meta ? el("p", { class: "muted", text: meta }) : null,
    el("div", { class: "dialog-buttons" },
      previous ? el("button", { type: "button", class: "btn", id: "photo-previous", onclick: previous, text: t("photos.previous") }) : null,
      next ? el("button", { type: "button", class: "btn", id: "photo-next", onclick: next, text: t("photos.next") }) : null,
      el("a", { class: "btn", href: original, target: "_blank", rel: "noopener", id: "photo-original", text: t("photos.open_original") })));
  open(body, { labelledBy: "dialog-title" });
  $("#photo-close").focus();
  return dialog;
}
