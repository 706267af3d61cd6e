// Editing features of any layer: draw (with snapping), reshape, delete, the attribute form, saving with
// If-Match, the conflict choice on 412, undo of the last edit, the history panel with restore, and
// edits kept in the outbox when the connection is down. Only the tools the user's roles allow are shown
// (session.js); the server decides every write.

import { ApiError, etagOf, request } from "./api.js";
import { attributeLabel, displayValue, drawShapes, fitGeometry, layerOf, layerTitle, spatialLayers } from "./catalogue.js";
import { closeDetail, openDetail } from "./detail.js";
import { confirmDialog, conflictDialog } from "./dialog.js";
import { append, clear, el, toast, uuid } from "./dom.js";
import { buildForm, changed } from "./form.js";
import { formatDateTime, t } from "./i18n.js";
import { highlight, isEditableNow, leafletLayerOf, mapState, reload } from "./mapview.js";
import * as outbox from "./outbox.js";
import { canCreate, canDelete, canEdit, canEditAny, canRestore, canWrite, editableAttributes, loginUrl, me } from "./session.js";

const SNAP = { snappable: true, snapDistance: 20, allowSelfIntersection: false };
const MERGE_PATCH = "application/merge-patch+json";
const undoStack = [];
let session = null;   // the feature being edited: {layer, id, feature, etag, leaflet, form, reshaped, draft}
let tools = null;
export const hooks = { openIntervention: null, afterSave: () => {} };

const itemUrl = (layer, id) => `/ogc/collections/${layer}/items/${id}`;

/** After every edit of the user's own: the layer panel's counts and an open attribute table follow it
 * (layers-panel.js, table.js listen). `feature`: the saved feature as the server answered, when there is one. */
export function edited(layer, kind, id = null, feature = null) {
  hooks.afterSave(layer);
  document.dispatchEvent(new CustomEvent("mahalle:edited", { detail: { layer, kind, id, feature } }));
}

function featureName(layer, feature) {
  const attr = layer.label_attribute;
  const text = attr && feature && feature.properties[attr];
  return text ? `${layerTitle(layer)}: ${text}` : feature && feature.id ? `${layerTitle(layer)} ${feature.id}` : layerTitle(layer);
}

// Tools in the sidebar ----------------------------------------------------------------------------

export function renderTools(container) {
  tools = container;
  clear(container);
  const editable = spatialLayers().filter((l) => l.name !== "interventions" && canCreate(l.name));
  if (!editable.length) {
    // Nothing this user may draw: say why instead of showing tools that would be refused.
    append(container, [el("h2", { text: t("edit.title") }),
      me.user ? el("p", { class: "hint", id: "edit-hint", text: t("auth.no_drawing") })
        : el("p", { class: "hint", id: "edit-hint" }, t("auth.login_to_edit"), " ", el("a", { href: loginUrl(), text: t("auth.login") })),
      canWrite() ? el("div", { class: "row" }, el("button", { type: "button", class: "btn", id: "undo", onclick: () => undoLast(),
        text: t("edit.undo"), disabled: undoStack.length === 0 })) : null]);
    return;
  }
  const saved = localStorage.getItem("mahalle.editLayer") || "streets";
  const select = el("select", { id: "edit-layer", onchange: () => { localStorage.setItem("mahalle.editLayer", select.value); drawButtons(); } },
    editable.map((l) => el("option", { value: l.name, text: layerTitle(l) })));
  if (saved && editable.some((l) => l.name === saved)) select.value = saved;
  const buttons = el("div", { class: "draw-buttons" });
  const hint = el("p", { class: "hint", id: "edit-hint" });
  const undo = el("button", { type: "button", class: "btn", id: "undo", onclick: () => undoLast(), text: t("edit.undo"),
    disabled: undoStack.length === 0 });
  function drawButtons() {
    clear(buttons);
    const layer = layerOf(select.value);
    for (const shape of drawShapes(layer)) {
      buttons.append(el("button", { type: "button", class: "btn btn-primary", dataset: { draw: shape },
        onclick: () => startDrawing(layer.name, shape), text: t(`edit.draw_${shape.toLowerCase()}`) }));
    }
    hint.textContent = isEditableNow(layer.name) ? "" : t("edit.zoom_in");
  }
  container.append(
    el("h2", { text: t("edit.title") }),
    el("label", { for: "edit-layer", text: t("edit.layer") }), select, buttons, hint,
    el("div", { class: "row" }, undo));
  drawButtons();
  mapState.map.on("zoomend", drawButtons);
}

