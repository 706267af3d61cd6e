// The Import / export view (#transfer): importing a file (planners and administrators: transfer-import.js),
// the past imports with their reports (one's own; an administrator sees everyone's), and exporting layers
// (everyone who may read: transfer-export.js). The server decides who may do what; the view only leaves out
// the import for those whose roles do not allow it.

import { get } from "./api.js";
import { append, clear, el } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";
import { layerOf, layerTitle } from "./catalogue.js";
import { errorNode, me } from "./session.js";
import { hooks as exportHooks, renderExport } from "./transfer-export.js";
import { hooks as importHooks, renderImport } from "./transfer-import.js";
import { statusText } from "./transfer-jobs.js";

export const hooks = { neighbourhood: () => "" };
const canImport = () => me.open || !!me.can.import;
let history = null;

export function renderTransfer(container) {
  exportHooks.neighbourhood = () => hooks.neighbourhood();
  importHooks.onFinished = () => renderHistory();
  const importing = canImport();
  const importBox = importing ? el("section", { class: "transfer-section", id: "transfer-import", "aria-labelledby": "import-title" }) : null;
  history = importing ? el("section", { class: "transfer-section", id: "transfer-history", "aria-labelledby": "history-title" }) : null;
  const exportBox = el("section", { class: "transfer-section", id: "transfer-export", "aria-labelledby": "export-title" });
  append(clear(container), [el("h2", { text: t("transfer.title") }), importBox, history, exportBox]);
  if (importBox) renderImport(importBox);
  renderExport(exportBox);
  if (history) renderHistory();
}

const layerName = (name) => (name && layerOf(name) ? layerTitle(layerOf(name)) : name || t("transfer.osm_every_layer"));

/** The link to a job's report. A failed import has one only when it got as far as checking the rows (the list
 * does not say): its link asks first, and says the server's reason instead of saving an error as a file. */
function reportLink(job) {
  const href = `/imports/${encodeURIComponent(job.id)}/report`;
  const link = el("a", { href, download: "", class: "report-link", text: t("transfer.report") });
  if (job.status === "failed") {
    link.addEventListener("click", async (event) => {
      if (link.dataset.checked) return;  // the report is there: the browser saves it
      event.preventDefault();
      try {
        await get(`/imports/${encodeURIComponent(job.id)}`).then((full) => {
          if (!full || full.report === null || full.report === undefined) throw new Error(t("transfer.no_report"));
        });
        link.dataset.checked = "yes";
        link.click();
      } catch (error) {
        link.replaceWith(el("span", { class: "muted", text: error.message || t("transfer.no_report") }));
      }
    });
  }
  return link;
}

/** The past imports (GET /imports): newest first, each with its report. */
async function renderHistory() {
  const box = history;
  if (!box || !box.isConnected) return;
  const head = el("div", { class: "transfer-head" },
    el("h3", { id: "history-title", text: t("transfer.history_title") }),
    el("button", { type: "button", class: "btn btn-small", id: "history-refresh", onclick: () => renderHistory(), text: t("review.refresh") }));
  let jobs;
  try {
    const data = await get("/imports");
    jobs = Array.isArray(data) ? data : (data && (data.imports || data.items || data.jobs)) || [];
  } catch (error) {
    clear(box).append(head, errorNode(error));
    return;
  }
  if (!jobs.length) {
    clear(box).append(head, el("p", { class: "muted", id: "history-empty", text: t("transfer.history_empty") }));
    return;
  }
  const rows = jobs.map((job) => el("tr", { dataset: { job: job.id, status: job.status } },
    el("td", { text: formatDateTime(job.created_at) }),
    el("td", { class: "file", text: job.file || "" }),
    el("td", { text: layerName(job.layer) }),
    el("td", { text: job.dry_run ? t("transfer.dry_run") : t("transfer.real_run") }),
    el("td", { class: `status status-${job.status}`, text: statusText(job.status) }),
    el("td", { class: "message", lang: "en", dir: "auto", text: job.message || "" }),  // the server's words
    el("td", {}, job.status === "succeeded" || job.status === "failed" ? reportLink(job) : "")));
  clear(box).append(head, el("div", { class: "transfer-scroll" }, el("table", { class: "transfer-table", id: "history-table" },
    el("thead", {}, el("tr", {}, ["transfer.when", "transfer.file", "transfer.layer", "transfer.kind", "transfer.status",
      "transfer.message", "transfer.report"].map((key) => el("th", { scope: "col", text: t(key) })))),
    el("tbody", {}, rows))));
}
