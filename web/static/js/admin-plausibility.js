// Plausibility rules on the admin page: per layer, the longest line, the largest area, how far from the
// neighbourhoods, and no feature moved out of its neighbourhood (docs/plausibility.md). Each rule: its limit and
// whether it is applied; a new rule by layer and kind. The database decides (PUT/DELETE /plausibility-rules/…):
// a rule that does not fit its layer, or a limit out of range, shows the server's reason next to the rule.

import { get, request } from "./api.js";
import { el } from "./dom.js";
import { loadSession } from "./session.js";

const page = JSON.parse(document.getElementById("plausibility-data").textContent);
const say = (key) => page.strings[key] || key;  // the page's strings (admin.plausibility.<key>)
const box = document.getElementById("plausibility-editor");
const RULES = ["max_length", "max_area", "near_neighbourhoods", "keep_neighbourhood"];
const NO_VALUE = "keep_neighbourhood";
let titles = {};

const ruleName = (rule) => say(`rule.${rule}`);
const layerName = (name) => titles[name] || name;
const path = (layer, rule) => `/plausibility-rules/${encodeURIComponent(layer)}/${encodeURIComponent(rule)}`;

function status(node, message, ok) {
  node.textContent = message;
  node.className = ok ? "vocab-status ok" : "vocab-status form-error";
}

function limitInput(id, rule, value) {
  return el("input", { type: "number", id, min: 0, step: "any", dir: "ltr", class: "plausibility-limit",
    value: value ?? "", disabled: rule === NO_VALUE, "aria-label": say("limit") });
}

/** The rules by layer (as the page's language names them), then in the order of RULES. */
const byLayer = (a, b) => layerName(a.layer).localeCompare(layerName(b.layer), document.documentElement.lang)
  || RULES.indexOf(a.rule) - RULES.indexOf(b.rule);

async function save(layer, rule, limit, applied, note, after) {
  const body = { value: rule === NO_VALUE || limit.value === "" ? null : Number(limit.value), enabled: applied.checked };
  try {
    await request("PUT", path(layer, rule), { body });
    status(note, say("saved"), true);
    if (after) await after();
  } catch (error) { status(note, error.message || say("failed"), false); }
}

function ruleRow(r) {
  const id = `plausibility-${r.layer}-${r.rule}`;
  const note = el("span", { class: "vocab-status", role: "status" });
  const limit = limitInput(`${id}-limit`, r.rule, r.value);
  const applied = el("input", { type: "checkbox", id: `${id}-applied`, checked: r.enabled, "aria-label": say("applied") });
  const row = el("tr", { dataset: { layer: r.layer, rule: r.rule } },
    el("th", { scope: "row" }, el("bdi", { text: layerName(r.layer) })),
    el("td", { text: ruleName(r.rule) }),
    el("td", {}, r.rule === NO_VALUE ? el("span", { class: "muted", text: "—" }) : limit),
    el("td", {}, applied),
    el("td", { class: "vocab-actions" },
      el("button", { type: "button", class: "btn btn-primary btn-small", id: `${id}-save`, text: say("save"),
        onclick: () => save(r.layer, r.rule, limit, applied, note) }),
      el("button", { type: "button", class: "btn btn-small btn-danger", id: `${id}-remove`, text: say("remove"),
        onclick: async () => {
          const name = `${ruleName(r.rule)} · ${layerName(r.layer)}`;
          if (!window.confirm(say("remove_confirm").replace("{name}", name))) return;
          try {
            await request("DELETE", path(r.layer, r.rule));
            row.remove();
          } catch (error) { status(note, error.message || say("failed"), false); }
        } })),
    el("td", {}, note));  // not in the buttons' cell, which does not wrap
  return row;
}

function newRule(layers) {
  const note = el("p", { class: "vocab-status", role: "status" });
  const layer = el("select", { id: "plausibility-new-layer" },
    layers.map((l) => el("option", { value: l.name, text: layerName(l.name) })));
  const rule = el("select", { id: "plausibility-new-rule" }, RULES.map((k) => el("option", { value: k, text: ruleName(k) })));
  const limit = limitInput("plausibility-new-limit", rule.value, "");
  const applied = { checked: true };  // a new rule is applied
  rule.addEventListener("change", () => { limit.disabled = rule.value === NO_VALUE; });
  return el("fieldset", { class: "group-form" },
    el("legend", { text: say("new") }),
    el("label", { for: layer.id }, say("layer"), " ", layer),
    el("label", { for: rule.id }, say("rule"), " ", rule),
    el("label", { for: limit.id }, say("limit"), " ", limit),
    el("div", { class: "vocab-actions" },
      el("button", { type: "button", class: "btn btn-primary btn-small", id: "plausibility-add", text: say("add"),
        onclick: () => save(layer.value, rule.value, limit, applied, note, render) })),
    note);
}

async function render() {
  const [rules, layers] = await Promise.all([get("/plausibility-rules"), get("/layers")]);
  const lang = document.documentElement.lang;
  titles = Object.fromEntries(layers.map((l) => [l.name, (l.title && (l.title[lang] || l.title.en)) || l.name]));
  const spatial = layers.filter((l) => l.geometry_type);
  const table = el("table", { class: "data-table", id: "plausibility-rules" },
    el("thead", {}, el("tr", {}, ["layer", "rule", "limit", "applied"].map((k) => el("th", { scope: "col", text: say(k) })),
      el("td", {}), el("td", {}))),
    el("tbody", {}, [...rules].sort(byLayer).map(ruleRow)));
  box.replaceChildren(
    rules.length ? el("div", { class: "scroll-box", tabindex: 0, role: "region", "aria-label": say("title") }, table)
      : el("p", { class: "muted", text: say("none") }),
    newRule(spatial));
  document.body.classList.add("plausibility-ready");
}

loadSession().then(render).catch((error) => box.replaceChildren(el("p", { class: "form-error", text: error.message || say("failed") })));
