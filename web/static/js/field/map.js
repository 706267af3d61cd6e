// The field map: the downloaded neighbourhood's layers drawn from the device's copy (no request to the server),
// the GPS position with its accuracy circle, the changes still waiting, and a tap to pick a place.
// Leaflet is a plain script (/vendor/leaflet/leaflet.js, kept by the service worker like every module).

import { colorFor, layerOf, layerTitle } from "../catalogue.js";
import { t } from "../i18n.js";

const L = window.L;
export const view = { map: null, layers: {}, outline: null, control: null, queued: null, gps: null, pick: null };
export const hooks = { onFeature: () => {}, onChoice: () => {} };

const ORDER = { MultiPolygon: 0, Polygon: 0, Geometry: 1, MultiLineString: 2, LineString: 2, MultiPoint: 3, Point: 3 };
let renderer = null;

export function initMap(element) {
  renderer = L.canvas({ tolerance: 10, padding: 0.3 });  // a finger is wider than a mouse pointer
  const map = L.map(element, { zoomControl: true, renderer, preferCanvas: true, tap: true, attributionControl: true, zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(element.dataset.attribution || "");
  map.setView([20, 0], 3);
  map.on("click", (event) => {
    if (view.pick) { const done = view.pick; view.pick = null; done(event.latlng); }
  });
  map.on("zoomend", resizePoints);
  view.map = map;
  view.queued = L.layerGroup().addTo(map);
  return map;
}

/** The points drawn within a finger's width of a spot of the map. */
function nearbyPoints(point, within = 14) {
  const found = [];
  for (const [name, group] of Object.entries(view.layers)) {
    group.eachLayer((leaflet) => {
      if (leaflet.getLatLng && view.map.latLngToContainerPoint(leaflet.getLatLng()).distanceTo(point) <= within) found.push({ name, feature: leaflet.feature });
    });
  }
  return found;
}

/** Points grow as the map zooms in (a whole neighbourhood of street lights would hide everything else). */
const pointSize = (zoom) => (zoom >= 18 ? { radius: 7, weight: 2 } : zoom >= 17 ? { radius: 5, weight: 1.5 }
  : zoom >= 16 ? { radius: 3.5, weight: 1 } : { radius: 2.5, weight: 0.5 });

function resizePoints() {
  const size = pointSize(view.map.getZoom());
  for (const group of Object.values(view.layers)) {
    group.eachLayer((leaflet) => { if (leaflet.setRadius) leaflet.setRadius(size.radius).setStyle({ weight: size.weight }); });
  }
}

function style(layer) {
  return (feature) => {
    const color = colorFor(layer, feature.properties);
    const type = feature.geometry && feature.geometry.type;
    if (type && type.includes("Polygon")) return { color, weight: 1, fillOpacity: layer.name === "parcels" ? 0.08 : 0.3 };
    return { color, weight: 3, opacity: 0.9 };
  };
}

/** Draw a downloaded package (GET /field/extract); the map fits the neighbourhood. */
export function drawExtract(pkg) {
  const map = view.map;
  for (const group of Object.values(view.layers)) group.remove();
  if (view.outline) view.outline.remove();
  if (view.control) view.control.remove();
  view.layers = {};
  const names = Object.keys(pkg.layers || {}).filter((name) => layerOf(name))
    .sort((a, b) => (ORDER[layerOf(a).geometry_type] ?? 1) - (ORDER[layerOf(b).geometry_type] ?? 1));
  const overlays = {};
  for (const name of names) {
    const layer = layerOf(name);
    const group = L.geoJSON(pkg.layers[name], {
      renderer,
      style: style(layer),
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { renderer, ...pointSize(map.getZoom()), color: "#fff",
        fillColor: colorFor(layer, feature.properties), fillOpacity: 0.95 }),
      onEachFeature: (feature, leaflet) => leaflet.on("click", (event) => {
        if (view.pick) return;  // the map's click places the point
        L.DomEvent.stopPropagation(event);
        // Points at the same spot (a shop mapped as a service point and as a workshop): let the user choose.
        const near = nearbyPoints(event.containerPoint);
        const all = near.some((x) => x.name === name && x.feature.id === feature.id) ? near : [{ name, feature }, ...near];
        if (all.length > 1) hooks.onChoice(all); else hooks.onFeature(name, feature);
      }),
    }).addTo(map);
    view.layers[name] = group;
    overlays[layerTitle(layer)] = group;
  }
  const outline = pkg.neighbourhood && pkg.neighbourhood.outline;
  if (outline) {
    view.outline = L.geoJSON(outline, { interactive: false, style: { color: "#1f4e5f", weight: 3, dashArray: "6 6", fill: false } }).addTo(map);
    view.pendingFit = view.outline.getBounds();
    fitPending();
  }
  view.control = L.control.layers(null, overlays, { collapsed: true, position: "topright" }).addTo(map);
}

/** Once the map is on screen (a hidden map has no size to fit anything in): its size, and the neighbourhood. */
export function fitPending() {
  const map = view.map;
  if (!map || !map.getContainer().offsetWidth) return;
  map.invalidateSize();
  if (view.pendingFit) {
    map.fitBounds(view.pendingFit, { padding: [8, 8] });
    view.pendingFit = null;
  }
}

/** The observations and edits still waiting on the device, drawn over the map. */
export function drawQueued(changes) {
  if (!view.queued) return;
  view.queued.clearLayers();
  for (const change of changes) {
    if (change.op !== "create" || !change.geometry || change.geometry.type !== "Point") continue;
    const [lon, lat] = change.geometry.coordinates;
    L.circleMarker([lat, lon], { renderer, radius: 9, weight: 3, color: "#fff", fillColor: change.state === "waiting" ? "#ef6c00" : "#c62828",
      fillOpacity: 1, interactive: false }).addTo(view.queued);
  }
}

/** The GPS position and its accuracy circle (metres). */
export function showPosition(position) {
  const map = view.map;
  if (!map) return;
  const latlng = [position.lat, position.lon];
  if (!view.gps) {
    view.gps = {
      circle: L.circle(latlng, { radius: position.accuracy, interactive: false, color: "#1565c0", weight: 1, fillOpacity: 0.12 }).addTo(map),
      dot: L.circleMarker(latlng, { radius: 7, interactive: false, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1 }).addTo(map),
    };
  } else {
    view.gps.circle.setLatLng(latlng).setRadius(position.accuracy);
    view.gps.dot.setLatLng(latlng);
  }
}

/** Whether a position lies in the neighbourhood on the map (then the map opens on it). */
export function inNeighbourhood(position) {
  return !!(view.outline && view.outline.getBounds().contains([position.lat, position.lon]));
}

/** Show the surroundings of a position (some 150 m around it), now or when the map is next on screen. */
export function centreOn(position) {
  if (!view.map) return;
  view.pendingFit = L.latLng(position.lat, position.lon).toBounds(Math.max(300, 2 * position.accuracy));
  fitPending();
}

/** Wait for a tap on the map; resolves with {lat, lon}, or null when cancelled. */
export function pickPoint() {
  return new Promise((resolve) => {
    view.pick = (latlng) => resolve({ lat: latlng.lat, lon: latlng.lng });
    view.cancelPick = () => { view.pick = null; resolve(null); };
  });
}

export function cancelPick() { if (view.pick && view.cancelPick) view.cancelPick(); }

export function translateMap() {
  if (view.map && view.map.zoomControl) {
    const zoom = view.map.zoomControl.getContainer();
    const [zin, zout] = zoom.querySelectorAll("a");
    if (zin) { zin.title = t("map.zoom_in"); zin.setAttribute("aria-label", t("map.zoom_in")); }
    if (zout) { zout.title = t("map.zoom_out"); zout.setAttribute("aria-label", t("map.zoom_out")); }
  }
}
