// The photo grid every Library page shows: justified rows grouped by month and day, virtualised
// so a library of 100k photos costs the same DOM as one of a hundred.
//
//   const grid = new AssetGrid(mount, { source, selectable = true, onOpen, empty, groupBy = "day" });
//   grid.addEventListener("selectionchange", (e) => e.detail.ids);   // a Set of ids
//   grid.reload(); grid.insert(asset); grid.update({ id, … }); grid.remove([id, …]);
//   grid.selection; grid.clearSelection(); grid.selectAll(); grid.sequence(); grid.destroy();
//
// How it stays fast: the grid is one tall "canvas" whose height is the sum of its sections
// (months). A month whose photos are not loaded yet is sized from its count (an estimate that
// learns from the months already laid out); only the tiles within a margin of the viewport
// exist in the DOM, absolutely positioned; months near the viewport are fetched on demand. When
// a real layout replaces an estimate above the viewport, the scroll position is corrected so
// what is on screen does not move (an anchor: the section at the top edge and the offset in it).

import { el, icon } from "../ui.js";
import { toItem } from "./sources.js";
import { placeholderUrl } from "./thumbhash.js";

const SCROLLABLE = /(auto|scroll|overlay)/;
const PENDING = new Set(["pending"]);
const MIN_ASPECT = 0.4;
const MAX_ASPECT = 3.5;
const RETRY_MS = 4000;

// Sizes for a given width: rows ~120 px tall on a 360 px phone, ~220 px from 1000 px up.
function metrics(width) {
  const t = Math.min(1, Math.max(0, (width - 480) / 520));
  const phone = width < 600;
  return {
    width,
    rowHeight: Math.round(120 + t * 100),
    gap: phone ? 2 : 4,
    groupGap: phone ? 8 : 16,
    monthHead: phone ? 44 : 56,
    dayHead: phone ? 30 : 34,
    sectionGap: phone ? 12 : 20,
  };
}

function aspectOf(item) {
  if (!item.width || !item.height) return 1;
  return Math.min(MAX_ASPECT, Math.max(MIN_ASPECT, item.width / item.height));
}

const monthOf = (item) => (item.local_at || "").slice(0, 7);
const dayOf = (item) => (item.local_at || "").slice(0, 10);

