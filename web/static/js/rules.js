// A rule of a layer the server named: problem details (and field-sync results) carry `rule` and `params` from
// the database's refusal (layers/ddl.py, layers/sql/rule_codes.sql, the plausibility rules of
// layers/sql/plausibility.sql: line_too_long, area_too_large, outside_extent, left_neighbourhood; docs/api.md
// "Errors"). Here they become the sentence in the user's language, from the "ui" keys `rule.<code>`
// (`rule.check.<name>` for a layer's own checks): attribute names become the attribute's label, values of a
// list their choices' labels, numbers the language's digits. Without a key for the rule, the server's English
// `detail` stays.

import { attribute, attributeLabel, displayValue, layerOf, layerTitle } from "./catalogue.js";
import { formatNumber, locale, t } from "./i18n.js";

const GEOMETRIES = ["point", "multipoint", "linestring", "multilinestring", "polygon", "multipolygon", "geometry",
  "geometrycollection"];

/** A translation of `key` if the catalogues have one, else null (t() answers the key itself when missing). */
function known(key, params) {
  const text = t(key, params);
  return text === key ? null : text;
}

/** Values as the language lists them: "a, b, or c" (`disjunction`, the choices allowed) or "x and y". */
function list(values, type = "conjunction") {
  const items = values.map((v) => String(v));
  try {
    return new Intl.ListFormat(locale(), { type }).format(items);
  } catch {
    return items.join(", ");
  }
}

/** One value of an attribute as people read it: a choice's label, a number in the language's digits. */
function shown(layer, name, value, type) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return list(value.map((v) => shown(layer, name, v)), type);
  if (typeof value === "number") return formatNumber(value);
  const attr = layer && attribute(layer, name);
  if (attr && (attr.type === "choice" || attr.type === "choices")) return displayValue(layer, name, value) || String(value);
  return String(value);
}

function number(value) {
  const n = Number(value);
  return value !== null && value !== "" && Number.isFinite(n) ? formatNumber(n) : String(value ?? "");
}

function geometryName(type) {
  const code = String(type || "").toLowerCase();
  return (GEOMETRIES.includes(code) && known(`rule.geometry.${code}`)) || code;
}

/** The words of each parameter of a rule, ready for the sentence. */
function words(params) {
  const layer = params.layer ? layerOf(params.layer) : null;
  const name = params.attribute;
  const out = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === "layer") out.layer = layer ? layerTitle(layer) : String(value);
    else if (key === "attribute") out.attribute = layer ? attributeLabel(layer, value) : String(value);
    else if (["value", "values", "allowed"].includes(key)) {
      out[key] = shown(layer, name, value, key === "allowed" ? "disjunction" : "conjunction");
    }
    else if (["expected", "got"].includes(key)) out[key] = geometryName(value);
    else if (key === "srid") out.srid = String(value);  // a code, not a quantity: EPSG:3857, never 3,857
    else if (typeof value === "number" || ["xmin", "xmax", "ymin", "ymax"].includes(key)) out[key] = number(value);
    else out[key] = value === null || value === undefined ? "" : String(value);
  }
  return out;
}

/** The sentence for a problem body (or field-sync result) with `rule`/`params`; null when there is no rule
 * or no translation for it (the caller shows the server's `detail`). */
export function ruleMessage(body) {
  if (!body || typeof body.rule !== "string" || !/^[a-z_]+$/.test(body.rule)) return null;
  const params = body.params && typeof body.params === "object" ? body.params : {};
  try {
    const filled = words(params);
    if (body.rule === "check") {  // a layer's own rule: its sentence, or the catalogue's English message
      const key = `rule.check.${params.layer}.${params.check}`;
      return /^rule\.check\.[a-z0-9_]+\.[a-z0-9_]+$/.test(key) ? known(key, filled) : null;
    }
    if (body.rule === "geometry_out_of_range") Object.assign(filled, { lon: formatNumber(180), lat: formatNumber(90) });
    // Plausibility rules (layers/sql/plausibility.sql): the neighbourhood by its name, else its code.
    if (body.rule === "left_neighbourhood" && !filled.neighbourhood) filled.neighbourhood = filled.code || "";
    return known(`rule.${body.rule}`, filled);
  } catch (error) {
    console.warn("rule message", body.rule, error);
    return null;
  }
}

/** The sentence for the rule, else the server's own words. */
export const problemText = (body) => ruleMessage(body) || (body && (body.detail || body.title)) || "";
