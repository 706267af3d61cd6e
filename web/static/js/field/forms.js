// The field forms, in the bottom sheet: a new observation (category from the catalogue's observations layer,
// note, photos from the camera, the place from GPS or a tap) and a feature of the map (its attributes, and the
// ones field staff may change: the catalogue's `field_editable`, as far as the user's roles allow). Both only
// queue a change on the device (store.js); sync.js sends it. The browser checks nothing the server would not:
// the server decides, and its answer shows in the queue.

import { attribute, attributeLabel, displayValue, layerOf, layerTitle } from "../catalogue.js";
import { confirmDialog } from "../dialog.js";
import { $, clear, el, toast, uuid } from "../dom.js";
import { formatNumber, label, t } from "../i18n.js";
import { editableAttributes, me } from "../session.js";
import { cancelPick, pickPoint } from "./map.js";
import { db, getOverride, queueChange, queuePhoto } from "./store.js";
import { widget } from "../form.js";
import { formatBytes, gps, sha256Hex } from "./util.js";

export const settings = { maxAccuracy: 25, maxPhotoBytes: 15 * 1024 * 1024 };
export const hooks = { changed: () => {} };

const sheet = () => $("#sheet");

let placeListener = null;

export function closeSheet() {
  cancelPick();
  if (placeListener) { gps.listeners.delete(placeListener); placeListener = null; }
  const box = sheet();
  clear(box);
  box.hidden = true;
  $("#pick-hint").hidden = true;
  document.body.classList.remove("sheet-open");
}

export function openSheet(...children) {
  const box = sheet();
  clear(box);
  box.append(...children);
  box.hidden = false;
  document.body.classList.add("sheet-open");
  box.scrollTop = 0;
}

export const closeButton = () => el("button", { type: "button", class: "btn sheet-close", "aria-label": t("detail.close"),
  title: t("detail.close"), onclick: closeSheet, text: "×" });

// Photos ---------------------------------------------------------------------------------------------

/** A photo picker: the camera on a phone (capture="environment"), several at once; previews with a remove button. */
function photoPicker(list) {
  const previews = el("ul", { class: "photo-list" });
  const render = () => {
    clear(previews);
    for (const item of list) {
      previews.append(el("li", { class: "photo-item" },
        el("img", { src: item.url, alt: item.file.name, width: 72, height: 72 }),
        el("span", { class: "photo-size", text: formatBytes(item.file.size) }),
        el("button", { type: "button", class: "btn btn-small", text: t("field.photo_remove"),
          onclick: () => { URL.revokeObjectURL(item.url); list.splice(list.indexOf(item), 1); render(); } })));
    }
  };
  const input = el("input", { type: "file", id: "photo-input", accept: "image/*", capture: "environment", multiple: true,
    class: "visually-hidden", onchange: () => {
      for (const file of input.files) {
        if (file.size > settings.maxPhotoBytes) {
          toast(t("field.photo_too_big", { name: file.name, size: formatBytes(settings.maxPhotoBytes) }), "error");
          continue;
        }
        list.push({ file, url: URL.createObjectURL(file) });
      }
      input.value = "";
      render();
    } });
  return el("div", { class: "photos" },
    el("label", { class: "btn btn-big", for: "photo-input" }, t("field.add_photos")), input, previews);
}

async function keepPhotos(list, target) {
  for (const { file, url } of list) {
    URL.revokeObjectURL(url);
    const blob = new Blob([file], { type: file.type || "image/jpeg" });
    await queuePhoto({ uid: uuid(), blob, filename: file.name || "photo.jpg", media_type: blob.type, size: blob.size,
      sha256: await sha256Hex(blob), role: "photo", ...target });
  }
}

// A new observation ----------------------------------------------------------------------------------

/** Where a report is: the GPS fix (the default once there is one), a tap on the map, or (when `optional`) none.
 * Returns the controls, and `render` to call when the GPS moves. */
export function placeChooser(place, { optional = false } = {}) {
  const where = el("p", { class: "place", id: "place-text" });
  const render = () => {
    if (place.source === "gps") {
      where.textContent = gps.position
        ? t("field.place_gps", { accuracy: Math.round(gps.position.accuracy) }) : t("field.gps_waiting");
    } else if (place.source === "tap" && place.point) {
      where.textContent = t("field.place_tap", { lat: formatNumber(place.point.lat, { maximumFractionDigits: 5 }),
        lon: formatNumber(place.point.lon, { maximumFractionDigits: 5 }) });
    } else where.textContent = optional ? t("field.place_optional") : t("field.place_none");
  };
  const buttons = el("div", { class: "button-row" },
    el("button", { type: "button", class: "btn btn-big", id: "place-gps", text: t("field.use_gps"),
      onclick: () => { place.source = "gps"; place.point = null; render(); } }),
    el("button", { type: "button", class: "btn btn-big", id: "place-tap", text: t("field.tap_map"), onclick: async () => {
      const box = sheet();
      box.hidden = true;
      const hint = $("#pick-hint");
      clear(hint).append(el("span", { text: t("field.tap_hint") }), " ",
        el("button", { type: "button", class: "btn btn-small", text: t("dialog.cancel"), onclick: () => cancelPick() }));
      hint.hidden = false;
      const point = await pickPoint();
      hint.hidden = true;
      box.hidden = false;
      if (point) { place.source = "tap"; place.point = point; }
      render();
    } }),
    optional ? el("button", { type: "button", class: "btn btn-big", id: "place-none", text: t("field.no_place"),
      onclick: () => { place.source = null; place.point = null; render(); } }) : null);
  render();
  placeListener = render;
  gps.listeners.add(render);
  return { elements: [el("div", { class: "field-label" }, t("field.place")), where, buttons], render };
}

