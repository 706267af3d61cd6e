// The dashboard: the neighbourhood's indicators (GET /indicators) as figures and Chart.js charts,
// optionally compared with an earlier date, the task board in numbers, and the achievement report.

import { get, withQuery } from "./api.js";
import { attribute, layerOf } from "./catalogue.js";
import { clear, el } from "./dom.js";
import { digitChoices, digits, formatDate, formatNumber, isRTL, label, language, locale, t } from "./i18n.js";
import { errorNode } from "./session.js";

const PERCENTAGES = [["paved_pct", "streets"], ["lit_pct", "streets"], ["formalised_pct", "parcels"],
  ["cleared_pct", "blighted_plots"]];  // then the coverage of each service category with a distance (GET /coverage-rules)
const charts = [];
const state = { compare: "", from: "", to: "", scope: "" };
export const hooks = { neighbourhood: () => "" };

function choiceLabels(layerName, attrName, values) {
  const attr = attribute(layerOf(layerName), attrName);
  return values.map((v) => label((attr.choices.find((c) => c.value === v) || {}).label) || v);
}
/** "Homes within 500 m of: School": a park is a parcel whose land use is park, the rest service point categories. */
function coverageLabel(c, key = "ind.coverage") {
  const [name] = c.category === "park" ? choiceLabels("parcels", "land_use", ["park"]) : choiceLabels("service_points", "category", [c.category]);
  return t(key, { distance: formatNumber(c.distance_m), category: name });
}

/** Each category's coverage with its distance and how it was measured: along the streets or as a straight line. */
function coverageBox(coverage) {
  const rows = coverage.by_category.map((c) => el("li", { dataset: { category: c.category, method: c.method } },
    el("span", { text: `${coverageLabel(c)}: ` }),
    el("strong", { text: c.pct === null ? "—" : `${formatNumber(c.pct, { maximumFractionDigits: 1 })} %` }),
    el("span", { class: "muted", text: ` (${t(`ind.coverage_${c.method}`)})` })));
  return el("section", { class: "report-box", id: "coverage" }, el("h3", { text: t("dashboard.coverage") }),
    rows.length ? el("ul", {}, ...rows) : el("p", { class: "muted", text: t("dashboard.coverage_none") }));
}

function choiceColors(layerName, attrName, values, fallback) {
  const attr = attribute(layerOf(layerName), attrName);
  return values.map((v) => (attr.choices.find((c) => c.value === v) || {}).color || fallback);
}

export async function renderDashboard(container) {
  for (const chart of charts.splice(0)) chart.destroy();
  const code = hooks.neighbourhood();
  if (!code) { clear(container).append(el("p", { text: t("dashboard.no_neighbourhood") })); return; }
  let now; let then = null; let board;
  try {
    [now, board] = await Promise.all([get(withQuery("/indicators", { neighbourhood: code })), get(withQuery("/tasks/board", { neighbourhood: code }))]);
    if (state.compare) then = await get(withQuery("/indicators", { neighbourhood: code, as_of: state.compare }));
  } catch (error) {
    clear(container).append(errorNode(error));
    return;
  }
  const figure = (key, value, unit = "") => el("div", { class: "figure" },
    el("span", { class: "figure-value", text: `${formatNumber(value, { maximumFractionDigits: 1 })}${unit ? ` ${unit}` : ""}` }),
    el("span", { class: "figure-label", text: t(`ind.${key}`) }));
  const compare = el("input", { type: "date", id: "compare-date", value: state.compare,
    onchange: (e) => { state.compare = e.target.value; renderDashboard(container); } });
  const canvases = { pct: el("canvas", { id: "chart-pct" }), services: el("canvas", { id: "chart-services" }),
    tenure: el("canvas", { id: "chart-tenure" }), tasks: el("canvas", { id: "chart-tasks" }) };
  const box = (key, canvas, tall = false) => el("figure", { class: "chart" }, el("figcaption", { text: t(`dashboard.${key}`) }),
    el("div", { class: tall ? "chart-area tall" : "chart-area" }, canvas));
  clear(container).append(
    el("div", { class: "dashboard-head" },
      el("h2", { text: t("dashboard.title", { name: now.scope.name || code }) }),
      el("label", { for: "compare-date", text: t("dashboard.compare") }), compare),
    el("div", { class: "figures" },
      figure("street_length", now.streets.length_m / 1000, t("unit.km")),
      figure("green_per_resident", now.green_space.m2_per_resident, t("unit.m2")),
      figure("blighted_count", now.blighted_plots.count),
      figure("polluting_active", now.workshops.active),
      figure("service_points", now.service_points.total)),
    el("div", { class: "charts" }, box("percentages", canvases.pct), box("services", canvases.services, true),
      box("tenure", canvases.tenure), box("tasks", canvases.tasks)),
    coverageBox(now.coverage),
    reportForm(code));
  drawCharts(canvases, now, then, board);
}

function baseOptions(horizontal = false) {
  const font = { family: getComputedStyle(document.body).fontFamily };
  const rtl = isRTL();
  const category = { ticks: { font, autoSkip: false } };
  const value = { ticks: { font, precision: 0 }, beginAtZero: true };
  // Right to left: bars grow from the right and the category labels stand on the right.
  const x = { ...(horizontal ? value : category), reverse: rtl };
  const y = { ...(horizontal ? category : value), position: rtl ? "right" : "left" };
  return {
    responsive: true, maintainAspectRatio: false, animation: false, locale: locale(),
    indexAxis: horizontal ? "y" : "x",
    plugins: { legend: { rtl, labels: { font } }, tooltip: { rtl, textDirection: rtl ? "rtl" : "ltr" } },
    scales: { x, y },
  };
}

