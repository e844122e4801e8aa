// The trash page: what the viewer deleted, when each item goes for good, restore, delete
// forever, empty the whole trash.

import { api } from "../api.js";
import { live } from "../live.js";
import { AssetGrid } from "../library/grid.js";
import { SelectionBar, bulk } from "../library/selection.js";
import { QuerySource, toItem } from "../library/sources.js";
import { openViewer } from "../library/viewer.js";
import { confirmDialog, debounce, el, errorMessage, formatCount, icon, toast, viewer } from "../ui.js";

const DAY_MS = 24 * 60 * 60 * 1000;

const mount = document.querySelector('[data-page="trash"]');
const note = document.querySelector("[data-trash-note]");
const emptyButton = document.querySelector('[data-action="empty-trash"]');

let retentionDays = null;
let grid = null;
// When each asset on the page was trashed (the grid's items keep only what a tile needs).
const trashedAt = new Map();

// The query source, remembering when each asset went to the trash.
class TrashSource extends QuerySource {
  constructor() {
    super({ trashed: true });
  }

  async next() {
    if (this.done) return { items: [], done: true };
    const params = new URLSearchParams({ trashed: "true", limit: "200" });
    if (this.cursor) params.set("cursor", this.cursor);
    const page = await api.get(`/api/library/assets?${params}`);
    this.cursor = page.next_cursor;
    this.done = !page.next_cursor;
    for (const asset of page.items) if (asset.trashed_at) trashedAt.set(asset.id, asset.trashed_at);
    return { items: page.items.map(toItem), done: this.done };
  }
}

// "12 days left" / "Goes today" for an asset trashed at `when`.
function remaining(when) {
  if (retentionDays === null || !when) return null;
  const purgeAt = new Date(when).getTime() + retentionDays * DAY_MS;
  const days = Math.ceil((purgeAt - Date.now()) / DAY_MS);
  const date = new Date(purgeAt).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  if (days <= 1) return { short: "Last day", long: `Deleted for good on ${date}` };
  return { short: `${days} days left`, long: `Deleted for good on ${date}` };
}

// Each tile says how long it has left. Tiles come and go as the grid scrolls (it renders only
// what is on screen), so they are labelled as they appear.
function labelTile(tile) {
  const left = remaining(trashedAt.get(tile.dataset.assetId));
  let badge = tile.querySelector(":scope > .trash-expiry");
  if (!left) {
    badge?.remove();
    return;
  }
  if (!badge) {
    badge = el("span", { class: "trash-expiry" });
    tile.append(badge);
  }
  if (badge.textContent !== left.short) badge.textContent = left.short;
  badge.title = left.long;
}

function labelTiles(root = mount) {
  for (const tile of root.querySelectorAll(".tile[data-asset-id]")) labelTile(tile);
}

function watchTiles() {
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") {
        labelTile(record.target);
        continue;
      }
      for (const node of record.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches(".tile[data-asset-id]")) labelTile(node);
        else if (!node.classList.contains("trash-expiry")) labelTiles(node);
      }
    }
  });
  observer.observe(mount, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-asset-id"] });
}

function emptyState() {
  const days = retentionDays === null ? "a while" : formatCount(retentionDays, "day");
  return el(
    "div",
    { class: "empty trash__none" },
    el("span", { class: "empty__icon" }, icon("trash", "icon icon--large")),
    el("h2", { class: "empty__title" }, "Trash is empty"),
    el("p", { class: "empty__text" }, `Photos you delete stay here for ${days}, so you can change your mind.`),
  );
}

// Whether anything is left in the trash (the Empty trash button follows it).
async function refreshCount() {
  try {
    const page = await api.get("/api/library/assets?trashed=true&limit=1");
    emptyButton.disabled = page.items.length === 0;
  } catch {
    emptyButton.disabled = false;
  }
}

function removed(ids) {
  grid.remove(ids);
  for (const id of ids) trashedAt.delete(id);
  refreshCount();
}

function couldNot(failed) {
  return failed ? `; ${formatCount(failed, "item")} could not be (gone already?)` : "";
}

async function restore(ids) {
  const { done, failed } = await bulk("restore", ids);
  removed(done);
  toast(`${formatCount(done.length, "item")} restored${couldNot(failed)}`, {
    action: done.length ? { label: "Undo", run: () => bulk("trash", done).then(() => grid.reload()).then(refreshCount) } : null,
  });
}

async function purge(ids) {
  const sure = await confirmDialog({
    title: `Delete ${formatCount(ids.length, "item")} forever?`,
    body: "They will be deleted for good, with their files. This can't be undone.",
    confirm: "Delete forever",
    danger: true,
  });
  if (!sure) return;
  const { done, failed } = await bulk("purge", ids);
  removed(done);
  toast(`${formatCount(done.length, "item")} deleted forever${couldNot(failed)}`);
}

async function emptyTrash() {
  const sure = await confirmDialog({
    title: "Empty the trash?",
    body: "Everything in the trash will be deleted for good, with its files. This can't be undone.",
    confirm: "Empty trash",
    danger: true,
  });
  if (!sure) return;
  emptyButton.disabled = true;
  try {
    const { purged } = await api.post("/api/library/trash/empty", {});
    trashedAt.clear();
    grid.clearSelection();
    grid.reload();
    toast(`${formatCount(purged, "item")} deleted forever`);
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
  refreshCount();
}

// Elsewhere (another tab, the viewer) things enter and leave the trash.
function followChanges() {
  const reload = debounce(() => {
    grid.reload();
    refreshCount();
  }, 400);
  live.on(`library:${viewer.userId}`, (frame) => {
    const data = frame.data || {};
    if (!data.id) return;
    if (frame.event === "asset.deleted" || (frame.event === "asset.changed" && data.trashed === false)) {
      if (grid.sequence().indexOf(data.id) >= 0) removed([data.id]);
    } else if (frame.event === "asset.changed" && data.trashed && grid.sequence().indexOf(data.id) < 0) {
      reload();
    }
  });
}

async function start() {
  try {
    retentionDays = (await api.get("/api/library/limits")).trash_retention_days;
    note.textContent = `Photos in the trash are deleted for good ${formatCount(retentionDays, "day")} after they were moved here.`;
  } catch {
    // The page still works; it just cannot say when things go.
  }
  grid = new AssetGrid(mount, {
    source: new TrashSource(),
    empty: emptyState,
    onOpen: (asset, index, target) =>
      openViewer({
        sequence: target.sequence(),
        index,
        mode: "trash",
        onRemoved: (id) => removed([id]),
      }),
  });
  new SelectionBar(grid, {
    actions: [
      { key: "restore", label: "Restore", icon: "restore", run: (ids) => restore(ids) },
      { key: "purge", label: "Delete forever", icon: "trash", danger: true, run: (ids) => purge(ids) },
    ],
  });
  emptyButton.addEventListener("click", emptyTrash);
  watchTiles();
  followChanges();
  refreshCount();
}

if (mount) start();
