// Field mode (/field): a phone-first page that works with no connection after one visit. The service worker
// (/sw.js, built by scripts/build-sw.mjs) keeps every file of the page; this module keeps the data in IndexedDB
// (store.js): the chosen neighbourhood's layers (GET /field/extract, its size shown before the download), the
// layer catalogue, and the queue of observations, edits and photos, sent by sync.js when there is a connection.
// Who is using it comes from /auth/me (session.js: kept for offline use); a visitor who is not logged in gets a
// login link that comes back here.

import { get } from "../api.js";
import { catalogue } from "../catalogue.js";
import { confirmDialog } from "../dialog.js";
import { $, $$, clear, el, toast } from "../dom.js";
import { formatDateTime, formatNumber, language, setLanguage, storedLanguage, t } from "../i18n.js";
import { loadSession, loginUrl, logout, me, rolesText } from "../session.js";
import * as forms from "./forms.js";
import * as lists from "./lists.js";
import { centreOn, drawExtract, drawQueued, fitPending, hooks as mapHooks, inNeighbourhood, initMap, showPosition, translateMap, view } from "./map.js";
import { clearAll, clearOverrides, db, getValue, liveQuery, persist, setValue, snapshot } from "./store.js";
import * as sync from "./sync.js";
import { openVisit } from "./visit.js";
import { formatBytes, gps } from "./util.js";

const TABS = ["map", "queue", "mine", "device"];
const status = { running: false, error: null, lastSync: null };
let queue = { changes: [], photos: [] };
let areas = [];

// Tabs, badge, connection -----------------------------------------------------------------------------

function showTab() {
  const tab = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "map";
  for (const name of TABS) $(`#view-${name}`).hidden = name !== tab;
  for (const link of $$("#tabs a")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (tab !== "map") forms.closeSheet();
  if (tab === "map") setTimeout(fitPending, 0);
  if (tab === "queue") lists.renderQueue($("#view-queue"), queue, statusForList());
  if (tab === "mine") lists.renderMine($("#view-mine"));
  if (tab === "device") renderDevice();
  document.title = `${t(`field.tab_${tab}`)} · ${t("field.title_long")}`;
}

const currentTab = () => (TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "map");

function statusForList() {
  let error = null;
  if (status.error) error = status.error.offline ? t("field.offline_wait") : status.error.status === 401 ? t("auth.session_ended") : status.error.message;
  return { running: status.running, error, lastSync: status.lastSync };
}

function renderBadge() {
  const waiting = queue.changes.filter((c) => c.state === "waiting").length;
  const problems = queue.changes.filter((c) => c.state !== "waiting").length + queue.photos.filter((p) => p.state === "rejected").length;
  const photos = queue.photos.filter((p) => p.state === "waiting").length;
  const badge = $("#badge");
  badge.hidden = !(waiting || problems || photos);
  badge.textContent = waiting || !problems ? t("field.waiting", { n: waiting }) : t("field.problems", { n: problems });
  if (photos && !waiting) badge.textContent = t("field.photos_waiting", { n: photos });
  badge.classList.toggle("badge-problem", problems > 0);
  badge.title = [t("field.waiting", { n: waiting }), photos ? t("field.photos_waiting", { n: photos }) : "",
    problems ? t("field.problems", { n: problems }) : ""].filter(Boolean).join(" · ");
  $("#tab-count").textContent = waiting + problems ? formatNumber(waiting + problems) : "";
}

function renderNet() {
  const online = navigator.onLine;
  const net = $("#net");
  net.textContent = online ? (status.running ? t("field.syncing") : t("field.online")) : t("field.offline");
  net.className = `net ${online ? "net-on" : "net-off"}`;
}

function renderAll() {
  renderBadge();
  renderNet();
  drawQueued(queue.changes);
  if (currentTab() === "queue") lists.renderQueue($("#view-queue"), queue, statusForList());
}

async function runSync() {
  if (!navigator.onLine) { toast(t("field.offline_wait"), "info"); }
  const summary = await sync.sync();
  if (summary.skipped) return;
  if (!summary.error) {
    status.lastSync = new Date().toISOString();
    await setValue("last_sync", status.lastSync);
  }
  const sent = [summary.sent ? t("field.sent", { n: summary.sent }) : "", summary.photos ? t("field.photos_sent", { n: summary.photos }) : ""];
  if (summary.sent || summary.photos) toast(sent.filter(Boolean).join(" · "), "ok");
  if (summary.conflicts || summary.rejected) toast(t("field.problems", { n: summary.conflicts + summary.rejected }), "error");
  renderAll();
}

// GPS -------------------------------------------------------------------------------------------------

function renderGps() {
  const chip = $("#gps");
  if (gps.position) {
    const accuracy = Math.round(gps.position.accuracy);
    const poor = accuracy > forms.settings.maxAccuracy;
    chip.textContent = poor ? t("field.gps_poor", { accuracy }) : t("field.gps_ok", { accuracy });
    chip.className = `gps-chip ${poor ? "gps-poor" : "gps-good"}`;
  } else {
    chip.textContent = gps.error === "denied" ? t("field.gps_denied") : gps.error ? t("field.gps_none") : t("field.gps_waiting");
    chip.className = "gps-chip gps-none";
  }
  for (const listener of gps.listeners) listener();
}

function startGps() {
  if (!navigator.geolocation) { gps.error = "unsupported"; renderGps(); return; }
  gps.watch = navigator.geolocation.watchPosition((position) => {
    const { latitude, longitude, accuracy } = position.coords;
    gps.position = { lat: latitude, lon: longitude, accuracy, at: position.timestamp };
    gps.error = null;
    showPosition(gps.position);
    openOnPosition();
    renderGps();
  }, (error) => {
    gps.error = error.code === 1 ? "denied" : "unavailable";
    renderGps();
  }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 });
  renderGps();
}

