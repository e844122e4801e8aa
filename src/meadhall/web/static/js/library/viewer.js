// The full-screen photo viewer.
//
//   openViewer({ sequence: grid.sequence(), index, mode: "library", onChanged, onRemoved })
//   openViewerById(id)                      // a sequence of one, e.g. from /photos/<id>
//
// ``sequence`` is { length, async idAt(i), indexOf(id) }: the viewer asks for ids as it moves,
// so a timeline of 100k photos never has to hand over more than the one on screen.
//
// The address follows the open photo (/photos/<id>, one history entry for the whole visit, so
// Back closes the viewer and returns to where it was opened). The rest of the page is inert
// while it is open, focus stays inside, and goes back where it was on close.

import { api, request } from "../api.js";
import { confirmDialog, el, errorMessage, formatLocalDateTime, icon, iconButton, toast, viewer as me } from "../ui.js";
import { live } from "../live.js";
import { pickAlbum } from "./pickers.js";
import { InfoPanel } from "./viewer_info.js";
import { Stage, assetUrl, preload } from "./viewer_stage.js";

const INFO_KEY = "meadhall.viewer.info";
const ZOOM_STEP = 1.5;
const EDITABLE = "input, textarea, select, [contenteditable]";

let active = null;

// A sequence of exactly one asset.
export function singleSequence(id) {
  return { length: 1, idAt: async () => id, indexOf: (other) => (other === id ? 0 : -1) };
}

export function openViewer(options) {
  let inherited = null;
  if (active) inherited = active.teardown({ keepHistory: true });
  active = new Viewer(options, inherited);
  return active;
}

export function openViewerById(id, options = {}) {
  return openViewer({ ...options, sequence: options.sequence || singleSequence(id), index: options.index ?? 0, startId: id });
}

// The viewer that is open now, if any (random.js rerolls into it).
export function currentViewer() {
  return active;
}

class Viewer {
  constructor({ sequence, index = 0, mode = "library", albumId = null, onChanged, onRemoved, onRestored, reroll, startId }, inherited) {
    this.sequence = sequence;
    this.index = index;
    this.mode = mode;
    this.albumId = albumId;
    this.callbacks = { onChanged, onRemoved, onRestored };
    this.reroll = reroll || null;
    this.cache = new Map();
    this.removed = new Set();
    this.asset = null;
    this.ticket = 0;
    this.returnFocus = inherited ? inherited.returnFocus : document.activeElement;
    this.build();
    this.trapPage();
    this.startHistory(inherited, startId);
    this.listen();
    this.setInfoOpen(localStorage.getItem(INFO_KEY) === "open");
    this.go(index, startId);
  }

  // Building ------------------------------------------------------------------------------------

  build() {
    this.stage = new Stage({
      onSwipe: (step) => this.step(step),
      onZoomChange: () => this.syncZoom(),
      onFocusPick: (point) => this.info.saveFocus(point),
    });
    this.info = new InfoPanel({
      onChanged: (asset) => this.changed(asset),
      onFocusMode: (on) => this.setFocusMode(on),
    });
    this.title = el("h2", { class: "viewer__title", id: "viewer-title" }, "");
    this.subtitle = el("p", { class: "viewer__subtitle" }, "");
    this.status = el("p", { class: "visually-hidden", "aria-live": "polite", "data-viewer-status": true });
    this.prevButton = this.sideButton("chevron-left", "Previous photo", "prev", () => this.step(-1));
    this.nextButton = this.sideButton("chevron-right", "Next photo", "next", () => this.step(1));
    this.actions = el("div", { class: "viewer__actions" });
    this.node = el(
      "div",
      { class: "viewer", role: "dialog", "aria-modal": "true", "aria-labelledby": "viewer-title", tabindex: "-1", "data-viewer": true, dataset: { mode: this.mode } },
      el(
        "header",
        { class: "viewer__bar" },
        iconButton("x", "Close", { className: "button viewer__button", "data-action": "close", "aria-keyshortcuts": "Escape", onclick: () => this.close() }),
        el("div", { class: "viewer__heading" }, this.title, this.subtitle),
        this.actions,
      ),
      el("div", { class: "viewer__body" }, el("div", { class: "viewer__main" }, this.stage.node, this.prevButton, this.nextButton), this.info.node),
      this.status,
    );
    document.body.append(this.node);
    document.documentElement.classList.add("has-viewer");
    this.node.focus({ preventScroll: true });
  }

