// Field mode offline: the app's own files and the last data seen are kept, so the map opens without a
// connection. Network first (fresh data whenever there is a connection); writes are never cached here:
// the page keeps unsent edits in its outbox and re-sends them.

const CACHE = "mahalle-v1";
const SHELL = ["/", "/static/css/app.css", "/static/js/app.js", "/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css",
  "/vendor/geoman/leaflet-geoman.min.js", "/vendor/geoman/leaflet-geoman.css", "/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js",
  "/vendor/chartjs/chart.umd.min.js", "/i18n/en.json", "/layers?counts=true"];
// English, every catalogue's fallback, is kept from the start; the catalogue of the language in use is kept the
// first time the page loads it (KEEP), so the list of languages lives only in core/i18n/.
const KEEP = [/^\/$/, /^\/static\//, /^\/vendor\//, /^\/i18n\//, /^\/layers/, /^\/ogc\/collections\/[^/]+\/items/, /^\/tasks/, /^\/interventions/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.allSettled(SHELL.map((url) => cache.add(url)))));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))));
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !KEEP.some((re) => re.test(url.pathname))) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request).then((hit) => hit || Response.error())));
});
