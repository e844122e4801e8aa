// One album: its title and description (edited in place by the owner), its photos in the
// shared grid with a selection bar, adding photos from the timeline, sharing, and deleting or
// leaving it. Everything follows the caller's role: viewers look, contributors also add (and
// remove what they added), the owner does everything. The API enforces the same rules; the page
// only hides what would be refused.
//
// The album's topic on the gateway keeps an open page current when someone else adds, removes,
// renames or re-shares; a change that takes the album away from us sends us back to /albums.

import { api } from "../api.js";
import { live } from "../live.js";
import { AssetGrid } from "../library/grid.js";
import { libraryActions, SelectionBar } from "../library/selection.js";
import { openSheet, openShareDialog } from "../library/share.js";
import { AlbumSource, TimelineSource } from "../library/sources.js";
import { openViewer } from "../library/viewer.js";
import { confirmDialog, debounce, el, errorMessage, formatCount, icon, iconButton, toast, viewer } from "../ui.js";

const mount = document.querySelector('[data-page="album"]');
const albumId = mount.dataset.albumId;
const BATCH = 500; // the API takes at most this many ids per call

let album = null;
let grid = null;
// A field being edited keeps its input even when a live update redraws the header meanwhile.
const editing = { title: false, description: false };

const can = {
  get edit() {
    return album?.role === "owner";
  },
  get add() {
    return album?.role === "owner" || album?.role === "contributor";
  },
};

// Header ------------------------------------------------------------------------------------

const titleNode = el("h1", { class: "page__title album__title" });
const descriptionNode = el("div", { class: "album__description" });
const metaNode = el("p", { class: "album__meta" });
const actionsNode = el("div", { class: "album__actions" });
const header = el(
  "header",
  { class: "album__header" },
  el("a", { class: "album__back link", href: "/albums" }, icon("chevron-left", "icon icon--small"), el("span", {}, "Albums")),
  el("div", { class: "album__heading" }, el("div", { class: "album__text" }, titleNode, descriptionNode, metaNode), actionsNode),
);
const gridMount = el("div", { class: "album__grid" });

function renderHeader() {
  document.title = `${album.name} · Meadhall`;
  renderTitle();
  renderDescription();
  renderMeta();
  renderActions();
}

function renderTitle() {
  if (editing.title && can.edit) return;
  if (!can.edit) {
    titleNode.replaceChildren(album.name);
    return;
  }
  titleNode.replaceChildren(
    el(
      "button",
      { type: "button", class: "inline-edit album__title-button", title: "Rename album", onclick: editTitle },
      el("span", {}, album.name),
      el("span", { class: "visually-hidden" }, " (rename)"),
      icon("edit", "icon icon--small inline-edit__icon"),
    ),
  );
}

function editTitle() {
  const input = el("input", {
    class: "input album__title-input",
    value: album.name,
    maxlength: 200,
    "aria-label": "Album name",
    autocomplete: "off",
  });
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    editing.title = false;
    const name = input.value.trim();
    const keepFocus = titleNode.contains(document.activeElement);
    const saving = save && name && name !== album.name ? saveAlbum({ name }) : null;
    renderTitle();
    // Back to the title only if focus was still here: a click elsewhere has moved on.
    if (keepFocus) titleNode.querySelector("button")?.focus();
    await saving;
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      finish(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      finish(false);
    }
  });
  input.addEventListener("blur", () => finish(true));
  editing.title = true;
  titleNode.replaceChildren(input);
  input.focus();
  input.select();
}

function renderDescription() {
  if (editing.description && can.edit) return;
  const text = album.description || "";
  if (!can.edit) {
    descriptionNode.replaceChildren(text ? el("p", { class: "album__description-text" }, text) : "");
    return;
  }
  descriptionNode.replaceChildren(
    el(
      "button",
      { type: "button", class: `inline-edit album__description-button${text ? "" : " is-empty"}`, onclick: editDescription },
      el("span", { class: "album__description-text" }, text || "Add a description"),
      text ? el("span", { class: "visually-hidden" }, " (edit description)") : null,
    ),
  );
}

