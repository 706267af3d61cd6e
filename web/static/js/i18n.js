// Translation catalogues (/i18n/<lang>.json, from core/i18n/), number and date formatting, text direction.
// Labels of layers, attributes and values come from the layer catalogue, not from here.
// The languages are the options of the page's language list, rendered by the server from the catalogues
// present (each option carries the language's text direction and Intl locale: calendar and digits included).
//
// Which language a page opens in: `?lang=xx` in its address (then remembered), else the user's stored
// choice, else the first of the browser's languages (`navigator.languages`: fa-IR → fa, fr-CA → fr) that has
// a catalogue, else English. The server-rendered pages (/login, /admin) negotiate the same way from
// Accept-Language, and web/static/js/pagelang.js brings them to the stored choice.
//
// Every number and date the app shows is formatted here (formatNumber, formatDate, formatDateTime, or an Intl
// formatter built with locale()), so the digits the user chose (Arabic-Indic or Latin, remembered per language)
// and the calendar (Jalali in Persian) apply everywhere.

import { watchDateInputs } from "./jalali.js";

const options = () => [...document.querySelectorAll("#language option")];
export const LANGUAGES = options().map((o) => o.value);
const SETTINGS = Object.fromEntries(options().map((o) => [o.value, { dir: o.dataset.dir, locale: o.dataset.locale }]));
const KEY = "mahalle.lang";
const DIGITS_KEY = (code) => `mahalle.digits.${code}`;

let lang = "en";
let strings = {};
let fallback = {};

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${code}`);
  return (await response.json()).ui || {};
}

/** The first of the browser's languages that has a catalogue (its primary subtag will do), else English. */
export function browserLanguage(tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]) {
  for (const tag of tags) {
    const code = String(tag || "").toLowerCase();
    if (LANGUAGES.includes(code)) return code;
    const primary = code.split(/[-_]/)[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return LANGUAGES.includes("en") ? "en" : LANGUAGES[0] || "en";
}

/** The language to open in: `?lang=` (remembered, and taken out of the address), the stored choice, the browser's. */
export function storedLanguage() {
  const url = new URL(location.href);
  const asked = url.searchParams.get("lang");
  if (asked !== null) {
    url.searchParams.delete("lang");
    history.replaceState(history.state, "", url);
    if (LANGUAGES.includes(asked)) {
      localStorage.setItem(KEY, asked);
      return asked;
    }
  }
  const saved = localStorage.getItem(KEY);
  return LANGUAGES.includes(saved) ? saved : browserLanguage();
}

export async function setLanguage(code) {
  if (!LANGUAGES.includes(code)) code = "en";
  fallback = Object.keys(fallback).length ? fallback : await fetchCatalogue("en");
  strings = code === "en" ? fallback : await fetchCatalogue(code);
  lang = code;
  // Remembered once the user has chosen (or it differs from what the browser's languages would give).
  if (localStorage.getItem(KEY) !== null || code !== browserLanguage()) localStorage.setItem(KEY, code);
  document.documentElement.lang = code;
  document.documentElement.dir = isRTL() ? "rtl" : "ltr";
  translateStatic();
  showDigitsChoice();
  watchDateInputs();
}

export const language = () => lang;
export const isRTL = () => (SETTINGS[lang] || {}).dir === "rtl";
const baseLocale = (code = lang) => (SETTINGS[code] || {}).locale || "en-GB";

/** The numbering systems the user may choose from in `code`: its own and Latin digits when its own are not
 * Latin (Arabic: Arabic-Indic or Latin, as Moroccan offices write), none otherwise. */
export function digitChoices(code = lang) {
  const own = new Intl.Locale(baseLocale(code)).numberingSystem || "latn";
  return own === "latn" ? [] : [own, "latn"];
}

/** The digits numbers and dates are written with in `code`: the user's choice (localStorage), else the language's. */
export function digits(code = lang) {
  const choices = digitChoices(code);
  const chosen = localStorage.getItem(DIGITS_KEY(code));
  return choices.includes(chosen) ? chosen : choices[0] || "latn";
}

export function setDigits(system, code = lang) {
  if (digitChoices(code).includes(system)) localStorage.setItem(DIGITS_KEY(code), system);
}

/** The BCP 47 locale every Intl formatter of the app uses: the language's, with the chosen digits. */
export function locale() {
  const base = baseLocale();
  return digitChoices().length ? new Intl.Locale(base, { numberingSystem: digits() }).toString() : base;
}

/** The calendar dates are shown and typed in ("persian": Jalali; "gregory" otherwise). */
export const calendar = () => new Intl.Locale(baseLocale()).calendar || "gregory";

/** An Intl.NumberFormat / DateTimeFormat for the language and the chosen digits (for charts, units …). */
export const numberFormat = (options = {}) => new Intl.NumberFormat(locale(), options);
export const dateTimeFormat = (options = {}) => new Intl.DateTimeFormat(locale(), options);
export const pluralRules = (options = {}) => new Intl.PluralRules(locale(), options);

/** The digits list of the menu (#digits, inside #digits-field): shown for a language with a choice. */
function showDigitsChoice() {
  const select = document.getElementById("digits");
  if (!select) return;
  const choices = digitChoices();
  const holder = document.getElementById("digits-field") || select;
  holder.hidden = !choices.length;
  select.replaceChildren(...choices.map((system) => {
    const sample = new Intl.NumberFormat(new Intl.Locale(baseLocale(), { numberingSystem: system }).toString(),
      { useGrouping: false }).format(123);
    return new Option(`${t(`digits.${system}`)} (${sample})`, system);
  }));
  select.value = digits();
  if (!select.dataset.wired) {
    select.dataset.wired = "1";
    // The page redraws itself on a change of the language list: the same language, new digits.
    select.addEventListener("change", () => {
      setDigits(select.value);
      const languages = document.getElementById("language");
      if (languages) languages.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
}

/** The UI string `key` with {name} placeholders filled (numbers formatted for the language). A string
 * given as plural forms ({one: …, other: …}) takes the form CLDR's rule of the language gives for `params.n`. */
export function t(key, params = {}) {
  let text = strings[key] || fallback[key];
  if (text === undefined) {
    console.warn("missing translation", key);
    text = key;
  }
  if (typeof text === "object") text = text[pluralRules().select(Number(params.n) || 0)] || text.other;
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
  return numberFormat({ maximumFractionDigits: 2, ...options }).format(number);
}

/** A date ("2026-05-31") in the language's calendar: Jalali with Persian digits in Persian. */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const options = { year: "numeric", month: "long", day: "numeric" };
  if (iso.length === 10) options.timeZone = "UTC";
  return dateTimeFormat(options).format(date);
}

export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return dateTimeFormat({ dateStyle: "medium", timeStyle: "short" }).format(date);
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