  sideButton(name, label, key, run) {
    return el(
      "button",
      { type: "button", class: `viewer__side viewer__side--${key}`, "aria-label": label, title: label, "data-action": key, hidden: true, onclick: run },
      icon(name),
    );
  }

  // The top bar depends on the mode and on whether the photo is the viewer's own.
  renderActions() {
    const asset = this.asset;
    const own = asset.owner_id === me.userId;
    const button = (name, label, action, run, extra = {}) =>
      iconButton(name, label, { className: "button viewer__button", "data-action": action, onclick: run, ...extra });
    const items = [];
    if (this.reroll) {
      items.push(
        el(
          "button",
          { type: "button", class: "button viewer__button viewer__reroll", "data-action": "reroll", onclick: () => this.doReroll() },
          icon("shuffle"),
          el("span", {}, "Another"),
        ),
      );
    }
    if (this.stage.zoomable) {
      items.push(
        button("zoom-out", "Zoom out", "zoom-out", () => this.stage.zoomBy(1 / ZOOM_STEP), { "aria-keyshortcuts": "-", class: "button viewer__button button--icon viewer__zoom" }),
        button("zoom-in", "Zoom in", "zoom-in", () => this.stage.zoomBy(ZOOM_STEP), { "aria-keyshortcuts": "+", class: "button viewer__button button--icon viewer__zoom" }),
      );
    }
    if (this.mode === "trash") {
      if (own) {
        items.push(
          button("restore", "Restore", "restore", () => this.restore()),
          button("trash", "Delete forever", "purge", () => this.purge(), { "aria-keyshortcuts": "Delete" }),
        );
      }
    } else {
      if (own) {
        items.push(
          button("heart", asset.is_favourite ? "Remove from favourites" : "Favourite", "favourite", () => this.toggleFavourite(), {
            "aria-pressed": String(asset.is_favourite),
            "aria-keyshortcuts": "f",
          }),
        );
      }
      items.push(button("album", "Add to album", "add-to-album", () => this.addToAlbum()));
      if (this.mode === "album" && this.albumId) items.push(button("minus", "Remove from album", "remove-from-album", () => this.removeFromAlbum()));
    }
    items.push(
      el(
        "a",
        {
          class: "button button--icon viewer__button",
          href: `${assetUrl(asset.id, "original")}?download=true`,
          download: asset.original_filename || asset.name,
          "aria-label": "Download original",
          title: "Download original",
          "data-action": "download",
        },
        icon("download"),
      ),
    );
    if (this.mode !== "trash" && own) {
      items.push(
        button("archive", asset.is_archived ? "Unarchive" : "Archive", "archive", () => this.toggleArchive(), { "aria-pressed": String(asset.is_archived) }),
        button("trash", "Move to trash", "trash", () => this.moveToTrash(), { "aria-keyshortcuts": "Delete" }),
      );
    }
    items.push(
      button("info", "Info", "info", () => this.setInfoOpen(!this.info.open), {
        "aria-pressed": String(this.info.open),
        "aria-controls": "viewer-info",
        "aria-keyshortcuts": "i",
      }),
    );
    this.actions.replaceChildren(...items);
    this.info.node.id = "viewer-info";
    this.syncZoom();
  }

  // Page, history, keys ---------------------------------------------------------------------

  // Everything but the viewer and the toasts (Undo must stay reachable) becomes inert.
  trapPage() {
    this.inerted = [];
    for (const child of document.body.children) {
      if (child === this.node || child.matches("[data-toasts], dialog, script") || child.inert) continue;
      child.inert = true;
      this.inerted.push(child);
    }
  }

  startHistory(inherited, startId) {
    if (inherited) {
      this.previousUrl = inherited.previousUrl;
      this.historyKey = inherited.historyKey;
      return;
    }
    // Opened from /photos/<id> itself (a shared link): behind the viewer is the timeline.
    const here = location.pathname + location.search + location.hash;
    this.previousUrl = location.pathname.startsWith("/photos/") ? "/" : here;
    this.historyKey = `viewer-${Date.now()}`;
    if (here !== this.previousUrl) history.replaceState(history.state, "", this.previousUrl);
    history.pushState({ meadhallViewer: this.historyKey }, "", startId ? `/photos/${startId}` : location.href);
  }

