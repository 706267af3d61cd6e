// Sending the queue when there is a connection: the changes first (POST /field/sync, in the order they were
// made, each with its client id so that a resend is recognised), then the photos, in resumable pieces
// (POST /field/uploads announces one and tells how much the server already has; PUT /field/uploads/{uid} sends
// the rest from there with Content-Range). A photo waits for its change: the feature it belongs to must exist.
//
// The server decides everything: a change it refuses stays in the queue with its message; a change that meets
// an edit made on the server meanwhile (`conflict`) stays with the server's version, for the user to see, and
// waits in the planners' review queue. Nothing is removed from the device before the server said it has it.

import { ApiError, request } from "../api.js";
import { csrfToken } from "../session.js";
import { db, setOverride } from "./store.js";

export const CHUNK = 256 * 1024;
const RETRY_MS = 30000;

const state = { running: false, maxBatch: 500, lastError: null, listeners: new Set() };

export function configure({ maxBatch } = {}) {
  if (maxBatch) state.maxBatch = maxBatch;
}

/** Called with {running, error} whenever a sync starts or ends. */
export function onStatus(listener) { state.listeners.add(listener); }
const announce = () => { for (const listener of state.listeners) listener({ running: state.running, error: state.lastError }); };

/** A change as the server reads it (the same text at every resend: the server compares it with the first). */
export function wire(change) {
  const out = { uid: change.uid, op: change.op, layer: change.layer };
  if (change.op !== "create") Object.assign(out, { id: change.id, base_version: change.base_version });
  out.properties = change.properties || {};
  out.geometry = change.geometry || null;
  return out;
}

/** Send what waits. Resolves with a summary; never throws (a network failure stops it until the next try). */
export async function sync() {
  if (state.running) return { skipped: true };
  state.running = true;
  state.lastError = null;
  announce();
  const summary = { sent: 0, conflicts: 0, rejected: 0, photos: 0 };
  try {
    await sendChanges(summary);
    await sendPhotos(summary);
  } catch (error) {
    state.lastError = error instanceof ApiError ? error : new ApiError(0, { detail: String(error) }, null, true);
    summary.error = state.lastError;
  } finally {
    state.running = false;
    announce();
  }
  return summary;
}

async function sendChanges(summary) {
  const waiting = await db.changes.where("state").equals("waiting").sortBy("seq");
  for (let start = 0; start < waiting.length; start += state.maxBatch) {
    const batch = waiting.slice(start, start + state.maxBatch);
    const { data } = await request("POST", "/field/sync", { body: { changes: batch.map(wire) } });
    const results = (data && data.results) || [];
    const byUid = new Map(results.filter((r) => r && r.uid).map((r) => [r.uid, r]));
    for (const [index, change] of batch.entries()) {
      const result = byUid.get(change.uid) || results[index];
      if (!result) continue;  // not answered: stays waiting
      await take(change, result, summary);
    }
  }
}

async function take(change, result, summary) {
  if (result.status === "applied" || result.status === "already") {
    await db.transaction("rw", db.changes, db.photos, async () => {
      await db.changes.where("uid").equals(change.uid).delete();
      // Photos of an existing feature name it by id; those of a new one by its uid (the change's).
      if (change.op !== "create" && result.id) await db.photos.where("change").equals(change.uid).modify({ feature_id: result.id });
    });
    if (change.op === "update" && result.version) await setOverride(change.layer, change.id, { ...change.properties, version: result.version });
    summary.sent += 1;
  } else if (result.status === "conflict") {
    await db.changes.where("uid").equals(change.uid).modify({
      state: "conflict", message: result.message || "", server: result.server || null, conflict_id: result.conflict_id || null,
      server_version: result.version ?? (result.server && result.server.properties ? result.server.properties.version : null),
    });
    if (result.server && result.server.properties) await setOverride(change.layer, change.id, result.server.properties);
    summary.conflicts += 1;
  } else {
    await db.changes.where("uid").equals(change.uid).modify({
      state: "rejected", message: result.message || "", property: result.property || null,
      rule: result.rule || null, params: result.params || null,  // worded in the user's language (rules.js)
    });
    summary.rejected += 1;
  }
}