// The neighbourhoods to take offline ------------------------------------------------------------------

async function loadAreas() {
  try {
    const data = await get("/field/neighbourhoods");
    await setValue("neighbourhoods", data);
    return data;
  } catch (error) {
    if (!error.offline) toast(error.message, "error");
    return getValue("neighbourhoods", { neighbourhoods: [] });
  }
}

function applySettings(data) {
  areas = data.neighbourhoods || [];
  if (data.max_accuracy_m) forms.settings.maxAccuracy = data.max_accuracy_m;
  if (data.max_photo_bytes) forms.settings.maxPhotoBytes = data.max_photo_bytes;
  sync.configure({ maxBatch: data.max_batch });
}

async function renderDevice() {
  const box = $("#areas");
  const stored = Object.fromEntries((await db.extracts.toArray()).map((x) => [x.code, x]));
  const current = await getValue("current");
  clear(box);
  box.append(el("p", { class: "hint", text: t("field.offline_intro") }));
  const codes = [...new Set([...areas.map((a) => a.code), ...Object.keys(stored)])];
  if (!codes.length) box.append(el("p", { class: "empty", text: t("field.no_neighbourhoods") }));
  const list = el("ul", { class: "cards", id: "area-list" });
  for (const code of codes) {
    const area = areas.find((a) => a.code === code) || { code, name: stored[code].name, bytes: stored[code].estimated };
    const kept = stored[code];
    const features = (area.layers || []).reduce((sum, l) => sum + (l.count || 0), 0);
    const progress = el("p", { class: "progress", role: "status", hidden: true });
    const downloadButton = el("button", { type: "button", class: "btn btn-primary btn-big", dataset: { code },
      text: kept ? t("field.update_download", { size: formatBytes(area.bytes || 0) }) : t("field.download", { size: formatBytes(area.bytes || 0) }),
      onclick: () => download(area, downloadButton, progress) });
    list.append(el("li", { class: `card area ${code === current ? "area-current" : ""}`, dataset: { code } },
      el("div", { class: "card-head" }, el("strong", { text: area.name || code }), " ", el("span", { class: "muted", text: code })),
      area.bytes ? el("p", { class: "area-size", text: t("field.size", { size: formatBytes(area.bytes), n: features }) }) : null,
      kept ? el("p", { class: "muted", text: t("field.downloaded", { when: formatDateTime(kept.generated_at), size: formatBytes(kept.bytes) }) }) : null,
      progress,
      el("div", { class: "button-row" }, downloadButton,
        kept && code !== current ? el("button", { type: "button", class: "btn btn-big", text: t("field.use"), onclick: () => use(code) }) : null,
        kept ? el("button", { type: "button", class: "btn btn-big", text: t("field.remove_download"), onclick: async () => {
          if (!(await confirmDialog(t("field.remove_confirm", { name: area.name || code }), t("field.remove_download"), true))) return;
          await db.extracts.delete(code);
          if (code === current) await setValue("current", null);
          renderDevice();
        } }) : null)));
  }
  box.append(list);
  renderAccount();
}

