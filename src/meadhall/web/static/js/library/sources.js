// Where an AssetGrid gets its assets from.
//
//   new TimelineSource({ type, favourite })   // the caller's timeline, month by month
//   new QuerySource({ q, tag: [...], type: [...], trashed: true, sort, order, … })
//   new AlbumSource(albumId)
//
// Two shapes, because the grid treats them differently:
// - kind "months" (TimelineSource): every month and its count is known up front (one small
//   request), so the grid can size the whole timeline at once and fetch only the months near
//   the screen — this is what keeps 100k photos smooth.
//     await source.months()        → [{ month: "2024-05", count }]
//     await source.load(["2024-05", …]) → Map(month → items)
// - kind "pages" (QuerySource, AlbumSource): pages in order until the end.
//     await source.next()          → { items, done }     source.reset()
//
// Items are normalised to what a tile needs: { id, name, type, media, local_at, width, height,
// placeholder, duration_ms, is_favourite, status? }. ``source.accepts(asset)`` says whether a
// live event's asset belongs in this view (for inserting it in place), and ``source.grouped``
// whether items come in capture order (so grouping them by month and day makes sense).

import { api } from "../api.js";

// The most months one request may name (the API's limit), and a soft cap on the items one
// request brings, so a scroll into a very busy stretch does not pull in tens of thousands.
const MAX_MONTHS_PER_REQUEST = 12;
const ITEMS_PER_REQUEST = 3000;
const QUERY_PAGE = 200;
const ALBUM_PAGE = 300;

const ITEM_KEYS = ["id", "name", "type", "media", "local_at", "width", "height", "placeholder", "duration_ms", "is_favourite", "status"];

// The fields a tile uses, from any shape of asset (timeline item, AssetRead, event data).
export function toItem(raw) {
  const item = {};
  for (const key of ITEM_KEYS) if (raw[key] !== undefined) item[key] = raw[key];
  if (item.local_at) item.local_at = String(item.local_at).replace(/([+-]\d\d:\d\d|Z)$/, "");
  item.name = item.name || "";
  item.is_favourite = Boolean(item.is_favourite);
  return item;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function oneOf(list) {
  if (list === null || list === undefined) return [];
  return Array.isArray(list) ? list : [list];
}

export class TimelineSource {
  constructor({ type = null, favourite = null } = {}) {
    this.kind = "months";
    this.grouped = true;
    this.types = oneOf(type);
    this.favourite = favourite === null || favourite === undefined ? null : Boolean(favourite);
  }

  filters() {
    return { type: this.types, favourite: this.favourite };
  }

  async months() {
    return api.get(`/api/library/timeline/buckets${query(this.filters())}`);
  }

  // Which of ``wanted`` (nearest first) go in one request.
  batch(wanted) {
    const chosen = [];
    let items = 0;
    for (const { month, count } of wanted) {
      if (chosen.length && (chosen.length >= MAX_MONTHS_PER_REQUEST || items + count > ITEMS_PER_REQUEST)) break;
      chosen.push(month);
      items += count;
    }
    return chosen;
  }

  async load(months) {
    const body = await api.get(`/api/library/timeline/months${query({ months: months.join(","), ...this.filters() })}`);
    const found = new Map();
    for (const entry of body.months) found.set(entry.month, entry.items.map(toItem));
    return found;
  }

  accepts(asset) {
    if (asset.is_archived || asset.trashed || asset.trashed_at) return false;
    if (this.types.length && !this.types.includes(asset.type)) return false;
    if (this.favourite !== null && Boolean(asset.is_favourite) !== this.favourite) return false;
    return true;
  }
}

export class QuerySource {
  constructor(params = {}) {
    this.kind = "pages";
    this.params = { ...params };
    const sort = this.params.sort || "captured";
    this.grouped = sort === "captured" && (this.params.order || "desc") === "desc";
    this.reset();
  }

  reset() {
    this.cursor = null;
    this.done = false;
  }

  async next() {
    if (this.done) return { items: [], done: true };
    const page = await api.get(`/api/library/assets${query({ ...this.params, limit: this.params.limit || QUERY_PAGE, cursor: this.cursor })}`);
    this.cursor = page.next_cursor;
    this.done = !page.next_cursor;
    return { items: page.items.map(toItem), done: this.done };
  }

  // A filtered view cannot tell from an event whether the asset matches (text, tags, …):
  // the page reloads instead when it matters.
  accepts() {
    return false;
  }
}

export class AlbumSource {
  constructor(albumId) {
    this.kind = "pages";
    this.grouped = true;
    this.albumId = albumId;
    this.reset();
  }

  reset() {
    this.offset = 0;
    this.done = false;
    this.total = null;
  }

  async next() {
    if (this.done) return { items: [], done: true };
    const page = await api.get(`/api/library/albums/${encodeURIComponent(this.albumId)}/assets${query({ limit: ALBUM_PAGE, offset: this.offset })}`);
    this.offset += page.items.length;
    this.total = page.total;
    this.done = !page.items.length || this.offset >= page.total;
    return { items: page.items.map(toItem), done: this.done };
  }

  accepts() {
    return false;
  }
}
