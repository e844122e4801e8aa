// The timeline: every photo of the signed-in person, newest first, by month and day.
//
// Live: the gateway's library events put new photos in place as they arrive and swap their
// placeholder for the thumbnail once processed; archived, trashed and deleted ones leave.
// /photos/<id> renders this page with data-open-asset, which opens the viewer on that photo.

import { api } from "../api.js";
import { live } from "../live.js";
import { el, icon, viewer } from "../ui.js";
import { AssetGrid } from "../library/grid.js";
import { libraryActions, SelectionBar } from "../library/selection.js";
import { TimelineSource } from "../library/sources.js";

const mount = document.querySelector('[data-page="timeline"]');

function emptyState() {
  const upload = () => document.querySelector('.topbar [data-action="upload"]')?.click();
  return el(
    "div",
    { class: "empty" },
    el("span", { class: "empty__icon", "aria-hidden": "true" }, icon("images", "icon icon--large")),
    el("h2", { class: "empty__title" }, "No photos yet"),
    el("p", { class: "empty__text" }, "Upload photos, maps and portraits, or drop them anywhere on this page. They show up here, newest first."),
    el("button", { type: "button", class: "button button--primary", onclick: upload }, icon("upload"), el("span", {}, "Upload photos")),
  );
}

// Events carry what a tile needs, name (its alt text) included; an event without one (from an
// older server in a mixed deployment) is completed from the API first. Events arriving meanwhile
// are kept (the latest wins) and applied once it is in, so a late answer never undoes a newer
// state.
const placing = new Map();

async function place(grid, source, data, { isNew }) {
  if (grid.has(data.id)) {
    grid.update(data);
    return;
  }
  if (placing.has(data.id)) {
    placing.set(data.id, data);
    return;
  }
  // A month only counted so far will bring this asset along when it loads; for a change (not
  // an addition) it is already in that count.
  if (!isNew && grid.monthState(data.local_at) === "unloaded") return;
  if (typeof data.name === "string") {
    if (source.accepts(data)) grid.insert(data);
    return;
  }
  placing.set(data.id, data);
  let asset = null;
  try {
    asset = await api.get(`/api/library/assets/${encodeURIComponent(data.id)}`);
  } catch {
    placing.delete(data.id);
    return; // gone meanwhile (deleted, or no longer ours): nothing to show
  }
  const latest = placing.get(data.id);
  placing.delete(data.id);
  if (!source.accepts(asset) || !source.accepts(latest)) return;
  grid.insert(asset);
  if (latest !== data) grid.update(latest);
}

function onLibraryEvent(grid, source, frame) {
  const data = frame.data || {};
  if (!data.id) return;
  if (frame.event === "asset.deleted" || !source.accepts(data)) {
    // Deleted, archived, trashed (or filtered out): it leaves.
    grid.remove([data.id]);
  } else if (["asset.added", "asset.processed", "asset.changed"].includes(frame.event)) {
    place(grid, source, data, { isNew: frame.event === "asset.added" });
  }
}

async function openRequested(grid) {
  const id = mount.dataset.openAsset;
  if (!id) return;
  await grid.ready;
  const viewerModule = import("../library/viewer.js");
  // Its month may not be loaded yet: ask where it is, then load that month.
  let index = grid.indexOf(id);
  if (index < 0) {
    const asset = await api.get(`/api/library/assets/${encodeURIComponent(id)}`).catch(() => null);
    if (asset) index = await grid.locate(asset).catch(() => -1);
  }
  const { openViewer, openViewerById } = await viewerModule;
  const callbacks = { onChanged: (asset) => grid.update(asset), onRemoved: (removed) => grid.remove([removed]) };
  if (index >= 0) {
    grid.reveal(id);
    openViewer({ sequence: grid.sequence(), index, ...callbacks });
  } else {
    // Not in the timeline (archived, trashed, or someone else's in a shared album): on its own.
    openViewerById(id, callbacks);
  }
}

function start() {
  if (!mount) return;
  const source = new TimelineSource({});
  const grid = new AssetGrid(mount, { source, selectable: true, empty: emptyState, groupBy: "day" });
  new SelectionBar(grid, { actions: libraryActions() });
  if (viewer.userId) live.on(`library:${viewer.userId}`, (frame) => onLibraryEvent(grid, source, frame));
  live.onResync(() => grid.reload());
  // This page's own uploads appear at once, before the gateway's event does.
  import("../library/upload.js")
    .then(({ uploads }) => uploads?.addEventListener("uploaded", (event) => event.detail?.asset && source.accepts(event.detail.asset) && grid.insert(event.detail.asset)))
    .catch(() => {});
  openRequested(grid);
}

start();
