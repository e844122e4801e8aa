// What the admin pages share: the users directory, job labels and states, progress bars,
// relative times, a side panel, and the live badge that says the page follows the server.

import { api } from "../api.js";
import { el, icon, iconButton } from "../ui.js";
import { live } from "../live.js";

// Users --------------------------------------------------------------------------------------

const USERS_PAGE = 200;

// Every account, by id. A gaming group has tens of people, so a few pages at most; folders and
// jobs only need names for ids, and the folder form needs the list to pick an owner from.
export async function loadUsers() {
  const users = new Map();
  for (let offset = 0; ; offset += USERS_PAGE) {
    const page = await api.get(`/api/admin/users?limit=${USERS_PAGE}&offset=${offset}`);
    for (const user of page.items) users.set(user.id, user);
    if (offset + page.items.length >= page.total || !page.items.length) break;
  }
  return users;
}

export function userName(users, id) {
  if (!id) return "System";
  const user = users.get(id);
  return user ? user.display_name : "Unknown user";
}

// Jobs ---------------------------------------------------------------------------------------

export const JOB_STATUSES = ["running", "queued", "failed", "succeeded", "cancelled"];

const KIND_LABELS = {
  "library.scan_folder": "Folder scan",
  "library.process_asset": "Photo processing",
  "library.rescan_folders": "Rescan all folders",
  "library.clean_uploads": "Clean up uploads",
  "library.empty_trash": "Empty old trash",
  "library.sweep_missing": "Check derivatives",
  "accounts.delete_user": "Account deletion",
  "accounts.cleanup": "Expired sign-ins cleanup",
  "jobs.sweep_stalled": "Stalled jobs check",
  "jobs.prune": "Old jobs cleanup",
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] || kind;
}

export function knownKinds() {
  return Object.keys(KIND_LABELS);
}

const STATUS_LABELS = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
};

// A queued job that has already been tried is waiting for its next attempt (backoff): say so,
// it is the one state where "queued" alone would mislead.
export function statusText(job) {
  if (job.status === "queued" && job.attempts > 0) return "Retrying";
  if (job.status === "running" && job.cancel_requested_at) return "Cancelling";
  return STATUS_LABELS[job.status] || job.status;
}

export function statusBadge(job) {
  return el("span", { class: `badge status status--${job.status}`, "data-status": job.status }, statusText(job));
}

export function canRetry(job) {
  return job.status === "failed" || job.status === "cancelled";
}

export function canCancel(job) {
  return (job.status === "queued" || job.status === "running") && !job.cancel_requested_at;
}

// A progress bar for a job: determinate from `progress` (0..1), with its message under it.
export function progressBar(job) {
  const percent = Math.round((job.progress || 0) * 100);
  const fill = el("span", { class: "progress__fill" });
  fill.style.width = `${job.status === "succeeded" ? 100 : percent}%`;
  return el(
    "div",
    { class: `progress progress--${job.status}` },
    el(
      "div",
      {
        class: "progress__track",
        role: "progressbar",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(job.status === "succeeded" ? 100 : percent),
        "aria-label": `${kindLabel(job.kind)} progress`,
      },
      fill,
    ),
    el("span", { class: "progress__message", "data-progress-message": true }, job.progress_message || ""),
  );
}

// One line saying what a job is about, from its payload.
export function jobSubject(job, { users, folders } = {}) {
  const payload = job.payload || {};
  if (payload.folder_id && folders && folders.has(payload.folder_id)) return folders.get(payload.folder_id).path;
  if (payload.folder_id) return `Folder ${shortId(payload.folder_id)}`;
  if (payload.asset_id) return `Asset ${shortId(payload.asset_id)}`;
  if (payload.user_id) return users && users.has(payload.user_id) ? users.get(payload.user_id).display_name : `User ${shortId(payload.user_id)}`;
  return "";
}

export function shortId(id) {
  return String(id).slice(-8);
}

