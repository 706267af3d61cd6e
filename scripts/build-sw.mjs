// Builds the app's service worker (/sw.js, served by api/routes/web.py) with Workbox from npm: `make setup` runs
// it after `npm ci`, and again whenever a file of the web app changes (the Makefile lists them).
//
// What it keeps on the device so that `/` and `/field` open with no connection after one visit:
// - precached (fetched when the worker installs, kept until a new build changes their revision): every file
//   under web/static (the modules each page imports, CSS, icons, manifests), the vendor files the pages load
//   (/vendor/… from node_modules), the language catalogues (/i18n/<code>.json) and the field page's shell
//   (/field: the same for everyone, it asks /auth/me itself);
// - network first, the last answer kept for offline: the map page `/` (it carries the neighbourhood list), the
//   layer catalogue, /field/neighbourhoods and /field/mine, the main app's features, tiles, tasks and
//   interventions; photos' thumbnails cache first.
// A field device's neighbourhood extract and its queued changes and photos are not here: the page keeps them
// in IndexedDB (web/static/js/field/store.js). The hand-written part of the worker (warming `/` at install,
// removing the pre-Workbox cache) is web/static/js/sw.js, loaded with importScripts.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSW } from "workbox-build";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STATIC = join(ROOT, "web", "static");
const OUT = join(ROOT, "web", "build");
const SW = join(OUT, "sw.js");

// The vendor files the pages load, by their URL under /vendor/<name>/ (names as in api/routes/web.py VENDOR).
const VENDOR = {
  leaflet: ["leaflet/dist", ["leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
    "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png"]],
  geoman: ["@geoman-io/leaflet-geoman-free/dist", ["leaflet-geoman.min.js", "leaflet-geoman.css"]],
  vectorgrid: ["leaflet.vectorgrid/dist", ["Leaflet.VectorGrid.bundled.min.js"]],
  chartjs: ["chart.js/dist", ["chart.umd.min.js"]],
  dexie: ["dexie/dist", ["dexie.mjs"]],
  jalaali: ["jalaali-js/dist", ["index.js"]],
};

const digest = (...paths) => {
  const hash = createHash("sha256");
  for (const path of paths) hash.update(relative(ROOT, path)).update(readFileSync(path));
  return hash.digest("hex").slice(0, 20);
};

function extraEntries() {
  const entries = [];
  for (const [name, [folder, files]] of Object.entries(VENDOR)) {
    for (const file of files) {
      const path = join(ROOT, "node_modules", folder, file);
      entries.push({ url: `/vendor/${name}/${file}`, revision: digest(path) });
    }
  }
  const i18n = join(ROOT, "core", "i18n");
  const catalogues = readdirSync(i18n).filter((f) => f.endsWith(".json")).sort().map((f) => join(i18n, f));
  for (const path of catalogues) entries.push({ url: `/i18n/${relative(i18n, path)}`, revision: digest(path) });
  // The field page's shell: its template and the language list (one option per catalogue) make it.
  entries.push({ url: "/field", revision: digest(join(ROOT, "web", "templates", "field.html"), ...catalogues) });
  return entries;
}

const networkFirst = (cacheName, options = {}) => ({
  handler: "NetworkFirst",
  options: { cacheName, networkTimeoutSeconds: 8, cacheableResponse: { statuses: [200] }, ...options },
});

mkdirSync(OUT, { recursive: true });
const { count, size, warnings } = await generateSW({
  swDest: SW,
  globDirectory: STATIC,
  globPatterns: ["js/**/*.js", "css/**/*.css", "icons/**/*", "*.webmanifest"],
  globIgnores: ["js/sw.js"],  // the worker's own hand-written part (importScripts below)
  modifyURLPrefix: { "": "/static/" },
  additionalManifestEntries: extraEntries(),
  maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
  importScripts: ["/static/js/sw.js"],
  inlineWorkboxRuntime: true,
  mode: "production",
  sourcemap: false,
  skipWaiting: true,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  cacheId: "mahalle",
  directoryIndex: null,
  // `/field?lang=fa` is the precached /field: the page reads the language from its address itself.
  ignoreURLParametersMatching: [/^__WB_REVISION__$/, /^lang$/],
  runtimeCaching: [
    { urlPattern: ({ request, url }) => request.mode === "navigate" && url.pathname === "/", ...networkFirst("mahalle-pages") },
    { urlPattern: ({ url }) => url.pathname === "/layers" || url.pathname.startsWith("/layers/"), ...networkFirst("mahalle-data") },
    { urlPattern: ({ url }) => url.pathname === "/field/neighbourhoods" || url.pathname === "/field/mine", ...networkFirst("mahalle-data") },
    { urlPattern: ({ url }) => /^\/ogc\/collections\/[^/]+\/items/.test(url.pathname) || /^\/(tasks|interventions)(\/|$)/.test(url.pathname),
      ...networkFirst("mahalle-data", { expiration: { maxEntries: 500 } }) },
    { urlPattern: ({ url }) => /^\/ogc\/collections\/[^/]+\/tiles\//.test(url.pathname),
      ...networkFirst("mahalle-tiles", { networkTimeoutSeconds: 5, expiration: { maxEntries: 3000 } }) },
    { urlPattern: ({ url }) => /^\/attachments\/\d+\/thumbnail$/.test(url.pathname),
      handler: "CacheFirst", options: { cacheName: "mahalle-photos", cacheableResponse: { statuses: [200] }, expiration: { maxEntries: 500 } } },
  ],
});
for (const warning of warnings) console.warn(`build-sw: ${warning}`);
console.log(`build-sw: ${relative(ROOT, SW)} precaches ${count} files (${Math.round(size / 1024)} kB)`);