  listen() {
    this.onKey = (event) => this.keydown(event);
    this.onPop = () => {
      if (history.state?.meadhallViewer !== this.historyKey) this.teardown({ keepHistory: true, fromPop: true });
    };
    document.addEventListener("keydown", this.onKey);
    window.addEventListener("popstate", this.onPop);
    if (me.userId) {
      this.offLive = live.on(`library:${me.userId}`, (frame) => {
        const data = frame.data || {};
        if (!this.asset || data.id !== this.asset.id) return;
        if (frame.event === "asset.processed" || frame.event === "asset.changed") this.refresh();
      });
    }
  }

  keydown(event) {
    if (event.defaultPrevented || event.altKey || event.metaKey || event.ctrlKey) return;
    const target = event.target;
    if (target instanceof Element && (target.closest("dialog") || (!this.node.contains(target) && target !== document.body))) return;
    if (event.key === "Tab") {
      this.trapTab(event);
      return;
    }
    const typing = target instanceof Element && target.matches(EDITABLE);
    if (event.key === "Escape") {
      event.preventDefault();
      if (this.focusMode) this.setFocusMode(false);
      else if (typing) target.blur();
      else this.close();
      return;
    }
    if (typing) return;
    const keys = {
      ArrowLeft: () => this.step(-1),
      ArrowRight: () => this.step(1),
      i: () => this.setInfoOpen(!this.info.open),
      f: () => this.mode !== "trash" && this.asset?.owner_id === me.userId && this.toggleFavourite(),
      Delete: () => (this.mode === "trash" ? this.purge() : this.asset?.owner_id === me.userId && this.moveToTrash()),
      "+": () => this.stage.zoomBy(ZOOM_STEP),
      "=": () => this.stage.zoomBy(ZOOM_STEP),
      "-": () => this.stage.zoomBy(1 / ZOOM_STEP),
      0: () => this.stage.reset(),
    };
    const run = keys[event.key] || keys[event.key.toLowerCase?.()];
    if (!run || !this.asset) return;
    event.preventDefault();
    run();
  }

