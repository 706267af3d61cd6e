// The "Waiting" tab (the queue on the device: what waits, what the server refused and why, and conflicts with
// both versions property by property) and the "My reports" tab (GET /field/mine: what became of the user's
// observations, and their changes a planner has to decide on).

import { get } from "../api.js";
import { attribute, attributeLabel, displayValue, layerOf } from "../catalogue.js";
import { confirmDialog } from "../dialog.js";
import { $, append, clear, el } from "../dom.js";
import { formatDateTime, label, t } from "../i18n.js";
import { problemText } from "../rules.js";
import { db, discardChange, discardPhoto, getValue, setValue } from "./store.js";
import { formatBytes } from "./util.js";

export const hooks = { sync: () => {}, changed: () => {} };

const valueText = (layerName, name, value) => {
  const layer = layerOf(layerName);
  if (value === null || value === undefined || value === "") return "—";
  return layer ? displayValue(layer, name, value) : String(value);
};

function stateChip(state) {
  return el("span", { class: `chip chip-${state}`, text: t(`field.state_${state}`) });
}

function changeTitle(change) {
  const created = change.layer === "visits" ? t("field.kind_visit") : t("field.kind_observation");
  const what = change.op === "create" ? created : change.op === "update" ? t("field.kind_update") : t("field.kind_delete");
  return el("div", { class: "card-head" }, el("strong", { text: change.label || change.layer }), " ", el("span", { class: "muted", text: what }));
}

/** Both versions of a conflicting change: this device's and the server's, property by property. */
function conflictTable(change) {
  const server = (change.server && change.server.properties) || {};
  const names = Object.keys(change.properties || {});
  return el("table", { class: "versions" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("field.property") }),
      el("th", { scope: "col", text: t("field.on_device") }), el("th", { scope: "col", text: t("field.on_server") }))),
    el("tbody", {}, names.map((name) => {
      const layer = layerOf(change.layer);
      const differs = JSON.stringify(server[name] ?? null) !== JSON.stringify(change.properties[name] ?? null);
      return el("tr", { class: differs ? "differs" : "" },
        el("th", { scope: "row", text: layer ? attributeLabel(layer, name) : name }),
        el("td", { class: "device-value", text: valueText(change.layer, name, change.properties[name]) }),
        el("td", { class: "server-value", text: change.server ? valueText(change.layer, name, server[name]) : t("field.deleted_on_server") }));
    })));
}

function photoLine(photo) {
  const progress = photo.received ? ` · ${t("field.photo_progress", { sent: formatBytes(photo.received), size: formatBytes(photo.size) })}` : "";
  return el("li", { class: `photo-line photo-${photo.state}` },
    el("span", { text: `${photo.filename} (${formatBytes(photo.size)})${progress}` }),
    photo.state === "rejected" ? [" ", el("span", { class: "form-error", text: photo.message || "" }), " ",
      el("button", { type: "button", class: "btn btn-small", text: t("field.discard"), onclick: async () => {
        if (await confirmDialog(t("field.discard_photo_confirm"), t("field.discard"), true)) { await discardPhoto(photo.uid); hooks.changed(); }
      } })] : null);
}