function updateUndoButton() {
  const button = document.getElementById("undo");
  if (!button) return;
  button.disabled = undoStack.length === 0;
  const last = undoStack[undoStack.length - 1];
  button.title = last ? t("edit.undo_what", { what: last.label }) : "";
}

// Drawing -----------------------------------------------------------------------------------------

export function startDrawing(layerName, shape, onCreated = startNew) {
  const map = mapState.map;
  endSession();
  map.pm.disableDraw();
  map.once("pm:create", (e) => onCreated(layerName, e.layer));
  map.pm.enableDraw(shape, { ...SNAP, continueDrawing: false, markerStyle: { draggable: true } });
  toast(t("edit.drawing_hint"));
}

/** A newly drawn geometry: open the form with the catalogue's defaults. */
export function startNew(layerName, drawn, values = null, outboxEntry = null) {
  const layer = layerOf(layerName);
  const defaults = Object.fromEntries(layer.attributes.map((a) => [a.name, a.default ?? null]));
  const form = buildForm(layer, values || defaults);
  session = { layer, id: null, feature: null, leaflet: drawn, form, reshaped: true, draft: drawn, uid: (values && values.uid) || uuid(), outboxEntry };
  drawn.options.pmIgnore = false;
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", class: "btn btn-primary", id: "save", onclick: () => saveNew(), text: t("edit.save") }),
    el("button", { type: "button", class: "btn", onclick: () => toggleReshape(), text: t("edit.reshape") }),
    el("button", { type: "button", class: "btn", onclick: () => closeDetail(), text: t("edit.cancel") }));
  openDetail(t("edit.new", { layer: layerTitle(layer) }), [form.element, actions], endSession);
  if (outboxEntry) form.showError(outboxEntry.message || "", outboxEntry.property);
  const first = form.element.querySelector("input, select, textarea");
  if (first) first.focus();
}

async function saveNew() {
  const { layer, form, leaflet } = session;
  form.clearErrors();
  const properties = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
  properties.uid = session.uid;
  const geometry = fitGeometry(layer, leaflet.toGeoJSON().geometry);
  const write = { method: "POST", url: `/ogc/collections/${layer.name}/items`, body: { type: "Feature", geometry, properties },
    type: "application/geo+json", label: t("edit.new", { layer: layerTitle(layer) }), layer: layer.name, kind: "create" };
  try {
    const result = await outbox.send(write);
    if (session.outboxEntry) outbox.remove(session.outboxEntry.key);
    if (result.queued) { closeDetail(); toast(outbox.keptMessage(result), "info"); return; }
    const created = result.data;
    pushUndo({ kind: "create", layer: layer.name, id: created.id, version: created.properties.version,
      label: featureName(layer, created) });
    closeDetail();
    toast(t("edit.created", { what: featureName(layer, created) }), "ok");
    reload(layer.name);
    edited(layer.name, "create", created.id, created);
    openFeature(layer.name, created.id);
  } catch (error) {
    showSaveError(error);
  }
}

function showSaveError(error) {
  if (!(error instanceof ApiError)) throw error;
  const property = error.property && error.property !== "geometry" ? error.property : null;
  session.form.showError(error.message, property);
  toast(t("edit.not_saved"), "error");
}

// Existing features -------------------------------------------------------------------------------

