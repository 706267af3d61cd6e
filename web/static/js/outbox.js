// Edits that could not reach the server wait here and are re-sent in order when the connection returns.
// Creations carry a client UUID, so a re-send never duplicates. An edit the server refuses on re-send is kept,
// marked, until the user opens or discards it; one met by a 401 (the session ended while offline) waits, in
// order, until the user has logged in again.
//
// They are kept in IndexedDB (Dexie, /vendor/dexie/, database "mahalle-outbox"), which survives closing the
// browser; this module holds a copy in memory so that `entries()` answers at once, and reads the database again
// before each send, every 10 s and when the tab comes back to the front (another tab's edits, a sync there).
// Edits kept in localStorage by an earlier version are moved in at start.

import Dexie from "/vendor/dexie/dexie.mjs";
import { request } from "./api.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { me } from "./session.js";

const LEGACY_KEY = "mahalle.outbox";  // where an earlier version kept them
const DISCARD_KEY = "mahalle.outbox.discard";  // set when logging out: the database is emptied before anything is sent
const RETRY_MS = 10000;
const db = new Dexie("mahalle-outbox");
db.version(1).stores({ entries: "&key, seq" });
let flushing = false;
let opener = () => {};
let list = [];
let counter = 0;
let loaded = null;
let generation = 0;  // bumped at each change made here: what was read from the database before one is stale
let writing = 0;  // changes made here not yet in the database

function track(promise) {
  generation += 1;
  writing += 1;
  return promise.finally(() => { writing -= 1; });
}

/** Take what the database holds (another tab of the app may have kept or sent edits), unless this tab is busy
 * with it: its own copy is then the newer one. */
async function refresh() {
  if (flushing || writing) return;
  const seen = generation;
  const value = await db.entries.orderBy("seq").toArray();
  if (seen !== generation || flushing || writing) return;
  list = value;
  render();
}

/** The kept edits, oldest first (the copy in memory of what IndexedDB holds). */
export const entries = () => list;
/** What IndexedDB holds now (a promise): for the tests and the console. */
export const stored = () => ready().then(() => db.entries.orderBy("seq").toArray());

function ready() {
  loaded = loaded || (async () => {
    if (localStorage.getItem(DISCARD_KEY)) {
      await db.entries.clear();
      localStorage.removeItem(DISCARD_KEY);
    }
    const legacy = JSON.parse(localStorage.getItem(LEGACY_KEY) || "[]");
    if (legacy.length) {
      const now = Date.now() * 1000;
      await db.entries.bulkPut(legacy.map((entry, i) => ({ ...entry, seq: entry.seq || now + i })));
    }
    localStorage.removeItem(LEGACY_KEY);
    list = await db.entries.orderBy("seq").toArray();
  })();
  return loaded;
}

async function keep(entry) {
  await ready();
  list = [...list, entry];
  render();
  await track(db.entries.put(entry));
}

/** Called with a refused entry when the user asks to open it (the editor shows it in the form). */
export function onOpen(handler) { opener = handler; }

/** Send a write now; when the connection is down, keep it and return {queued: true}. A 401 for a user who
 * was logged in (the session ended meanwhile) keeps it too, until they log in again: {queued: true, login: true}. */
export async function send(write) {
  try {
    return await request(write.method, write.url, write);
  } catch (error) {
    const expired = error.status === 401 && !!me.user;
    if (!error.offline && !expired) throw error;
    await keep({ ...write, key: `${Date.now()}-${Math.random()}`, seq: Date.now() * 1000 + (counter++ % 1000), state: "waiting",
      at: new Date().toISOString() });
    return { queued: true, login: expired };
  }
}

/** The message for a kept edit. */
export const keptMessage = (result) => t(result.login ? "auth.kept_until_login" : "edit.kept_offline");

export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    await ready();
    list = await db.entries.orderBy("seq").toArray();  // as stored now (another tab may have sent or kept some)
    for (const entry of list.filter((e) => e.state === "waiting")) {
      try {
        const result = await request(entry.method, entry.url, entry);
        remove(entry.key);
        document.dispatchEvent(new CustomEvent("mahalle:sent", { detail: { entry, result } }));
      } catch (error) {
        if (error.offline) break;  // still no connection: keep the order, try later
        if (error.status === 401) break;  // the session ended: kept until the user logs in again
        if (await alreadyApplied(entry, error)) {
          remove(entry.key);
          document.dispatchEvent(new CustomEvent("mahalle:sent", { detail: { entry, result: null } }));
          continue;
        }
        update(entry.key, { state: "problem", status: error.status, message: error.message, property: error.property });
      }
    }
  } finally {
    flushing = false;
  }
}

/**
 * A first send can reach the server and lose only its answer (the connection dropped, the page closed):
 * the re-send then meets its own change (412) or its own delete (404). Compare with the server's state
 * instead of reporting a conflict with oneself.
 */
async function alreadyApplied(entry, error) {
  if (entry.kind === "delete") return error.status === 404 || (error.status === 412 && await gone(entry.url));
  if (entry.kind !== "update" || error.status !== 412) return false;
  try {
    const current = (await request("GET", entry.url)).data;
    const sent = entry.body.properties || {};
    const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    return Object.entries(sent).every(([name, value]) => same(current.properties[name], value))
      && (!entry.body.geometry || same(current.geometry, entry.body.geometry));
  } catch {
    return false;
  }
}

async function gone(url) {
  try { await request("GET", url); return false; } catch (error) { return error.status === 404; }
}

/** Forget every kept edit (logging out: they would be sent as the next user). The page may reload at once, before
 * IndexedDB is done: a mark in localStorage (written at once) has the next start empty it first. */
export function discardAll() {
  localStorage.setItem(DISCARD_KEY, "1");
  list = [];
  render();
  return track(db.entries.clear()).then(() => localStorage.removeItem(DISCARD_KEY));
}

export function remove(key) {
  list = list.filter((e) => e.key !== key);
  render();
  return track(db.entries.delete(key));
}

function update(key, changes) {
  list = list.map((e) => (e.key === key ? { ...e, ...changes } : e));
  render();
  return track(db.entries.update(key, changes));
}

export function render() {
  const box = $("#outbox");
  if (!box) return;
  clear(box);
  box.hidden = list.length === 0;
  const waiting = list.filter((e) => e.state === "waiting");
  if (waiting.length) {
    box.append(el("p", { class: "outbox-line" },
      el("strong", { text: t("outbox.waiting", { n: waiting.length }) }), " ", t("outbox.retrying"), " ",
      el("button", { type: "button", class: "btn btn-small", onclick: () => flush(), text: t("outbox.retry") })));
  }
  for (const entry of list.filter((e) => e.state === "problem")) {
    box.append(el("p", { class: "outbox-line outbox-problem" },
      el("strong", { text: t("outbox.refused", { what: entry.label || entry.url }) }), " ",
      el("span", { text: entry.message || "" }), " ",
      el("button", { type: "button", class: "btn btn-small", onclick: () => opener(entry), text: t("outbox.open") }),
      " ",
      el("button", {
        type: "button", class: "btn btn-small btn-danger", text: t("outbox.discard"),
        onclick: () => { if (confirm(t("outbox.discard_confirm"))) remove(entry.key); },
      })));
  }
}

export async function start() {
  window.addEventListener("online", () => flush());
  setInterval(async () => {
    await refresh();
    if (list.some((e) => e.state === "waiting")) flush();
  }, RETRY_MS);
  await ready();
  render();
  // Follow the database: edits kept or sent by another tab of the app show here too.
  window.addEventListener("focus", () => refresh());
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  flush();
}
