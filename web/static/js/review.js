// The planners' review queue (GET /review): new field observations — category, note, when, who, photos, where —
// each accepted as a new feature of a chosen layer (at the observation's point), an intervention proposal or a
// task, or rejected with a reason the field worker reads; and conflicting field edits, the field's values beside
// the server's, settled by keeping one or the other. The server decides every step (what a reason needs, which
// layer a point may join, who may review): its messages are shown where the planner acted.

import { ApiError, get, request, withQuery } from "./api.js";
import { attribute, attributeLabel, displayValue, layerOf, layerTitle, spatialLayers } from "./catalogue.js";
import { clear, el, toast } from "./dom.js";
import { buildForm } from "./form.js";
import { formatDateTime, formatNumber, label, t } from "./i18n.js";
import { highlight } from "./mapview.js";
import { photoStrip } from "./photos.js";
import { canCreate, errorNode } from "./session.js";

export const hooks = { neighbourhood: () => "", showMap: () => {}, openFeature: () => {} };
const state = { all: false };
const NOT_A_TARGET = new Set(["observations", "neighbourhoods", "interventions"]);
let root = null;

const observations = () => layerOf("observations");
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export async function renderReview(container) {
  root = container;
  let queue;
  try {
    queue = await get(withQuery("/review", { neighbourhood: state.all ? "" : hooks.neighbourhood() }));
  } catch (error) {
    clear(container).append(el("h2", { text: t("review.title") }), errorNode(error));
    return;
  }
  const all = el("input", { type: "checkbox", id: "review-all", checked: state.all,
    onchange: (e) => { state.all = e.target.checked; renderReview(container); } });
  const obs = queue.observations || [];
  const conflicts = queue.conflicts || [];
  clear(container).append(
    el("div", { class: "review-head" },
      el("h2", { text: t("review.title") }),
      el("label", { class: "check" }, all, " ", t("board.all_neighbourhoods")),
      el("button", { type: "button", class: "btn btn-small", id: "review-refresh", onclick: () => renderReview(container), text: t("review.refresh") })),
    el("section", { class: "review-section", id: "review-observations", "aria-labelledby": "review-obs-title" },
      el("h3", { id: "review-obs-title" }, t("review.observations"), " ", el("span", { class: "count", text: formatNumber(obs.length) })),
      obs.length ? el("ol", { class: "review-list" }, obs.map(observationCard))
        : el("p", { class: "muted", id: "review-no-observations", text: t("review.no_observations") })),
    el("section", { class: "review-section", id: "review-conflicts", "aria-labelledby": "review-conflicts-title" },
      el("h3", { id: "review-conflicts-title" }, t("review.conflicts"), " ", el("span", { class: "count", text: formatNumber(conflicts.length) })),
      el("p", { class: "hint", text: t("review.conflicts_help") }),
      conflicts.length ? el("ol", { class: "review-list" }, conflicts.map(conflictCard))
        : el("p", { class: "muted", id: "review-no-conflicts", text: t("review.no_conflicts") })));
}

function showOnMap(features) {
  hooks.showMap();
  setTimeout(() => highlight(features, { fit: true }), 100);
}

// Observations -----------------------------------------------------------------------------------

function pointOf(o) {
  return { type: "Feature", id: o.id, properties: { category: o.category }, geometry: { type: "Point", coordinates: [o.lon, o.lat] } };
}

function observationCard(o) {
  const layer = observations();
  const who = o.observer || o.created_by;
  const box = el("div", { class: "decision" });
  const choices = [["task", "review.as_task"], ["intervention", "review.as_intervention"], ["feature", "review.as_feature"], ["reject", "review.reject"]];
  const buttons = choices.map(([action, key]) => el("button", { type: "button", class: action === "reject" ? "btn btn-danger" : "btn",
    dataset: { action }, "aria-expanded": "false", onclick: (e) => choose(action, e.currentTarget) }, t(key)));
  function choose(action, button) {
    const again = button.getAttribute("aria-expanded") === "true";
    for (const b of buttons) b.setAttribute("aria-expanded", "false");
    clear(box);
    if (again) return;
    button.setAttribute("aria-expanded", "true");
    box.append(decisionForm(o, action));
    const first = box.querySelector("select, input, textarea");
    if (first) first.focus();
  }
  return el("li", { class: "review-card", dataset: { observation: o.id } },
    el("div", { class: "review-card-head" },
      el("span", { class: "tag category", text: displayValue(layer, "category", o.category) }),
      el("span", { class: "muted" }, el("time", { datetime: o.captured_at, text: formatDateTime(o.captured_at) }),
        who ? ` · ${t("review.by", { who })}` : "",
        o.accuracy_m !== null && o.accuracy_m !== undefined ? ` · ${t("review.accuracy", { m: formatNumber(o.accuracy_m, { maximumFractionDigits: 0 }) })}` : "")),
    el("p", { class: "review-note", dir: "auto", text: o.note || t("review.no_note") }),
    o.photos && o.photos.length ? photoStrip(o.photos) : null,
    el("div", { class: "row" },
      el("button", { type: "button", class: "btn btn-small", dataset: { showObservation: o.id }, onclick: () => showOnMap([pointOf(o)]), text: t("board.show_on_map") }),
      el("span", { class: "muted coords", dir: "ltr", text: `${formatNumber(o.lat, { maximumFractionDigits: 5 })}, ${formatNumber(o.lon, { maximumFractionDigits: 5 })}` })),
    el("div", { class: "decision-buttons", role: "group", "aria-label": t("review.decide") }, buttons),
    box);
}

