// Photos (and documents) attached to a feature: thumbnails from GET /attachments, the full size in a dialog,
// and for users who may edit the feature an "add a photo" button (one-shot multipart POST /attachments). The
// server checks the file (size, a real image or a PDF), reads EXIF and makes the thumbnail; it decides who may
// attach what: the browser only hides the button.

import { ApiError, get, withQuery } from "./api.js";
import { photoDialog } from "./dialog.js";
import { clear, el, toast } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";
import { csrfToken } from "./session.js";

/** The app's own path of an attachment URL (the server names its base URL; the page stays on this origin). */
const local = (url) => { if (!url) return null; const u = new URL(url, location.href); return u.pathname + u.search; };

const isImage = (a) => typeof a.media_type === "string" && a.media_type.startsWith("image/");

/** A row of thumbnails; a click opens the photo at full size. Documents (PDF) are links. */
export function photoStrip(attachments, { labelled = false } = {}) {
  return el("ul", { class: "photo-strip" }, attachments.map((a, i) => {
    const roleText = a.role && a.role !== "photo" ? t(`photos.role_${a.role}`) : null;
    if (!isImage(a) || !a.thumbnail_url) {
      return el("li", {}, el("a", { class: "photo-doc", href: local(a.url), target: "_blank", rel: "noopener", text: a.filename }));
    }
    return el("li", {},
      el("button", { type: "button", class: "photo-thumb", dataset: { attachment: a.id },
        "aria-label": t("photos.open", { name: a.caption || a.filename, n: i + 1 }),
        onclick: () => openPhoto(attachments, i) },
      el("img", { src: local(a.thumbnail_url), alt: "", loading: "lazy", decoding: "async" }),
      roleText || labelled ? el("span", { class: `photo-role role-${a.role}`, text: roleText || t("photos.role_photo") }) : null));
  }));
}

/** The photo at full size, with its caption, when it was taken and a link to the original file. */
export function openPhoto(attachments, index) {
  const images = attachments.filter(isImage);
  const a = attachments[index];
  const pos = images.indexOf(a);
  const meta = [a.caption, a.captured_at ? t("photos.taken", { when: formatDateTime(a.captured_at) }) : null,
    a.role && a.role !== "photo" ? t(`photos.role_${a.role}`) : null].filter(Boolean).join(" · ");
  return photoDialog({
    title: images.length > 1 ? t("photos.n_of", { n: pos + 1, total: images.length }) : t("photos.photo"),
    src: local(a.url), alt: a.caption || a.filename, meta,
    original: local(a.url),
    previous: pos > 0 ? () => openPhoto(attachments, attachments.indexOf(images[pos - 1])) : null,
    next: pos < images.length - 1 ? () => openPhoto(attachments, attachments.indexOf(images[pos + 1])) : null,
  });
}

/** Multipart POST /attachments with the session's CSRF token; resolves with the new attachment. */
export async function uploadPhoto(layer, featureId, file, { role = "photo", caption = "" } = {}) {
  const body = new FormData();
  body.append("file", file, file.name);
  body.append("layer", layer);
  body.append("feature_id", String(featureId));
  body.append("role", role);
  if (caption) body.append("caption", caption);
  const headers = { Accept: "application/json, application/problem+json" };
  const token = await csrfToken();
  if (token) headers["X-CSRF-Token"] = token;
  let response;
  try {
    response = await fetch("/attachments", { method: "POST", headers, body, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, { detail: t("photos.offline") }, null, true);
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401) document.dispatchEvent(new CustomEvent("mahalle:unauthorized", { detail: { url: "/attachments", method: "POST" } }));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * The "Photos" part of a feature's panel: its thumbnails (loaded now) and, when `canAdd`, a button that takes a
 * photo (the camera on a phone) or a file. `roles`: what an added file is (interventions: before / after).
 */
export function photoSection(layer, featureId, { canAdd = false, roles = ["photo"] } = {}) {
  const list = el("div", { class: "photo-list", "aria-live": "polite" }, el("p", { class: "hint", text: t("photos.loading") }));
  const status = el("p", { class: "hint", role: "status" });
  const section = el("section", { class: "photos", id: "feature-photos", dataset: { layer, feature: featureId } },
    el("h3", { text: t("photos.title") }), list);

  async function load() {
    let answer;
    try {
      answer = await get(withQuery("/attachments", { layer, feature_id: featureId }));
    } catch (error) {
      clear(list).append(el("p", { class: "form-error", text: error.message }));
      return;
    }
    const attachments = answer.attachments || [];
    clear(list).append(attachments.length ? photoStrip(attachments, { labelled: roles.length > 1 })
      : el("p", { class: "hint", id: "no-photos", text: t("photos.none") }));
  }

  if (canAdd) {
    const role = roles.length > 1 ? el("select", { id: "photo-role", "aria-label": t("photos.role") },
      roles.map((r) => el("option", { value: r, text: t(`photos.role_${r}`) }))) : null;
    const input = el("input", { type: "file", id: "photo-file", hidden: true, accept: "image/*,application/pdf" });
    const pick = el("button", { type: "button", class: "btn", id: "add-photo", onclick: () => input.click() },
      el("span", { "aria-hidden": "true", class: "camera" }), t("photos.add"));
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      status.className = "hint";
      status.textContent = t("photos.uploading", { name: file.name });
      pick.disabled = true;
      try {
        await uploadPhoto(layer, featureId, file, { role: role ? role.value : "photo" });
        status.textContent = "";
        toast(t("photos.added"), "ok");
        await load();
      } catch (error) {
        status.className = "form-error";
        status.textContent = error.message;
      } finally {
        pick.disabled = false;
        input.value = "";
      }
    });
    section.append(el("div", { class: "row photo-add" }, role, pick, input), status);
  }
  load();
  return section;
}