/** Download a neighbourhood's package and keep it on the device (IndexedDB), showing how much has arrived. */
async function download(area, button, progress) {
  button.disabled = true;
  progress.hidden = false;
  progress.textContent = t("field.downloading", { got: formatBytes(0), size: formatBytes(area.bytes || 0) });
  try {
    const response = await fetch(`/field/extract?neighbourhood=${encodeURIComponent(area.code)}`,
      { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { const body = await response.json(); message = body.detail || body.title || message; } catch { /* not JSON */ }
      throw new Error(message);
    }
    const reader = response.body.getReader();
    const parts = [];
    let got = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.length;
      progress.textContent = t("field.downloading", { got: formatBytes(got), size: formatBytes(Math.max(area.bytes || 0, got)) });
    }
    const text = await new Blob(parts).text();
    const pkg = JSON.parse(text);
    await db.extracts.put({ code: area.code, name: area.name || pkg.neighbourhood.name, bbox: area.bbox || null,
      generated_at: pkg.generated_at, bytes: got, estimated: area.bytes || null, package: pkg });
    await clearOverrides();
    await persist();
    await setValue("current", area.code);
    progress.textContent = t("field.download_done", { size: formatBytes(got) });
    toast(t("field.download_done", { size: formatBytes(got) }), "ok");
    await showCurrent();
    location.hash = "#map";
  } catch (error) {
    progress.textContent = t("field.download_failed", { message: error.message });
    progress.classList.add("form-error");
  } finally {
    button.disabled = false;
  }
}

async function use(code) {
  await setValue("current", code);
  await showCurrent();
  location.hash = "#map";
}

/** Draw the chosen neighbourhood from the device's copy; false when there is none yet. */
async function showCurrent({ recentre = true } = {}) {
  const code = await getValue("current");
  const kept = code && (await db.extracts.get(code));
  if (!kept) return false;
  drawExtract(kept.package);
  drawQueued(queue.changes);
  if (recentre) { centred = false; openOnPosition(); }
  return true;
}

// The map opens on the user's position once (when it is in the neighbourhood), not at every GPS update.
let centred = false;
function openOnPosition() {
  if (centred || !gps.position || !inNeighbourhood(gps.position)) return;
  centred = true;
  centreOn(gps.position);
}

// The account -----------------------------------------------------------------------------------------

function renderAccount() {
  const box = $("#field-account");
  clear(box);
  if (me.open) return;
  if (!me.user) { box.append(el("a", { href: loginUrl(), class: "btn btn-big", text: t("auth.login") })); return; }
  box.append(el("p", {}, el("strong", { id: "user-name", text: me.user.full_name || me.user.name }), " ",
    el("span", { class: "muted", id: "user-roles", text: rolesText() })),
  el("div", { class: "button-row" },
    el("a", { href: "/", class: "btn btn-big", text: t("field.open_main") }),
    el("button", { type: "button", class: "btn btn-big", id: "logout", text: t("auth.logout"), onclick: doLogout })));
}

