// What field mode keeps on the device, in IndexedDB (Dexie, served from node_modules under /vendor/dexie/):
// - changes: the queue of changes not yet accepted by the server, in the order they were made. Each has its
//   client id (`uid`, a UUID) so that a resend is recognised by the server and never applied twice. A change
//   leaves the queue only when the server answered `applied` or `already`; a `conflict` or a refusal stays,
//   shown to the user, until they hide or discard it.
// - photos: the photos taken, as blobs, with their size and SHA-256, until the server has the whole file.
//   `received` is how far the last upload got (the next one resumes there).
// - extracts: the neighbourhoods downloaded for offline use (GET /field/extract), with their size.
// - kv: the last layer catalogue, neighbourhood list and "my reports" seen online, and the chosen neighbourhood.
// IndexedDB survives closing the browser; the page also asks for persistent storage so that the browser does
// not evict it when the phone runs short of space.

import Dexie, { liveQuery } from "/vendor/dexie/dexie.mjs";

export const db = new Dexie("mahalle-field");
db.version(1).stores({
  changes: "++seq, &uid, state, layer",
  photos: "++seq, &uid, change, state",
  extracts: "&code",
  kv: "&key",
});

export { liveQuery };

export async function getValue(key, fallback = null) {
  const row = await db.kv.get(key);
  return row === undefined ? fallback : row.value;
}

export const setValue = (key, value) => db.kv.put({ key, value });

/** Ask the browser not to evict the queue and the extracts (granted silently to installed apps). */
export async function persist() {
  try {
    if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch { /* not offered by this browser */ }
}

/** Queue a change; returns its record. */
export async function queueChange(change) {
  const record = { state: "waiting", created_at: new Date().toISOString(), ...change };
  await db.changes.add(record);
  return record;
}

export async function queuePhoto(photo) {
  const record = { state: "waiting", received: 0, created_at: new Date().toISOString(), ...photo };
  await db.photos.add(record);
  return record;
}

/** Drop a change and the photos waiting for it. */
export async function discardChange(uid) {
  await db.transaction("rw", db.changes, db.photos, async () => {
    await db.changes.where("uid").equals(uid).delete();
    await db.photos.where("change").equals(uid).delete();
  });
}

export async function discardPhoto(uid) {
  await db.photos.where("uid").equals(uid).delete();
}

/** Forget everything this user queued and downloaded (logging out: not for the next user of the phone). */
export async function clearAll() {
  await Promise.all([db.changes.clear(), db.photos.clear(), db.extracts.clear(), db.kv.clear()]);
}

/** The queue as shown: changes in order, each with its photos; photos of existing features on their own. */
export async function snapshot() {
  const [changes, photos] = await Promise.all([db.changes.orderBy("seq").toArray(), db.photos.orderBy("seq").toArray()]);
  return { changes, photos };
}

// What the device learnt of a feature since its extract was downloaded: the values and version the server
// answered (an update applied, or the server's version met in a conflict), so the next edit names the right
// base version. A new download forgets them.
const overrideKey = (layer, id) => `override:${layer}:${id}`;
export const getOverride = (layer, id) => getValue(overrideKey(layer, id));
export async function setOverride(layer, id, properties) {
  await setValue(overrideKey(layer, id), { ...((await getOverride(layer, id)) || {}), ...properties });
}
export const clearOverrides = () => db.kv.where("key").startsWith("override:").delete();