function editDescription() {
  const area = el("textarea", {
    class: "input album__description-input",
    maxlength: 5000,
    rows: 3,
    "aria-label": "Album description",
    "aria-describedby": "album-description-hint",
  });
  area.value = album.description || "";
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    editing.description = false;
    const text = area.value.trim();
    const keepFocus = descriptionNode.contains(document.activeElement);
    const saving = save && text !== (album.description || "") ? saveAlbum({ description: text || null }) : null;
    renderDescription();
    if (keepFocus) descriptionNode.querySelector("button")?.focus();
    await saving;
  };
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      finish(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      finish(false);
    }
  });
  area.addEventListener("blur", () => finish(true));
  editing.description = true;
  descriptionNode.replaceChildren(
    area,
    el("p", { class: "field__hint", id: "album-description-hint" }, "Saved when you leave the field or press Ctrl+Enter; Escape cancels."),
  );
  area.focus();
}

function renderMeta() {
  const others = (album.members || []).filter((member) => member.role !== "owner");
  const parts = [el("span", { "data-album-count": true }, formatCount(album.asset_count, "photo"))];
  if (album.role !== "owner") {
    parts.push(el("span", {}, `by ${album.owner.display_name}`));
    parts.push(el("span", { class: "badge badge--accent", "data-album-role": album.role }, album.role === "viewer" ? "Viewer" : "Contributor"));
  }
  if (others.length) {
    parts.push(
      el(
        "button",
        { type: "button", class: "album__people", onclick: share, title: "People in this album" },
        el(
          "span",
          { class: "album__avatars", "aria-hidden": "true" },
          [album.members[0], ...others].slice(0, 4).map((member) => el("span", { class: "avatar avatar--small" }, member.user.display_name.charAt(0).toUpperCase())),
        ),
        el("span", {}, `Shared with ${formatCount(others.length, "person", "people")}`),
      ),
    );
  }
  metaNode.replaceChildren(...parts.flatMap((part, index) => (index ? [el("span", { class: "album__dot", "aria-hidden": "true" }, "·"), part] : [part])));
}

function actionButton(iconName, label, onclick, extra = {}) {
  return el(
    "button",
    { type: "button", class: `button ${extra.className || ""}`.trim(), onclick, "aria-label": label, title: label, ...extra.attrs },
    icon(iconName),
    el("span", { class: "album__action-label", "aria-hidden": "true" }, label),
  );
}

function renderActions() {
  const buttons = [];
  if (can.add) buttons.push(actionButton("plus", "Add photos", addPhotos, { className: "button--primary", attrs: { "data-action": "add-photos" } }));
  if (can.edit) buttons.push(actionButton("share", "Share", share, { attrs: { "data-action": "share" } }));
  if (can.edit) buttons.push(iconButton("trash", "Delete album", { onclick: deleteAlbum, "data-action": "delete-album" }));
  else buttons.push(iconButton("logout", "Leave album", { onclick: leaveAlbum, "data-action": "leave-album" }));
  actionsNode.replaceChildren(...buttons);
}

// Album changes -----------------------------------------------------------------------------

async function loadAlbum() {
  album = await api.get(`/api/library/albums/${albumId}`);
  renderHeader();
  return album;
}

// Shows the change at once and sends it; a refusal puts the old values back.
async function saveAlbum(changes) {
  const before = album;
  album = { ...album, ...changes };
  renderHeader();
  try {
    const saved = await api.patch(`/api/library/albums/${albumId}`, changes);
    album = { ...album, ...saved };
    renderHeader();
    return true;
  } catch (error) {
    album = { ...before, ...album, ...Object.fromEntries(Object.keys(changes).map((key) => [key, before[key]])) };
    renderHeader();
    toast(errorMessage(error), { kind: "error" });
    return false;
  }
}

