// Admin › Folders: server folders indexed in place for a user (read, never written), their
// last scan and what it is doing now, live; add one, rescan, stop indexing.

import { api, ApiError } from "../api.js";
import { confirmDialog, el, errorMessage, formatCount, iconButton, toast } from "../ui.js";
import { canCancel, emptyState, followJobs, loadUsers, progressBar, sectionHeader, showError, statusBadge, timeElement, userName } from "../admin/common.js";

const SCAN_KIND = "library.scan_folder";
const mount = document.querySelector('[data-page="folders"]');

const state = {
  users: new Map(),
  folders: [],
  // The latest scan job of each folder, by folder id (from the jobs list, then live).
  scans: new Map(),
};

const formSection = el("section", { class: "admin-section", "aria-labelledby": "add-folder-title" });
const listSection = el("section", { class: "admin-section", "aria-labelledby": "folders-title" });

// The form ---------------------------------------------------------------------------------

function renderForm() {
  const path = el("input", { class: "input mono", id: "folder-path", name: "path", required: true, autocomplete: "off", spellcheck: "false", placeholder: "/srv/photos/campaign", "aria-describedby": "folder-path-error" });
  const owner = el(
    "select",
    { class: "input", id: "folder-owner", name: "owner_id", required: true },
    [...state.users.values()]
      .filter((user) => user.is_active)
      .map((user) => el("option", { value: user.id, selected: user.id === document.body.dataset.userId }, `${user.display_name} (${user.email})`)),
  );
  const watch = el("input", { type: "checkbox", name: "watch", checked: true });
  const pathError = el("p", { class: "field__error", id: "folder-path-error", "data-error-for": "path", hidden: true });
  const formError = el("p", { class: "field__error", "data-form-error": true, hidden: true });
  const submit = el("button", { type: "submit", class: "button button--primary" }, "Add folder");
  const form = el(
    "form",
    { class: "inline-form", "data-form": "folder", novalidate: true },
    el("div", { class: "field" }, el("label", { class: "field__label", for: "folder-path" }, "Folder on the server"), path),
    el("div", { class: "field" }, el("label", { class: "field__label", for: "folder-owner" }, "Photos belong to"), owner),
    submit,
    el("div", { class: "inline-form__footer" }, el("label", { class: "checkbox" }, watch, "Watch for new files"), el("span", { class: "muted" }, "The folder is only read: nothing in it is moved, changed or deleted.")),
    pathError,
    formError,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(pathError, "");
    showError(formError, "");
    const value = path.value.trim();
    if (!value) {
      showError(pathError, "Enter the folder's absolute path on the server.");
      path.focus();
      return;
    }
    submit.disabled = true;
    try {
      const folder = await api.post("/api/library/folders", { path: value, owner_id: owner.value, watch: watch.checked });
      toast(`Indexing ${folder.path} for ${userName(state.users, folder.owner_id)}.`, { kind: "success" });
      path.value = "";
      await loadFolders();
    } catch (error) {
      // The server says what is wrong with the path ("no such directory on the server").
      const fields = error instanceof ApiError ? error.fieldErrors : {};
      const target = fields.owner_id ? formError : pathError;
      showError(target, fields.path || fields.owner_id || errorMessage(error));
      path.focus();
    } finally {
      submit.disabled = false;
    }
  });
  const header = sectionHeader("Add a folder");
  header.querySelector("h2").id = "add-folder-title";
  formSection.replaceChildren(header, form);
}

// The list ---------------------------------------------------------------------------------

async function loadFolders() {
  state.folders = (await api.get("/api/library/folders")).items;
  renderList();
}

async function loadScans() {
  // Newest first: the first job seen for a folder is its latest scan.
  const page = await api.get(`/api/jobs?kind=${SCAN_KIND}&limit=200`);
  const seen = new Set();
  for (const job of page.items) {
    const id = job.payload && job.payload.folder_id;
    if (!id || seen.has(id)) continue;
    seen.add(id);
    // A live update that arrived while this list was on its way may be newer: keep it.
    if (isNewer(job, state.scans.get(id))) state.scans.set(id, job);
  }
}

function isNewer(job, known) {
  if (!known) return true;
  if (known.id !== job.id) return Date.parse(job.created_at) >= Date.parse(known.created_at);
  return Date.parse(job.updated_at) >= Date.parse(known.updated_at);
}

function scanCell(folder) {
  const job = state.scans.get(folder.id);
  if (!job) return el("span", { class: "muted" }, "Not scanned yet");
  const parts = [el("div", { class: "badges" }, statusBadge(job))];
  if (job.status === "running" || job.status === "queued") parts.push(progressBar(job));
  else if (job.progress_message && job.status === "succeeded") parts.push(el("span", { class: "progress__message", "data-progress-message": true }, job.progress_message));
  if (job.last_error && job.status !== "succeeded") {
    parts.push(el("span", { class: "job-error", "data-scan-error": true }, firstLine(job.last_error)));
    // The whole traceback and the retry button live on the jobs page.
    parts.push(el("a", { class: "link link--small", href: `/admin/jobs?kind=${SCAN_KIND}&job=${job.id}` }, "Details"));
  }
  return el("div", { class: "scan", "data-scan-status": job.status }, parts);
}