function durationText(ms) {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// Layout --------------------------------------------------------------------------------------

// Justified rows: add photos to a row until, scaled to the full width, it would be no taller
// than the target; keep the last photo out if that fits the target better. The last row keeps
// the target height (not stretched).
function justify(items, start, end, m) {
  const rows = [];
  let row = [];
  let sum = 0;
  const heightOf = (cells, total) => (m.width - (cells.length - 1) * m.gap) / total;
  const emit = (cells, total, full) => rows.push({ cells, height: full ? heightOf(cells, total) : m.rowHeight, full });
  for (let i = start; i < end; i += 1) {
    const aspect = aspectOf(items[i]);
    row.push({ i, aspect });
    sum += aspect;
    const height = heightOf(row, sum);
    if (height > m.rowHeight) continue;
    if (row.length > 1) {
      const shorter = heightOf(row.slice(0, -1), sum - aspect);
      if (shorter - m.rowHeight < m.rowHeight - height && shorter < m.rowHeight * 1.5) {
        const last = row.pop();
        emit(row, sum - aspect, true);
        row = [last];
        sum = aspect;
        if (heightOf(row, sum) <= m.rowHeight) {
          emit(row, sum, true);
          row = [];
          sum = 0;
        }
        continue;
      }
    }
    emit(row, sum, true);
    row = [];
    sum = 0;
  }
  if (row.length) emit(row, sum, false);
  return rows;
}

// Boxes of one section, in section coordinates: { boxes: [{ i, x, y, w, h }], heads, height }.
// Day groups that fit in one short row sit side by side, as in a photo app.
function layoutSection(section, m, groupBy) {
  const items = section.items;
  const heads = [];
  const boxes = [];
  let y = 0;
  if (groupBy !== "none") {
    heads.push({ key: `m:${section.key}`, kind: "month", label: section.label, x: 0, y: 0, w: m.width });
    y = m.monthHead;
  }
  const groups = groupBy === "day" ? dayGroups(items) : [{ key: null, start: 0, end: items.length }];
  const head = groupBy === "day" ? m.dayHead : 0;
  let lineX = 0;
  let lineHeight = 0;
  for (const group of groups) {
    const rows = justify(items, group.start, group.end, m);
    const single = rows.length === 1 && !rows[0].full;
    const naturalWidth = single ? rows[0].cells.reduce((w, c) => w + c.aspect * m.rowHeight, 0) + (rows[0].cells.length - 1) * m.gap : m.width;
    let x = 0;
    if (single && lineX > 0 && lineX + m.groupGap + naturalWidth <= m.width) {
      x = lineX + m.groupGap;
    } else {
      y += lineHeight;
      lineX = 0;
      lineHeight = 0;
    }
    if (group.key) heads.push({ key: `d:${group.key}`, kind: "day", label: dayLabel(group.key), x, y, w: single ? naturalWidth : m.width, day: group.key });
    let rowY = y + head;
    for (const row of rows) {
      let cellX = x;
      const last = row.cells.length - 1;
      row.cells.forEach((cell, n) => {
        const left = Math.round(cellX);
        const exact = cellX + cell.aspect * row.height;
        // Full rows end exactly at the right edge despite rounding.
        const right = row.full && n === last ? x + m.width : Math.round(exact);
        boxes.push({ i: cell.i, x: left, y: Math.round(rowY), w: Math.max(1, right - left), h: Math.round(row.height) });
        cellX = exact + m.gap;
      });
      rowY += Math.round(row.height) + m.gap;
    }
    if (single) {
      lineX = x + naturalWidth;
      lineHeight = Math.max(lineHeight, rowY - y);
    } else {
      y = rowY;
    }
  }
  y += lineHeight;
  return { boxes, heads, height: Math.round(y + m.sectionGap) };
}

function dayGroups(items) {
  const groups = [];
  for (let i = 0; i < items.length; i += 1) {
    const key = dayOf(items[i]);
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.end = i + 1;
    else groups.push({ key, start: i, end: i + 1 });
  }
  return groups;
}

// One formatter for every heading: building one per call (as toLocaleDateString does) costs
// more than laying out the month.
const DAY_FORMAT = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const MONTH_FORMAT = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

// Wall-clock dates, shown as written (never shifted into the browser's zone).
function dayLabel(day) {
  return DAY_FORMAT.format(new Date(`${day}T12:00:00Z`));
}

function monthLabel(month) {
  return MONTH_FORMAT.format(new Date(`${month}-01T12:00:00Z`));
}

// A first guess of a month's height from its count; scaled by what real layouts measured.
function estimateHeight(count, m, groupBy, factor) {
  const perRow = Math.max(1, (m.width + m.gap) / (m.rowHeight * 1.33 + m.gap));
  const rows = Math.ceil(count / perRow);
  const head = groupBy === "none" ? 0 : m.monthHead;
  return Math.round((head + rows * (m.rowHeight + m.gap)) * factor + m.sectionGap);
}

// Finding things by position --------------------------------------------------------------------

// First index in a sorted array whose key(value) is >= target.
function lowerBound(array, target, key) {
  let lo = 0;
  let hi = array.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(array[mid]) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function scrollParent(node) {
  for (let parent = node.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
    if (SCROLLABLE.test(getComputedStyle(parent).overflowY)) return parent;
  }
  return null;
}

// The grid ------------------------------------------------------------------------------------

export class AssetGrid extends EventTarget {
  constructor(mount, { source, selectable = true, onOpen = null, empty = null, groupBy = "day", scroller = undefined } = {}) {
    super();
    this.mount = mount;
    this.source = source;
    this.selectable = selectable;
    this.onOpen = onOpen;
    this.emptyNode = empty;
    this.groupBy = source.grouped === false ? "none" : groupBy;
    this.selection = new Set();
    this.sections = [];
    this.where = new Map(); // id → section
    this.tiles = new Map(); // id → rendered tile
    this.heads = new Map(); // key → rendered heading
    this.skeletons = new Map(); // section key → placeholder block
    this.inflight = 0;
    this.more = false;
    this.factor = 1.1;
    this.measured = { estimate: 0, actual: 0 };
    this.focusId = null;
    this.anchorId = null;
    this.generation = 0;
    this.frame = 0;
    this.destroyed = false;

    this.root = el("div", { class: "agrid", "data-asset-grid": true });
    this.canvas = el("div", { class: "agrid__canvas", role: "region", "aria-label": "Photos" });
    this.status = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    this.root.append(this.canvas, this.status);
    mount.append(this.root);
    this.scroller = scroller === undefined ? scrollParent(this.root) : scroller;
    this.metrics = metrics(this.width());

    this.onScroll = () => this.schedule();
    this.onKeyDocument = (event) => this.documentKey(event);
    (this.scroller || window).addEventListener("scroll", this.onScroll, { passive: true });
    document.addEventListener("keydown", this.onKeyDocument);
    this.canvas.addEventListener("click", (event) => this.click(event));
    this.canvas.addEventListener("keydown", (event) => this.key(event));
    // On touch screens (no hover, so no check circle to aim at) a long press selects.
    this.canvas.addEventListener("contextmenu", (event) => {
      const tile = event.target.closest(".tile");
      if (!tile || !this.selectable || !matchMedia("(hover: none)").matches) return;
      event.preventDefault();
      this.toggle(tile.dataset.assetId);
      this.anchorId = tile.dataset.assetId;
      this.selectionChanged();
    });
    this.canvas.addEventListener("focusin", (event) => {
      const tile = event.target.closest?.(".tile");
      if (tile) this.setFocusTarget(tile.dataset.assetId);
    });
    this.resizer = new ResizeObserver(() => this.resized());
    this.resizer.observe(this.root);
    this.ready = this.start();
  }

  // Loading -----------------------------------------------------------------------------------

  async start(keep = null) {
    const generation = ++this.generation;
    this.sections = [];
    this.where.clear();
    this.more = false;
    this.pageLoading = false;
    this.root.setAttribute("aria-busy", "true");
    try {
      if (this.source.kind === "months") {
        const months = await this.source.months();
        if (generation !== this.generation) return;
        this.sections = months.map((bucket) => this.newSection(bucket.month, bucket.count, null));
      } else {
        this.source.reset?.();
        this.more = true;
        await this.nextPage(generation);
        if (generation !== this.generation) return;
      }
    } catch (error) {
      // Shown in the grid with a "Try again"; ``ready`` still settles for whoever waits on it.
      if (generation !== this.generation) return;
      this.root.removeAttribute("aria-busy");
      this.showProblem(error);
      return;
    }
    this.root.removeAttribute("aria-busy");
    if (this.source.kind === "months" && this.groupBy !== "none" && !this.scroller) this.scrubber = this.scrubber || new Scrubber(this);
    this.reflow(keep);
    this.refreshEmpty();
    this.render();
  }

  newSection(key, count, items) {
    const section = { key, label: key === "all" ? "" : monthLabel(key), count, items, loading: false, failedAt: 0, layout: null, top: 0, height: 0, start: 0 };
    if (items) this.indexSection(section);
    return section;
  }

  indexSection(section) {
    // Pages come newest capture instant first, but days are local: photos taken in other zones
    // can interleave two days. A stable sort by local day keeps each day in one group (one
    // heading), instant order within it.
    if (this.groupBy === "day") section.items.sort((a, b) => (dayOf(a) < dayOf(b) ? 1 : dayOf(a) > dayOf(b) ? -1 : 0));
    section.count = section.items.length;
    section.layout = null;
    for (const item of section.items) this.where.set(item.id, section);
  }

  sectionKey(item) {
    return this.groupBy === "none" ? "all" : monthOf(item);
  }

  // Pages: append in order, continuing the last section or opening the next.
  async nextPage(generation = this.generation) {
    if (!this.more || this.pageLoading) return;
    this.pageLoading = true;
    try {
      const { items, done } = await this.source.next();
      if (generation !== this.generation) return;
      this.more = !done;
      const anchor = this.captureAnchor();
      for (const item of items) {
        if (this.where.has(item.id)) continue;
        const key = this.sectionKey(item);
        let section = this.sections[this.sections.length - 1];
        if (!section || section.key !== key) {
          section = this.newSection(key, 0, []);
          this.sections.push(section);
        }
        section.items.push(item);
        section.count = section.items.length;
        section.layout = null;
        this.where.set(item.id, section);
      }
      if (this.sections.length) {
        this.reflow(anchor);
        this.refreshEmpty();
      }
    } finally {
      this.pageLoading = false;
      this.schedule();
    }
  }

  // Months: fetch those near the viewport that are not loaded, nearest first, a few at once.
  pump(view) {
    if (this.source.kind !== "months" || this.inflight >= 2) return;
    const margin = view.height * 2.5;
    const centre = (view.top + view.bottom) / 2;
    const now = Date.now();
    const wanted = this.sectionsBetween(view.top - margin, view.bottom + margin)
      .filter((s) => !s.items && !s.loading && now - s.failedAt > RETRY_MS)
      .sort((a, b) => Math.abs(a.top + a.height / 2 - centre) - Math.abs(b.top + b.height / 2 - centre));
    if (!wanted.length) return;
    const keys = this.source.batch(wanted.map((s) => ({ month: s.key, count: s.count })));
    // A failure is retried by a later frame (see failedAt); nothing to do with it here.
    this.loadMonths(keys).catch(() => {});
  }

  loadMonths(keys) {
    const sections = keys.map((key) => this.sections.find((s) => s.key === key)).filter(Boolean);
    const promise = this.fetchMonths(keys, sections);
    for (const section of sections) section.loading = promise;
    return promise;
  }

  async fetchMonths(keys, sections) {
    const generation = this.generation;
    this.inflight += 1;
    try {
      const found = await this.source.load(keys);
      if (generation !== this.generation) return;
      const anchor = this.captureAnchor();
      for (const section of sections) {
        section.loading = false;
        const items = found.get(section.key) || [];
        section.items = items.filter((item) => !this.where.has(item.id) || this.where.get(item.id) === section);
        this.indexSection(section);
      }
      this.sections = this.sections.filter((s) => !s.items || s.items.length);
      this.reflow(anchor);
      this.refreshEmpty();
    } catch (error) {
      for (const section of sections) {
        section.loading = false;
        section.failedAt = Date.now();
      }
      this.announce("Some photos could not be loaded; retrying.");
      throw error;
    } finally {
      // A reload meanwhile started counting again from zero.
      this.inflight = Math.max(0, this.inflight - 1);
      this.schedule();
    }
  }

  // Load every section from ``from`` to ``to`` (indexes), for ranges and the viewer.
  async ensureLoaded(from, to) {
    if (this.source.kind !== "months") return;
    const keys = new Set(this.sections.slice(from, to + 1).map((s) => s.key));
    for (;;) {
      const missing = this.sections.filter((s) => keys.has(s.key) && !s.items);
      if (!missing.length) return;
      const busy = missing.filter((s) => s.loading);
      if (busy.length) {
        await Promise.allSettled(busy.map((s) => s.loading));
        continue;
      }
      await this.loadMonths(this.source.batch(missing.map((s) => ({ month: s.key, count: s.count }))));
    }
  }

  // Geometry ----------------------------------------------------------------------------------

  width() {
    return Math.max(200, Math.floor(this.canvas.clientWidth || this.root.clientWidth || 800));
  }

  // Heights and tops of every section, the canvas height, and cumulative indexes; then put the
  // anchor back where it was on screen.
  reflow(anchor = null) {
    const m = this.metrics;
    let top = 0;
    let start = 0;
    for (const section of this.sections) {
      if (section.items && !section.layout) {
        section.layout = layoutSection(section, m, this.groupBy);
        if (section.estimated) {
          this.measured.estimate += section.estimated;
          this.measured.actual += section.layout.height;
          this.factor = Math.min(3, Math.max(0.5, this.measured.actual / this.measured.estimate));
        }
        section.estimated = 0;
      }
      if (section.layout) {
        section.height = section.layout.height;
      } else {
        section.height = estimateHeight(section.count, m, this.groupBy, this.factor);
        section.estimated = estimateHeight(section.count, m, this.groupBy, 1);
      }
      section.top = top;
      section.start = start;
      top += section.height;
      start += section.count;
    }
    this.tail = this.more ? Math.max(200, window.innerHeight * 0.5) : 0;
    this.total = top;
    this.canvas.style.height = `${top + this.tail}px`;
    if (anchor) this.restoreAnchor(anchor);
    // Redrawn with the next frame: loads often land several in a row.
    if (this.scrubber) this.scrubber.dirty = true;
    this.schedule();
  }

  // The visible part of the canvas, in canvas coordinates.
  viewport() {
    const rect = this.canvas.getBoundingClientRect();
    let top;
    let bottom;
    if (this.scroller) {
      const box = this.scroller.getBoundingClientRect();
      top = box.top;
      bottom = box.bottom;
    } else {
      // The sticky top bar (or the selection bar over it) hides what is under it.
      const bar = document.querySelector(".topbar");
      top = bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0;
      bottom = window.innerHeight;
    }
    return { top: top - rect.top, bottom: bottom - rect.top, height: bottom - top, screenTop: top };
  }

  scrollBy(delta) {
    if (!delta) return;
    if (this.scroller) this.scroller.scrollTop += delta;
    else window.scrollBy(0, delta);
  }

  // Scroll so that canvas position ``y`` is at the top of the visible area.
  scrollToY(y) {
    this.scrollBy(Math.round(y - this.viewport().top));
  }

  sectionAt(y) {
    // The section whose bottom is below y (a boundary belongs to the section starting there).
    const index = lowerBound(this.sections, y + 1, (s) => s.top + s.height);
    return this.sections[Math.min(index, this.sections.length - 1)] || null;
  }

  sectionsBetween(top, bottom) {
    const found = [];
    for (let i = lowerBound(this.sections, top, (s) => s.top + s.height); i < this.sections.length; i += 1) {
      const section = this.sections[i];
      if (section.top > bottom) break;
      found.push(section);
    }
    return found;
  }

  captureAnchor() {
    if (!this.sections.length) return null;
    const view = this.viewport();
    if (view.top <= 0) return null; // the top of the grid is on screen: nothing to hold
    const section = this.sectionAt(view.top);
    return section ? { key: section.key, offset: view.top - section.top, was: section.top } : null;
  }

  restoreAnchor(anchor) {
    const section = this.sections.find((s) => s.key === anchor.key);
    if (!section) return;
    const offset = Math.min(anchor.offset, Math.max(0, section.height - 1));
    const delta = section.top + offset - (anchor.was + anchor.offset);
    this.scrollBy(Math.round(delta));
  }

  resized() {
    const width = this.width();
    if (width === this.metrics.width) return;
    const anchor = this.captureAnchor();
    this.metrics = metrics(width);
    for (const section of this.sections) section.layout = null;
    this.measured = { estimate: 0, actual: 0 };
    this.reflow(anchor);
  }

  // Rendering ---------------------------------------------------------------------------------

  schedule() {
    if (this.frame || this.destroyed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    if (this.destroyed || !this.sections.length) {
      this.scrubber?.update(null);
      return;
    }
    const view = this.viewport();
    // A small library is drawn whole (find in page and full-page captures see every photo);
    // past a few screens only the part near the viewport exists.
    const small = this.total + this.tail <= Math.max(2400, view.height * 4);
    const margin = small ? Infinity : Math.max(300, view.height * 0.75);
    const top = view.top - margin;
    const bottom = view.bottom + margin;
    const wantedTiles = new Set();
    const wantedHeads = new Set();
    const wantedSkeletons = new Set();
    for (const section of this.sectionsBetween(top, bottom)) {
      if (!section.layout) {
        if (this.groupBy !== "none") this.placeHead(wantedHeads, section, { key: `m:${section.key}`, kind: "month", label: section.label, x: 0, y: 0, w: this.metrics.width });
        this.placeSkeleton(wantedSkeletons, section);
        continue;
      }
      for (const head of section.layout.heads) {
        if (section.top + head.y + 60 >= top && section.top + head.y <= bottom) this.placeHead(wantedHeads, section, head);
      }
      const boxes = section.layout.boxes;
      for (let n = lowerBound(boxes, top - section.top, (b) => b.y + b.h); n < boxes.length; n += 1) {
        const box = boxes[n];
        if (section.top + box.y > bottom) break;
        this.placeTile(wantedTiles, section, box);
      }
    }
    // The focused tile stays even off screen, or focus would drop to the page.
    const active = document.activeElement?.closest?.(".tile");
    for (const [id, tile] of this.tiles) {
      if (wantedTiles.has(id) || (tile === active && this.where.has(id))) continue;
      tile.remove();
      this.tiles.delete(id);
    }
    for (const [key, node] of this.heads) if (!wantedHeads.has(key)) (node.remove(), this.heads.delete(key));
    for (const [key, node] of this.skeletons) if (!wantedSkeletons.has(key)) (node.remove(), this.skeletons.delete(key));
    this.keepEntryPoint(view);
    this.pump(view);
    if (this.more && !this.pageLoading && view.bottom + view.height * 2 >= this.total) this.nextPage().catch((error) => this.showProblem(error));
    this.scrubber?.update(view);
  }

  placeHead(wanted, section, head) {
    const key = head.key;
    wanted.add(key);
    let node = this.heads.get(key);
    if (!node) {
      node = head.kind === "month" ? el("h2", { class: "agrid__month" }, head.label) : el("h3", { class: "agrid__day" }, head.label);
      node.dataset.key = key;
      this.heads.set(key, node);
      this.canvas.append(node);
    }
    const position = `${head.x},${section.top + head.y},${head.w}`;
    if (node.dataset.pos !== position) {
      node.dataset.pos = position;
      node.style.transform = `translate(${head.x}px, ${section.top + head.y}px)`;
      node.style.width = `${head.w}px`;
    }
  }

  placeSkeleton(wanted, section) {
    wanted.add(section.key);
    let node = this.skeletons.get(section.key);
    if (!node) {
      node = el("div", { class: "agrid__skeleton", "aria-hidden": "true" });
      this.skeletons.set(section.key, node);
      this.canvas.append(node);
    }
    const head = this.groupBy === "none" ? 0 : this.metrics.monthHead;
    node.style.transform = `translate(0px, ${section.top + head}px)`;
    node.style.width = `${this.metrics.width}px`;
    node.style.height = `${Math.max(0, section.height - head - this.metrics.sectionGap)}px`;
  }

  placeTile(wanted, section, box) {
    const item = section.items[box.i];
    wanted.add(item.id);
    let tile = this.tiles.get(item.id);
    if (!tile) {
      tile = this.buildTile(item);
      this.tiles.set(item.id, tile);
      this.canvas.append(tile);
    }
    const y = section.top + box.y;
    const position = `${box.x},${y},${box.w},${box.h}`;
    if (tile.dataset.pos !== position) {
      tile.dataset.pos = position;
      tile.style.transform = `translate(${box.x}px, ${y}px)`;
      tile.style.width = `${box.w}px`;
      tile.style.height = `${box.h}px`;
    }
  }

  buildTile(item) {
    const tile = el("a", { class: "tile", href: `/photos/${encodeURIComponent(item.id)}`, draggable: "false" });
    tile.dataset.assetId = item.id;
    this.paintTile(tile, item);
    return tile;
  }

  // Fill a tile from its item: the placeholder behind, the thumbnail fading in over it, the
  // badges. Called again when the item changes (processed, favourited, renamed).
  paintTile(tile, item) {
    const pending = PENDING.has(item.status);
    const source = pending ? null : `/api/library/assets/${encodeURIComponent(item.id)}/thumbnail`;
    const paintedFor = `${source}|${item.placeholder || ""}`;
    tile.tabIndex = item.id === this.focusId ? 0 : -1;
    tile.classList.toggle("is-selected", this.selection.has(item.id));
    tile.classList.toggle("is-pending", pending);
    tile.classList.toggle("tile--video", item.media === "video");
    if (tile.dataset.painted !== paintedFor) {
      tile.dataset.painted = paintedFor;
      const url = placeholderUrl(item.placeholder);
      tile.style.backgroundImage = url ? `url("${url}")` : "";
      tile.querySelector("img")?.remove();
      tile.classList.remove("is-loaded", "is-broken");
      if (source) {
        const img = el("img", { alt: item.name, loading: "lazy", decoding: "async", draggable: "false" });
        img.addEventListener("load", () => tile.classList.add("is-loaded"), { once: true });
        img.addEventListener("error", () => tile.classList.add("is-broken"), { once: true });
        img.src = source;
        tile.prepend(img);
        if (img.complete && img.naturalWidth) tile.classList.add("is-loaded");
      }
    }
    const img = tile.querySelector("img");
    if (img && img.alt !== item.name) img.alt = item.name;
    // Not processed yet (no image): the name still reaches screen readers.
    let name = tile.querySelector(".tile__name");
    if (img) name?.remove();
    else if (!name) tile.prepend((name = el("span", { class: "visually-hidden tile__name" }, item.name)));
    else name.textContent = item.name;
    this.paintBadges(tile, item);
  }

  paintBadges(tile, item) {
    for (const node of tile.querySelectorAll(".tile__badge, .tile__check, .tile__state")) node.remove();
    if (this.selectable) tile.append(el("span", { class: "tile__check", "data-select": true, "aria-hidden": "true", title: "Select" }));
    if (this.selection.has(item.id)) tile.append(el("span", { class: "visually-hidden tile__state" }, " (selected)"));
    if (item.is_favourite) tile.append(el("span", { class: "tile__badge tile__badge--favourite", title: "Favourite" }, icon("heart", "icon icon--small")));
    if (item.media === "video") {
      tile.append(el("span", { class: "tile__badge tile__badge--video" }, icon("play", "icon icon--small"), item.duration_ms ? durationText(item.duration_ms) : null));
    }
  }

  showProblem(error) {
    this.root.querySelector(".agrid__problem")?.remove();
    const retry = el("button", { type: "button", class: "button button--small", onclick: () => this.reload() }, "Try again");
    this.root.prepend(el("div", { class: "agrid__problem alert alert--error", role: "alert" }, el("span", {}, error?.message || "The photos could not be loaded."), retry));
  }

  announce(text) {
    this.status.textContent = text;
  }

  refreshEmpty() {
    const empty = this.sections.length === 0 && !this.more;
    this.root.classList.toggle("is-empty", empty);
    this.root.querySelector(".agrid__problem")?.remove();
    if (empty && !this.emptyShown && this.emptyNode) {
      this.emptyShown = el("div", { class: "agrid__empty" }, this.emptyNode());
      this.root.prepend(this.emptyShown);
    } else if (!empty && this.emptyShown) {
      this.emptyShown.remove();
      this.emptyShown = null;
    }
    this.scrubber?.node.toggleAttribute("hidden", empty);
  }

  // Selection ---------------------------------------------------------------------------------

  // Select or unselect one photo as a click on its check would (it becomes the anchor of the
  // next shift-click range), and tell listeners.
  toggleSelected(id, on = !this.selection.has(id)) {
    this.toggle(id, on);
    this.anchorId = id;
    this.selectionChanged();
  }

  toggle(id, on = !this.selection.has(id)) {
    if (on) this.selection.add(id);
    else this.selection.delete(id);
    this.repaint(id);
  }

  repaint(id) {
    const tile = this.tiles.get(id);
    const section = this.where.get(id);
    if (tile && section) this.paintTile(tile, section.items.find((item) => item.id === id));
  }

  selectionChanged() {
    this.root.classList.toggle("is-selecting", this.selection.size > 0);
    this.announce(this.selection.size ? `${this.selection.size} selected` : "Selection cleared");
    this.dispatchEvent(new CustomEvent("selectionchange", { detail: { ids: new Set(this.selection) } }));
  }

  clearSelection() {
    if (!this.selection.size) return;
    const ids = [...this.selection];
    this.selection.clear();
    for (const id of ids) this.repaint(id);
    this.anchorId = null;
    this.selectionChanged();
  }

  async selectAll() {
    if (this.source.kind === "months") await this.ensureLoaded(0, this.sections.length - 1);
    while (this.more) await this.nextPage();
    for (const section of this.sections) for (const item of section.items || []) this.selection.add(item.id);
    for (const id of this.tiles.keys()) this.repaint(id);
    this.selectionChanged();
  }

  // Select every photo between the last one picked and ``id`` (both ends included).
  async selectRange(fromId, toId) {
    const first = this.sections.indexOf(this.where.get(fromId));
    const last = this.sections.indexOf(this.where.get(toId));
    if (first < 0 || last < 0) return this.toggle(toId, true);
    // Months in between may not be loaded (a range across a long scroll).
    await this.ensureLoaded(Math.min(first, last), Math.max(first, last));
    const a = Math.min(this.indexOf(fromId), this.indexOf(toId));
    const b = Math.max(this.indexOf(fromId), this.indexOf(toId));
    for (let index = a; index <= b; index += 1) {
      const item = this.loadedAt(index);
      if (item) this.selection.add(item.id);
    }
    for (const id of this.tiles.keys()) this.repaint(id);
  }

  // Input -------------------------------------------------------------------------------------

  async click(event) {
    const tile = event.target.closest(".tile");
    if (!tile || event.button !== 0 || event.metaKey || event.ctrlKey || event.altKey) return;
    const id = tile.dataset.assetId;
    const picking = event.target.closest("[data-select]") || this.selection.size > 0 || event.shiftKey;
    event.preventDefault();
    this.setFocusTarget(id);
    if (this.selectable && picking) {
      if (event.shiftKey && this.anchorId && this.anchorId !== id) await this.selectRange(this.anchorId, id);
      else this.toggle(id);
      this.anchorId = id;
      this.selectionChanged();
      return;
    }
    this.open(id);
  }

  open(id) {
    const section = this.where.get(id);
    if (!section) return;
    const item = section.items.find((one) => one.id === id);
    const index = this.indexOf(id);
    if (this.onOpen) {
      this.onOpen(item, index, this);
      return;
    }
    import("./viewer.js")
      .then((viewer) =>
        viewer.openViewer({
          sequence: this.sequence(),
          index,
          onChanged: (asset) => (asset.is_archived || asset.trashed_at || asset.trashed ? this.remove([asset.id]) : this.update(asset)),
          onRemoved: (removed) => this.remove([removed]),
        }),
      )
      .catch(() => location.assign(`/photos/${encodeURIComponent(id)}`));
  }

  key(event) {
    const tile = event.target.closest?.(".tile");
    if (!tile || event.altKey || event.ctrlKey || event.metaKey) return;
    const id = tile.dataset.assetId;
    const moves = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down", Home: "first", End: "last" };
    if (moves[event.key]) {
      event.preventDefault();
      this.moveFocus(id, moves[event.key]);
    } else if (this.selectable && (event.key === " " || event.key === "x")) {
      event.preventDefault();
      if (event.shiftKey && this.anchorId && this.anchorId !== id) this.selectRange(this.anchorId, id).then(() => this.selectionChanged());
      else {
        this.toggle(id);
        this.anchorId = id;
        this.selectionChanged();
      }
    } else if (event.key === "Escape" && this.selection.size) {
      event.preventDefault();
      this.clearSelection();
    }
  }

  documentKey(event) {
    if (event.key !== "Escape" || !this.selection.size || event.defaultPrevented) return;
    if (document.querySelector("[data-viewer], dialog[open]")) return;
    if (event.target.closest?.("input, textarea, select")) return;
    this.clearSelection();
  }

  // Roving focus: exactly one tile is in the tab order (the last focused, or the first on
  // screen), arrows move between tiles.
  setFocusTarget(id) {
    if (this.focusId === id) return;
    const old = this.tiles.get(this.focusId);
    if (old) old.tabIndex = -1;
    this.focusId = id;
    const tile = this.tiles.get(id);
    if (tile) tile.tabIndex = 0;
  }

  keepEntryPoint(view) {
    if (this.canvas.contains(document.activeElement)) return;
    const current = this.tiles.get(this.focusId);
    const onScreen = (tile) => {
      const [, y, , h] = tile.dataset.pos.split(",").map(Number);
      return y + h > view.top && y < view.bottom;
    };
    if (current && onScreen(current)) return;
    let best = null;
    let bestY = Infinity;
    for (const tile of this.tiles.values()) {
      const [x, y] = tile.dataset.pos.split(",").map(Number);
      if (!onScreen(tile)) continue;
      const score = y * 10000 + x;
      if (score < bestY) (bestY = score), (best = tile);
    }
    if (best) this.setFocusTarget(best.dataset.assetId);
  }

  async moveFocus(id, direction) {
    let targetIndex = null;
    const index = this.indexOf(id);
    if (direction === "left") targetIndex = index - 1;
    else if (direction === "right") targetIndex = index + 1;
    else if (direction === "first") targetIndex = 0;
    else if (direction === "last") targetIndex = this.length() - 1;
    let target = null;
    if (targetIndex !== null) {
      if (targetIndex < 0 || targetIndex >= this.length()) return;
      target = await this.itemAt(targetIndex);
    } else {
      target = await this.verticalNeighbour(id, direction === "down" ? 1 : -1);
    }
    if (target) this.focusTile(target.id);
  }

  // The tile in the next (or previous) visual line whose centre is nearest this one's.
  async verticalNeighbour(id, step) {
    let section = this.where.get(id);
    const from = this.boxOf(id);
    if (!section || !from) return null;
    const centre = from.box.x + from.box.w / 2;
    const line = section.top + from.box.y;
    for (let s = this.sections.indexOf(section); s >= 0 && s < this.sections.length; s += step) {
      section = this.sections[s];
      if (!section.items) await this.ensureLoaded(s, s);
      section = this.sections[s];
      if (!section?.layout) continue;
      const boxes = section.layout.boxes;
      let bestLine = null;
      let best = null;
      for (const box of step > 0 ? boxes : [...boxes].reverse()) {
        const y = section.top + box.y;
        if (step > 0 ? y <= line + 1 : y >= line - 1) continue;
        if (bestLine !== null && y !== bestLine) break;
        bestLine = y;
        const distance = Math.abs(box.x + box.w / 2 - centre);
        if (!best || distance < best.distance) best = { box, distance };
      }
      if (best) return section.items[best.box.i];
    }
    return null;
  }

  boxOf(id) {
    const section = this.where.get(id);
    if (!section?.layout) return null;
    const i = section.items.findIndex((item) => item.id === id);
    const box = section.layout.boxes.find((b) => b.i === i);
    return box ? { section, box } : null;
  }

  // Bring a tile on screen (rendered) and focus it.
  focusTile(id) {
    const found = this.boxOf(id);
    if (!found) return;
    const view = this.viewport();
    const y = found.section.top + found.box.y;
    if (y < view.top + 8) this.scrollBy(y - view.top - 8);
    else if (y + found.box.h > view.bottom - 8) this.scrollBy(y + found.box.h - view.bottom + 8);
    this.render();
    this.setFocusTarget(id);
    this.tiles.get(id)?.focus({ preventScroll: true });
  }

  // Positions for the viewer ------------------------------------------------------------------

  // Pages still to come count as one more, so the viewer's "next" asks for them.
  length() {
    const known = this.sections.reduce((n, s) => n + s.count, 0);
    if (this.more && Number.isFinite(this.source.total)) return Math.max(known, this.source.total);
    return this.more ? known + 1 : known;
  }

  indexOf(id) {
    const section = this.where.get(id);
    if (!section) return -1;
    const i = section.items.findIndex((item) => item.id === id);
    return i < 0 ? -1 : section.start + i;
  }

  loadedAt(index) {
    const s = lowerBound(this.sections, index + 1, (section) => section.start + section.count);
    const section = this.sections[s];
    if (!section?.items) return null;
    return section.items[index - section.start] || null;
  }

  async itemAt(index) {
    while (this.more && index >= this.sections.reduce((n, s) => n + s.count, 0)) await this.nextPage();
    const s = lowerBound(this.sections, index + 1, (section) => section.start + section.count);
    if (s >= this.sections.length) return null;
    if (!this.sections[s].items) await this.ensureLoaded(s, s);
    return this.loadedAt(index);
  }

  // What the viewer walks through: ids on demand, so it never needs the whole library.
  sequence() {
    const grid = this;
    return {
      get length() {
        return grid.length();
      },
      async idAt(index) {
        return (await grid.itemAt(index))?.id ?? null;
      },
      indexOf: (id) => grid.indexOf(id),
    };
  }

  // Changes -----------------------------------------------------------------------------------

  // A new asset (or one back from the trash or the archive) goes in its place.
  insert(asset) {
    const item = toItem(asset);
    if (!item.id || !item.local_at) return;
    if (this.where.has(item.id)) {
      this.update(item);
      return;
    }
    const anchor = this.captureAnchor();
    const key = this.sectionKey(item);
    let section = this.sections.find((s) => s.key === key);
    if (!section) {
      section = this.newSection(key, 0, []);
      // Newest first; ``all`` (ungrouped) holds everything.
      const at = this.sections.findIndex((s) => s.key < key);
      this.sections.splice(at < 0 ? this.sections.length : at, 0, section);
    }
    if (section.items) {
      const at = section.items.findIndex((other) => other.local_at < item.local_at);
      section.items.splice(at < 0 ? section.items.length : at, 0, item);
      this.indexSection(section);
    } else {
      // Not loaded yet: it will come with the month; only the count (the estimate) changes.
      section.count += 1;
    }
    this.reflow(anchor);
    this.refreshEmpty();
  }

  update(partial) {
    const section = this.where.get(partial.id);
    if (!section) return;
    const index = section.items.findIndex((item) => item.id === partial.id);
    const item = section.items[index];
    const changes = toItem({ ...item, ...partial });
    const moved = changes.local_at && dayOf(changes) !== dayOf(item);
    const reshaped = changes.width !== item.width || changes.height !== item.height || changes.local_at !== item.local_at;
    if (moved) {
      this.remove([item.id], { keepSelection: true });
      this.insert(changes);
      return;
    }
    Object.assign(item, changes);
    if (reshaped) {
      const anchor = this.captureAnchor();
      section.layout = null;
      this.reflow(anchor);
    }
    this.repaint(item.id);
  }

  // Take ``ids`` out of the grid; fires "remove" with the ids that were in it.
  remove(ids, { keepSelection = false } = {}) {
    const anchor = this.captureAnchor();
    const removed = [];
    let unselected = false;
    for (const id of ids) {
      const section = this.where.get(id);
      if (!keepSelection && this.selection.delete(id)) unselected = true;
      if (!section) continue;
      section.items = section.items.filter((item) => item.id !== id);
      this.where.delete(id);
      this.indexSection(section);
      this.tiles.get(id)?.remove();
      this.tiles.delete(id);
      removed.push(id);
    }
    if (!removed.length && !unselected) return;
    this.sections = this.sections.filter((s) => !s.items || s.items.length);
    this.reflow(anchor);
    this.refreshEmpty();
    if (unselected) this.selectionChanged();
    if (removed.length) this.dispatchEvent(new CustomEvent("remove", { detail: { ids: removed } }));
  }

  has(id) {
    return this.where.has(id);
  }

  // Whether the month holding ``localAt`` is "loaded", "unloaded" (only counted) or "absent".
  monthState(localAt) {
    const section = this.sections.find((s) => s.key === this.sectionKey({ local_at: localAt }));
    if (!section) return "absent";
    return section.items ? "loaded" : "unloaded";
  }

  // Load the month of ``asset`` (id and local_at) and return its index, or -1.
  async locate(asset) {
    if (!this.where.has(asset.id) && asset.local_at) {
      const key = this.sectionKey(toItem(asset));
      const at = this.sections.findIndex((s) => s.key === key);
      if (at >= 0) await this.ensureLoaded(at, at);
    }
    return this.indexOf(asset.id);
  }

  // Scroll a loaded tile into view and focus it (so focus comes back to it when a viewer
  // opened from the address closes).
  reveal(id) {
    const found = this.boxOf(id);
    if (!found) return;
    const view = this.viewport();
    this.scrollToY(Math.max(0, found.section.top + found.box.y - view.height / 3));
    this.render();
    this.setFocusTarget(id);
    this.tiles.get(id)?.focus({ preventScroll: true });
  }

  // The item as the grid knows it (for undoing a removal), or null.
  item(id) {
    const section = this.where.get(id);
    return section ? { ...section.items.find((item) => item.id === id) } : null;
  }

  reload() {
    const anchor = this.captureAnchor();
    for (const tile of this.tiles.values()) tile.remove();
    for (const node of [...this.heads.values(), ...this.skeletons.values()]) node.remove();
    this.tiles.clear();
    this.heads.clear();
    this.skeletons.clear();
    this.measured = { estimate: 0, actual: 0 };
    this.inflight = 0;
    this.ready = this.start(anchor).then(() => {
      const ids = [...this.selection].filter((id) => this.where.has(id) || this.source.kind === "months");
      if (ids.length !== this.selection.size) {
        this.selection = new Set(ids);
        this.selectionChanged();
      }
    });
    return this.ready;
  }

  destroy() {
    this.destroyed = true;
    this.generation += 1;
    cancelAnimationFrame(this.frame);
    (this.scroller || window).removeEventListener("scroll", this.onScroll);
    document.removeEventListener("keydown", this.onKeyDocument);
    this.resizer.disconnect();
    this.scrubber?.destroy();
    this.root.remove();
  }
}

// The scrubber --------------------------------------------------------------------------------

// A strip on the right edge with every month placed where it falls in the grid (so busy months
// take more room), a bar per month as wide as the month is dense, year labels, and the position
// of the screen. Drag or click to jump; hovering shows the month under the pointer. For the
// keyboard it is a slider: arrows step a month, Page keys a year.
class Scrubber {
  constructor(grid) {
    this.grid = grid;
    this.marks = el("div", { class: "scrubber__marks", "aria-hidden": "true" });
    this.thumb = el("div", { class: "scrubber__thumb", "aria-hidden": "true" });
    this.label = el("div", { class: "scrubber__label", "aria-hidden": "true", hidden: true });
    this.track = el("div", { class: "scrubber__track" }, this.marks, this.thumb, this.label);
    this.node = el(
      "div",
      {
        class: "scrubber",
        role: "slider",
        tabindex: "0",
        "aria-label": "Jump to month",
        "aria-orientation": "vertical",
        "aria-valuemin": "0",
        "data-scrubber": true,
      },
      this.track,
    );
    grid.root.classList.add("agrid--scrubbed");
    grid.root.append(this.node);
    this.dragging = false;
    this.node.addEventListener("pointerdown", (event) => this.down(event));
    this.node.addEventListener("pointermove", (event) => this.move(event));
    this.node.addEventListener("pointerup", (event) => this.up(event));
    this.node.addEventListener("pointercancel", (event) => this.up(event));
    this.node.addEventListener("pointerleave", () => this.dragging || (this.label.hidden = true));
    this.node.addEventListener("keydown", (event) => this.key(event));
  }

  bounds() {
    return this.track.getBoundingClientRect();
  }

  rebuild() {
    this.dirty = false;
    const sections = this.grid.sections;
    const total = this.grid.total || 1;
    const max = Math.max(1, ...sections.map((s) => s.count));
    // The track spans the window below the top bar (fixed), so its height is known without
    // asking for a layout.
    const height = window.innerHeight - 120;
    this.node.setAttribute("aria-valuemax", String(Math.max(0, sections.length - 1)));
    const nodes = [];
    let lastYearAt = -Infinity;
    let lastYear = null;
    for (const section of sections) {
      const top = (section.top / total) * 100;
      const share = section.height / total;
      const year = section.key.slice(0, 4);
      const mark = el("span", { class: "scrubber__month", "data-month": section.key, title: section.label });
      mark.style.top = `${top}%`;
      mark.style.height = `max(1px, calc(${share * 100}% - 1px))`;
      mark.style.width = `${Math.round(3 + 15 * Math.sqrt(section.count / max))}px`;
      nodes.push(mark);
      // A year label where the year starts, unless it would overlap the previous one.
      if (year !== lastYear && (section.top / total) * height - lastYearAt > 16) {
        const label = el("span", { class: "scrubber__year", "data-year": year }, year);
        label.style.top = `${top}%`;
        nodes.push(label);
        lastYearAt = (section.top / total) * height;
      }
      lastYear = year;
    }
    this.marks.replaceChildren(...nodes);
  }

  update(view) {
    const grid = this.grid;
    if (!view || !grid.sections.length) return;
    if (this.dirty) this.rebuild();
    const total = grid.total || 1;
    const position = Math.min(1, Math.max(0, view.top / total));
    this.thumb.style.top = `${position * 100}%`;
    const section = grid.sectionAt(Math.max(0, view.top));
    if (section && section !== this.current) {
      this.current = section;
      this.node.setAttribute("aria-valuenow", String(grid.sections.indexOf(section)));
      this.node.setAttribute("aria-valuetext", section.label);
    }
  }

  // The canvas position for a pointer at clientY, and the month there.
  at(clientY) {
    const box = this.bounds();
    const fraction = Math.min(1, Math.max(0, (clientY - box.top) / box.height));
    const y = fraction * this.grid.total;
    return { y, fraction, section: this.grid.sectionAt(y) };
  }

  showLabel(clientY) {
    const { fraction, section } = this.at(clientY);
    if (!section) return;
    this.label.hidden = false;
    this.label.textContent = section.label;
    this.label.style.top = `${fraction * 100}%`;
  }

  down(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    this.dragging = true;
    this.node.setPointerCapture(event.pointerId);
    this.node.classList.add("is-dragging");
    this.jump(event.clientY);
  }

  move(event) {
    this.showLabel(event.clientY);
    if (this.dragging) this.jump(event.clientY);
  }

  up(event) {
    if (!this.dragging) return;
    this.dragging = false;
    this.node.classList.remove("is-dragging");
    if (this.node.hasPointerCapture(event.pointerId)) this.node.releasePointerCapture(event.pointerId);
    if (event.pointerType !== "mouse") this.label.hidden = true;
  }

  jump(clientY) {
    this.showLabel(clientY);
    this.grid.scrollToY(this.at(clientY).y);
  }

  key(event) {
    const sections = this.grid.sections;
    const index = Math.max(0, sections.indexOf(this.current));
    const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: 12, PageUp: -12, Home: -Infinity, End: Infinity };
    if (!(event.key in steps)) return;
    event.preventDefault();
    const next = Math.min(sections.length - 1, Math.max(0, index + steps[event.key]));
    const section = sections[next];
    if (!section) return;
    this.grid.scrollToY(section.top);
    this.current = null;
    this.grid.render();
  }

  destroy() {
    this.node.remove();
  }
}
