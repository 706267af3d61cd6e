// The hand-written part of the service worker. The worker itself is built with Workbox (scripts/build-sw.mjs,
// served at /sw.js) and loads this file with importScripts: it precaches every module, style, vendor file and
// language catalogue of `/` and `/field`, and keeps the last answers of the data routes for offline use.
// Writes are never cached: the main app keeps unsent edits in its outbox (outbox.js), field mode in its queue
// (field/store.js), both in IndexedDB.

// The caches of the network-first routes (scripts/build-sw.mjs), and what to put in them at once.
const WARM = { "mahalle-pages": ["/"], "mahalle-data": ["/layers?counts=true", "/layers"] };

self.addEventListener("install", (event) => {
  // The page that installs this worker loaded `/` and the layer catalogue before the worker existed, so its routes
  // never saw them: keep them now, so that the map opens offline after a single visit. (They are refreshed from
  // the network at each online visit.) A failure here (no connection) leaves the worker installed all the same.
  event.waitUntil(Promise.allSettled(Object.entries(WARM).map(async ([name, urls]) => {
    const cache = await caches.open(name);
    await Promise.allSettled(urls.map((url) => cache.add(new Request(url, { credentials: "same-origin" }))));
  })));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.delete("mahalle-v1"));  // the cache of the worker before Workbox
});
