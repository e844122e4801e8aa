// Admin › Jobs: every background job, newest first, live. Filter by state and kind; open one
// for its payload and every attempt's full traceback; retry what failed, cancel what waits.
//
// The URL keeps the view (?status=failed&kind=library.scan_folder&job=<id>), so a link from
// elsewhere (the folders page) opens a job's details directly.

import { api } from "../api.js";
import { debounce, el, errorMessage, toast } from "../ui.js";
import {
  JOB_STATUSES,
  absoluteTime,
  canCancel,
  canRetry,
  emptyState,
  followJobs,
  jobSubject,
  kindLabel,
  knownKinds,
  loadUsers,
  openPanel,
  pager,
  progressBar,
  statusBadge,
  statusText,
  timeElement,
  userName,
} from "../admin/common.js";

const PAGE_SIZE = 50;
const mount = document.querySelector('[data-page="jobs"]');
const params = new URLSearchParams(location.search);

const state = {
  status: JOB_STATUSES.includes(params.get("status")) ? params.get("status") : null,
  kind: params.get("kind") || null,
  offset: 0,
  total: 0,
  users: new Map(),
  folders: new Map(),
  // job id -> { job, row, cells } for the rows on screen.
  rows: new Map(),
  counts: {},
  panel: null,
};

const toolbar = el("div", { class: "filters", role: "group", "aria-label": "Filter jobs" });
const tableBody = el("tbody", {});
const table = el(
  "div",
  { class: "table-wrap" },
  el(
    "table",
    { class: "data-table", "data-table": "jobs" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col" }, "Status"),
        el("th", { scope: "col" }, "Job"),
        el("th", { scope: "col" }, "Progress"),
        el("th", { scope: "col", class: "num" }, "Attempts"),
        el("th", { scope: "col" }, "Created"),
        el("th", { scope: "col", class: "actions" }, el("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    tableBody,
  ),
);
const empty = el("div", { hidden: true });
const pagerSlot = el("div", {});

// Filters ----------------------------------------------------------------------------------

function chip(status, label) {
  const count = el("span", { class: "filter-chip__count", hidden: true });
  const button = el(
    "button",
    { type: "button", class: "filter-chip", "aria-pressed": "false", "data-status-filter": status || "all", onclick: () => setFilter({ status }) },
    label,
    count,
  );
  return { status, button, count };
}

const chips = [chip(null, "All"), ...JOB_STATUSES.map((status) => chip(status, statusText({ status, attempts: 0 })))];

function kindSelect() {
  const kinds = new Set(knownKinds());
  if (state.kind) kinds.add(state.kind);
  return el(
    "select",
    { class: "input", "aria-label": "Kind of job", onchange: (event) => setFilter({ kind: event.target.value || null }) },
    el("option", { value: "" }, "All kinds"),
    [...kinds].map((kind) => el("option", { value: kind, selected: kind === state.kind }, kindLabel(kind))),
  );
}

// The chips and the select are built once; only their state changes (focus stays put).
function renderToolbar() {
  for (const { status, button, count } of chips) {
    button.setAttribute("aria-pressed", state.status === status ? "true" : "false");
    const value = status ? state.counts[status] : null;
    count.hidden = !Number.isFinite(value);
    if (Number.isFinite(value)) {
      count.textContent = value.toLocaleString();
      count.setAttribute("aria-label", `${value} jobs`);
    }
  }
}

function setFilter(changes) {
  Object.assign(state, changes, { offset: 0 });
  const query = new URLSearchParams();
  if (state.status) query.set("status", state.status);
  if (state.kind) query.set("kind", state.kind);
  history.replaceState(null, "", query.size ? `?${query}` : location.pathname);
  renderToolbar();
  loadPage();
  loadCounts();
}

// "How many failed" is one cheap count per state (limit=1 returns the total), refreshed after
// live changes at most once a second.
async function loadCounts() {
  const kind = state.kind ? `&kind=${encodeURIComponent(state.kind)}` : "";
  const totals = await Promise.all(JOB_STATUSES.map((status) => api.get(`/api/jobs?status=${status}&limit=1${kind}`).then((page) => page.total)));
  JOB_STATUSES.forEach((status, index) => (state.counts[status] = totals[index]));
  renderToolbar();
}

const refreshCounts = debounce(() => loadCounts().catch(() => {}), 1000);

// Rows -------------------------------------------------------------------------------------

function query(offset) {
  const parts = [`limit=${PAGE_SIZE}`, `offset=${offset}`];
  if (state.status) parts.push(`status=${state.status}`);
  if (state.kind) parts.push(`kind=${encodeURIComponent(state.kind)}`);
  return `/api/jobs?${parts.join("&")}`;
}

async function loadPage() {
  try {
    const page = await api.get(query(state.offset));
    state.total = page.total;
    state.rows.clear();
    tableBody.replaceChildren(...page.items.map((job) => makeRow(job).row));
    renderChrome();
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

function renderChrome() {
  const none = state.rows.size === 0;
  table.hidden = none;
  empty.hidden = !none;
  empty.replaceChildren(none ? emptyState("jobs", state.status ? `No ${state.status} jobs` : "No jobs", "Background work (processing photos, scanning folders, clean-ups) shows up here as it happens.") : "");
  pagerSlot.replaceChildren(pager({ offset: state.offset, limit: PAGE_SIZE, total: state.total, label: "Jobs pages", go: (offset) => ((state.offset = offset), loadPage()) }));
}

// A row keeps its elements (and the focus on its buttons) while live updates change it.
function makeRow(job) {
  const open = el(
    "button",
    { type: "button", class: "job-link", "aria-haspopup": "dialog", onclick: () => openJob(job.id) },
    el("span", { class: "job-link__kind" }, kindLabel(job.kind)),
    el("span", { class: "job-link__subject" }),
  );
  const retry = el("button", { type: "button", class: "button button--small", onclick: () => act(rowJob(job.id), "retry") }, "Retry");
  const cancel = el("button", { type: "button", class: "button button--small button--quiet", onclick: () => act(rowJob(job.id), "cancel") }, "Cancel");
  const cells = {
    status: el("td", { "data-label": "Status", "data-cell": "status" }),
    job: el("td", {}, open),
    progress: el("td", { "data-label": "Progress", "data-cell": "progress" }),
    attempts: el("td", { "data-label": "Attempts", class: "num", "data-cell": "attempts" }),
    created: el("td", { "data-label": "Created" }, timeElement(job.created_at)),
    actions: el("td", { class: "actions" }, retry, cancel),
  };
  const row = el("tr", { "data-job-id": job.id, "data-kind": job.kind }, Object.values(cells));
  const entry = { job, row, cells, open, retry, cancel };
  state.rows.set(job.id, entry);
  fillRow(entry, job);
  return entry;
}

function rowJob(id) {
  return state.rows.get(id)?.job;
}

function fillRow(entry, job) {
  entry.job = job;
  entry.row.dataset.status = job.status;
  entry.cells.status.replaceChildren(statusBadge(job));
  entry.open.querySelector(".job-link__subject").textContent = jobSubject(job, state) || userName(state.users, job.owner_id);
  const error = job.last_error && job.status !== "succeeded" ? el("div", { class: "job-error", "data-job-error": true }, lastLine(job.last_error)) : null;
  entry.cells.progress.replaceChildren(progressBar(job), error || "");
  entry.cells.attempts.textContent = `${job.attempts} / ${job.max_attempts}`;
  entry.retry.hidden = !canRetry(job);
  entry.cancel.hidden = !canCancel(job);
}

function lastLine(traceback) {
  const lines = String(traceback).trim().split("\n");
  return lines[lines.length - 1];
}

function matchesFilters(job) {
  return (!state.status || job.status === state.status) && (!state.kind || job.kind === state.kind);
}

// Live: known rows change in place; a new job matching the view is added at the top of the
// first page. A row that no longer matches the state filter stays until the next load, so
// rows never jump out from under the pointer.
function onJob(job) {
  const entry = state.rows.get(job.id);
  if (entry) {
    if (Date.parse(job.updated_at) >= Date.parse(entry.job.updated_at)) {
      if (entry.job.status !== job.status) countMove(entry.job.status, job.status);
      fillRow(entry, job);
    }
  } else if (state.offset === 0 && matchesFilters(job)) {
    countMove(null, job.status);
    const fresh = makeRow(job);
    fresh.row.classList.add("is-fresh");
    tableBody.prepend(fresh.row);
    state.total += 1;
    trimRows();
    renderChrome();
  }
  if (state.panel && state.panel.id === job.id) state.panel.refresh();
  refreshCounts();
}

// The counts follow the rows on screen at once; the server's figures replace them shortly.
function countMove(from, to) {
  if (from && Number.isFinite(state.counts[from])) state.counts[from] = Math.max(0, state.counts[from] - 1);
  if (to && Number.isFinite(state.counts[to])) state.counts[to] += 1;
  renderToolbar();
}

function trimRows() {
  while (tableBody.rows.length > PAGE_SIZE) {
    const last = tableBody.rows[tableBody.rows.length - 1];
    state.rows.delete(last.dataset.jobId);
    last.remove();
  }
}

async function act(job, action) {
  if (!job) return;
  try {
    const updated = await api.post(`/api/jobs/${job.id}/${action}`);
    onJob(updated);
    toast(action === "retry" ? `${kindLabel(job.kind)} queued again.` : updated.status === "cancelled" ? `${kindLabel(job.kind)} cancelled.` : `${kindLabel(job.kind)} will stop shortly.`, { kind: "success" });
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

// Details ----------------------------------------------------------------------------------

function openJob(id) {
  if (state.panel) state.panel.close();
  const panel = openPanel({
    title: "Job",
    onClose: () => {
      if (state.panel === handle) state.panel = null;
      setJobParam(null);
    },
  });
  panel.dialog.dataset.jobPanel = id;
  panel.body.append(el("div", { class: "loading-block" }));
  const load = async () => {
    try {
      const detail = await api.get(`/api/jobs/${id}`);
      if (state.panel === handle) renderDetail(panel, detail);
    } catch (error) {
      panel.body.replaceChildren(emptyState("alert", "Could not load the job", errorMessage(error)));
    }
  };
  const handle = { id, close: panel.close, refresh: debounce(load, 150) };
  state.panel = handle;
  setJobParam(id);
  load();
}

function setJobParam(id) {
  const query = new URLSearchParams(location.search);
  if (id) query.set("job", id);
  else query.delete("job");
  history.replaceState(null, "", query.size ? `?${query}` : location.pathname);
}

function fact(label, value) {
  return [el("dt", {}, label), el("dd", {}, value === null || value === undefined || value === "" ? el("span", { class: "muted" }, "—") : value)];
}

function renderDetail(panel, job) {
  panel.heading.textContent = kindLabel(job.kind);
  const actions = el(
    "div",
    { class: "panel__actions" },
    canRetry(job) ? el("button", { type: "button", class: "button button--primary", onclick: () => act(job, "retry") }, "Retry") : null,
    canCancel(job) ? el("button", { type: "button", class: "button button--danger", onclick: () => act(job, "cancel") }, job.status === "running" ? "Stop" : "Cancel") : null,
  );
  const facts = el(
    "dl",
    { class: "facts" },
    fact("Status", el("span", { "data-detail-status": job.status }, statusBadge(job))),
    fact("Kind", el("span", { class: "mono" }, job.kind)),
    fact("About", jobSubject(job, state)),
    fact("Owner", userName(state.users, job.owner_id)),
    fact("Queue", job.queue),
    fact("Attempts", `${job.attempts} of ${job.max_attempts}`),
    fact("Created", absoluteTime(job.created_at)),
    fact("Started", absoluteTime(job.started_at)),
    fact("Finished", absoluteTime(job.finished_at)),
    job.scheduled_at && job.status === "queued" ? fact("Next attempt", timeElement(job.scheduled_at)) : null,
    fact("Id", el("span", { class: "mono" }, job.id)),
  );
  const sections = [actions, facts, el("section", {}, el("h3", {}, "Progress"), progressBar(job))];
  if (job.last_error) {
    sections.push(el("section", {}, el("h3", {}, job.status === "succeeded" ? "Error of an earlier attempt" : "Error"), el("pre", { class: "code-block code-block--error", "data-last-error": true, tabindex: "0" }, job.last_error)));
  }
  sections.push(el("section", {}, el("h3", {}, "Payload"), el("pre", { class: "code-block", tabindex: "0" }, JSON.stringify(job.payload, null, 2))));
  sections.push(el("section", {}, el("h3", {}, "Attempts"), attemptsList(job.attempts_history)));
  panel.body.replaceChildren(...sections);
}

function attemptsList(attempts) {
  if (!attempts.length) return el("p", { class: "muted" }, "Not run yet.");
  // Newest first: the attempt that matters most is the last one.
  return el(
    "ol",
    { class: "attempts", reversed: true },
    [...attempts].reverse().map((attempt) =>
      el(
        "li",
        { class: "attempt", "data-attempt": String(attempt.number) },
        el(
          "div",
          { class: "attempt__head" },
          el("strong", {}, `Attempt ${attempt.number}`),
          attempt.outcome ? el("span", { class: `badge status--${attempt.outcome === "interrupted" ? "cancelled" : attempt.outcome}` }, attempt.outcome.charAt(0).toUpperCase() + attempt.outcome.slice(1)) : el("span", { class: "badge status--running" }, "Running"),
          el("span", { class: "muted" }, absoluteTime(attempt.started_at)),
          attempt.finished_at ? el("span", { class: "muted" }, `${duration(attempt.started_at, attempt.finished_at)}`) : null,
          el("span", { class: "muted mono" }, attempt.worker),
        ),
        attempt.error ? el("pre", { class: "code-block code-block--error", "data-attempt-error": true, tabindex: "0" }, attempt.error) : null,
      ),
    ),
  );
}

function duration(start, end) {
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms)) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

// Start ------------------------------------------------------------------------------------

const liveBadge = followJobs(mount, onJob, {
  onResync: () => {
    loadPage();
    loadCounts().catch(() => {});
  },
});

async function start() {
  mount.classList.add("admin");
  toolbar.replaceChildren(...chips.map((item) => item.button), kindSelect());
  renderToolbar();
  const header = el("div", { class: "admin-section__header" }, toolbar, liveBadge);
  mount.replaceChildren(el("section", { class: "admin-section", "aria-label": "Jobs" }, header, table, empty, pagerSlot));
  try {
    const [users, folders] = await Promise.all([loadUsers(), api.get("/api/library/folders").catch(() => ({ items: [] }))]);
    state.users = users;
    state.folders = new Map(folders.items.map((folder) => [folder.id, folder]));
  } catch {
    // Names are a nicety: the jobs show with ids instead.
  }
  await Promise.all([loadPage(), loadCounts().catch(() => {})]);
  mount.dataset.ready = "true";
  if (params.get("job")) openJob(params.get("job"));
}

start();
