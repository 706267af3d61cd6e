// The Leaflet map: basemap (configurable, or none), every catalogue layer styled by its key attribute,
// large layers from vector tiles (MVT) when zoomed out, GeoJSON for the current view when zoomed in
// (those features can be clicked, edited and snapped to), labels, and a highlight layer.

import { get, withQuery } from "./api.js";
import { catalogue, colorFor, layerOf, spatialLayers } from "./catalogue.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";


export const EDIT_ZOOM = 16;      // from this zoom every visible layer is GeoJSON (editable)
const LARGE = 400;                // features: larger layers draw from vector tiles below EDIT_ZOOM
const MAX_IN_VIEW = 2000;
const LABEL_ZOOM = 17;
const MAX_LABELS = 300;
const HIDDEN_BY_DEFAULT = new Set(["assets", "observations"]);
const PANES = { tiles: 405, polygons: 410, lines: 420, points: 430, highlight: 460 };

export const mapState = {
  map: null,
  overlays: {},
  highlight: null,
  loading: 0,       // GeoJSON requests under way (tests wait for 0)
  onFeatureClick: () => {},
  onChange: () => {},
};

function polyfillVectorGrid() {
  // leaflet.vectorgrid 1.3 calls DomEvent.fakeStop, which Leaflet 1.8 removed. A no-op: the click must
  // still reach the map, or drawing could not place a vertex over a tiled feature.
  if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = () => {};
}

export function initMap(container, basemapUrl) {
  polyfillVectorGrid();
  // Whole zoom levels: vectorgrid finds the clicked feature wrongly on scaled (fractional-zoom) tiles.
  const map = L.map(container, { zoomSnap: 1, minZoom: 3, maxZoom: 21, keyboard: true, zoomControl: false });
  for (const [name, z] of Object.entries(PANES)) map.createPane(`mh-${name}`).style.zIndex = z;
  if (basemapUrl) {
    L.tileLayer(basemapUrl, { maxZoom: 21, maxNativeZoom: 19, pane: "tilePane" }).addTo(map);
  } else {
    container.classList.add("no-basemap");
  }
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(container.dataset.attribution);
  mapState.map = map;
  translateControls();
  mapState.highlight = L.geoJSON(null, {
    pane: "mh-highlight",
    interactive: false,
    style: () => ({ color: "#ffeb3b", weight: 7, opacity: 0.9, fillOpacity: 0.15, dashArray: null }),
    pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 11, color: "#ffeb3b", weight: 4, fillOpacity: 0.1 }),
  }).addTo(map);
  const saved = JSON.parse(localStorage.getItem("mahalle.visible") || "null");
  for (const layer of spatialLayers()) {
    const visible = saved ? saved.includes(layer.name) : !HIDDEN_BY_DEFAULT.has(layer.name);
    mapState.overlays[layer.name] = { layer, visible, tiles: null, geo: null, seq: 0, mode: null, truncated: false, heavyTiles: new Set(), lockedId: null };
  }
  let timer = null;
  map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(refreshAll, 200); });
  return map;
}

const drawing = () => mapState.map.pm.globalDrawModeEnabled();

/** Leaflet's own control titles, from our catalogues (again after a change of language). */
export function translateControls() {
  if (mapState.zoom) mapState.zoom.remove();
  mapState.zoom = L.control.zoom({ zoomInTitle: t("map.zoom_in"), zoomOutTitle: t("map.zoom_out") }).addTo(mapState.map);
}

export function refreshAll() {
  for (const name of Object.keys(mapState.overlays)) refresh(name);
}

export function setVisible(name, visible) {
  mapState.overlays[name].visible = visible;
  const names = Object.values(mapState.overlays).filter((o) => o.visible).map((o) => o.layer.name);
  localStorage.setItem("mahalle.visible", JSON.stringify(names));
  refresh(name);
}

/** Whether features of `name` are loaded as GeoJSON now (clickable with full data, editable, snappable). */
export const isEditableNow = (name) => {
  const overlay = mapState.overlays[name];
  return !!overlay && (catalogue.counts[name] <= LARGE || mapState.map.getZoom() >= EDIT_ZOOM);
};