/** Open a feature (fresh from the server) in the form. */
export async function openFeature(layerName, id) {
  if (layerName === "interventions" && hooks.openIntervention) return hooks.openIntervention(id);
  let result;
  try {
    result = await request("GET", itemUrl(layerName, id));
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  endSession();
  const layer = layerOf(layerName);
  const feature = result.data;
  // What the roles allow: every attribute and the shape, some attributes (field staff), or nothing.
  const some = editableAttributes(layerName);
  const readonly = some === null ? [] : layer.attributes.map((a) => a.name).filter((n) => !some.includes(n));
  const form = buildForm(layer, feature.properties, { readonly });
  session = { layer, id, feature, etag: result.etag, leaflet: leafletLayerOf(layerName, id), form, reshaped: false };
  mapState.overlays[layerName].lockedId = id;
  highlight([feature]);
  const reshapable = canEdit(layerName);
  const canReshape = reshapable && !!session.leaflet;
  const actions = el("div", { class: "actions" },
    canEditAny(layerName) ? el("button", { type: "button", class: "btn btn-primary", id: "save", onclick: () => saveExisting(), text: t("edit.save") }) : null,
    canReshape ? el("button", { type: "button", class: "btn", id: "reshape", onclick: () => toggleReshape(), text: t("edit.reshape") }) : null,
    el("button", { type: "button", class: "btn", id: "history", onclick: () => showHistory(layerName, id), text: t("edit.history") }),
    canDelete(layerName) ? el("button", { type: "button", class: "btn btn-danger", id: "delete", onclick: () => deleteFeature(), text: t("edit.delete") }) : null);
  const info = systemInfo(layer, feature);
  const note = reshapable && !canReshape ? el("p", { class: "hint", text: t("edit.zoom_to_reshape") }) : null;
  openDetail(featureName(layer, feature), [form.element, actions, note, info], endSession);
}

function systemInfo(layer, feature) {
  const p = feature.properties;
  const rows = [["id", feature.id], ["version", p.version], ["length_m", p.length_m], ["area_m2", p.area_m2],
    ["updated_at", p.updated_at], ["updated_by", p.updated_by]]
    .filter(([, v]) => v !== undefined && v !== null && v !== 0);
  return el("dl", { class: "system-info" },
    rows.map(([name, value]) => [el("dt", { text: attributeLabel(layer, name) }), el("dd", { text: name === "id" ? String(value) : displayValue(layer, name, value) })]));
}

function toggleReshape() {
  const target = session && session.leaflet;
  if (!target || !target.pm) return;
  if (target.pm.enabled()) { target.pm.disable(); return; }
  target.pm.enable(SNAP);
  target.on("pm:edit pm:dragend pm:markerdragend", () => { session.reshaped = true; });
  toast(t("edit.reshape_hint"));
}

/** Leave the current feature: stop reshaping, forget unsaved geometry changes. */
function endSession() {
  if (!session) return;
  const s = session;
  session = null;
  if (s.leaflet && s.leaflet.pm && s.leaflet.pm.enabled()) s.leaflet.pm.disable();
  if (s.draft) mapState.map.removeLayer(s.draft);
  if (s.id !== null && mapState.overlays[s.layer.name]) {
    mapState.overlays[s.layer.name].lockedId = null;
    if (s.reshaped) reload(s.layer.name);
  }
  highlight([]);
  mapState.map.pm.disableDraw();
}

async function saveExisting({ etag = null, properties = null } = {}) {
  const s = session;
  s.form.clearErrors();
  const mine = properties || changed(s.feature.properties, s.form.values());
  const body = { properties: mine };
  if (s.reshaped && s.leaflet) body.geometry = fitGeometry(s.layer, s.leaflet.toGeoJSON().geometry);
  if (!Object.keys(mine).length && !body.geometry) { toast(t("edit.nothing")); return; }
  const write = { method: "PATCH", url: itemUrl(s.layer.name, s.id), body, etag: etag || s.etag, type: MERGE_PATCH,
    label: featureName(s.layer, s.feature), layer: s.layer.name, fid: s.id, kind: "update" };
  try {
    const result = await outbox.send(write);
    if (s.outboxEntry) outbox.remove(s.outboxEntry.key);
    if (result.queued) { closeDetail(); toast(outbox.keptMessage(result), "info"); return; }
    const before = { properties: Object.fromEntries(Object.keys(mine).map((n) => [n, s.feature.properties[n] ?? null])) };
    if (body.geometry) before.geometry = s.feature.geometry;
    pushUndo({ kind: "update", layer: s.layer.name, id: s.id, before, version: result.data.properties.version,
      label: featureName(s.layer, s.feature) });
    s.reshaped = false;
    toast(t("edit.saved", { what: featureName(s.layer, result.data) }), "ok");
    closeDetail();
    reload(s.layer.name);
    edited(s.layer.name, "update", s.id, result.data);
    openFeature(s.layer.name, s.id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) return resolveConflict(s, mine, !!body.geometry);
    showSaveError(error);
  }
}

/** 412: someone saved meanwhile. Show both versions; never overwrite without the user's choice. */
async function resolveConflict(s, mine, reshaped) {
  let theirs;
  try {
    theirs = await request("GET", itemUrl(s.layer.name, s.id));
  } catch (error) {
    s.form.showError(error.status === 404 ? t("conflict.deleted") : error.message);
    return;
  }
  const choice = await conflictDialog(s.layer, s.feature, { properties: mine, geometry: reshaped }, theirs.data);
  if (session !== s) return;
  if (choice === "mine") {
    s.feature = theirs.data;   // the base is now their version; my changes go on top of it
    s.etag = theirs.etag;
    return saveExisting({ etag: theirs.etag, properties: mine });
  }
  if (choice === "theirs") {
    s.reshaped = reshaped;    // put their geometry back on the map too
    closeDetail();
    openFeature(s.layer.name, s.id);
    toast(t("conflict.took_theirs"));
  }
}

async function deleteFeature() {
  const s = session;
  if (!(await confirmDialog(t("edit.delete_confirm", { what: featureName(s.layer, s.feature) }), t("edit.delete"), true))) return;
  try {
    const result = await outbox.send({ method: "DELETE", url: itemUrl(s.layer.name, s.id), etag: s.etag,
      label: featureName(s.layer, s.feature), layer: s.layer.name, fid: s.id, kind: "delete" });
    closeDetail();
    if (result.queued) { toast(outbox.keptMessage(result)); return; }
    pushUndo({ kind: "delete", layer: s.layer.name, id: s.id, label: featureName(s.layer, s.feature) });
    toast(t("edit.deleted", { what: featureName(s.layer, s.feature) }), "ok");
    reload(s.layer.name);
    edited(s.layer.name, "delete", s.id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      toast(t("edit.delete_conflict"), "error");
      openFeature(s.layer.name, s.id);
      return;
    }
    s.form.showError(error.message);
  }
}

// Undo --------------------------------------------------------------------------------------------

function pushUndo(entry) {
  undoStack.push(entry);
  if (undoStack.length > 50) undoStack.shift();
  updateUndoButton();
}

export async function undoLast() {
  const last = undoStack.pop();
  updateUndoButton();
  if (!last) return;
  try {
    if (last.kind === "update") {
      await request("PATCH", itemUrl(last.layer, last.id), { body: last.before, etag: etagOf(last.version), type: MERGE_PATCH });
    } else if (last.kind === "create") {
      await request("DELETE", itemUrl(last.layer, last.id), { etag: etagOf(last.version) });
    } else if (last.kind === "delete") {
      await request("POST", `/api/history/${last.layer}/${last.id}/restore`);
    }
    closeDetail();
    toast(t("edit.undone", { what: last.label }), "ok");
    reload(last.layer);
    edited(last.layer, last.kind === "create" ? "delete" : last.kind === "delete" ? "restore" : "update", last.id);
    if (last.kind !== "create") openFeature(last.layer, last.id);
  } catch (error) {
    // Someone changed it after this edit: undoing would overwrite them. Show the history instead.
    toast(error.status === 412 ? t("edit.undo_conflict") : error.message, "error");
    if (error.status === 412) showHistory(last.layer, last.id);
  }
}

// History -----------------------------------------------------------------------------------------

const SYSTEM = new Set(["id", "version", "updated_at", "updated_by", "created_at", "created_by", "length_m", "area_m2", "uid"]);

function changes(layer, before, after) {
  const names = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].filter((n) => !SYSTEM.has(n));
  return names.filter((n) => JSON.stringify((before || {})[n] ?? null) !== JSON.stringify((after || {})[n] ?? null))
    .map((n) => n === "geom"
      ? el("li", { text: t("history.geometry") })
      : el("li", {}, el("span", { class: "attr", text: attributeLabel(layer, n) }), ": ",
        el("del", { text: displayValue(layer, n, (before || {})[n]) || "—" }), " → ",
        el("ins", { text: displayValue(layer, n, (after || {})[n]) || "—" })));
}

