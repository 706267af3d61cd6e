// Translation catalogues (web/i18n/<lang>.json), number and date formatting, text direction.
// Labels of layers, attributes and values come from the layer catalogue, not from here.

const RTL = new Set(["fa", "ar"]);
const LOCALES = { en: "en-GB", fa: "fa-IR-u-ca-persian", ar: "ar-u-nu-arab", el: "el-GR" };
const NUMBER_LOCALES = { en: "en-GB", fa: "fa-IR", ar: "ar-u-nu-arab", el: "el-GR" };
export const LANGUAGES = ["en", "fa", "ar", "el"];

let lang = "en";
let strings = {};
let fallback = {};

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${code}`);
  return response.json();
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
export const isRTL = () => RTL.has(lang);
export const locale = () => LOCALES[lang];

/** The UI string `key` with {name} placeholders filled (numbers formatted for the language). */
export function t(key, params = {}) {
  let text = strings[key] ?? fallback[key];
  if (text === undefined) {
    console.warn("missing translation", key);
    text = key;
  }
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
  return new Intl.NumberFormat(NUMBER_LOCALES[lang], { maximumFractionDigits: 2, ...options }).format(number);
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
