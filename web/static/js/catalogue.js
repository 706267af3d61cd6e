// The layer catalogue (GET /layers): forms, legends, tables and styles are generated from it.

import { me } from "./session.js";
import { get } from "./api.js";
import { formatDate, formatDateTime, formatNumber, label, t } from "./i18n.js";

// Colours for value lists that carry none (distinct, readable on a light map).
const PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e",
  "#283593", "#558b2f", "#f9a825", "#37474f", "#d84315", "#00695c", "#8e24aa", "#5d4037"];
const FALLBACK_COLOR = "#546e7a";

export const catalogue = { layers: [], byName: {}, counts: {} };

export async function loadCatalogue() {
  const layers = await get("/layers?counts=true");
  catalogue.layers = layers;
  catalogue.byName = Object.fromEntries(layers.map((l) => [l.name, l]));
  catalogue.counts = Object.fromEntries(layers.map((l) => [l.name, l.feature_count || 0]));
  return catalogue;
}

export const layerOf = (name) => catalogue.byName[name];
// The layers this visitor may read: all of them once logged in; the public ones (streets, service points, …)
// for an anonymous visitor, so the map neither lists empty private layers nor asks the server for them.
export const spatialLayers = () =>
  catalogue.layers.filter((l) => l.geometry_type && (me.user || me.open || l.public !== false));
export const attribute = (layer, name) => layer.attributes.find((a) => a.name === name);
export const layerTitle = (layer) => label(layer.title) || layer.name;

export function attributeLabel(layer, name) {
  const attr = attribute(layer, name);
  if (attr) return label(attr.label) || name;
  const system = `system.${name}`;
  const text = t(system);
  return text === system ? name : text;
}

/** The colour of each value of the layer's key attribute. */
export function legend(layer) {
  const attr = layer.key_attribute && attribute(layer, layer.key_attribute);
  if (!attr) return [];
  return attr.choices.map((c, i) => ({ value: c.value, label: label(c.label), color: c.color || PALETTE[i % PALETTE.length] }));
}

const colorCache = new Map();
export function colorFor(layer, properties) {
  let map = colorCache.get(layer.name);
  if (!map) {
    map = new Map(legend(layer).map((entry) => [entry.value, entry.color]));
    colorCache.set(layer.name, map);
  }
  const value = layer.key_attribute && properties ? properties[layer.key_attribute] : null;
  return map.get(value) || FALLBACK_COLOR;
}

/** A property value as text for people: value-list labels, localized numbers and dates. */
export function displayValue(layer, name, value) {
  if (value === null || value === undefined || value === "") return "";
  const attr = attribute(layer, name);
  const type = attr ? attr.type : { area_m2: "number", length_m: "number", version: "integer",
    created_at: "datetime", updated_at: "datetime" }[name];
  if (attr && (attr.type === "choice" || attr.type === "choices")) {
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => label((attr.choices.find((c) => c.value === v) || {}).label) || String(v)).join(", ");
  }
  if (type === "number" || type === "integer") {
    const unit = attr && attr.unit ? ` ${unitLabel(attr.unit)}` : name === "area_m2" ? ` ${t("unit.m2")}` : name === "length_m" ? ` ${t("unit.m")}` : "";
    return formatNumber(value) + unit;
  }
  if (type === "boolean") return value ? t("value.yes") : t("value.no");
  if (type === "date") return formatDate(value);
  if (type === "datetime") return formatDateTime(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function unitLabel(unit) {
  const key = `unit.${unit.replace("²", "2")}`;
  const text = t(key);
  return text === key ? unit : text;
}

/** What can be drawn for a layer: Geoman shapes. */
export function drawShapes(layer) {
  switch (layer.geometry_type) {
    case "Point": case "MultiPoint": return ["Marker"];
    case "MultiLineString": return ["Line"];
    case "MultiPolygon": return ["Polygon"];
    case "Geometry": return ["Marker", "Line", "Polygon"];
    default: return [];
  }
}

/** Leaflet's GeoJSON → the layer's geometry type (lines and areas are stored as Multi*). */
export function fitGeometry(layer, geometry) {
  if (!geometry) return geometry;
  const multi = { LineString: "MultiLineString", Polygon: "MultiPolygon", Point: "MultiPoint" }[geometry.type];
  if (multi && (layer.geometry_type === multi || (layer.geometry_type === "Geometry" && multi !== "MultiPoint"))) {
    return { type: multi, coordinates: [geometry.coordinates] };
  }
  return geometry;
}