// The last line of a traceback is the exception and its message; the jobs page has the rest.
function firstLine(traceback) {
  const lines = traceback.trim().split("\n");
  return lines[lines.length - 1];
}

function folderRow(folder) {
  const job = state.scans.get(folder.id);
  const busy = job && canCancel(job);
  return el(
    "tr",
    { "data-folder-id": folder.id, "data-path": folder.path },
    el("td", {}, el("div", { class: "mono" }, folder.path), folder.watch ? el("span", { class: "muted" }, "Watched") : null),
    el("td", { "data-label": "Owner" }, userName(state.users, folder.owner_id)),
    el("td", { "data-label": "Assets", class: "num", "data-asset-count": String(folder.asset_count) }, formatCount(folder.asset_count, "asset")),
    el("td", { "data-label": "Last scan" }, timeElement(folder.last_scan_at, { empty: "Never" })),
    el("td", { "data-label": "Scan", "data-scan": true }, scanCell(folder)),
    el(
      "td",
      { class: "actions" },
      el("button", { type: "button", class: "button button--small", disabled: Boolean(busy), onclick: () => rescan(folder) }, "Rescan"),
      iconButton("trash", `Stop indexing ${folder.path}`, { className: "button button--small button--quiet", onclick: () => removeFolder(folder) }),
    ),
  );
}

function renderList() {
  const badge = listSection.querySelector("[data-live-badge]") || liveBadge;
  const header = sectionHeader("Indexed folders", badge);
  header.querySelector("h2").id = "folders-title";
  const content = state.folders.length
    ? el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "data-table", "data-table": "folders" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Folder"), el("th", { scope: "col" }, "Owner"), el("th", { scope: "col", class: "num" }, "Assets"), el("th", { scope: "col" }, "Last scan"), el("th", { scope: "col" }, "Scan"), el("th", { scope: "col", class: "actions" }, el("span", { class: "visually-hidden" }, "Actions")))),
          el("tbody", {}, state.folders.map(folderRow)),
        ),
      )
    : emptyState("folder", "No folders indexed", "Index a folder of the server in place: its photos join the owner's library without being copied.");
  listSection.replaceChildren(header, content);
}

function renderRow(folderId) {
  const folder = state.folders.find((item) => item.id === folderId);
  const row = listSection.querySelector(`tr[data-folder-id="${folderId}"]`);
  if (!folder || !row) return;
  row.replaceWith(folderRow(folder));
}

async function rescan(folder) {
  try {
    const job = await api.post(`/api/library/folders/${folder.id}/rescan`);
    state.scans.set(folder.id, job);
    renderRow(folder.id);
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

async function removeFolder(folder) {
  const sure = await confirmDialog({
    title: "Stop indexing this folder?",
    body: `${formatCount(folder.asset_count, "photo")} from ${folder.path} leave ${userName(state.users, folder.owner_id)}'s library. The files on the server are not touched.`,
    confirm: "Stop indexing",
    danger: true,
  });
  if (!sure) return;
  try {
    await api.delete(`/api/library/folders/${folder.id}`);
    toast(`${folder.path} is no longer indexed.`, { kind: "success" });
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
  await loadFolders().catch((error) => toast(errorMessage(error), { kind: "error" }));
}

// Live: a scan's progress updates its folder's row; a finished scan brings new counts.
function onJob(job) {
  if (job.kind !== SCAN_KIND || !job.payload) return;
  const folderId = job.payload.folder_id;
  if (!isNewer(job, state.scans.get(folderId))) return;
  state.scans.set(folderId, job);
  if (job.status === "succeeded") refreshSoon();
  else renderRow(folderId);
}

let refreshTimer = null;
function refreshSoon() {
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => loadFolders().catch(() => {}), 150);
}

const liveBadge = followJobs(mount, onJob, {
  onResync: () => Promise.all([loadScans(), loadFolders()]).catch(() => {}),
});

async function start() {
  mount.classList.add("admin");
  formSection.append(el("div", { class: "loading-block" }));
  listSection.append(el("div", { class: "loading-block" }));
  mount.replaceChildren(formSection, listSection);
  try {
    state.users = await loadUsers();
    renderForm();
    await loadScans();
    await loadFolders();
    mount.dataset.ready = "true";
  } catch (error) {
    mount.replaceChildren(emptyState("alert", "Could not load the folders", errorMessage(error)));
  }
}

start();