export async function showHistory(layerName, id) {
  const layer = layerOf(layerName);
  let entries;
  try {
    entries = (await request("GET", `/api/history/${layerName}/${id}`)).data;
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  const current = entries[entries.length - 1];
  const list = el("ol", { class: "history", reversed: true }, [...entries].reverse().map((h) => {
    const restorable = canRestore() && h.after && (h !== current || current.operation === "DELETE");
    return el("li", { class: "history-entry" },
      el("p", { class: "history-head" },
        el("strong", { text: t(`history.${h.operation.toLowerCase()}`, { version: h.version }) }), " · ",
        el("span", { text: h.actor || "" }), " · ", el("time", { datetime: h.at, text: formatDateTime(h.at) })),
      h.cause ? el("p", { class: "muted", text: h.cause }) : null,
      el("ul", { class: "changes" }, changes(layer, h.before, h.after)),
      restorable && h.version !== current.version ? el("button", { type: "button", class: "btn btn-small",
        onclick: () => restore(layerName, id, h.version), text: t("history.restore", { version: h.version }) }) : null);
  }));
  const deleted = current.operation === "DELETE";
  const back = deleted ? null : el("button", { type: "button", class: "btn", onclick: () => openFeature(layerName, id), text: t("history.back") });
  const title = t("history.title", { what: `${layerTitle(layer)} ${id}` });
  openDetail(title, [deleted ? el("p", { class: "hint", text: t("history.deleted") }) : null, list, back], null);
  if (deleted && current.before && canRestore()) {
    list.prepend(el("li", {}, el("button", { type: "button", class: "btn btn-primary", onclick: () => restore(layerName, id, null),
      text: t("history.undelete") })));
  }
}

async function restore(layerName, id, version) {
  try {
    const suffix = version ? `?version=${version}` : "";
    await request("POST", `/api/history/${layerName}/${id}/restore${suffix}`);
    toast(t("history.restored"), "ok");
    reload(layerName);
    edited(layerName, "restore", id);
    openFeature(layerName, id);
  } catch (error) {
    toast(error.message, "error");
  }
}

// Edits that were refused when re-sent from the outbox: open them again in the form.
outbox.onOpen(async (entry) => {
  if (entry.kind === "create") {
    const drawn = L.geoJSON(entry.body.geometry, { pointToLayer: (_, ll) => L.circleMarker(ll, { radius: 7 }) }).getLayers()[0];
    drawn.addTo(mapState.map);
    mapState.map.fitBounds(L.featureGroup([drawn]).getBounds(), { maxZoom: 18 });
    startNew(entry.layer, drawn, entry.body.properties, entry);
  } else if (entry.fid) {
    await openFeature(entry.layer, entry.fid);
    if (session && session.id === entry.fid) {
      session.form.set(entry.body.properties || {});
      session.outboxEntry = entry;
      session.form.showError(entry.message, entry.property);
    }
  }
});

document.addEventListener("mahalle:sent", (e) => { const { entry } = e.detail; if (entry.layer) reload(entry.layer); });
document.addEventListener("keydown", (e) => {
  const typing = /INPUT|SELECT|TEXTAREA/.test(document.activeElement && document.activeElement.tagName);
  if ((e.ctrlKey || e.metaKey) && e.key === "z" && !typing) { e.preventDefault(); undoLast(); }
  if (e.key === "Escape" && session && !document.getElementById("dialog").open) closeDetail();
});

export const currentSession = () => session;
