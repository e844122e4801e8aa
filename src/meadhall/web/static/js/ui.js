// Small pieces every page shares: building elements, icons, toasts, dialogs and formatting.
//
//   el("button", { class: "button", type: "button", onclick: go }, icon("tag"), "Tag")
//   toast("3 photos moved to trash", { action: { label: "Undo", run: restore } })
//   if (await confirmDialog({ title: "Empty trash?", body: "…", confirm: "Empty", danger: true })) …
//   const name = await promptDialog({ title: "New album", label: "Name", value: "" });

const ICONS_URL = document.body.dataset.icons || "/static/img/icons.svg";
const SVG = "http://www.w3.org/2000/svg";

// el(tag, attributes, ...children): "on…" attributes become listeners, "dataset" an object of
// data-* values, booleans toggle attributes; children may be nodes, strings, arrays or null.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "text") {
      node.textContent = value;
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

// An icon from the sprite, decorative (the control around it carries the label).
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({
    class: className,
    viewBox: "0 0 24 24",
    width: "20",
    height: "20",
    "aria-hidden": "true",
    focusable: "false",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "1.8",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
  })) {
    svg.setAttribute(key, value);
  }
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `${ICONS_URL}#${name}`);
  svg.append(use);
  return svg;
}

// A button with an icon; with iconOnly the label becomes its accessible name and tooltip.
export function iconButton(name, label, { iconOnly = true, className = "button", ...rest } = {}) {
  return el(
    "button",
    {
      type: "button",
      class: iconOnly ? `${className} button--icon` : className,
      "aria-label": iconOnly ? label : null,
      title: iconOnly ? label : null,
      ...rest,
    },
    icon(name),
    iconOnly ? null : el("span", {}, label),
  );
}

// Toasts ------------------------------------------------------------------------------------

const TOAST_MS = 5000;

export function toast(message, { kind = "info", action = null, timeout = TOAST_MS } = {}) {
  let region = document.querySelector("[data-toasts]");
  if (!region) {
    region = el("div", { class: "toasts", "data-toasts": true, role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const close = () => node.remove();
  const node = el(
    "div",
    { class: `toast toast--${kind}`, "data-toast": kind },
    el("span", { class: "toast__text" }, message),
    action
      ? el(
          "button",
          {
            type: "button",
            class: "toast__action",
            onclick: () => {
              close();
              action.run();
            },
          },
          action.label,
        )
      : null,
    el("button", { type: "button", class: "toast__close", "aria-label": "Dismiss", onclick: close }, icon("x", "icon icon--small")),
  );
  region.append(node);
  if (timeout) window.setTimeout(close, kind === "error" ? timeout * 2 : timeout);
  return node;
}

// The message to show for a failed API call (an ApiError or anything else).
export function errorMessage(error) {
  if (error && error.message) return error.message;
  return "Something went wrong. Try again.";
}

// Dialogs -----------------------------------------------------------------------------------

// A modal <dialog> with a form; resolves with what `collect` returns on submit, null on cancel.
// Focus goes to the first field (or the confirm button) and returns where it was afterwards.
export function openDialog({ title, body = [], confirm = "OK", danger = false, collect = () => true, className = "" }) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const error = el("p", { class: "field__error", "data-dialog-error": true, hidden: true });
    const form = el(
      "form",
      { method: "dialog", class: "dialog__form" },
      el("h2", { class: "dialog__title", id: "dialog-title" }, title),
      el("div", { class: "dialog__body" }, body),
      error,
      el(
        "div",
        { class: "dialog__actions" },
        el("button", { type: "button", class: "button", value: "cancel", "data-dialog-cancel": true }, "Cancel"),
        el("button", { type: "submit", class: danger ? "button button--danger" : "button button--primary", value: "ok" }, confirm),
      ),
    );
    const dialog = el("dialog", { class: `dialog ${className}`, "aria-labelledby": "dialog-title" }, form);
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (previous && previous.focus) previous.focus();
      resolve(value);
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const value = await collect(form);
        if (value === undefined) return;
        finish(value);
      } catch (problem) {
        error.textContent = errorMessage(problem);
        error.hidden = false;
      }
    });
    form.querySelector("[data-dialog-cancel]").addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea") || form.querySelector('button[type="submit"]');
    first?.focus();
  });
}

export function confirmDialog({ title, body = "", confirm = "OK", danger = false }) {
  return openDialog({ title, body: body ? [el("p", {}, body)] : [], confirm, danger }).then(Boolean);
}

// Ask for one line of text; resolves with the trimmed value or null.
export function promptDialog({ title, label, value = "", confirm = "Save", maxLength = 255, validate = null }) {
  const input = el("input", { class: "input", name: "value", value, maxlength: maxLength, required: true, autocomplete: "off" });
  return openDialog({
    title,
    confirm,
    body: [el("label", { class: "field" }, el("span", { class: "field__label" }, label), input)],
    collect: async () => {
      const text = input.value.trim();
      if (!text) throw new Error(`Enter ${label.toLowerCase()}.`);
      if (validate) await validate(text);
      return text;
    },
  });
}

// Formatting --------------------------------------------------------------------------------

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

export function formatCount(count, singular, plural = singular + "s") {
  return `${count.toLocaleString()} ${count === 1 ? singular : plural}`;
}

// "May 2024" for "2024-05".
export function formatMonth(month) {
  const [year, number] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 1, 1)).toLocaleDateString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
}

// Wall-clock values ("2024-05-03T14:22:00", no zone) are shown as written, never shifted into
// the browser's zone: a photo taken at 14:22 in Lisbon says 14:22 everywhere.
export function formatLocalDate(value, options = { weekday: "short", day: "numeric", month: "short", year: "numeric" }) {
  if (!value) return "";
  const date = new Date(String(value).replace(/([+-]\d\d:\d\d|Z)$/, "") + "Z");
  return date.toLocaleString(undefined, { ...options, timeZone: "UTC" });
}

export function formatLocalDateTime(value) {
  return formatLocalDate(value, { dateStyle: "medium", timeStyle: "short" });
}

export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), ms);
  };
}

export const viewer = {
  userId: document.body.dataset.userId || null,
  isAdmin: document.body.dataset.isAdmin === "true",
};