  trapTab(event) {
    const focusable = [...this.node.querySelectorAll("button, a[href], input, select, textarea, video, [tabindex]:not([tabindex='-1'])")].filter(
      (node) => !node.disabled && !node.hidden && node.getClientRects().length,
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const inside = this.node.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  }

  close() {
    if (history.state?.meadhallViewer === this.historyKey) {
      // Leaving through history keeps Back and Forward honest; popstate finishes the close.
      history.back();
      // If nothing pops (the entry was replaced under us), close anyway.
      window.setTimeout(() => this.teardown({ keepHistory: true }), 400);
    } else {
      this.teardown();
    }
  }

  // Remove the viewer; returns what a viewer opened in its place inherits.
  teardown({ keepHistory = false } = {}) {
    if (this.closed) return null;
    this.closed = true;
    document.removeEventListener("keydown", this.onKey);
    window.removeEventListener("popstate", this.onPop);
    this.offLive?.();
    for (const child of this.inerted) child.inert = false;
    this.stage.destroy();
    this.node.remove();
    document.documentElement.classList.remove("has-viewer");
    if (!keepHistory && location.pathname.startsWith("/photos/")) history.replaceState(null, "", this.previousUrl);
    if (active === this) active = null;
    const target = this.returnFocus && this.returnFocus.isConnected ? this.returnFocus : document.getElementById("main");
    target?.focus?.({ preventScroll: true });
    return { previousUrl: this.previousUrl, historyKey: this.historyKey, returnFocus: this.returnFocus };
  }

  // Showing -----------------------------------------------------------------------------------

  async detail(id) {
    if (!this.cache.has(id)) {
      const pending = api.get(`/api/library/assets/${id}`).catch((problem) => {
        this.cache.delete(id);
        throw problem;
      });
      this.cache.set(id, pending);
    }
    return this.cache.get(id);
  }

  // Show the photo at ``index`` (or ``id`` when given: a sequence may not know it yet).
  async go(index, id = null) {
    const ticket = ++this.ticket;
    this.node.classList.add("is-loading");
    try {
      const wanted = id || (await this.sequence.idAt(index));
      if (!wanted) throw new Error("This photo is no longer here.");
      const asset = await this.detail(wanted);
      if (ticket !== this.ticket || this.closed) return;
      this.index = index;
      this.show(asset);
      this.updateUrl();
      this.preloadNeighbours();
    } catch (problem) {
      if (ticket !== this.ticket || this.closed) return;
      toast(errorMessage(problem), { kind: "error" });
      if (!this.asset) this.teardown();
    } finally {
      if (ticket === this.ticket) this.node.classList.remove("is-loading");
    }
  }

  show(asset) {
    const moved = !this.asset || this.asset.id !== asset.id;
    this.asset = asset;
    if (moved && this.focusMode) this.setFocusMode(false);
    this.stage.show(asset);
    this.info.show(asset);
    this.renderActions();
    this.title.textContent = asset.name;
    this.subtitle.textContent = formatLocalDateTime(asset.capture?.local || asset.local_at);
    this.node.dataset.assetId = asset.id;
    this.stage.showFocus(asset.focus, this.info.open || this.focusMode);
    if (moved) this.status.textContent = `${asset.name}${this.sequence.length > 1 ? `, ${this.index + 1} of ${this.sequence.length}` : ""}`;
    this.syncSides();
  }

  syncSides() {
    this.prevButton.hidden = this.index <= 0;
    this.nextButton.hidden = this.index >= this.sequence.length - 1;
  }

  syncZoom() {
    const zoomOut = this.actions.querySelector('[data-action="zoom-out"]');
    if (zoomOut) zoomOut.disabled = !this.stage.zoomed;
  }

  updateUrl() {
    if (history.state?.meadhallViewer !== this.historyKey) return;
    const path = `/photos/${this.asset.id}`;
    if (location.pathname !== path) history.replaceState(history.state, "", path);
  }

  preloadNeighbours() {
    for (const offset of [1, -1]) {
      const index = this.index + offset;
      if (index < 0 || index >= this.sequence.length) continue;
      Promise.resolve(this.sequence.idAt(index))
        .then((id) => (id && !this.removed.has(id) ? this.detail(id) : null))
        .then(preload)
        .catch(() => {});
    }
  }

  // Move by ``step`` (±1), skipping photos removed while the viewer was open.
  async step(step) {
    if (!this.asset) return;
    const next = await this.findVisible(this.index + step, step);
    if (next === null) return;
    this.go(next);
  }

  async findVisible(start, step) {
    for (let index = start; index >= 0 && index < this.sequence.length; index += step) {
      const id = await this.sequence.idAt(index);
      if (id && !this.removed.has(id)) return index;
    }
    return null;
  }

  async refresh() {
    if (!this.asset) return;
    const id = this.asset.id;
    this.cache.delete(id);
    try {
      const asset = await this.detail(id);
      if (this.asset && this.asset.id === id) this.show(asset);
    } catch {
      // The next navigation shows the problem; a background refresh stays quiet.
    }
  }

  setInfoOpen(open) {
    this.info.setOpen(open);
    this.node.classList.toggle("has-info", open);
    localStorage.setItem(INFO_KEY, open ? "open" : "closed");
    this.actions.querySelector('[data-action="info"]')?.setAttribute("aria-pressed", String(open));
    if (this.asset) this.stage.showFocus(this.asset.focus, open || this.focusMode);
    if (!open && this.focusMode) this.setFocusMode(false);
  }

  setFocusMode(on) {
    this.focusMode = on;
    if (on) this.stage.reset();
    this.stage.setFocusMode(on);
    this.info.setFocusMode(on);
    this.stage.showFocus(this.asset?.focus, on || this.info.open);
  }

  // Changes -------------------------------------------------------------------------------------

  // A changed asset from the API (AssetRead or AssetDetail): merge into what is shown.
  changed(update) {
    const previous = this.asset && this.asset.id === update.id ? this.asset : null;
    const merged = { ...(previous || {}), ...update };
    this.cache.set(update.id, Promise.resolve(merged));
    if (previous) this.show(merged);
    this.callbacks.onChanged?.(merged);
  }

  async act(work) {
    try {
      return await work();
    } catch (problem) {
      toast(errorMessage(problem), { kind: "error" });
      return undefined;
    }
  }

  async toggleFavourite() {
    const asset = this.asset;
    const method = asset.is_favourite ? "delete" : "post";
    const updated = await this.act(() => api[method](`/api/library/assets/${asset.id}/favourite`));
    if (updated) this.changed(updated);
  }

  async toggleArchive() {
    const asset = this.asset;
    const method = asset.is_archived ? "delete" : "post";
    const updated = await this.act(() => api[method](`/api/library/assets/${asset.id}/archive`));
    if (!updated) return;
    this.changed(updated);
    toast(updated.is_archived ? `"${asset.name}" archived` : `"${asset.name}" back in the timeline`);
  }

  async addToAlbum() {
    const asset = this.asset;
    const album = await pickAlbum({ title: "Add to album" });
    if (!album) return;
    const result = await this.act(() => api.post(`/api/library/albums/${album.id}/assets`, { asset_ids: [asset.id] }));
    if (!result) return;
    toast(`Added to "${album.name}"`);
    if (this.asset?.id === asset.id) this.refresh();
  }

  async removeFromAlbum() {
    const asset = this.asset;
    const albumId = this.albumId;
    const body = { asset_ids: [asset.id] };
    const result = await this.act(() => request("DELETE", `/api/library/albums/${albumId}/assets`, { body }));
    if (!result) return;
    await this.leave(asset.id);
    toast(`"${asset.name}" removed from the album`, {
      action: {
        label: "Undo",
        run: () => this.act(async () => {
          await api.post(`/api/library/albums/${albumId}/assets`, body);
          this.callbacks.onRestored?.(asset);
        }),
      },
    });
  }

  async moveToTrash() {
    const asset = this.asset;
    const trashed = await this.act(() => api.delete(`/api/library/assets/${asset.id}`));
    if (!trashed) return;
    await this.leave(asset.id);
    toast(`"${asset.name}" moved to trash`, {
      action: { label: "Undo", run: () => this.undoTrash(asset) },
    });
  }

  async undoTrash(asset) {
    const restored = await this.act(() => api.post(`/api/library/assets/${asset.id}/restore`));
    if (!restored) return;
    this.removed.delete(asset.id);
    if (this.callbacks.onRestored) this.callbacks.onRestored(restored);
    else this.callbacks.onChanged?.(restored);
    toast(`"${asset.name}" restored`);
  }

  async restore() {
    const asset = this.asset;
    const restored = await this.act(() => api.post(`/api/library/assets/${asset.id}/restore`));
    if (!restored) return;
    await this.leave(asset.id);
    toast(`"${asset.name}" restored`);
  }

  async purge() {
    const asset = this.asset;
    const sure = await confirmDialog({
      title: "Delete forever?",
      body: `"${asset.name}" will be deleted for good. This can't be undone.`,
      confirm: "Delete forever",
      danger: true,
    });
    if (!sure) return;
    const done = await this.act(async () => {
      await api.delete(`/api/library/assets/${asset.id}/purge`);
      return true;
    });
    if (!done) return;
    await this.leave(asset.id);
    toast(`"${asset.name}" deleted`);
  }

  // The photo left this view (trashed, restored, purged, removed from the album): tell the
  // page, then show the next one (or the previous at the end), or close when none is left.
  async leave(id) {
    this.removed.add(id);
    this.cache.delete(id);
    const index = this.index;
    this.callbacks.onRemoved?.(id);
    // If the page dropped it from the sequence, the next photo now has this index.
    const stillThere = (await this.sequence.indexOf(id)) >= 0;
    const forward = await this.findVisible(stillThere ? index + 1 : index, 1);
    const target = forward ?? (await this.findVisible(Math.min(index, this.sequence.length) - 1, -1));
    if (this.closed) return;
    if (target === null) this.close();
    else this.go(target);
  }

  // random.js: show another random pick in place.
  async doReroll() {
    const id = await this.reroll();
    if (!id || this.closed) return;
    this.sequence = singleSequence(id);
    this.go(0, id);
  }
}
