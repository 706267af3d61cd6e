// The value lists' editor on the admin page: choose a list (intervention kinds, service categories, kinds of
// output …), translate its entries in every language, add an entry, retire or restore one, remove one no feature
// uses. The server decides (PUT/DELETE /vocabularies/…): a refusal shows its reason next to the entry.

import { request } from "./api.js";
import { el } from "./dom.js";
import { loadSession } from "./session.js";

const page = JSON.parse(document.getElementById("vocab-strings").textContent);
const LANGS = page.languages.map(([code]) => code);
const NAMES = Object.fromEntries(page.languages);
const lang = document.documentElement.lang;
const say = (key) => page.strings[`admin.vocab.${key}`] || key;  // the page's strings (admin.vocab.*)
const text = (label) => (label && (label[lang] || label.en)) || "";
const box = document.getElementById("vocab-editor");

let lists = [];
let layers = {};

async function load() {
  await loadSession();
  const [vocabularies, catalogue] = await Promise.all([request("GET", "/vocabularies"), request("GET", "/layers")]);
  lists = vocabularies.data;
  layers = Object.fromEntries(catalogue.data.map((l) => [l.name, l]));
}

const listName = (l) => `${text((layers[l.layer] || {}).title) || l.layer} — ${text(l.label) || l.attribute}`;

function status(node, message, ok) {
  node.textContent = message;
  node.className = ok ? "vocab-status ok" : "vocab-status form-error";
}

function labelInputs(entry, prefix) {
  return LANGS.map((code) => el("td", {},
    el("input", { type: "text", lang: code, dir: "auto", maxlength: 200, value: (entry.label || {})[code] || "",
      "aria-label": `${NAMES[code]} (${entry.value || say("new_value")})`, dataset: { lang: code }, id: `${prefix}-${code}` })));
}

const labelsOf = (row) => Object.fromEntries([...row.querySelectorAll("input[data-lang]")]
  .map((i) => [i.dataset.lang, i.value.trim()]).filter(([, v]) => v));

async function send(method, list, value, body, node) {
  try {
    const answer = await request(method, `/vocabularies/${list.layer}/${list.attribute}/${value}`, { body });
    return answer.data || true;
  } catch (error) {
    status(node, error.message || say("failed"), false);
    return null;
  }
}

function entryRow(list, entry) {
  const note = el("span", { class: "vocab-status", role: "status" });
  const row = el("tr", { class: entry.retired ? "inactive" : "", dataset: { value: entry.value } },
    el("th", { scope: "row" }, el("code", { text: entry.value })),
    ...labelInputs(entry, `v-${entry.value}`),
    el("td", { class: "nowrap", text: entry.retired ? say("retired") : say(entry.origin) }),
    el("td", { class: "vocab-actions" },
      el("button", { type: "button", class: "btn btn-small", text: say("save"), onclick: async () => {
        if (await send("PUT", list, entry.value, { label: labelsOf(row) }, note)) status(note, say("saved"), true);
      } }),
      list.fixed ? null : el("button", { type: "button", class: "btn btn-small", text: entry.retired ? say("restore") : say("retire"),
        onclick: async () => {
          const saved = await send("PUT", list, entry.value, { retired: !entry.retired }, note);
          if (saved) { entry.retired = saved.retired; row.replaceWith(entryRow(list, entry)); }
        } }),
      entry.origin === "office" ? el("button", { type: "button", class: "btn btn-small btn-danger", text: say("remove"),
        onclick: async () => {
          if (!window.confirm(say("remove_confirm").replace("{value}", entry.value))) return;
          if (await send("DELETE", list, entry.value, undefined, note)) { list.entries = list.entries.filter((e) => e !== entry); row.remove(); }
        } }) : null,
      note));
  return row;
}

function addRow(list, tbody) {
  const note = el("span", { class: "vocab-status", role: "status" });
  const value = el("input", { type: "text", id: "vocab-new-value", dir: "ltr", pattern: "[a-z][a-z0-9_]*", maxlength: 63,
    "aria-label": say("new_value"), placeholder: "traffic_signs", title: say("value_help") });
  const row = el("tr", { class: "vocab-new" }, el("th", { scope: "row" }, value), ...labelInputs({}, "vocab-new"),
    el("td", {}), el("td", { class: "vocab-actions" },
      el("button", { type: "button", class: "btn btn-primary btn-small", id: "vocab-add", text: say("add"), onclick: async () => {
        const saved = await send("PUT", list, value.value.trim(), { label: labelsOf(row) }, note);
        if (!saved) return;
        list.entries.push(saved);
        tbody.insertBefore(entryRow(list, saved), row);
        for (const input of row.querySelectorAll("input")) input.value = "";
        status(note, say("added"), true);
      } }), note));
  return row;
}

function show(list) {
  const tbody = el("tbody", {}, list.entries.map((e) => entryRow(list, e)));
  if (!list.fixed) tbody.append(addRow(list, tbody));
  return el("div", { class: "scroll-box", tabindex: 0, role: "region", "aria-label": listName(list) },
    list.fixed ? el("p", { class: "hint", text: say("fixed") }) : null,
    el("table", { class: "data-table", id: "vocab-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: say("value") }),
        ...LANGS.map((code) => el("th", { scope: "col", lang: code, text: NAMES[code] })),
        el("th", { scope: "col", text: say("state") }), el("th", { scope: "col" }))),
      tbody));
}

async function main() {
  try {
    await load();
  } catch (error) {
    box.replaceChildren(el("p", { class: "form-error", text: error.message || say("failed") }));
    return;
  }
  const chosen = new URL(location.href).hash.slice(1) || "interventions.kind";
  const select = el("select", { id: "vocab-list" }, lists.map((l) => el("option", { value: `${l.layer}.${l.attribute}`,
    text: listName(l), selected: `${l.layer}.${l.attribute}` === chosen })));
  const holder = el("div", {});
  const render = () => {
    const list = lists.find((l) => `${l.layer}.${l.attribute}` === select.value) || lists[0];
    holder.replaceChildren(show(list));
  };
  select.addEventListener("change", render);
  box.replaceChildren(el("label", { for: "vocab-list", class: "vocab-pick" }, say("list"), " ", select), holder);
  render();
  document.body.classList.add("vocab-ready");
}

main();
