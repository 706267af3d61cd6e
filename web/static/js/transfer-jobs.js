// What the import and export parts of the Import / export view share: a multipart upload (api.js speaks JSON
// only), following an import job (GET /imports/{id}) with a progress bar, a download read chunk by chunk with
// its progress, and an import's report as tables a planner reads.

import { ApiError, get } from "./api.js";
import { attributeLabel, displayValue, layerOf, layerTitle } from "./catalogue.js";
import { el } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { csrfToken } from "./session.js";

const POLL_MS = 400;

/** A refused answer as ApiError (problem details), announcing a 401 the way api.js does. */
async function refusal(response, url, method) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: text.slice(0, 300) }; }
  if (response.status === 401) document.dispatchEvent(new CustomEvent("mahalle:unauthorized", { detail: { url, method } }));
  return new ApiError(response.status, body, null, false);
}

/** POST a FormData (a file upload) with the session's CSRF token; the JSON answer. */
export async function postForm(url, form) {
  const headers = { Accept: "application/json, application/problem+json" };
  let response;
  try {
    const token = await csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    response = await fetch(url, { method: "POST", headers, body: form, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, { detail: t("transfer.offline", { message: String(error.message || error) }) }, null, true);
  }
  if (!response.ok) throw await refusal(response, url, "POST");
  return response.json();
}

/** The file name a download's Content-Disposition gives (filename*=UTF-8''… first), else `fallback`. */
export function filenameOf(disposition, fallback = "download") {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (star) {
    try { return decodeURIComponent(star[1].trim()); } catch { /* the plain name below */ }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(disposition);
  return plain ? plain[1].trim() : fallback;
}

/** GET `url` as a file, reporting (bytes received, bytes in all or 0) while it arrives; {blob, name}. The
 * server builds an export before its first byte: `onProgress` is first called once the answer has begun. */
export async function download(url, onProgress) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "*/*" } });
  } catch (error) {
    throw new ApiError(0, { detail: t("transfer.offline", { message: String(error.message || error) }) }, null, true);
  }
  if (!response.ok) throw await refusal(response, url, "GET");
  const total = Number(response.headers.get("Content-Length")) || 0;
  const chunks = [];
  let received = 0;
  onProgress(0, total);
  if (response.body && response.body.getReader) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      onProgress(received, total);
    }
  } else {
    chunks.push(await response.arrayBuffer());
  }
  const type = response.headers.get("Content-Type") || "application/octet-stream";
  return { blob: new Blob(chunks, { type }), name: filenameOf(response.headers.get("Content-Disposition")) };
}

// Progress bars --------------------------------------------------------------------------------------

/** A labelled progress bar; `set(fraction or null, text)`: null shows it busy without a measure. */
export function progressBar(id) {
  const bar = el("progress", { id, class: "transfer-progress", max: 1 });
  const text = el("span", { class: "transfer-progress-text", "aria-hidden": "true" });
  const node = el("div", { class: "transfer-progress-box" }, bar, text);
  const set = (fraction, words = "") => {
    if (fraction === null || fraction === undefined) bar.removeAttribute("value");
    else bar.value = Math.max(0, Math.min(1, fraction));
    const percent = fraction === null || fraction === undefined ? "" : `${formatNumber(Math.round(fraction * 100))} %`;
    text.textContent = [percent, words].filter(Boolean).join(" · ");
    bar.setAttribute("aria-valuetext", text.textContent || t("transfer.working"));
  };
  set(null);
  return { node, set };
}

/** A file name set apart from the words around it (Unicode isolates), so "trees.csv: 4" stays in order in Persian. */
export const isolate = (text) => `\u2068${text}\u2069`;

/** Size in bytes as people read it (kB, MB). */
export function bytes(n) {
  if (n < 1024) return t("transfer.bytes", { n });
  if (n < 1048576) return t("transfer.kb", { n: formatNumber(n / 1024, { maximumFractionDigits: 1 }) });
  return t("transfer.mb", { n: formatNumber(n / 1048576, { maximumFractionDigits: 1 }) });
}

// Import jobs ----------------------------------------------------------------------------------------

export const finished = (job) => job && (job.status === "succeeded" || job.status === "failed");