/** Layers a point may join that the user may add to (the server checks again). */
function pointLayers() {
  return spatialLayers().filter((l) => !NOT_A_TARGET.has(l.name) && /Point/.test(l.geometry_type || "") && canCreate(l.name));
}

function choiceSelect(layerName, attrName, id, selected = null) {
  const attr = attribute(layerOf(layerName), attrName);
  return el("select", { id, name: attrName },
    attr.choices.map((c) => el("option", { value: c.value, text: label(c.label), selected: c.value === (selected ?? attr.default) })));
}

function decisionForm(o, action) {
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const fail = (e) => {
    if (!(e instanceof ApiError)) throw e;
    error.textContent = e.message;
    error.hidden = false;
  };
  const send = async (body, submit) => {
    error.hidden = true;
    submit.disabled = true;
    try {
      const outcome = (await request("POST", `/review/observations/${o.id}`, { body })).data;
      toast(outcomeText(o, outcome), "ok");
      renderReview(root);
    } catch (e) {
      submit.disabled = false;
      fail(e);
    }
  };
  const id = (name) => `review-${o.id}-${name}`;
  const field = (text, control, required = false) => el("div", { class: "field" },
    el("label", { for: control.id }, text, required ? el("span", { class: "required", title: t("form.required"), text: " *" }) : null),
    control);
  const text = o.note || displayValue(observations(), "category", o.category);

  if (action === "task") {
    const title = el("input", { type: "text", id: id("title"), value: text.slice(0, 300), dir: "auto" });
    const domain = choiceSelect("tasks", "domain", id("domain"), "urban_physical");
    const priority = choiceSelect("tasks", "priority", id("priority"));
    const submit = el("button", { type: "button", class: "btn btn-primary", dataset: { submit: "task" }, text: t("review.create_task") });
    submit.onclick = () => send({ action: "task", properties: { title: title.value, domain: domain.value, priority: priority.value } }, submit);
    const tasks = layerOf("tasks");
    return el("div", { class: "decision-form" }, error, field(attributeLabel(tasks, "title"), title, true),
      field(attributeLabel(tasks, "domain"), domain), field(attributeLabel(tasks, "priority"), priority), el("div", { class: "actions" }, submit));
  }
  if (action === "intervention") {
    const title = el("input", { type: "text", id: id("title"), value: text.slice(0, 300), dir: "auto" });
    const kind = choiceSelect("interventions", "kind", id("kind"));
    const submit = el("button", { type: "button", class: "btn btn-primary", dataset: { submit: "intervention" }, text: t("review.propose") });
    submit.onclick = () => send({ action: "intervention", properties: { kind: kind.value, title: title.value } }, submit);
    const interventions = layerOf("interventions");
    return el("div", { class: "decision-form" }, error, field(attributeLabel(interventions, "kind"), kind, true),
      field(attributeLabel(interventions, "title"), title),
      el("p", { class: "hint", text: t("review.at_point") }), el("div", { class: "actions" }, submit));
  }
  if (action === "feature") {
    const layers = pointLayers();
    if (!layers.length) return el("p", { class: "muted", text: t("review.no_point_layer") });
    const slot = el("div", { class: "feature-form" });
    let form = null;
    const select = el("select", { id: id("layer"), onchange: () => draw() },
      layers.map((l) => el("option", { value: l.name, text: layerTitle(l) })));
    const draw = () => {
      const layer = layerOf(select.value);
      const values = Object.fromEntries(layer.attributes.map((a) => [a.name, a.default ?? null]));
      if (attribute(layer, "note") && o.note) values.note = o.note;
      form = buildForm(layer, values);
      clear(slot).append(form.element);
    };
    draw();
    const submit = el("button", { type: "button", class: "btn btn-primary", dataset: { submit: "feature" }, text: t("review.create_feature") });
    submit.onclick = async () => {
      form.clearErrors();
      const properties = Object.fromEntries(Object.entries(form.values()).filter(([, v]) => v !== null));
      error.hidden = true;
      submit.disabled = true;
      try {
        const outcome = (await request("POST", `/review/observations/${o.id}`, { body: { action: "feature", layer: select.value, properties } })).data;
        toast(outcomeText(o, outcome), "ok");
        renderReview(root);
      } catch (e) {
        submit.disabled = false;
        if (!(e instanceof ApiError)) throw e;
        if (e.property && e.property !== "layer" && form.fields[e.property]) form.showError(e.message, e.property); else fail(e);
      }
    };
    return el("div", { class: "decision-form" }, error, field(t("review.layer"), select, true),
      el("p", { class: "hint", text: t("review.at_point") }), slot, el("div", { class: "actions" }, submit));
  }
  // Reject: the reason is required (the server refuses a rejection without one and says so).
  const reason = el("textarea", { id: id("reason"), rows: 2, dir: "auto", "aria-required": "true" });
  const submit = el("button", { type: "button", class: "btn btn-danger", dataset: { submit: "reject" }, text: t("review.confirm_reject") });
  submit.onclick = () => send({ action: "reject", reason: reason.value }, submit);
  return el("div", { class: "decision-form" }, error, field(t("review.reason"), reason, true),
    el("p", { class: "hint", text: t("review.reason_help") }), el("div", { class: "actions" }, submit));
}

