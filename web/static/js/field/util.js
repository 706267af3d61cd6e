// Small helpers of field mode: sizes, hashing, the GPS state shared by the modules.

import { numberFormat } from "../i18n.js";

/** "2.4 MB", "380 kB" in the language's digits and unit names (Intl). */
export function formatBytes(bytes) {
  const mb = bytes / (1024 * 1024);
  const [value, unit] = mb >= 0.95 ? [mb, "megabyte"] : [Math.max(bytes / 1024, 1), "kilobyte"];
  return numberFormat({ style: "unit", unit, unitDisplay: "short", maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
}

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The last GPS fix: {lat, lon, accuracy (m), at}; `error`: "denied" | "unavailable" | "unsupported". */
export const gps = { position: null, error: null, watch: null, listeners: new Set() };
