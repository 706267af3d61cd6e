// Mahalle's web app: wires the map, the layer panel, editing, the attribute table, the planner,
// the task board and the dashboard together; views are chosen by the URL's #hash. Who is using it comes
// from /auth/me (session.js): the top bar shows the user and their roles, or a login link.

import * as board from "./board.js";
import { loadCatalogue } from "./catalogue.js";
import * as dashboard from "./dashboard.js";
import { closeDetail, hooks as detailHooks } from "./detail.js";
import { confirmDialog } from "./dialog.js";
import { $, $$, append, el, toast } from "./dom.js";
import * as editor from "./editor.js";
import { language, setLanguage, storedLanguage, t } from "./i18n.js";
import { renderLayers } from "./layers-panel.js";
import { initMap, mapState, refreshAll, translateControls } from "./mapview.js";
import * as outbox from "./outbox.js";
import { photoSection } from "./photos.js";
import * as planning from "./planning.js";
import * as review from "./review.js";
import { hooks as searchHooks, initSearch } from "./search.js";
import { canEditAny, canPlan, isAdmin, loadSession, loginUrl, logout, me, rolesText } from "./session.js";
import * as table from "./table.js";
import * as transfer from "./transfer.js";

const VIEWS = ["map", "interventions", "board", "dashboard", "review", "transfer"];
const SAFE_METHODS = new Set(["GET", "HEAD"]);
const sections = {};

const neighbourhoodOption = () => $("#neighbourhood").selectedOptions[0];
const NEIGHBOURHOOD_KEY = "mahalle.neighbourhood";

/** The chooser sorted by name in the user's language (not by code), keeping the choice. */
function sortNeighbourhoods() {
  const select = $("#neighbourhood");
  const chosen = select.value;
  const collator = new Intl.Collator(language(), { numeric: true });
  select.append(...[...select.options].sort((a, b) => collator.compare(a.textContent.trim(), b.textContent.trim())));
  select.value = chosen;
}

/** The neighbourhood chosen on an earlier visit, when it is still offered. */
function restoreNeighbourhood() {
  const saved = localStorage.getItem(NEIGHBOURHOOD_KEY);
  if (saved && [...$("#neighbourhood").options].some((o) => o.value === saved)) $("#neighbourhood").value = saved;
}
const neighbourhood = () => (neighbourhoodOption() ? neighbourhoodOption().value : "");
const neighbourhoodId = () => (neighbourhoodOption() && neighbourhoodOption().dataset.id ? Number(neighbourhoodOption().dataset.id) : null);

function fitNeighbourhood() {
  const option = neighbourhoodOption();
  if (!option || !option.dataset.bbox) { mapState.map.setView([20, 0], 3); return; }
  const [w, s, e, n] = option.dataset.bbox.split(",").map(Number);
  mapState.map.invalidateSize();
  mapState.map.fitBounds([[s, w], [n, e]], { padding: [10, 10] });
}

function onFeatureClick(name, feature, _leaflet, event) {
  if (planning.linkClicked(name, feature.id)) return;
  const original = event && event.originalEvent;
  const add = !!(original && (original.shiftKey || original.ctrlKey || original.metaKey));
  if (table.tableLayer() === name) {
    table.selectFromMap(name, feature.id, add);
    if (add) return;
  }
  editor.openFeature(name, feature.id);
}

function renderSidebar() {
  const sidebar = $("#sidebar");
  sidebar.replaceChildren();
  sections.tools = el("section", { class: "panel", id: "tools" });
  sections.layers = el("section", { class: "panel", id: "layers" });
  sections.planner = el("section", { class: "panel", id: "planner", hidden: true });
  sidebar.append(sections.tools, sections.planner, sections.layers);
  editor.renderTools(sections.tools);
  renderLayers(sections.layers, (name) => table.openTable(name));
}

// The user in the top bar ------------------------------------------------------------------------