function outcomeText(o, outcome) {
  if (outcome.review_status === "rejected") return t("review.done_reject", { id: o.id });
  const layer = layerOf(outcome.became_layer);
  return t("review.done_converted", { id: o.id, layer: layer ? layerTitle(layer) : outcome.became_layer, fid: outcome.became_id });
}

// Conflicts --------------------------------------------------------------------------------------

function conflictCard(c) {
  const layer = layerOf(c.layer);
  const field = c.field || c.payload || {};
  const server = c.server;  // the server's feature when the conflict was found (null: deleted there)
  const mine = field.properties || {};
  const serverProps = (server && server.properties) || {};
  const rows = Object.keys(mine).map((name) => el("tr", { class: same(mine[name], serverProps[name]) ? "" : "differs", dataset: { attribute: name } },
    el("th", { scope: "row", text: layer ? attributeLabel(layer, name) : name }),
    el("td", { dir: "auto", text: (layer ? displayValue(layer, name, mine[name]) : String(mine[name] ?? "")) || "—" }),
    el("td", { dir: "auto", text: server ? (layer ? displayValue(layer, name, serverProps[name]) : String(serverProps[name] ?? "")) || "—" : t("review.deleted_on_server") })));
  if (c.op === "delete") {
    rows.unshift(el("tr", { class: "differs" }, el("th", { scope: "row", text: t("review.feature") }),
      el("td", { text: t("review.deleted_in_field") }), el("td", { text: server ? t("review.still_there") : t("review.deleted_on_server") })));
  }
  if (field.geometry) {
    const moved = !server || !same(field.geometry, server.geometry);
    rows.push(el("tr", { class: moved ? "differs" : "" }, el("th", { scope: "row", text: t("conflict.geometry") }),
      el("td", { text: t("conflict.reshaped") }), el("td", { text: moved ? t("review.other_shape") : t("conflict.unchanged") })));
  }
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const keep = async (which, button) => {
    error.hidden = true;
    button.disabled = true;
    try {
      await request("POST", `/review/conflicts/${c.id}`, { body: { keep: which } });
      toast(t(which === "field" ? "review.kept_field" : "review.kept_server", { layer: layer ? layerTitle(layer) : c.layer, id: c.feature_id }), "ok");
      renderReview(root);
    } catch (e) {
      button.disabled = false;
      if (!(e instanceof ApiError)) throw e;
      error.textContent = e.message;
      error.hidden = false;
    }
  };
  const serverVersion = serverProps.version;
  return el("li", { class: "review-card conflict-card", dataset: { conflict: c.id } },
    el("div", { class: "review-card-head" },
      el("strong", { text: `${layer ? layerTitle(layer) : c.layer} ${c.feature_id ?? ""}` }),
      el("span", { class: "muted", text: t("review.edited_by", { who: c.created_by || "?", when: formatDateTime(c.created_at) }) })),
    c.message ? el("p", { class: "hint", text: c.message }) : null,
    el("div", { class: "scroll-box" },
      el("table", { class: "conflict-table" },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: t("conflict.attribute") }),
          el("th", { scope: "col", text: t("review.field_version", { version: c.base_version ?? "?" }) }),
          el("th", { scope: "col", text: server ? t("review.server_version", { version: serverVersion ?? "?" }) : t("review.server") }))),
        el("tbody", {}, rows))),
    error,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "btn btn-primary", dataset: { keep: "field" }, onclick: (e) => keep("field", e.currentTarget), text: t("review.keep_field") }),
      el("button", { type: "button", class: "btn", dataset: { keep: "server" }, onclick: (e) => keep("server", e.currentTarget), text: t("review.keep_server") }),
      server && server.geometry ? el("button", { type: "button", class: "btn btn-small", onclick: () => showOnMap([server]), text: t("board.show_on_map") }) : null,
      server && layer && layer.geometry_type ? el("button", { type: "button", class: "btn btn-small", onclick: () => { hooks.showMap(); hooks.openFeature(c.layer, c.feature_id); }, text: t("review.open_feature") }) : null));
}
