// The upload panel: a card in the bottom-right corner (a bottom sheet on phones) listing each
// file with its own progress and state, the total, and cancel / retry / clear.
//
// Rendering follows the queue's "change" events but at most once per frame: a fast upload
// reports progress far more often than a screen can show it.

import { el, formatBytes, formatCount, icon, iconButton } from "../ui.js";
import { ACTIVE_STATES, FINISHED_STATES } from "./upload_queue.js";

// Thumbnails of picked files come from the files themselves (blob: URLs); past this size
// decoding them costs more than the small picture is worth.
const THUMB_MAX_BYTES = 30 * 1024 * 1024;
const THUMB_TYPES = /^image\/(jpeg|png|gif|webp|avif|bmp)$/;

function percent(fraction) {
  return Math.floor(Math.max(0, Math.min(1, fraction)) * 100);
}

function progressBar(label, className) {
  const bar = el("span", { class: "upload-progress__bar" });
  const node = el(
    "div",
    { class: `upload-progress ${className}`, role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" },
    bar,
  );
  return { node, bar };
}

function setProgress({ node, bar }, fraction) {
  const value = percent(fraction);
  if (node.getAttribute("aria-valuenow") !== String(value)) node.setAttribute("aria-valuenow", String(value));
  // A transform animates on the compositor, no layout per progress event.
  bar.style.transform = `scaleX(${Math.max(0, Math.min(1, fraction))})`;
}

function statusOf(item) {
  switch (item.state) {
    case "waiting":
      return "Waiting";
    case "checking":
      return "Checking…";
    case "uploading":
      return `Uploading ${percent(item.progress)}%`;
    case "retrying":
      return navigator.onLine === false
        ? `Offline at ${percent(item.progress)}%, retrying when back online…`
        : `Connection lost at ${percent(item.progress)}%, retrying…`;
    case "processing":
      return "Processing…";
    case "done":
      return "Done";
    case "duplicate":
      return el("a", { class: "upload-item__link", href: `/photos/${item.duplicateOf}` }, "Already in your library");
    case "failed":
      return item.error || "Failed";
    case "cancelled":
      return "Cancelled";
    default:
      return "";
  }
}

export class UploadPanel {
  constructor(queue) {
    this.queue = queue;
    this.rows = new Map();
    this.dirty = new Set();
    this.structural = true;
    this.frame = 0;
    this.collapsed = false;
    this.wasBusy = false;
    this.build();
    queue.addEventListener("change", (event) => this.schedule(event.detail.item));
    window.addEventListener("online", () => this.refreshAll());
    window.addEventListener("offline", () => this.refreshAll());
  }

  build() {
    this.title = el("h2", { class: "upload-panel__title", id: "upload-panel-title" }, "Uploads");
    this.summary = el("p", { class: "upload-panel__summary", "data-upload-summary": true });
    this.announcer = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    this.toggle = iconButton("chevron-down", "Hide the list", {
      className: "button button--quiet button--small upload-panel__toggle",
      "aria-expanded": "true",
      "aria-controls": "upload-panel-body",
      onclick: () => this.setCollapsed(!this.collapsed),
    });
    this.close = iconButton("x", "Close uploads", {
      className: "button button--quiet button--small",
      onclick: () => {
        this.queue.clearFinished();
      },
    });
    this.total = progressBar("Total progress", "upload-progress--total");
    this.list = el("ul", { class: "upload-panel__list", "aria-label": "Files" });
    this.retryAll = el("button", { type: "button", class: "button button--small button--quiet", onclick: () => this.queue.retryFailed() }, icon("refresh", "icon icon--small"), el("span", {}, "Retry failed"));
    this.clear = el("button", { type: "button", class: "button button--small button--quiet", onclick: () => this.queue.clearFinished() }, el("span", {}, "Clear finished"));
    this.cancelAll = el("button", { type: "button", class: "button button--small button--quiet upload-panel__cancel-all", onclick: () => this.queue.cancelAll() }, el("span", {}, "Cancel all"));
    this.toolbar = el("div", { class: "upload-panel__toolbar" }, this.retryAll, this.clear, this.cancelAll);
    this.body = el("div", { class: "upload-panel__body", id: "upload-panel-body" }, this.list, this.toolbar);
    this.root = el(
      "section",
      { class: "upload-panel", "aria-labelledby": "upload-panel-title", "data-upload-panel": true, hidden: true },
      el("header", { class: "upload-panel__header" }, el("div", { class: "upload-panel__heading" }, this.title, this.summary), this.toggle, this.close),
      this.total.node,
      this.body,
      this.announcer,
    );
    document.body.append(this.root);
  }

  setCollapsed(collapsed) {
    this.collapsed = collapsed;
    this.root.classList.toggle("upload-panel--collapsed", collapsed);
    this.toggle.setAttribute("aria-expanded", String(!collapsed));
    const label = collapsed ? "Show the list" : "Hide the list";
    this.toggle.setAttribute("aria-label", label);
    this.toggle.title = label;
  }

  schedule(item) {
    if (item) this.dirty.add(item);
    else this.structural = true;
    if (!this.frame) this.frame = window.requestAnimationFrame(() => this.render());
  }

  refreshAll() {
    for (const item of this.queue.items) this.dirty.add(item);
    this.schedule(null);
  }

  render() {
    this.frame = 0;
    if (this.structural) this.syncRows();
    for (const item of this.dirty) {
      const row = this.rows.get(item.id);
      if (row) this.renderRow(row, item);
    }
    this.dirty.clear();
    this.renderSummary();
  }

  // Add rows for new items (and open the panel for them), drop rows of cleared ones.
  syncRows() {
    this.structural = false;
    const present = new Set(this.queue.items.map((item) => item.id));
    for (const [id, row] of this.rows) {
      if (present.has(id)) continue;
      if (row.thumbUrl) URL.revokeObjectURL(row.thumbUrl);
      row.node.remove();
      this.rows.delete(id);
    }
    let added = false;
    for (const item of this.queue.items) {
      if (this.rows.has(item.id)) continue;
      const row = this.buildRow(item);
      this.rows.set(item.id, row);
      this.list.append(row.node);
      this.renderRow(row, item);
      added = true;
    }
    if (added) this.setCollapsed(false);
    this.root.hidden = this.queue.items.length === 0;
  }

  buildRow(item) {
    let thumbUrl = null;
    let thumb;
    if (THUMB_TYPES.test(item.file.type) && item.size <= THUMB_MAX_BYTES) {
      thumbUrl = URL.createObjectURL(item.file);
      thumb = el("img", { src: thumbUrl, alt: "", loading: "lazy", decoding: "async", width: "40", height: "40" });
      // A format the browser cannot show (HEIC in most of them): fall back to an icon.
      thumb.addEventListener("error", () => thumb.replaceWith(icon("images")), { once: true });
    } else {
      thumb = icon(item.file.type.startsWith("video/") ? "play" : "images");
    }
    const status = el("span", { class: "upload-item__status" });
    const progress = progressBar(item.name, "upload-progress--item");
    const actions = el("div", { class: "upload-item__actions" });
    const node = el(
      "li",
      { class: "upload-item", "data-upload-item": true },
      el("span", { class: "upload-item__thumb" }, thumb),
      el(
        "div",
        { class: "upload-item__body" },
        el("span", { class: "upload-item__name", title: item.name }, item.name),
        el("span", { class: "upload-item__meta" }, status, el("span", { class: "upload-item__size" }, formatBytes(item.size))),
        progress.node,
      ),
      actions,
    );
    return { node, status, progress, actions, thumbUrl, state: null, statusText: null };
  }

  renderRow(row, item) {
    const text = statusOf(item);
    const key = typeof text === "string" ? text : `link:${item.state}`;
    if (row.statusText !== key) {
      row.status.replaceChildren(text);
      row.statusText = key;
    }
    setProgress(row.progress, item.progress);
    if (row.state === item.state) return;
    row.state = item.state;
    row.node.dataset.state = item.state;
    row.progress.node.hidden = FINISHED_STATES.has(item.state) || item.state === "processing";
    row.actions.replaceChildren(...this.actionsFor(item));
  }

  actionsFor(item) {
    if (ACTIVE_STATES.has(item.state)) {
      return [iconButton("x", `Cancel ${item.name}`, { className: "button button--quiet button--small", onclick: () => this.queue.cancel(item) })];
    }
    if (item.state === "failed" && item.retryable) {
      return [iconButton("refresh", `Retry ${item.name}`, { className: "button button--quiet button--small", onclick: () => this.queue.retry(item) })];
    }
    if ((item.state === "done" || item.state === "processing") && item.assetId) {
      return [el("a", { class: "button button--quiet button--small button--icon", href: `/photos/${item.assetId}`, "aria-label": `Open ${item.name}`, title: "Open" }, icon("eye"))];
    }
    if (item.state === "failed") return [icon("alert", "icon upload-item__alert")];
    if (item.state === "duplicate" || item.state === "done") return [icon("check", "icon upload-item__check")];
    return [];
  }

  renderSummary() {
    const counts = this.queue.counts();
    const uploaded = counts.done + counts.processing;
    let title;
    if (counts.active) title = `Uploading ${formatCount(counts.active, "file")}`;
    else if (counts.processing) title = `Processing ${formatCount(counts.processing, "file")}`;
    else title = "Uploads finished";
    if (this.title.textContent !== title) this.title.textContent = title;

    const parts = [];
    if (counts.active) parts.push(`${formatBytes(counts.sent)} of ${formatBytes(counts.bytes)}`);
    if (uploaded) parts.push(`${uploaded.toLocaleString()} uploaded`);
    if (counts.duplicate) parts.push(`${counts.duplicate.toLocaleString()} already in your library`);
    if (counts.failed) parts.push(`${counts.failed.toLocaleString()} failed`);
    if (counts.cancelled) parts.push(`${counts.cancelled.toLocaleString()} cancelled`);
    const summary = parts.join(" · ");
    if (this.summary.textContent !== summary) this.summary.textContent = summary;

    setProgress(this.total, counts.progress);
    this.total.node.hidden = !counts.active;
    this.root.classList.toggle("upload-panel--busy", counts.active > 0);
    this.retryAll.hidden = counts.retryableFailed === 0;
    this.clear.hidden = !this.queue.items.some((item) => FINISHED_STATES.has(item.state));
    this.cancelAll.hidden = counts.active === 0;
    this.close.hidden = counts.active > 0 || counts.processing > 0;
    this.toolbar.hidden = this.retryAll.hidden && this.clear.hidden && this.cancelAll.hidden;

    // Screen readers hear when a run of uploads ends, not every percent of it.
    const busy = counts.active > 0;
    if (this.wasBusy && !busy) this.announcer.textContent = `Uploads finished: ${summary}`;
    this.wasBusy = busy;
  }
}