function renderAccount() {
  const box = $("#account");
  box.replaceChildren();
  if (me.open) return;  // a server without identity: nobody to show
  if (!me.user) {
    box.append(el("a", { href: loginUrl(), class: "btn btn-small", id: "login-link", text: t("auth.login") }));
    return;
  }
  const name = me.user.name;
  append(box, [
    el("span", { class: "who", title: me.user.full_name || name },
      el("span", { class: "user-name", id: "user-name", text: name }),
      me.roles.length ? el("span", { class: "user-roles", id: "user-roles", text: rolesText() }) : null),
    me.can.admin ? el("a", { href: `/admin?lang=${encodeURIComponent(language())}`, class: "account-link", id: "admin-link", text: t("auth.admin") }) : null,
    el("button", { type: "button", class: "btn btn-small", id: "logout", onclick: doLogout, text: t("auth.logout") })]);
}

async function doLogout() {
  const waiting = outbox.entries().length;
  // Kept edits would be sent as whoever logs in next on this device.
  if (waiting && !(await confirmDialog(t("auth.logout_outbox", { n: waiting }), t("auth.logout"), true))) return;
  try {
    await logout();
  } catch (error) {
    toast(t("auth.logout_failed", { message: error.message }), "error");
    return;
  }
  outbox.discardAll();
  location.reload();
}

/** A request answered 401: the session ended, or an anonymous visitor tried to change something. Say so,
 * with a login link. (An anonymous read of a non-public layer is not news: the top bar offers the login.) */
function showUnauthorized(event) {
  if (!me.user && !me.open && SAFE_METHODS.has(event.detail.method)) return;
  const banner = $("#auth-banner");
  banner.replaceChildren(
    el("span", { text: t(me.user ? "auth.session_ended" : "auth.login_needed") }), " ",
    el("a", { href: loginUrl(), id: "banner-login", text: t("auth.login") }), " ",
    el("button", { type: "button", class: "btn btn-small", onclick: () => { banner.hidden = true; }, text: t("detail.close") }));
  banner.hidden = false;
}

// The phone's menu: the top bar's views, neighbourhood, language and account fold behind one button -------

const menuButton = () => $("#menu-toggle");
const menuOpen = () => menuButton().getAttribute("aria-expanded") === "true";

function setMenu(open, { focus = false } = {}) {
  menuButton().setAttribute("aria-expanded", String(open));
  $(".topbar").classList.toggle("menu-open", open);
  if (open && focus) { const first = $("#topbar-menu nav.views a[aria-current]") || $("#topbar-menu select"); if (first) first.focus(); }
}

function initMenu() {
  menuButton().addEventListener("click", () => setMenu(!menuOpen(), { focus: true }));
  for (const link of $$("nav.views a")) link.addEventListener("click", () => setMenu(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && menuOpen()) { setMenu(false); menuButton().focus(); }
  });
  document.addEventListener("click", (e) => { if (menuOpen() && !e.target.closest(".topbar")) setMenu(false); });
}