export function renderQueue(box, { changes, photos }, status) {
  clear(box);
  const waiting = changes.filter((c) => c.state === "waiting").length;
  const photosWaiting = photos.filter((p) => p.state === "waiting").length;
  append(box, [el("h2", { id: "queue-title", text: t("field.queue_title") }),
    el("p", { class: "queue-summary", id: "queue-summary" },
      t("field.waiting", { n: waiting }), photosWaiting ? ` · ${t("field.photos_waiting", { n: photosWaiting })}` : ""),
    el("div", { class: "button-row" },
      el("button", { type: "button", class: "btn btn-primary btn-big", id: "sync-now", disabled: status.running,
        text: status.running ? t("field.syncing") : t("field.sync_now"), onclick: () => hooks.sync() })),
    status.lastSync ? el("p", { class: "muted", text: t("field.last_sync", { when: formatDateTime(status.lastSync) }) }) : null,
    status.error ? el("p", { class: "form-error", role: "alert", text: status.error }) : null]);
  if (!changes.length && !photos.length) {
    box.append(el("p", { class: "empty", text: t("field.queue_empty") }));
    return;
  }
  const list = el("ul", { class: "cards", id: "queue-list" });
  for (const change of changes) {
    const own = photos.filter((p) => p.change === change.uid);
    const card = el("li", { class: `card card-${change.state}`, dataset: { uid: change.uid, state: change.state } },
      changeTitle(change), stateChip(change.state),
      el("p", { class: "muted", text: formatDateTime(change.created_at) }));
    if (change.op === "create" && change.properties.note) card.append(el("p", { class: "note", text: change.properties.note }));
    if (change.op === "update" && change.state !== "conflict") {
      card.append(el("ul", { class: "changed" }, Object.entries(change.properties).map(([name, value]) => {
        const layer = layerOf(change.layer);
        return el("li", {}, `${layer ? attributeLabel(layer, name) : name}: `, el("strong", { text: valueText(change.layer, name, value) }));
      })));
    }
    if (change.state === "conflict") {
      card.append(el("p", { class: "conflict-note", text: t("field.conflict_note") }), conflictTable(change),
        el("div", { class: "button-row" }, el("button", { type: "button", class: "btn", text: t("field.hide"), onclick: async () => {
          await discardChange(change.uid); hooks.changed();
        } })));
    }
    if (change.state === "rejected") {
      card.append(el("p", { class: "form-error", role: "alert" }, t("field.rejected_message"), " ", el("span", { text: problemText({ ...change, detail: change.message }) })));
    }
    if (own.length) card.append(el("ul", { class: "photo-lines" }, own.map(photoLine)));
    if (change.state !== "conflict") {
      card.append(el("div", { class: "button-row" }, el("button", { type: "button", class: "btn btn-danger", text: t("field.discard"),
        onclick: async () => {
          if (await confirmDialog(t("field.discard_confirm"), t("field.discard"), true)) { await discardChange(change.uid); hooks.changed(); }
        } })));
    }
    list.append(card);
  }
  const loose = photos.filter((p) => !p.change || !changes.some((c) => c.uid === p.change));
  if (loose.length) {
    list.append(el("li", { class: "card" }, el("div", { class: "card-head" }, el("strong", { text: t("field.photos") })),
      el("ul", { class: "photo-lines" }, loose.map(photoLine))));
  }
  box.append(list);
}

// My reports -----------------------------------------------------------------------------------------

const REVIEW_LABEL = (value) => {
  const layer = layerOf("observations");
  const attr = layer && attribute(layer, "review_status");
  const choice = attr && attr.choices.find((c) => c.value === value);
  return choice ? label(choice.label) : value;
};

export async function renderMine(box) {
  clear(box);
  box.append(el("h2", { id: "mine-title", text: t("field.tab_mine") }));
  const status = el("p", { class: "muted", text: t("field.loading") });
  box.append(status);
  let data;
  let offline = false;
  try {
    data = await get("/field/mine");
    await setValue("mine", { data, at: new Date().toISOString() });
  } catch (error) {
    const kept = await getValue("mine");
    if (!kept || (!error.offline && error.status !== 401)) {
      status.textContent = error.offline ? t("field.mine_offline_never") : error.message;
      return;
    }
    data = kept.data;
    offline = kept.at;
  }
  status.textContent = offline ? t("field.mine_offline", { when: formatDateTime(offline) }) : "";
  const observations = data.observations || [];
  if (!observations.length) box.append(el("p", { class: "empty", text: t("field.mine_empty") }));
  const categoryOf = (value) => {
    const layer = layerOf("observations");
    const attr = layer && attribute(layer, "category");
    const choice = attr && attr.choices.find((c) => c.value === value);
    return choice ? label(choice.label) : value;
  };
  box.append(el("ul", { class: "cards", id: "mine-list" }, observations.map((o) => el("li", { class: `card card-${o.review_status}`, dataset: { uid: o.uid } },
    el("div", { class: "card-head" }, el("strong", { text: categoryOf(o.category) }), " ",
      el("span", { class: `chip chip-${o.review_status}`, text: REVIEW_LABEL(o.review_status) })),
    el("p", { class: "muted", text: formatDateTime(o.captured_at) }),
    o.note ? el("p", { class: "note", text: o.note }) : null,
    o.review_status === "rejected" && o.review_note ? el("p", { class: "review-note" }, t("field.reason"), " ", el("span", { text: o.review_note })) : null,
    o.became_kind ? el("p", { class: "review-note", text: t(`field.became_${o.became_kind}`, { id: o.became_id ?? "" }) }) : null,
    o.review_status !== "rejected" && o.review_note ? el("p", { class: "review-note", text: o.review_note }) : null))));
  const changes = data.changes || data.conflicts || [];
  if (changes.length) {
    box.append(el("h3", { text: t("field.my_changes") }), el("ul", { class: "cards", id: "mine-changes" }, changes.map((c) => el("li", { class: `card card-${c.state}` },
      el("div", { class: "card-head" }, el("strong", { text: `${layerOf(c.layer) ? label(layerOf(c.layer).title) : c.layer} ${c.feature_id || ""}` }), " ",
        el("span", { class: `chip chip-${c.state}`, text: t(`field.change_${c.state}`) })),
      el("p", { class: "muted", text: formatDateTime(c.created_at) }),
      c.message ? el("p", { class: "note", text: c.message }) : null))));
  }
}

export const queueBox = () => $("#view-queue");