async function sendPhotos(summary) {
  const photos = await db.photos.where("state").equals("waiting").sortBy("seq");
  for (const photo of photos) {
    if (photo.change && (await db.changes.where("uid").equals(photo.change).count())) continue;  // its change is not in yet
    if (await upload(photo)) summary.photos += 1;
  }
}

function announcement(photo) {
  const body = { uid: photo.uid, filename: photo.filename, media_type: photo.media_type, size: photo.size,
    sha256: photo.sha256, layer: photo.layer, role: photo.role || "photo" };
  if (photo.feature_id) body.feature_id = photo.feature_id; else body.feature_uid = photo.feature_uid;
  if (photo.caption) body.caption = photo.caption;
  return body;
}

/** Upload one photo from where the server is; true when the server has kept it. A refusal marks the photo. */
async function upload(photo) {
  let status;
  try {
    status = (await request("POST", "/field/uploads", { body: announcement(photo) })).data;
  } catch (error) {
    if (error.offline || error.status === 401) throw error;
    await refuse(photo, error);
    return false;
  }
  let received = status.received || 0;
  let done = status.attachment_id !== null && status.attachment_id !== undefined;
  while (!done) {
    if (received >= photo.size) {
      await refuse(photo, new ApiError(409, { detail: "the server holds the whole file but did not keep it" }));
      return false;
    }
    const end = Math.min(received + CHUNK, photo.size);
    const answer = await put(photo, received, end);
    if (answer.status === 409) {
      // The server has more (or less) than we thought: resume from where it is (the answer says, or we ask).
      const known = answer.data && Number.isInteger(answer.data.received) ? answer.data
        : (await request("GET", `/field/uploads/${encodeURIComponent(photo.uid)}`)).data;
      if (known.attachment_id !== null && known.attachment_id !== undefined) break;
      if (known.received === received) { await refuse(photo, new ApiError(409, answer.data)); return false; }
      received = known.received;
      continue;
    }
    if (!answer.ok) {
      const error = new ApiError(answer.status, answer.data);
      if (error.status === 401 || error.offline || [502, 503, 504].includes(answer.status)) throw error;
      await refuse(photo, error);
      return false;
    }
    received = answer.data.received;
    done = answer.status === 201 || (answer.data.attachment_id !== null && answer.data.attachment_id !== undefined);
    if (!done) await db.photos.where("uid").equals(photo.uid).modify({ received });
  }
  await db.photos.where("uid").equals(photo.uid).delete();
  return true;
}

async function put(photo, start, end) {
  const headers = { "Content-Type": "application/octet-stream", "Content-Range": `bytes ${start}-${end - 1}/${photo.size}`,
    Accept: "application/json, application/problem+json" };
  let response;
  try {
    const token = await csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    response = await fetch(`/field/uploads/${encodeURIComponent(photo.uid)}`, {
      method: "PUT", headers, body: photo.blob.slice(start, end), credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, { detail: String(error) }, null, true);
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401) document.dispatchEvent(new CustomEvent("mahalle:unauthorized", { detail: { url: response.url, method: "PUT" } }));
  return { ok: response.ok, status: response.status, data };
}

async function refuse(photo, error) {
  await db.photos.where("uid").equals(photo.uid).modify({ state: "rejected", message: error.message, status: error.status });
}

/** Sync (with `run`, default sync) when the connection returns, every RETRY_MS while something waits, and now. */
export function start(run = sync) {
  window.addEventListener("online", () => run());
  setInterval(async () => {
    if (!navigator.onLine || state.running) return;
    const waiting = (await db.changes.where("state").equals("waiting").count()) + (await db.photos.where("state").equals("waiting").count());
    if (waiting) run();
  }, RETRY_MS);
  if (navigator.onLine) run();
}

export const running = () => state.running;