export async function refresh(name) {
  const overlay = mapState.overlays[name];
  const map = mapState.map;
  if (!overlay.visible) {
    if (overlay.tiles) map.removeLayer(overlay.tiles);
    if (overlay.geo) removeGeo(overlay);
    overlay.mode = null;
    mapState.onChange(name);
    return;
  }
  if (!isEditableNow(name)) {
    if (overlay.geo) removeGeo(overlay);
    if (!overlay.tiles) overlay.tiles = vectorTiles(overlay.layer);
    if (!map.hasLayer(overlay.tiles)) overlay.tiles.addTo(map);
    overlay.mode = "tiles";
    mapState.onChange(name);
    return;
  }
  if (overlay.tiles && map.hasLayer(overlay.tiles)) map.removeLayer(overlay.tiles);
  overlay.mode = "features";
  await loadFeatures(overlay);
  mapState.onChange(name);
}

function removeGeo(overlay) {
  overlay.geo.eachLayer((l) => { if (l.feature.id !== overlay.lockedId) overlay.geo.removeLayer(l); });
  if (overlay.lockedId === null) mapState.map.removeLayer(overlay.geo);
}

async function loadFeatures(overlay) {
  const seq = ++overlay.seq;
  const b = mapState.map.getBounds().pad(0.2);
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  let data;
  mapState.loading += 1;
  try {
    data = await get(withQuery(`/ogc/collections/${overlay.layer.name}/items`, { bbox, limit: MAX_IN_VIEW }));
  } catch (error) {
    console.warn("could not load", overlay.layer.name, error);
    return;
  } finally {
    mapState.loading -= 1;
  }
  if (seq !== overlay.seq || !overlay.visible) return;  // a newer view was asked for meanwhile
  overlay.truncated = data.numberMatched > data.numberReturned;
  if (!overlay.geo) overlay.geo = geoLayer(overlay.layer);
  overlay.geo.eachLayer((l) => { if (l.feature.id !== overlay.lockedId) overlay.geo.removeLayer(l); });
  overlay.geo.addData({ type: "FeatureCollection", features: data.features.filter((f) => f.id !== overlay.lockedId) });
  if (!mapState.map.hasLayer(overlay.geo)) overlay.geo.addTo(mapState.map);
  labelFeatures(overlay);
}

function paneFor(geometry) {
  const type = geometry ? geometry.type : "";
  if (type.endsWith("Point")) return "mh-points";
  if (type.endsWith("LineString")) return "mh-lines";
  return "mh-polygons";
}

/** The style of one feature: colour from its key attribute's value; lines thicker as you zoom in. */
export function featureStyle(layer, properties, geometryType = "") {
  const color = colorFor(layer, properties);
  const zoom = mapState.map ? mapState.map.getZoom() : 15;
  // The boundary only: a filled area would catch every click meant for the features inside it.
  if (layer.name === "neighbourhoods") return { color: "#1f4e5f", weight: 3, dashArray: "6 4", fill: false };
  if (layer.name === "interventions") return { color, weight: 4, dashArray: "8 5", fillColor: color, fillOpacity: 0.25 };
  if (geometryType.includes("Line") || layer.geometry_type === "MultiLineString") {
    return { color, weight: zoom >= 17 ? 5 : zoom >= 15 ? 3.5 : 2, opacity: 0.9 };
  }
  return { color, weight: 1.2, fillColor: color, fillOpacity: 0.45, opacity: 0.9 };
}

function geoLayer(layer) {
  return L.geoJSON(null, {
    style: (f) => ({ ...featureStyle(layer, f.properties, f.geometry && f.geometry.type), pane: paneFor(f.geometry) }),
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      radius: 6, weight: 1.5, color: "#ffffff", fillColor: colorFor(layer, f.properties), fillOpacity: 0.95, pane: "mh-points",
    }),
    onEachFeature: (feature, leafletLayer) => {
      leafletLayer.on("click", (e) => {
        if (drawing()) return;  // the click places a vertex (snapped to this feature)
        mapState.onFeatureClick(layer.name, feature, leafletLayer, e);
      });
    },
  });
}

// vectorgrid does not pass a tile's headers on: its fetches carry `noteTile`, which reads the server's word on a tile
// cut at the feature limit or over its byte budget (Mahalle-Tile-Truncated, Mahalle-Tile-Over-Budget).
const plainFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  const response = plainFetch(input, init);
  if (init && init.noteTile) response.then(init.noteTile, () => {});
  return response;
};
const tileKey = (path) => (path.match(/(\d+)\/(\d+)\/(\d+)$/) || []).slice(1).join("/");

