// The server-rendered pages (/login, /admin) in the language the user chose in the app. The server picks the
// page's language from `?lang=` or the browser's Accept-Language (the same first choice as i18n.js makes from
// navigator.languages); here a `?lang=` link is remembered, and a page opened without one comes back in the
// stored choice when that differs (i18n.js keeps it in localStorage "mahalle.lang").

const KEY = "mahalle.lang";
const offered = [...document.querySelectorAll("a[hreflang]")].map((a) => a.hreflang);
const url = new URL(location.href);
const asked = url.searchParams.get("lang");
const saved = localStorage.getItem(KEY);
if (asked !== null) {
  if (offered.includes(asked)) localStorage.setItem(KEY, asked);
} else if (saved && offered.includes(saved) && saved !== document.documentElement.lang) {
  url.searchParams.set("lang", saved);
  location.replace(url);
}