async function doLogout() {
  const waiting = queue.changes.length + queue.photos.length;
  if (waiting && !(await confirmDialog(t("field.logout_queue", { n: waiting }), t("auth.logout"), true))) return;
  try {
    await logout();
  } catch (error) {
    toast(t("auth.logout_failed", { message: error.message }), "error");
    return;
  }
  await clearAll();  // the queue and the downloads are this user's: not for whoever logs in next
  location.reload();
}

function showUnauthorized() {
  const notice = $("#notice");
  clear(notice).append(el("span", { text: t(me.user ? "field.session_ended" : "auth.login_needed") }), " ",
    el("a", { href: loginUrl(), id: "notice-login", text: t("auth.login") }));
  notice.hidden = false;
}

// Start -----------------------------------------------------------------------------------------------

async function loadCatalogue() {
  let layers;
  try {
    layers = await get("/layers");
    await setValue("catalogue", layers);
  } catch (error) {
    layers = await getValue("catalogue");
    if (!layers) throw error;
  }
  catalogue.layers = layers;
  catalogue.byName = Object.fromEntries(layers.map((l) => [l.name, l]));
}

function registerWorker() {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
}

async function changeLanguage(code) {
  await setLanguage(code);
  translateMap();
  renderAll();
  renderGps();
  const centre = view.map && view.map.getCenter();
  const zoom = view.map && view.map.getZoom();
  await showCurrent({ recentre: false });  // the layer list in the new language; the map stays where it was
  if (centre && currentTab() === "map") view.map.setView(centre, zoom, { animate: false });
  showTab();
}

async function main() {
  registerWorker();
  await Promise.all([setLanguage(storedLanguage()), loadSession()]);
  $("#language").value = language();
  $("#language").addEventListener("change", (e) => changeLanguage(e.target.value));
  if (!me.user && !me.open) {
    $("#field-login").href = loginUrl();
    $("#view-login").hidden = false;
    document.body.classList.add("ready");
    return;
  }
  document.addEventListener("mahalle:unauthorized", showUnauthorized);
  $("#tabs").hidden = false;
  $("#sync").hidden = false;
  try {
    await loadCatalogue();
  } catch {
    toast(t("field.no_catalogue"), "error");
  }
  applySettings(await loadAreas());
  status.lastSync = await getValue("last_sync");
  initMap($("#map"));
  translateMap();
  mapHooks.onFeature = (name, feature) => forms.openFeature(name, feature);
  mapHooks.onChoice = (found) => forms.openChoice(found);
  forms.hooks.changed = () => { if (navigator.onLine) runSync(); };
  lists.hooks.sync = runSync;
  lists.hooks.changed = () => {};
  sync.onStatus(({ running, error }) => {
    status.running = running;
    status.error = error;
    renderNet();
    $("#sync").disabled = running;
    if (currentTab() === "queue") lists.renderQueue($("#view-queue"), queue, statusForList());
  });
  // The queue as stored (this tab's changes and another tab's, and what a sync removed): redraw on every change.
  liveQuery(() => snapshot()).subscribe({ next: (value) => { queue = value; renderAll(); }, error: () => {} });
  queue = await snapshot();
  $("#badge").addEventListener("click", () => { location.hash = "#queue"; });
  $("#sync").addEventListener("click", runSync);
  $("#locate").addEventListener("click", () => {
    if (gps.position) centreOn(gps.position); else toast(gps.error === "denied" ? t("field.gps_denied") : t("field.gps_waiting"), "info");
  });
  $("#report").addEventListener("click", () => forms.openObservation());
  $("#visit").addEventListener("click", async () => {
    const code = await getValue("current");
    const kept = code && (await db.extracts.get(code));
    openVisit(kept && kept.package);
  });
  window.addEventListener("online", renderNet);
  window.addEventListener("offline", renderNet);
  window.addEventListener("hashchange", showTab);
  const shown = await showCurrent();
  if (!shown && !location.hash) location.hash = "#device";
  showTab();
  renderAll();
  startGps();
  sync.start(runSync);
  window.mahalleField = { map: view.map, view, db, sync: runSync, me };  // a handle for the browser tests and the console
  document.body.classList.add("ready");
}

main();
