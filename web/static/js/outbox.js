// Edits that could not reach the server wait here (localStorage survives reloads) and are re-sent
// in order when the connection returns. Creations carry a client UUID, so a re-send never duplicates.
// An edit the server refuses on re-send is kept, marked, until the user opens or discards it; one met by
// a 401 (the session ended while offline) waits, in order, until the user has logged in again.

import { request } from "./api.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { me } from "./session.js";

const KEY = "mahalle.outbox";
const RETRY_MS = 10000;
let flushing = false;
let opener = () => {};

export const entries = () => JSON.parse(localStorage.getItem(KEY) || "[]");
const save = (list) => { localStorage.setItem(KEY, JSON.stringify(list)); render(); };

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
    save([...entries(), { ...write, key: `${Date.now()}-${Math.random()}`, state: "waiting", at: new Date().toISOString() }]);
    return { queued: true, login: expired };
  }
}

/** The message for a kept edit. */
export const keptMessage = (result) => t(result.login ? "auth.kept_until_login" : "edit.kept_offline");

export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const entry of entries().filter((e) => e.state === "waiting")) {
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

/** Forget every kept edit (logging out: they would be sent as the next user). */
export function discardAll() { save([]); }

export function remove(key) { save(entries().filter((e) => e.key !== key)); }
function update(key, changes) { save(entries().map((e) => (e.key === key ? { ...e, ...changes } : e))); }

export function render() {
  const box = $("#outbox");
  if (!box) return;
  const list = entries();
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

export function start() {
  render();
  window.addEventListener("online", () => flush());
  setInterval(() => { if (entries().some((e) => e.state === "waiting")) flush(); }, RETRY_MS);
  flush();
}