/** Ask for the job until it has finished; `onUpdate(job)` after every answer. Resolves with the last job. */
export async function followJob(id, onUpdate) {
  for (;;) {
    const job = await get(`/imports/${encodeURIComponent(id)}`);
    onUpdate(job);
    if (finished(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export const statusText = (status) => ({
  queued: t("transfer.status_queued"), running: t("transfer.status_running"),
  succeeded: t("transfer.status_succeeded"), failed: t("transfer.status_failed"),
}[status] || status || "");

const COUNTS = [["read", "transfer.count_read"], ["new", "transfer.count_new"], ["updated", "transfer.count_updated"],
  ["unchanged", "transfer.count_unchanged"], ["rejected", "transfer.count_rejected"], ["repaired", "transfer.count_repaired"],
  ["outside", "transfer.count_outside"], ["assigned", "transfer.count_assigned"]];

const titleOf = (name) => (layerOf(name) ? layerTitle(layerOf(name)) : name);
const fieldsOf = (value) => (Array.isArray(value) ? value : value && typeof value === "object" ? Object.values(value).flat() : []);

/** The rows outside every neighbourhood the report counts (per layer, or in its `outside` part). */
export function outsideCount(report) {
  const layers = Object.values((report && report.layers) || {});
  const counted = layers.reduce((sum, c) => sum + (Number(c.outside) || 0), 0);
  if (counted) return counted;
  const part = report && report.outside;
  if (typeof part === "number") return part;
  if (part && typeof part === "object") {
    if (typeof part.count === "number") return part.count;
    if (Array.isArray(part.rows)) return part.rows.length;
  }
  return 0;
}

function countsTable(report) {
  const layers = Object.entries(report.layers || {});
  const shown = COUNTS.filter(([key]) => key === "read" || layers.some(([, c]) => c[key] !== undefined));
  return el("div", { class: "transfer-scroll" }, el("table", { class: "transfer-table transfer-counts" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("transfer.layer") }),
      shown.map(([key, label]) => el("th", { scope: "col", class: "num", dataset: { count: key }, text: t(label) })))),
    el("tbody", {}, layers.map(([name, c]) => el("tr", { dataset: { layer: name } },
      el("th", { scope: "row", text: titleOf(name) }),
      shown.map(([key]) => el("td", { class: `num${key === "rejected" && c[key] ? " bad" : ""}`, dataset: { count: key },
        text: formatNumber(c[key] || 0) })))))));
}

function rejectedTable(rows, total) {
  return el("div", { class: "transfer-part", id: "report-rejected" },
    el("h4", { text: t("transfer.rejected_rows", { n: total }) }),
    rows.length < total ? el("p", { class: "hint", text: t("transfer.rejected_listed", { n: rows.length }) }) : null,
    el("div", { class: "transfer-scroll" }, el("table", { class: "transfer-table" },
      el("thead", {}, el("tr", {}, ["transfer.layer", "transfer.row", "transfer.source_id", "transfer.reason"]
        .map((key) => el("th", { scope: "col", text: t(key) })))),
      el("tbody", {}, rows.map((r) => el("tr", {},
        el("td", { text: titleOf(r.layer) }), el("td", { class: "num", text: r.row === null || r.row === undefined ? "" : formatNumber(r.row) }),
        el("td", { text: r.source_id ?? "" }), el("td", { class: "reason", lang: "en", dir: "auto", text: r.reason })))))));
}

function fieldList(id, title, byLayer, except = []) {
  const names = [...new Set(fieldsOf(byLayer))].filter((n) => !except.includes(n));
  if (!names.length) return null;
  return el("div", { class: "transfer-part", id },
    el("h4", { text: title }), el("p", { class: "field-names" }, names.map((n) => el("code", { text: n }))));
}

function unmappedValues(byLayer) {
  const items = [];
  for (const [layerName, attrs] of Object.entries(byLayer || {})) {
    const layer = layerOf(layerName);
    for (const [attr, values] of Object.entries(attrs || {})) {
      const list = Array.isArray(values) ? values.map((v) => [v, null]) : Object.entries(values || {});
      for (const [value, n] of list) {
        items.push(el("li", {}, el("span", { text: layer ? attributeLabel(layer, attr) : attr }), ": ",
          el("code", { text: value }), n ? el("span", { class: "count", text: ` × ${formatNumber(n)}` }) : null));
      }
    }
  }
  return items.length ? el("div", { class: "transfer-part", id: "report-unmapped-values" },
    el("h4", { text: t("transfer.unmapped_values") }), el("ul", { class: "transfer-values" }, items)) : null;
}

function outsidePart(report) {
  const n = outsideCount(report);
  if (!n) return null;
  const part = report.outside && typeof report.outside === "object" ? report.outside : {};
  const rows = Array.isArray(part.rows) ? part.rows : [];
  return el("div", { class: "transfer-part", id: "report-outside" },
    el("h4", { text: t("transfer.outside_rows", { n }) }),
    rows.length ? el("ul", { class: "transfer-values" }, rows.slice(0, 50).map((r) => el("li", {
      text: [r.layer ? titleOf(r.layer) : "", r.row !== undefined ? t("transfer.row_n", { n: r.row }) : "",
        r.source_id ?? "", r.neighbourhood ? `→ ${r.neighbourhood}` : ""].filter(Boolean).join(" · ") }))) : null);
}

/** An import's report: counts per layer, then what needs the planner's eye. */
export function reportView(report) {
  if (!report) return null;
  const rejected = Object.values(report.layers || {}).reduce((sum, c) => sum + (Number(c.rejected) || 0), 0);
  const warnings = Array.isArray(report.warnings) ? report.warnings : [];
  return el("div", { class: "transfer-report" },
    countsTable(report),
    rejected || (report.rejected || []).length ? rejectedTable(report.rejected || [], Math.max(rejected, (report.rejected || []).length)) : null,
    outsidePart(report),
    fieldList("report-unmapped-fields", t("transfer.unmapped_fields"), report.unmapped_fields),
    // Every field not imported, less those that matched nothing (listed above): the ones left out on purpose.
    fieldList("report-unused-fields", t("transfer.unused_fields"), report.unused_fields || report.ignored_fields,
      fieldsOf(report.unmapped_fields)),
    unmappedValues(report.unmapped_values),
    warnings.length ? el("div", { class: "transfer-part", id: "report-warnings" },
      el("h4", { text: t("transfer.warnings") }), el("ul", {}, warnings.map((w) => el("li", { lang: "en", dir: "auto", text: w })))) : null);
}

/** A value of a layer's attribute as people read it (a choice's label), for the value lists' selects. */
export const choiceText = (layer, attr, value) => displayValue(layer, attr, value) || value;