// After our own change or a gateway event: read the album again (count, cover, members, role).
const refreshAlbum = debounce(async () => {
  try {
    const previousRole = album?.role;
    await loadAlbum();
    if (previousRole && previousRole !== album.role) {
      toast(`Your role in this album is now ${album.role}.`);
      setupGrid();
    }
  } catch (error) {
    if (error.status === 404) gone("This album is no longer shared with you.");
  }
}, 150);

const reloadGrid = debounce(() => grid?.reload(), 200);

function gone(message) {
  toast(message);
  window.setTimeout(() => location.assign("/albums"), 1200);
}

function share() {
  openShareDialog({ album, onChanged: refreshAlbum });
}

async function deleteAlbum() {
  const ok = await confirmDialog({
    title: `Delete “${album.name}”?`,
    body: "The album goes away for everyone it is shared with. The photos themselves stay in their owners' libraries.",
    confirm: "Delete album",
    danger: true,
  });
  if (!ok) return;
  try {
    await api.delete(`/api/library/albums/${albumId}`);
    location.assign("/albums");
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

async function leaveAlbum() {
  const ok = await confirmDialog({
    title: `Leave “${album.name}”?`,
    body: "It disappears from your albums until its owner shares it with you again.",
    confirm: "Leave album",
    danger: true,
  });
  if (!ok) return;
  try {
    await api.delete(`/api/library/albums/${albumId}/members/${viewer.userId}`);
    location.assign("/albums?show=shared");
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

async function inBatches(ids, send) {
  const results = [];
  for (let start = 0; start < ids.length; start += BATCH) {
    const answer = await send(ids.slice(start, start + BATCH));
    results.push(...answer.results);
  }
  return results;
}

async function addToAlbum(ids) {
  const results = await inBatches(ids, (batch) => api.post(`/api/library/albums/${albumId}/assets`, { asset_ids: batch }));
  const added = results.filter((item) => item.result === "added").length;
  const already = results.filter((item) => item.result === "already").length;
  let message = `Added ${formatCount(added, "photo")}`;
  if (already) message += ` (${already.toLocaleString()} already in the album)`;
  toast(message);
  reloadGrid();
  refreshAlbum();
}

// Picking photos from the timeline --------------------------------------------------------------

async function addPhotos() {
  const count = el("span", { class: "album-picker__count", role: "status", "aria-live": "polite" }, "Select photos to add");
  const confirm = el("button", { type: "button", class: "button button--primary", disabled: true, "data-action": "add-selected" }, "Add to album");
  const cancel = el("button", { type: "button", class: "button" }, "Cancel");
  const sheet = openSheet({ title: `Add photos to “${album.name}”`, className: "album-picker", footer: [count, cancel, confirm] });
  const holder = el("div", { class: "album-picker__grid" });
  sheet.body.append(holder);
  const picker = new AssetGrid(holder, {
    source: new TimelineSource({}),
    selectable: true,
    // Opening a photo here would stack the viewer over the dialog; a click selects instead.
    onOpen: (asset) => toggle(asset.id),
    empty: () => el("p", { class: "empty__text" }, "Your library has no photos yet. Upload some first."),
  });
  // A click on a tile selects it, as if its check mark was hit.
  const toggle = (id) => {
    picker.toggleSelected(id);
  };
  picker.addEventListener("selectionchange", (event) => {
    const size = event.detail.ids.size;
    count.textContent = size ? `${formatCount(size, "photo")} selected` : "Select photos to add";
    confirm.disabled = !size;
  });
  cancel.addEventListener("click", () => sheet.close());
  confirm.addEventListener("click", async () => {
    const ids = [...picker.selection];
    if (!ids.length) return;
    confirm.setAttribute("aria-busy", "true");
    confirm.disabled = true;
    try {
      await addToAlbum(ids);
      sheet.close();
    } catch (error) {
      toast(errorMessage(error), { kind: "error" });
      confirm.disabled = false;
    } finally {
      confirm.removeAttribute("aria-busy");
    }
  });
  await sheet.closed;
  picker.destroy();
}

// The grid ----------------------------------------------------------------------------------------

function selectionActions() {
  const actions = [];
  if (can.add) {
    actions.push({
      key: "remove-from-album",
      label: "Remove from album",
      icon: "minus",
      run: async (ids, target) => {
        try {
          const results = await inBatches(ids, (batch) => api.delete(`/api/library/albums/${albumId}/assets`, { body: { asset_ids: batch } }));
          const removed = results.filter((item) => item.result === "removed").map((item) => item.asset_id);
          target.remove(removed);
          target.clearSelection();
          toast(`Removed ${formatCount(removed.length, "photo")} from the album`);
          refreshAlbum();
        } catch (error) {
          // A contributor may only take out what they added or own; say so plainly.
          const message = error.code === "added_by_other" || error.status === 403 ? "You can only remove photos you added to this album." : errorMessage(error);
          toast(message, { kind: "error" });
        }
      },
    });
  }
  if (can.edit) {
    actions.push({
      key: "set-cover",
      label: "Set as cover",
      icon: "images",
      run: async (ids, target) => {
        if (ids.length !== 1) {
          toast("Select just one photo to use as the cover.");
          return;
        }
        if (await saveAlbum({ cover_asset_id: ids[0] })) {
          target.clearSelection();
          toast("Cover changed");
        }
      },
    });
  }
  return [...actions, ...libraryActions()];
}

let selectionBar = null;

function setupGrid() {
  grid?.destroy();
  selectionBar?.destroy?.();
  gridMount.replaceChildren();
  grid = new AssetGrid(gridMount, {
    source: new AlbumSource(albumId),
    selectable: true,
    onOpen: (asset, index, target) =>
      openViewer({
        sequence: target.sequence(),
        index,
        mode: "album",
        albumId,
        onChanged: (changed) => target.update(changed),
        onRemoved: (id) => {
          target.remove([id]);
          refreshAlbum();
        },
      }),
    empty: emptyState,
  });
  selectionBar = new SelectionBar(grid, { actions: selectionActions() });
}

function emptyState() {
  return el(
    "div",
    { class: "empty" },
    el("span", { class: "empty__icon", "aria-hidden": "true" }, icon("images", "icon icon--large")),
    el("h2", { class: "empty__title" }, "This album is empty"),
    el("p", { class: "empty__text" }, can.add ? "Add photos from your library, or select photos on the timeline and choose “Add to album”." : "Photos added to it will show up here."),
    can.add ? el("button", { type: "button", class: "button button--primary", onclick: addPhotos }, icon("plus"), el("span", {}, "Add photos")) : null,
  );
}

// Live updates ------------------------------------------------------------------------------------

function onAlbumEvent(frame) {
  const data = frame.data || {};
  if (frame.event === "album.changed") {
    if (data.change === "deleted") {
      gone("This album was deleted.");
      return;
    }
    if (data.change === "assets_removed" && Array.isArray(data.asset_ids)) grid?.remove(data.asset_ids);
    if (data.change === "assets_added") reloadGrid();
    refreshAlbum();
    return;
  }
  if (!grid || !data.id) return;
  if (frame.event === "asset.deleted" || data.trashed) {
    grid.remove([data.id]);
    refreshAlbum();
  } else if (frame.event === "asset.changed" || frame.event === "asset.processed") {
    grid.update(data);
  }
}

// Start -------------------------------------------------------------------------------------------

async function start() {
  mount.append(header, gridMount);
  try {
    await loadAlbum();
  } catch (error) {
    header.remove();
    mount.append(
      el(
        "div",
        { class: "empty" },
        el("span", { class: "empty__icon", "aria-hidden": "true" }, icon("album", "icon icon--large")),
        el("h1", { class: "empty__title" }, error.status === 404 ? "Album not found" : "The album could not be loaded"),
        el("p", { class: "empty__text" }, error.status === 404 ? "It was deleted, or it is not shared with you." : errorMessage(error)),
        el("a", { class: "button", href: "/albums" }, "Back to albums"),
      ),
    );
    return;
  }
  setupGrid();
  live.on(`album:${albumId}`, onAlbumEvent);
  live.onResync(() => {
    refreshAlbum();
    reloadGrid();
  });
}

start();