/** The point of `place`, asking to confirm a poor GPS fix: { point, accuracy } or { error }; { point: null } when
 * no place was chosen and none is needed. */
export async function placePoint(place, { optional = false } = {}) {
  if (place.source === "gps") {
    if (!gps.position) return { error: t("field.gps_waiting") };
    const accuracy = gps.position.accuracy;
    if (accuracy > settings.maxAccuracy) {
      const ok = await confirmDialog(t("field.accuracy_confirm", { accuracy: Math.round(accuracy), limit: settings.maxAccuracy }),
        t("field.place_anyway"));
      if (!ok) return { error: t("field.accuracy_refused") };
    }
    return { point: { lat: gps.position.lat, lon: gps.position.lon }, accuracy };
  }
  if (place.source === "tap" && place.point) return { point: place.point, accuracy: null };
  return optional ? { point: null, accuracy: null } : { error: t("field.place_needed") };
}

export const pointGeometry = (point) => ({ type: "Point", coordinates: [round(point.lon), round(point.lat)] });

export function openObservation() {
  const layer = layerOf("observations");
  if (!layer) { toast(t("field.no_catalogue"), "error"); return; }
  const category = attribute(layer, "category");
  const photos = [];
  const place = { source: gps.position ? "gps" : null, point: null };
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const select = el("select", { id: "obs-category", name: "category", required: true, class: "wide" },
    el("option", { value: "", text: t("field.choose") }),
    (category ? category.choices.filter((c) => !c.retired) : []).map((c) => el("option", { value: c.value, text: label(c.label) || c.value })));
  const note = el("textarea", { id: "obs-note", name: "note", rows: 3, class: "wide" });
  const form = el("form", { class: "sheet-form", id: "observation-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    const saved = await saveObservation(select.value, note.value, place, photos);
    if (saved.error) { error.textContent = saved.error; error.hidden = false; return; }
    if (saved.ok) closeSheet();
  } },
  el("div", { class: "sheet-head" }, el("h2", { text: t("field.new_observation") }), closeButton()),
  el("label", { class: "field-label", for: "obs-category" }, `${attributeLabel(layer, "category")} *`), select,
  el("label", { class: "field-label", for: "obs-note" }, attributeLabel(layer, "note")), note,
  ...placeChooser(place).elements,
  el("div", { class: "field-label" }, t("field.photos")), photoPicker(photos),
  error,
  el("div", { class: "button-row sheet-actions" },
    el("button", { type: "submit", class: "btn btn-primary btn-big", id: "obs-save", text: t("field.save_observation") }),
    el("button", { type: "button", class: "btn btn-big", text: t("dialog.cancel"), onclick: closeSheet })));
  openSheet(form);
}

async function saveObservation(category, note, place, photos) {
  if (!category) return { error: t("field.category_needed") };
  const { point, accuracy, error } = await placePoint(place);
  if (error) return { error };
  const uid = uuid();
  const properties = { category, captured_at: new Date().toISOString() };
  if (note.trim()) properties.note = note.trim();
  if (accuracy !== null && accuracy !== undefined) properties.accuracy_m = Math.round(accuracy * 10) / 10;
  if (me.user) properties.observer = me.user.full_name || me.user.name;
  const categoryLabel = label((attribute(layerOf("observations"), "category").choices.find((c) => c.value === category) || {}).label) || category;
  await queueChange({ uid, op: "create", layer: "observations", properties,
    geometry: pointGeometry(point), label: categoryLabel });
  await keepPhotos(photos, { change: uid, layer: "observations", feature_uid: uid });
  toast(t("field.queued"), "ok");
  hooks.changed();
  return { ok: true };
}

const round = (x) => Math.round(x * 1e7) / 1e7;

// A feature of the map -------------------------------------------------------------------------------

/** The attributes of `layer` field staff may change, as far as this user's roles allow. */
export function fieldEditable(layer) {
  const allowed = editableAttributes(layer.name);
  return (layer.field_editable || []).filter((name) => allowed === null || allowed.includes(name));
}