// Times --------------------------------------------------------------------------------------

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const STEPS = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Infinity],
];

// "3 minutes ago" / "in 2 hours" for an instant (ISO with a zone).
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return "";
  let value = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return RELATIVE.format(Math.round(value), unit);
    value /= size;
  }
  return "";
}

export function absoluteTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

// A <time> showing the relative time, the exact one on hover.
export function timeElement(iso, { empty = "—" } = {}) {
  if (!iso) return el("span", { class: "muted" }, empty);
  return el("time", { datetime: iso, title: absoluteTime(iso) }, relativeTime(iso));
}

// Panels -------------------------------------------------------------------------------------

// A modal side panel (a <dialog>): Escape or the close button shut it and focus goes back.
// Returns { dialog, body, close }; `onClose` runs once when it shuts.
export function openPanel({ title, label = title, onClose = () => {} }) {
  const previous = document.activeElement;
  const heading = el("h2", { class: "panel__title", id: "panel-title" }, title);
  const body = el("div", { class: "panel__body" });
  const closeButton = iconButton("x", "Close", { className: "button button--quiet", "data-panel-close": true });
  const dialog = el(
    "dialog",
    { class: "panel", "aria-labelledby": "panel-title", "aria-label": label },
    el("div", { class: "panel__header" }, heading, closeButton),
    body,
  );
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    dialog.close();
    dialog.remove();
    onClose();
    if (previous && previous.focus) previous.focus();
  };
  closeButton.addEventListener("click", close);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  // A click on the backdrop (the dialog box itself, outside its content) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  closeButton.focus();
  return { dialog, body, heading, close };
}

// Live updates -------------------------------------------------------------------------------

// Follow the admins' "jobs" topic; the badge (and data-live on `mount`, which tests wait for)
// says whether the page is following the server right now.
export function followJobs(mount, handler, { onResync = () => {} } = {}) {
  const badge = el("span", { class: "live", "data-live-badge": true }, el("span", { class: "live__dot" }), el("span", { class: "live__text" }, "Connecting…"));
  const show = (state, text) => {
    mount.dataset.live = state;
    badge.dataset.state = state;
    badge.querySelector(".live__text").textContent = text;
  };
  show("connecting", "Connecting…");
  live.onStatus((status, frame) => {
    if (status === "subscribed" && (!frame || !frame.topics || frame.topics.includes("jobs"))) show("on", "Live");
    else if (status === "closed" || status === "connecting") show("off", "Reconnecting…");
    else if (status === "unauthorized") show("off", "Offline");
  });
  live.onResync(onResync);
  live.on("jobs", (frame) => {
    if (frame.event === "job.updated" && frame.data) handler(frame.data);
  });
  return badge;
}

// Small builders -----------------------------------------------------------------------------

export function sectionHeader(title, ...actions) {
  return el("div", { class: "admin-section__header" }, el("h2", { class: "admin-section__title" }, title), el("div", { class: "admin-section__actions" }, actions));
}

export function emptyState(iconName, title, text) {
  return el("div", { class: "empty" }, el("span", { class: "empty__icon" }, icon(iconName, "icon icon--large")), el("p", { class: "empty__title" }, title), text ? el("p", { class: "empty__text" }, text) : null);
}

// A "1–50 of 234" pager with previous/next; `go(offset)` loads another page.
export function pager({ offset, limit, total, go, label }) {
  if (total <= limit && offset === 0) return el("div", { class: "pager", hidden: true });
  const first = total ? offset + 1 : 0;
  const last = Math.min(offset + limit, total);
  return el(
    "nav",
    { class: "pager", "aria-label": label },
    el("span", { class: "pager__range" }, `${first.toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}`),
    iconButton("chevron-left", "Previous page", { className: "button button--small", disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }),
    iconButton("chevron-right", "Next page", { className: "button button--small", disabled: last >= total, onclick: () => go(offset + limit) }),
  );
}

// Put the server's reason next to a field or form ("no such directory on the server").
export function showError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}
