// Groups of neighbourhoods on the admin page (a municipality, a programme's cities): reports and indicators roll
// up over them. Each group: its name, kind and members (checkboxes of every neighbourhood); a new group by code.
// The server decides (PUT/DELETE /neighbourhood-groups/…): a refusal shows its reason next to the group.

import { request } from "./api.js";
import { el } from "./dom.js";
import { loadSession } from "./session.js";

const page = JSON.parse(document.getElementById("groups-data").textContent);
const say = (key) => page.strings[`admin.groups.${key}`] || key;  // the page's strings (admin.groups.*)
const box = document.getElementById("groups-editor");
const KINDS = ["municipality", "programme", "other"];

function status(node, message, ok) {
  node.textContent = message;
  node.className = ok ? "vocab-status ok" : "vocab-status form-error";
}

function groupForm(group, isNew) {
  const note = el("span", { class: "vocab-status", role: "status" });
  const prefix = isNew ? "group-new" : `group-${group.code}`;
  const code = isNew ? el("input", { type: "text", id: `${prefix}-code`, dir: "ltr", maxlength: 40, title: say("code_help"),
    placeholder: "HELSINKI" }) : null;
  const name = el("input", { type: "text", id: `${prefix}-name`, dir: "auto", maxlength: 200, value: group.name || "" });
  const kind = el("select", { id: `${prefix}-kind` }, KINDS.map((k) => el("option", { value: k, text: say(k), selected: k === group.kind })));
  const members = page.neighbourhoods.map(([nCode, nName]) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: nCode, checked: (group.neighbourhoods || []).includes(nCode) }), " ", nName, " ",
    el("span", { class: "muted", text: nCode })));
  const form = el("fieldset", { class: "group-form", dataset: { code: group.code || "" } },
    el("legend", { text: isNew ? say("add") : `${group.name} (${group.code})` }),
    code ? el("label", { for: code.id }, say("code"), " ", code) : null,
    el("label", { for: name.id }, say("name"), " ", name),
    el("label", { for: kind.id }, say("kind"), " ", kind),
    el("div", { class: "checks", role: "group", "aria-label": say("members") }, members),
    el("div", { class: "vocab-actions" },
      el("button", { type: "button", class: "btn btn-primary btn-small", id: `${prefix}-save`, text: isNew ? say("add") : say("save"),
        onclick: async () => {
          const target = isNew ? code.value.trim() : group.code;
          const body = { name: name.value.trim(), kind: kind.value,
            neighbourhoods: members.map((m) => m.firstChild).filter((i) => i.checked).map((i) => i.value) };
          try {
            await request("PUT", `/neighbourhood-groups/${encodeURIComponent(target)}`, { body });
            status(note, say("saved"), true);
            if (isNew) await render();
          } catch (error) { status(note, error.message || say("failed"), false); }
        } }),
      isNew ? null : el("button", { type: "button", class: "btn btn-small btn-danger", text: say("remove"), onclick: async () => {
        if (!window.confirm(say("remove_confirm").replace("{name}", group.name))) return;
        try {
          await request("DELETE", `/neighbourhood-groups/${encodeURIComponent(group.code)}`);
          form.remove();
        } catch (error) { status(note, error.message || say("failed"), false); }
      } }),
      note));
  return form;
}

async function render() {
  const groups = (await request("GET", "/neighbourhood-groups")).data;
  box.replaceChildren(...(groups.length ? groups.map((g) => groupForm(g, false)) : [el("p", { class: "muted", text: say("none") })]),
    groupForm({ kind: "programme", neighbourhoods: [] }, true));
  document.body.classList.add("groups-ready");
}

loadSession().then(render).catch((error) => box.replaceChildren(el("p", { class: "form-error", text: error.message || say("failed") })));