function showView() {
  const allowed = (v) => v !== "review" || canPlan();
  const asked = location.hash.slice(1);
  const view = VIEWS.includes(asked) && allowed(asked) ? asked : "map";
  const mapLike = view === "map" || view === "interventions";
  $("#view-map").hidden = !mapLike;
  $("#view-board").hidden = view !== "board";
  $("#view-dashboard").hidden = view !== "dashboard";
  $("#view-review").hidden = view !== "review";
  $("#view-transfer").hidden = view !== "transfer";
  for (const link of $$("nav.views a")) {
    if (link.dataset.view === "review") link.hidden = !canPlan();
    if (link.dataset.view === view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  $("#current-view").textContent = t(`nav.${view}`);
  sections.tools.hidden = view !== "map";
  sections.planner.hidden = view !== "interventions";
  if (view === "interventions") planning.renderPlanner(sections.planner);
  if (view === "board") board.renderBoard($("#view-board"));
  if (view === "dashboard") dashboard.renderDashboard($("#view-dashboard"));
  if (view === "review") review.renderReview($("#view-review"));
  if (view === "transfer") transfer.renderTransfer($("#view-transfer"));
  document.title = `${t(`nav.${view}`)} · ${t("app.name")}`;
  renderAccount();  // the login link comes back to this view
  if (mapLike) setTimeout(() => mapState.map.invalidateSize(), 0);
}

async function changeLanguage(code) {
  await setLanguage(code);
  sortNeighbourhoods();
  mapState.map.pm.setLang("mahalle", geomanStrings(), "en");
  translateControls();
  renderSidebar();
  refreshAll();
  closeDetail();
  if (!$("#table").hidden) table.openTable(table.tableLayer());
  showView();
}

/** Geoman's drawing tooltips, from our catalogues. */
function geomanStrings() {
  const keys = ["placeMarker", "firstVertex", "continueLine", "finishLine", "finishPoly"];
  return {
    tooltips: Object.fromEntries(keys.map((k) => [k, t(`geoman.${k}`)])),
    actions: { finish: t("geoman.finish"), cancel: t("geoman.cancel"), removeLastVertex: t("geoman.removeLastVertex") },
  };
}

async function main() {
  document.addEventListener("mahalle:unauthorized", showUnauthorized);
  await Promise.all([setLanguage(storedLanguage()), loadSession()]);
  $("#language").value = language();
  renderAccount();  // first: logging in stays possible even if the rest cannot load
  try {
    await loadCatalogue();
  } catch (error) {
    toast(t("app.offline_start"), "error");
    throw error;
  }
  initMap($("#map"), document.body.dataset.basemap);
  mapState.map.pm.setLang("mahalle", geomanStrings(), "en");
  mapState.onFeatureClick = onFeatureClick;
  renderSidebar();
  restoreNeighbourhood();
  sortNeighbourhoods();
  fitNeighbourhood();
  initSearch($("#search"));
  searchHooks.beforeOpen = () => { setMenu(false); if (!["map", "interventions"].includes(location.hash.slice(1) || "map")) location.hash = "#map"; };
  editor.hooks.openIntervention = (id) => planning.openIntervention(id);
  table.hooks.openFeature = (name, id) => editor.openFeature(name, id);
  for (const hooks of [planning.hooks, board.hooks, dashboard.hooks, review.hooks, transfer.hooks]) hooks.neighbourhood = neighbourhood;
  review.hooks.showMap = () => { location.hash = "#map"; };
  review.hooks.openFeature = (name, id) => editor.openFeature(name, id);
  initMenu();
  // A saved feature's panel (the editor's form of it) shows its photos; who may edit it may add one.
  detailHooks.extras = (body) => {
    const open = editor.currentSession();
    if (!open || open.id === null || open.id === undefined || !open.form || !body.contains(open.form.element)) return null;
    return photoSection(open.layer.name, open.id, { canAdd: canEditAny(open.layer.name) });
  };
  board.hooks.neighbourhoodId = neighbourhoodId;
  board.hooks.showMap = () => { location.hash = "#map"; };
  $("#language").addEventListener("change", (e) => changeLanguage(e.target.value));
  $("#neighbourhood").addEventListener("change", () => {
    localStorage.setItem(NEIGHBOURHOOD_KEY, neighbourhood());
    fitNeighbourhood();
    showView();
  });
  // A view chosen starts at its top (the browser scrolls to an element named like the #hash: the #map itself).
  window.addEventListener("hashchange", () => { showView(); window.scrollTo(0, 0); });
  outbox.start();
  showView();
  refreshAll();
  window.mahalle = { map: mapState.map, mapState, openFeature: editor.openFeature, me };  // a handle for the browser tests and the console
  document.body.classList.add("ready");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
}

main();
