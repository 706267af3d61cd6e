// Who is using the app (GET /auth/me, fetched once when the page opens): the user, their roles, the
// CSRF token every unsafe request carries, and what the roles allow (`can`). The browser only hides
// the controls for actions the roles do not allow: the API decides every request.
//
// Offline (field mode), the last answer is kept in localStorage without its CSRF token, so the edit
// tools stay as they were; the token is fetched again before the first write that reaches the server.
// A server without identity (no /auth/me) leaves every control shown, as before identity existed.

import { el } from "./dom.js";
import { language, t } from "./i18n.js";

const KEY = "mahalle.me";
const NOTHING = { admin: false, plan: false, import: false, restore: false, create: [], edit: [], field_edit: {}, delete: [] };

/** The answer of /auth/me. `fresh`: it came from the server now (not from the offline copy). `open`: the
 * server has no identity (every control shown). */
export const me = { user: null, roles: [], csrf: null, can: { ...NOTHING }, fresh: false, open: false };

function take(data, fresh) {
  me.user = data.user || null;
  me.roles = Array.isArray(data.roles) ? data.roles : [];
  me.csrf = fresh ? data.csrf || null : null;
  me.can = { ...NOTHING, ...(data.can || {}) };
  me.fresh = fresh;
  me.open = false;
}

export async function loadSession() {
  let response;
  try {
    response = await fetch("/auth/me", { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
  } catch {
    const kept = JSON.parse(localStorage.getItem(KEY) || "null");
    take(kept || {}, false);  // no connection: as last seen online (anonymous if never)
    return me;
  }
  if (response.status === 404) {
    Object.assign(me, { user: null, roles: [], csrf: null, can: { ...NOTHING }, fresh: true, open: true });
    return me;
  }
  if (!response.ok) { take({}, false); return me; }
  const data = await response.json();
  take(data, true);
  if (me.user) localStorage.setItem(KEY, JSON.stringify({ ...data, csrf: null }));
  else localStorage.removeItem(KEY);
  return me;
}

/** The CSRF token for an unsafe request: fetched first when the page opened offline. */
export async function csrfToken() {
  if (!me.fresh && me.user) await loadSession();
  return me.csrf;
}

// What the roles allow ---------------------------------------------------------------------------

const listed = (list, layer) => Array.isArray(list) && list.includes(layer);
export const canCreate = (layer) => me.open || listed(me.can.create, layer);
export const canDelete = (layer) => me.open || listed(me.can.delete, layer);
export const canRestore = () => me.open || !!me.can.restore;
export const canPlan = () => me.open || !!me.can.plan;
export const isAdmin = () => me.open || !!me.can.admin;

/** The attributes of `layer` the user may change: null for all of them (and the geometry), else a list
 * (empty: none). A layer in `edit` is wholly editable; one only in `field_edit` has just the listed
 * attributes editable and its geometry is not. */
export function editableAttributes(layer) {
  if (me.open || listed(me.can.edit, layer)) return null;
  const some = me.can.field_edit && me.can.field_edit[layer];
  return Array.isArray(some) ? some : [];
}
export const canEdit = (layer) => editableAttributes(layer) === null;
export const canEditAny = (layer) => { const some = editableAttributes(layer); return some === null || some.length > 0; };
/** Whether the user may change anything at all (the undo button). */
export const canWrite = () => me.open || !!(me.can.create.length || me.can.edit.length || me.can.delete.length
  || Object.values(me.can.field_edit || {}).some((list) => list.length));

// Login and logout -------------------------------------------------------------------------------

/** The login page, coming back here (view included) in the language in use. */
export function loginUrl() {
  const next = location.pathname + location.search + location.hash;
  return `/login?${new URLSearchParams({ next, lang: language() })}`;
}

/** "planner · N01, viewer · all" */
export function rolesText(roles = me.roles) {
  return roles.map((r) => `${roleName(r.role)} · ${r.neighbourhood || t("auth.all_neighbourhoods")}`).join(t("auth.roles_separator"));
}

export function roleName(role) {
  const key = `role.${role}`;
  const text = t(key);
  return text === key ? role : text;
}

export async function logout() {
  const token = await csrfToken();
  const response = await fetch("/auth/logout", { method: "POST", credentials: "same-origin",
    headers: token ? { "X-CSRF-Token": token } : {} });
  if (!response.ok && response.status !== 401) throw new Error(`HTTP ${response.status}`);
  localStorage.removeItem(KEY);
  // Data the service worker kept for this user's offline use is not for the next one; the app's own files
  // (Workbox's precache) are nobody's and stay, so the pages still open offline.
  if (window.caches) {
    try {
      for (const name of await caches.keys()) if (!name.includes("-precache-")) await caches.delete(name);
    } catch { /* nothing kept */ }
  }
}

/** A short message with a login link, in place of a view the server refused (401). */
export function loginPrompt() {
  return el("p", { class: "form-error login-prompt", role: "alert" },
    t("auth.login_needed"), " ",
    el("a", { href: loginUrl(), text: t("auth.login") }));
}

/** What to show for an error of a view: a login prompt for a 401, else the message. */
export function errorNode(error) {
  return error && error.status === 401 ? loginPrompt() : el("p", { class: "form-error", text: error.message });
}
