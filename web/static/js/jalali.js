// Dates typed and chosen in the Jalali (Persian solar) calendar while the language's calendar is Persian.
//
// Every <input type="date"> of the app (attribute forms, the task dialog's due date, the dashboard's periods …)
// keeps its ISO Gregorian value ("2025-03-21": what the API reads and writes) and is hidden; beside it the user
// types the date in Jalali ("۱۴۰۴/۰۱/۰۱") or picks it from a month grid (a small, non-modal dialog: Persian month
// names, weekday initials and digits from the browser's CLDR data via Intl, the week starting on the locale's first
// day, arrow keys mirrored in right-to-left). Reading and setting the input's `value` still gives and takes ISO
// dates, and a choice fires the input's own `input` and `change` events, so the code that owns the input needs to
// know nothing of this. The conversion is jalaali-js (npm, served from /vendor/jalaali/).
//
// Keyboard: in the text box, Alt+↓ (or ↓) opens the grid; in the grid the arrows move by a day (mirrored in RTL)
// or a week, Page Up/Down by a month (with Shift a year), Home/End to the week's first/last day, Enter or Space
// chooses, Escape closes.

import { d2g, d2j, g2d, isValidJalaaliDate, j2d, jalaaliMonthLength } from "/vendor/jalaali/index.js";
import { calendar, dateTimeFormat, locale, numberFormat, t } from "./i18n.js";

const NATIVE = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
const enhanced = new Map();  // undo → its wrapper: the pickers in use, taken away when the language changes
let observer = null;
let counter = 0;

const jalali = () => calendar() === "persian";

/** Enhance every date input now and as they are added (while the calendar is Persian); undo it otherwise. */
export function watchDateInputs() {
  for (const [undo, wrapper] of [...enhanced]) if (!wrapper.isConnected) enhanced.delete(undo);  // gone with their page
  if (!jalali()) {
    for (const undo of [...enhanced.keys()]) undo();
    return;
  }
  enhanceAll(document.body);
  if (!observer) {
    observer = new MutationObserver((records) => {
      if (!jalali()) return;
      for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) enhanceAll(node);
    });
    observer.observe(document.body, { childList: true, subtree: true });
  }
}

function enhanceAll(root) {
  if (root.matches("input[type=date]")) datePicker(root);
  for (const input of root.querySelectorAll("input[type=date]")) datePicker(input);
}

// ISO ↔ Julian day number ↔ Jalali ------------------------------------------------------------------------

const pad = (n, width) => String(n).padStart(width, "0");
const isoOf = (jdn) => { const g = d2g(jdn); return `${pad(g.gy, 4)}-${pad(g.gm, 2)}-${pad(g.gd, 2)}`; };

function dayOf(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? g2d(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

function today() {
  const now = new Date();
  return g2d(now.getFullYear(), now.getMonth() + 1, now.getDate());
}

/** Persian or Arabic-Indic digits (as typed on a Persian keyboard) as ASCII. */
const ascii = (text) => text.replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
  .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660));

/** "1404/1/1", "۱۴۰۴/۰۱/۰۱", "1404-01-01" → the Julian day; "" → ""; anything else → null. */
export function parseJalali(text) {
  const clean = ascii(text).trim();
  if (!clean) return "";
  const parts = clean.split(/[/\-.\s\u060c\u066b]+/).filter(Boolean).map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n))) return null;
  let [y, m, d] = parts;
  if (y < 100) y += y < 50 ? 1400 : 1300;  // "04/1/1": this century of the Jalali calendar
  return isValidJalaaliDate(y, m, d) ? j2d(y, m, d) : null;
}

const num = (n, width = 1) => numberFormat({ useGrouping: false, minimumIntegerDigits: width }).format(n);

/** The Julian day as the user types it: "۱۴۰۴/۰۱/۰۱" (in the chosen digits). */
export function showJalali(jdn) {
  const j = d2j(jdn);
  return `${num(j.jy, 4)}/${num(j.jm, 2)}/${num(j.jd, 2)}`;
}

