// Translation catalogues (/i18n/<lang>.json, from core/i18n/), number and date formatting, text direction.
// Labels of layers, attributes and values come from the layer catalogue, not from here.
// The languages are the options of the page's language list, rendered by the server from the catalogues
// present (each option carries the language's text direction and Intl locale).

const options = () => [...document.querySelectorAll("#language option")];
export const LANGUAGES = options().map((o) => o.value);
const SETTINGS = Object.fromEntries(options().map((o) => [o.value, { dir: o.dataset.dir, locale: o.dataset.locale }]));

let lang = "en";
let strings = {};
let fallback = {};

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${code}`);
  return (await response.json()).ui || {};
}

export function storedLanguage() {
  const saved = localStorage.getItem("mahalle.lang");
  return LANGUAGES.includes(saved) ? saved : "en";
}

export async function setLanguage(code) {
  if (!LANGUAGES.includes(code)) code = "en";
  fallback = Object.keys(fallback).length ? fallback : await fetchCatalogue("en");
  strings = code === "en" ? fallback : await fetchCatalogue(code);
  lang = code;
  localStorage.setItem("mahalle.lang", code);
  document.documentElement.lang = code;
  document.documentElement.dir = isRTL() ? "rtl" : "ltr";
  translateStatic();
}

export const language = () => lang;
export const isRTL = () => (SETTINGS[lang] || {}).dir === "rtl";
export const locale = () => (SETTINGS[lang] || {}).locale || "en-GB";

/** The UI string `key` with {name} placeholders filled (numbers formatted for the language). A string
 * given as plural forms ({one: …, other: …}) takes the form CLDR's rule of the language gives for `params.n`. */
export function t(key, params = {}) {
  let text = strings[key] || fallback[key];
  if (text === undefined) {
    console.warn("missing translation", key);
    text = key;
  }
  if (typeof text === "object") text = text[new Intl.PluralRules(locale()).select(Number(params.n) || 0)] || text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null) return "";
    return typeof value === "number" ? formatNumber(value) : String(value);
  });
}

/** A translated label from the layer catalogue: {en, fa, ar, el}. */
export function label(value) {
  if (!value) return "";
  return value[lang] || value.en || "";
}

export function formatNumber(value, options = {}) {
  if (value === null || value === undefined || value === "") return "";
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 2, ...options }).format(number);
}

/** A date ("2026-05-31") in the language's calendar: Jalali with Persian digits in Persian. */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const options = { year: "numeric", month: "long", day: "numeric" };
  if (iso.length === 10) options.timeZone = "UTC";
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Fill elements marked data-i18n (text), data-i18n-aria-label, data-i18n-title, data-i18n-placeholder. */
export function translateStatic(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attr of ["aria-label", "title", "placeholder"]) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      node.setAttribute(attr, t(node.getAttribute(`data-i18n-${attr}`)));
    }
  }
}