/** Whether some loaded tiles of `name` were cut or are over their budget (the panel says: zoom in). */
export const tilesHeavy = (name) => !!(mapState.overlays[name] && mapState.overlays[name].heavyTiles.size);

function vectorTiles(layer) {
  const overlay = mapState.overlays[layer.name];
  const note = (key, heavy) => {
    const before = overlay.heavyTiles.size;
    if (heavy) overlay.heavyTiles.add(key); else overlay.heavyTiles.delete(key);
    if (!before !== !overlay.heavyTiles.size) mapState.onChange(layer.name);
  };
  const noteTile = (response) => note(tileKey(new URL(response.url).pathname),
    response.headers.has("Mahalle-Tile-Truncated") || response.headers.has("Mahalle-Tile-Over-Budget"));
  const point = layer.geometry_type.includes("Point");
  const style = (properties) => {
    const s = featureStyle(layer, properties);
    if (point) return { radius: 4, weight: 1, color: "#ffffff", fill: true, fillColor: s.color, fillOpacity: 0.9 };
    return { ...s, fill: s.fillOpacity > 0 && !layer.geometry_type.includes("Line") };
  };
  const url = `/ogc/collections/${layer.name}/tiles/WebMercatorQuad/{z}/{y}/{x}`;
  const grid = L.vectorGrid.protobuf(url, {
    vectorTileLayerStyles: { [layer.name]: style },
    interactive: true,
    rendererFactory: L.canvas.tile,
    pane: "mh-tiles",
    maxNativeZoom: 22,
    fetchOptions: { noteTile },
    // The tile's feature id is not among its properties; keep it there so a click can open the feature.
    getFeatureId: (f) => { f.properties.__fid = f.id; return f.id; },
  });
  grid.on("tileunload", (e) => note(`${e.coords.z}/${e.coords.y}/${e.coords.x}`, false));
  grid.on("click", (e) => {
    if (drawing()) return;
    const id = e.layer.properties.__fid;
    if (id === undefined || id === null) return;  // pixel cells standing for many tiny features (zoom in for them)
    mapState.onFeatureClick(layer.name, { id, properties: e.layer.properties }, null, e);
  });
  return grid;
}

function labelFeatures(overlay) {
  const attr = overlay.layer.label_attribute;
  if (!attr) return;
  const many = overlay.geo.getLayers().length > MAX_LABELS;
  overlay.geo.eachLayer((l) => {
    const p = l.feature.properties;
    const short = p.length_m !== undefined && p.length_m !== null && p.length_m > 0 && p.length_m < 60;
    if (!p[attr] || many || short || mapState.map.getZoom() < LABEL_ZOOM) { l.unbindTooltip(); return; }
    const point = l instanceof L.CircleMarker;
    // A DOM node, not a string: Leaflet would insert a string as HTML.
    l.bindTooltip(el("span", { text: p[attr] }), { permanent: true, direction: point ? "right" : "center",
      offset: point ? [6, 0] : [0, 0], className: "map-label", opacity: 0.9 });
  });
}

/** Leaflet layer of a loaded feature, if it is on the map as GeoJSON. */
export function leafletLayerOf(name, id) {
  const overlay = mapState.overlays[name];
  if (!overlay || !overlay.geo) return null;
  return overlay.geo.getLayers().find((l) => l.feature.id === id) || null;
}

export function highlight(features, { fit = false } = {}) {
  mapState.highlight.clearLayers();
  const list = features.filter((f) => f && f.geometry);
  if (list.length) mapState.highlight.addData({ type: "FeatureCollection", features: list });
  if (fit && list.length) {
    const bounds = mapState.highlight.getBounds();
    if (bounds.isValid()) mapState.map.fitBounds(bounds, { maxZoom: 18, padding: [30, 30] });
  }
}

export function reload(name) {
  const overlay = mapState.overlays[name];
  if (!overlay) return;
  if (overlay.tiles) overlay.tiles.redraw();
  refresh(name);
}

export const layerMode = (name) => mapState.overlays[name] && mapState.overlays[name].mode;
export const truncated = (name) => mapState.overlays[name] && mapState.overlays[name].truncated;
export const spatial = (name) => !!(layerOf(name) && layerOf(name).geometry_type);