const utc = (jdn) => { const g = d2g(jdn); return new Date(Date.UTC(g.gy, g.gm - 1, g.gd, 12)); };
const monthName = (jy, jm) => dateTimeFormat({ month: "long", timeZone: "UTC" }).format(utc(j2d(jy, jm, 1)));
const SUNDAY = g2d(2025, 3, 23);  // a Sunday, as jalaali-js numbers days
const weekday = (jdn) => (((jdn - SUNDAY) % 7) + 7) % 7;  // 0 = Sunday

function firstDayOfWeek() {
  const tag = new Intl.Locale(locale()).maximize();
  const info = typeof tag.getWeekInfo === "function" ? tag.getWeekInfo() : tag.weekInfo;
  return ((info && info.firstDay) || 6) % 7;  // CLDR: 1 = Monday … 7 = Sunday; Iran's week starts on Saturday
}

// The picker ---------------------------------------------------------------------------------------------

/** Put a Jalali text box and month grid beside the date input `input` (hidden, keeping the ISO value). With
 * `takeId`, the text box takes the input's id (so its <label for> names the text box). Returns the text box, or
 * null when the calendar is not Persian. */
export function datePicker(input, { takeId = false } = {}) {
  if (!jalali()) return null;
  if (input.dataset.jalali) return input.parentNode.querySelector(".jalali-text");
  input.dataset.jalali = "on";
  const n = ++counter;
  const ownId = input.id;
  const text = document.createElement("input");
  Object.assign(text, { type: "text", className: "jalali-text", autocomplete: "off", dir: "ltr",
    placeholder: t("date.jalali_placeholder"), spellcheck: false });
  text.setAttribute("inputmode", "numeric");
  if (takeId && ownId) { input.id = `${ownId}-iso`; text.id = ownId; } else text.id = `jalali-${n}`;
  for (const attr of ["aria-label", "aria-describedby", "aria-required", "required"]) {
    if (input.hasAttribute(attr)) text.setAttribute(attr, input.getAttribute(attr));
  }
  const named = !takeId && ownId && document.querySelector(`label[for="${CSS.escape(ownId)}"]`);
  if (named) {
    named.id ||= `jalali-label-${n}`;
    text.setAttribute("aria-labelledby", named.id);
    named.addEventListener("click", () => text.focus());
  }
  text.disabled = input.disabled;
  const button = document.createElement("button");
  Object.assign(button, { type: "button", className: "jalali-open", title: t("date.choose") });
  button.setAttribute("aria-label", t("date.choose"));
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", `jalali-popup-${n}`);
  button.disabled = input.disabled;
  button.append(Object.assign(document.createElement("span"), { className: "jalali-icon" }));
  const popup = document.createElement("div");
  Object.assign(popup, { id: `jalali-popup-${n}`, className: "jalali-popup", hidden: true });
  popup.setAttribute("role", "dialog");
  popup.setAttribute("aria-label", t("date.choose"));
  const problem = Object.assign(document.createElement("span"), { id: `jalali-problem-${n}`, className: "jalali-problem",
    hidden: true, textContent: t("date.invalid") });
  problem.setAttribute("role", "alert");
  text.setAttribute("aria-describedby", [text.getAttribute("aria-describedby"), problem.id].filter(Boolean).join(" "));
  const wrapper = document.createElement("span");
  wrapper.className = "jalali-field";
  wrapper.dir = "rtl";
  wrapper.append(text, button, popup, problem);
  input.classList.add("jalali-native");
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  input.after(wrapper);

  const iso = () => NATIVE.get.call(input);
  const refresh = () => {
    const day = dayOf(iso());
    text.value = day === null ? "" : showJalali(day);
    text.removeAttribute("aria-invalid");
    problem.hidden = true;
  };
  // The owner still sets ISO dates on the input; the text box follows.
  Object.defineProperty(input, "value", { configurable: true, get: () => iso(), set: (v) => { NATIVE.set.call(input, v); refresh(); } });
  const write = (day) => {
    NATIVE.set.call(input, day === "" ? "" : isoOf(day));
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  text.addEventListener("input", () => {
    const day = parseJalali(text.value);
    // Not a date of the calendar (1404/12/30, 1404/13/1): said once the three parts are there (or on leaving the
    // box); the field keeps the date it had.
    const complete = ascii(text.value).split(/[/\-.\s\u060c\u066b]+/).filter(Boolean).length >= 3;
    problem.hidden = day !== null || !complete;
    if (day === null) { text.setAttribute("aria-invalid", "true"); return; }
    text.removeAttribute("aria-invalid");
    if ((day === "" ? "" : isoOf(day)) !== iso()) write(day);
  });
  // Leaving the box shows what the field holds (the message stays when what was typed was not a date).
  text.addEventListener("change", () => { const wrong = parseJalali(text.value) === null; refresh(); problem.hidden = !wrong; });
  text.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || (e.altKey && e.key === "ArrowDown")) { e.preventDefault(); open(); }
    if (e.key === "Escape" && !popup.hidden) { e.preventDefault(); close(); }
  });
  button.addEventListener("click", () => (popup.hidden ? open() : close(true)));
  wrapper.addEventListener("focusout", (e) => { if (!popup.hidden && e.relatedTarget && !wrapper.contains(e.relatedTarget)) close(false); });

  let focused = today();  // the day the grid's focus is on
  const rtl = () => getComputedStyle(wrapper).direction === "rtl";

  function open() {
    if (text.disabled) return;
    focused = dayOf(iso()) ?? parseJalali(text.value) ?? today();
    if (focused === "") focused = today();
    popup.hidden = false;
    button.setAttribute("aria-expanded", "true");
    draw(true);
    document.addEventListener("pointerdown", outside, true);
    window.addEventListener("resize", place);
    document.addEventListener("scroll", place, true);
  }
  // Fixed to the viewport (a dialog's or a panel's scrolling box does not cut it): under the field, or above it
  // when there is more room there; its inline-start edge on the field's, kept on screen.
  function place() {
    const box = wrapper.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = popup;
    const below = innerHeight - box.bottom;
    const top = below >= height + 8 || below >= box.top ? box.bottom + 4 : box.top - height - 4;
    const start = rtl() ? box.right - width : box.left;
    popup.style.top = `${Math.max(4, Math.min(top, innerHeight - height - 4))}px`;
    popup.style.left = `${Math.max(4, Math.min(start, innerWidth - width - 4))}px`;
  }
  function close(focusText = true) {
    popup.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    window.removeEventListener("resize", place);
    document.removeEventListener("scroll", place, true);
    if (focusText) text.focus();
  }
  function outside(e) { if (!wrapper.contains(e.target)) close(false); }
  function choose(day) { write(day); refresh(); close(); }

  function draw(focus) {
    const j = d2j(focused);
    const chosen = dayOf(iso());
    const now = today();
    const first = j2d(j.jy, j.jm, 1);
    const length = jalaaliMonthLength(j.jy, j.jm);
    const start = firstDayOfWeek();
    const titleId = `jalali-title-${n}`;
    const title = el("h2", { id: titleId, className: "jalali-title", text: `${monthName(j.jy, j.jm)} ${num(j.jy)}` });
    title.setAttribute("aria-live", "polite");
    const nav = (label, delta, cls) => {
      const b = el("button", { type: "button", className: `jalali-nav ${cls}`, text: cls === "prev" ? "‹" : "›" });
      b.setAttribute("aria-label", label);
      b.addEventListener("click", () => {
        focused = shiftMonth(focused, delta);
        draw(false);
        popup.querySelector(`.jalali-nav.${cls}`).focus();  // the new grid's button: the focus stays in the picker
      });
      return b;
    };
    const head = el("div", { className: "jalali-head" });
    // In right-to-left the previous month is on the right: the buttons follow the reading order.
    head.append(nav(t("date.prev_month"), -1, "prev"), title, nav(t("date.next_month"), 1, "next"));
    const grid = el("table", { className: "jalali-grid" });
    grid.setAttribute("role", "grid");
    grid.setAttribute("aria-labelledby", titleId);
    const names = el("tr");
    const long = dateTimeFormat({ weekday: "long", timeZone: "UTC" });
    const narrow = dateTimeFormat({ weekday: "narrow", timeZone: "UTC" });
    for (let i = 0; i < 7; i++) {
      const wd = (start + i) % 7;
      const th = el("th", { text: narrow.format(utc(SUNDAY + wd)) });
      th.setAttribute("scope", "col");
      th.setAttribute("abbr", long.format(utc(SUNDAY + wd)));
      names.append(th);
    }
    const body = el("tbody");
    let row = el("tr");
    const lead = (weekday(first) - start + 7) % 7;
    for (let i = 0; i < lead; i++) row.append(el("td"));
    for (let d = 0; d < length; d++) {
      const day = first + d;
      if (row.children.length === 7) { body.append(row); row = el("tr"); }
      const b = el("button", { type: "button", className: "jalali-day", text: num(d + 1) });
      b.dataset.iso = isoOf(day);
      b.tabIndex = day === focused ? 0 : -1;
      b.setAttribute("aria-label", dateTimeFormat({ dateStyle: "full", timeZone: "UTC" }).format(utc(day)));
      if (day === chosen) { b.setAttribute("aria-pressed", "true"); b.classList.add("chosen"); }
      if (day === now) { b.setAttribute("aria-current", "date"); b.classList.add("today"); }
      b.addEventListener("click", () => choose(day));
      const cell = el("td");
      cell.setAttribute("role", "gridcell");
      cell.append(b);
      row.append(cell);
    }
    body.append(row);
    grid.append(el("thead", {}, names), body);
    grid.addEventListener("keydown", keys);
    const foot = el("div", { className: "jalali-foot" });
    const todayButton = el("button", { type: "button", className: "btn", text: t("date.today") });
    todayButton.addEventListener("click", () => choose(today()));
    const clearButton = el("button", { type: "button", className: "btn", text: t("date.clear") });
    clearButton.addEventListener("click", () => choose(""));
    foot.append(todayButton, clearButton);
    popup.replaceChildren(head, grid, foot);
    place();  // five or six weeks: the height may change
    if (focus) popup.querySelector(`[data-iso="${isoOf(focused)}"]`).focus();
  }

  function keys(e) {
    const back = rtl() ? "ArrowRight" : "ArrowLeft";
    const forward = rtl() ? "ArrowLeft" : "ArrowRight";
    const j = d2j(focused);
    const start = firstDayOfWeek();
    let next = null;
    if (e.key === forward) next = focused + 1;
    else if (e.key === back) next = focused - 1;
    else if (e.key === "ArrowDown") next = focused + 7;
    else if (e.key === "ArrowUp") next = focused - 7;
    else if (e.key === "PageDown") next = shiftMonth(focused, e.shiftKey ? 12 : 1);
    else if (e.key === "PageUp") next = shiftMonth(focused, e.shiftKey ? -12 : -1);
    else if (e.key === "Home") next = focused - ((weekday(focused) - start + 7) % 7);
    else if (e.key === "End") next = focused + 6 - ((weekday(focused) - start + 7) % 7);
    else if (e.key === "Escape") { e.preventDefault(); close(); return; }
    if (next === null) return;
    e.preventDefault();
    const before = `${j.jy}-${j.jm}`;
    focused = next;
    const after = d2j(focused);
    if (`${after.jy}-${after.jm}` !== before) draw(true);
    else {
      for (const b of popup.querySelectorAll(".jalali-day")) b.tabIndex = -1;
      const target = popup.querySelector(`[data-iso="${isoOf(focused)}"]`);
      target.tabIndex = 0;
      target.focus();
    }
  }

  const undo = () => {
    close(false);
    wrapper.remove();
    delete input.value;
    input.classList.remove("jalali-native");
    input.removeAttribute("aria-hidden");
    input.removeAttribute("tabindex");
    delete input.dataset.jalali;
    if (takeId && ownId) input.id = ownId;
    enhanced.delete(undo);
  };
  enhanced.set(undo, wrapper);
  refresh();
  return text;
}

/** The same day of the month `delta` months away (the month's last day when it is shorter). */
function shiftMonth(jdn, delta) {
  const j = d2j(jdn);
  const index = j.jy * 12 + (j.jm - 1) + delta;
  const jy = Math.floor(index / 12);
  const jm = (index % 12) + 1;
  return j2d(jy, jm, Math.min(j.jd, jalaaliMonthLength(jy, jm)));
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { text, ...rest } = props;
  Object.assign(node, rest);
  if (text !== undefined) node.textContent = text;
  node.append(...children);
  return node;
}