/** The feature as the device knows it now: the extract's copy, with what syncs told since (store.js overrides). */
export async function currentFeature(layerName, feature) {
  const override = await getOverride(layerName, feature.id);
  return override ? { ...feature, properties: { ...feature.properties, ...override } } : feature;
}

export async function openFeature(layerName, original) {
  const layer = layerOf(layerName);
  if (!layer) return;
  const feature = await currentFeature(layerName, original);
  const waiting = await db.changes.where("layer").equals(layerName)
    .filter((c) => c.op === "update" && c.id === feature.id && c.state === "waiting").first();
  const editable = fieldEditable(layer);
  const props = feature.properties || {};
  const titleText = (layer.label_attribute && props[layer.label_attribute]) || `${layerTitle(layer)} ${feature.id}`;
  const rows = layer.attributes.filter((a) => props[a.name] !== null && props[a.name] !== undefined && props[a.name] !== "" && !editable.includes(a.name))
    .map((a) => el("div", { class: "prop" }, el("dt", { text: attributeLabel(layer, a.name) }), el("dd", { text: displayValue(layer, a.name, props[a.name]) })));
  const inputs = {};
  const fields = editable.map((name) => {
    const attr = attribute(layer, name);
    const value = waiting && name in waiting.properties ? waiting.properties[name] : props[name];
    const input = widget(attr, value, `attr-${name}`);  // the main app's widgets (form.js)
    inputs[name] = input;
    return el("div", { class: "form-field" }, el("label", { class: "field-label", for: `attr-${name}` }, attributeLabel(layer, name)), input.node);
  });
  const photos = [];
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const canPhoto = me.open || editable.length > 0 || (me.can.create || []).includes(layerName) || (me.can.edit || []).includes(layerName);
  const form = el("form", { class: "sheet-form", id: "feature-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const changed = {};
    for (const [name, input] of Object.entries(inputs)) {
      const value = input.get();
      if (JSON.stringify(value ?? null) !== JSON.stringify(props[name] ?? null)) changed[name] = value;
    }
    if (!Object.keys(changed).length && !photos.length) { error.textContent = t("field.nothing_changed"); error.hidden = false; return; }
    if (Object.keys(changed).length || waiting) await queueUpdate(layer, feature, original, changed, waiting, titleText);
    await keepPhotos(photos, { change: null, layer: layerName, feature_id: feature.id });
    toast(t("field.queued"), "ok");
    hooks.changed();
    closeSheet();
  } },
  el("div", { class: "sheet-head" }, el("h2", {}, el("small", { class: "layer-name", text: layerTitle(layer) }), " ", el("span", { text: titleText })), closeButton()),
  waiting ? el("p", { class: "waiting-note", text: t("field.edit_waiting") }) : null,
  rows.length ? el("dl", { class: "props" }, rows) : null,
  fields.length ? el("h3", { text: t("field.you_may_change") }) : el("p", { class: "hint", text: t("field.read_only") }),
  fields,
  canPhoto ? [el("div", { class: "field-label" }, t("field.photos")), photoPicker(photos)] : null,
  error,
  fields.length || canPhoto ? el("div", { class: "button-row sheet-actions" },
    el("button", { type: "submit", class: "btn btn-primary btn-big", id: "feature-save", text: t("field.save_change") }),
    el("button", { type: "button", class: "btn btn-big", text: t("dialog.cancel"), onclick: closeSheet })) : null);
  openSheet(form);
}

/** Several features under the finger: which one? */
export function openChoice(found) {
  openSheet(el("div", { class: "sheet-form", id: "feature-choice" },
    el("div", { class: "sheet-head" }, el("h2", { text: t("field.which_feature") }), closeButton()),
    el("ul", { class: "choice-list" }, found.map(({ name, feature }) => {
      const layer = layerOf(name);
      const props = feature.properties || {};
      const title = (layer.label_attribute && props[layer.label_attribute]) || `${layerTitle(layer)} ${feature.id}`;
      return el("li", {}, el("button", { type: "button", class: "btn btn-big choice", dataset: { layer: name, id: feature.id },
        onclick: () => openFeature(name, feature) }, el("small", { class: "layer-name", text: layerTitle(layer) }), el("span", { text: title })));
    }))));
}

/** Queue an update: one waiting update per feature (a second edit joins the first, under a new id). */
async function queueUpdate(layer, feature, original, changed, waiting, titleText) {
  let properties = changed;
  if (waiting) {
    properties = { ...waiting.properties, ...changed };
    await db.changes.where("uid").equals(waiting.uid).delete();
  }
  const base = (feature.properties && feature.properties.version) || (original.properties && original.properties.version);
  const before = Object.fromEntries(Object.keys(properties).map((name) => [name, (feature.properties || {})[name] ?? null]));
  await queueChange({ uid: uuid(), op: "update", layer: layer.name, id: feature.id, base_version: base, properties,
    geometry: null, label: `${layerTitle(layer)}: ${titleText}`, before });
}