/** A long category label in lines of about `max` characters (Chart.js draws an array as lines): on a phone the
 * labels of a horizontal bar chart would otherwise be cut at the edge. */
function wrapLabel(text, max) {
  const lines = [];
  for (const word of String(text).split(" ")) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && `${last} ${word}`.length <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length > 1 ? lines : text;
}

function drawCharts(canvases, now, then, board) {
  const narrow = canvases.pct.parentElement.clientWidth < 520;
  const fit = (labels) => (narrow ? labels.map((l) => wrapLabel(l, 18)) : labels);
  const covered = now.coverage.by_category;
  const pctLabels = fit([...PERCENTAGES.map(([key]) => t(`ind.${key}`)), ...covered.map((c) => coverageLabel(c, "ind.coverage_short"))]);
  const pctData = (ind) => [...PERCENTAGES.map(([key, section]) => ind[section][key]),
    ...covered.map((c) => (ind.coverage.pct || {})[c.category] ?? null)];
  const datasets = [{ label: t("dashboard.now"), data: pctData(now), backgroundColor: "#2e7d32" }];
  if (then) datasets.unshift({ label: t("dashboard.then", { date: formatDate(then.as_of) }), data: pctData(then), backgroundColor: "#90a4ae" });
  const pct = baseOptions(true);
  pct.scales.x.min = 0; pct.scales.x.max = 100;
  charts.push(new Chart(canvases.pct, { type: "bar", data: { labels: pctLabels, datasets }, options: pct }));

  const services = Object.entries(now.service_points.by_category);
  charts.push(new Chart(canvases.services, { type: "bar", data: {
    labels: fit(choiceLabels("service_points", "category", services.map(([k]) => k))),
    datasets: [{ label: t("ind.service_points"), data: services.map(([, v]) => v),
      backgroundColor: choiceColors("service_points", "category", services.map(([k]) => k), "#1565c0") }],
  }, options: { ...baseOptions(true), plugins: { ...baseOptions(true).plugins, legend: { display: false } } } }));

  const tenure = Object.entries(now.parcels.by_tenure);
  charts.push(new Chart(canvases.tenure, { type: "doughnut", data: {
    labels: choiceLabels("parcels", "tenure", tenure.map(([k]) => k)),
    datasets: [{ data: tenure.map(([, v]) => v), backgroundColor: choiceColors("parcels", "tenure", tenure.map(([k]) => k), "#9e9e9e") }],
  }, options: { ...baseOptions(), scales: {} } }));

  const statuses = attribute(layerOf("tasks"), "status").choices;
  charts.push(new Chart(canvases.tasks, { type: "bar", data: {
    labels: statuses.map((c) => label(c.label)),
    datasets: [{ label: t("dashboard.tasks"), data: statuses.map((c) => (board[c.value] || []).length), backgroundColor: statuses.map((c) => c.color || "#546e7a") }],
  }, options: { ...baseOptions(), plugins: { ...baseOptions().plugins, legend: { display: false } } } }));
}

function reportForm(code) {
  const year = new Date().getFullYear();
  state.from = state.from || `${year}-01-01`;
  state.to = state.to || new Date().toISOString().slice(0, 10);
  const from = el("input", { type: "date", id: "report-from", value: state.from });
  const to = el("input", { type: "date", id: "report-to", value: state.to });
  const link = el("a", { class: "btn btn-primary", id: "report-link", target: "_blank", rel: "noopener", text: t("dashboard.open_report") });
  // This neighbourhood, or a named group of neighbourhoods (a municipality, a programme's cities): a roll-up.
  const scope = el("select", { id: "report-scope" }, el("option", { value: "", text: t("dashboard.report_this") }));
  const update = () => {
    state.from = from.value;
    state.to = to.value;
    state.scope = scope.value;
    const lang = language();  // every catalogue has the report's strings (English where one lacks them)
    const where = scope.value ? { group: scope.value } : { neighbourhood: code };
    const own = digitChoices(lang)[0];  // the digits the user chose, when not the language's own
    link.href = withQuery("/reports/achievement", { ...where, from: from.value, to: to.value, format: "html", lang,
      digits: own && digits(lang) !== own ? digits(lang) : undefined });
  };
  get("/neighbourhood-groups").then((groups) => {
    for (const g of groups) scope.append(el("option", { value: g.code, text: t("dashboard.report_group", { name: g.name }) }));
    scope.value = groups.some((g) => g.code === state.scope) ? state.scope : "";
    update();
  }).catch(() => {});
  for (const input of [from, to, scope]) input.addEventListener("change", update);
  update();
  return el("section", { class: "report-box" }, el("h3", { text: t("dashboard.report") }),
    el("p", { class: "muted", text: t("dashboard.report_help") }),
    el("div", { class: "row" }, el("label", { for: "report-scope", text: t("dashboard.report_for") }), scope,
      el("label", { for: "report-from", text: t("dashboard.from") }), from,
      el("label", { for: "report-to", text: t("dashboard.to") }), to, link));
}
