// HTTP with the server: problem details become ApiError (detail, property, current ETag; a broken rule of a
// layer worded in the user's language by rules.js);
// a request that never reached the server is an ApiError with `offline` set. Unsafe requests carry the
// session's CSRF token; a 401 (not logged in, or the session ended) is announced to the page
// ("mahalle:unauthorized", app.js shows a login link) and thrown like any refusal.

import { problemText } from "./rules.js";
import { csrfToken } from "./session.js";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, body, etag, offline = false) {
    // A rule of a layer the database named (`rule`, `params`) in the user's language, else the server's words.
    super(problemText(body) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.property = this.body.property || null;
    this.rule = this.body.rule || null;
    this.etag = etag || null;
    this.offline = offline;
  }
}

/** fetch with JSON in and out; returns {data, etag, status, headers}. */
export async function request(method, url, { body, etag, type = "application/json" } = {}) {
  const headers = { Accept: "application/json, application/geo+json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = type;
  if (etag) headers["If-Match"] = etag;
  let response;
  try {
    if (!SAFE.has(method.toUpperCase())) {
      const token = await csrfToken();
      if (token) headers["X-CSRF-Token"] = token;
    }
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, { detail: String(error) }, null, true);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 300) }; }
  }
  if (response.status === 401) document.dispatchEvent(new CustomEvent("mahalle:unauthorized", { detail: { url, method } }));
  if (!response.ok) {
    // A gateway that cannot reach the app is as good as offline: keep the edit and retry.
    const offline = [502, 503, 504].includes(response.status) && !(data && data.type);
    throw new ApiError(response.status, data, response.headers.get("ETag"), offline);
  }
  return { data, etag: response.headers.get("ETag"), status: response.status, headers: response.headers };
}

export const get = (url) => request("GET", url).then((r) => r.data);
export const etagOf = (version) => `"${version}"`;

/** URL with query parameters (empty ones left out). */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
