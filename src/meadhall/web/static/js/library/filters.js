// The search page's filters as one plain object, and its two spellings: the address bar
// (/search?q=harbour&tag=<id>&type=character&from=2023-01-01) and the parameters of
// GET /api/library/assets. Anything a hand-edited or stale link carries that the API would
// refuse (a tag id that is not an id, a date that is not a date) is dropped here, so a bad
// link shows a wider search instead of an error.
//
//   const state = readFilters(location.search);
//   history.pushState(null, "", "/search" + filtersToSearch(state));
//   new QuerySource(filtersToParams(state));

export const TYPES = [
  ["photo", "Photo"],
  ["backdrop", "Backdrop"],
  ["character", "Character"],
  ["handout", "Handout"],
  ["map", "Map"],
  ["other", "Other"],
];
export const MEDIA = [
  ["image", "Images"],
  ["animation", "Animations"],
  ["video", "Videos"],
];

// The API's limits (GET /api/library/assets): longer text or more values are a 422.
const MAX_TEXT = 200;
const MAX_TAGS = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TYPE_VALUES = new Set(TYPES.map(([value]) => value));
const MEDIA_VALUES = new Set(MEDIA.map(([value]) => value));

export function emptyFilters() {
  return {
    q: "",
    tags: [],
    album: "",
    types: [],
    media: [],
    from: "",
    to: "",
    cameraMake: "",
    cameraModel: "",
    country: "",
    city: "",
    favourite: false,
    archived: false,
  };
}

function text(value) {
  // Control characters are refused by the API and mean nothing in a search.
  return (value || "").replace(/[\u0000-\u001f\u007f]/g, " ").trim().slice(0, MAX_TEXT);
}

function isDate(value) {
  if (!DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
}

function unique(values) {
  return [...new Set(values)];
}

// Filters from a query string ("?q=…&tag=…" or URLSearchParams).
export function readFilters(search) {
  const params = search instanceof URLSearchParams ? search : new URLSearchParams(search);
  const state = emptyFilters();
  state.q = text(params.get("q"));
  state.tags = unique(params.getAll("tag").filter((id) => UUID.test(id)).map((id) => id.toLowerCase())).slice(0, MAX_TAGS);
  const album = params.get("album") || "";
  state.album = UUID.test(album) ? album.toLowerCase() : "";
  state.types = unique(params.getAll("type").filter((value) => TYPE_VALUES.has(value)));
  state.media = unique(params.getAll("media").filter((value) => MEDIA_VALUES.has(value)));
  state.from = isDate(params.get("from") || "") ? params.get("from") : "";
  state.to = isDate(params.get("to") || "") ? params.get("to") : "";
  state.cameraMake = text(params.get("camera_make"));
  state.cameraModel = text(params.get("camera_model"));
  state.country = text(params.get("country"));
  state.city = text(params.get("city"));
  state.favourite = params.get("favourite") === "true";
  // Archived photos: hidden (false), shown with the rest ("any"), or alone (true).
  const archived = params.get("archived");
  state.archived = archived === "true" ? true : archived === "any" ? "any" : false;
  return state;
}

// The filters as a list of [name, value] pairs in one fixed order, so one search always has
// one address (and Back/Forward compare equal addresses as equal searches).
function pairs(state) {
  const out = [];
  if (state.q) out.push(["q", state.q]);
  for (const id of state.tags) out.push(["tag", id]);
  if (state.album) out.push(["album", state.album]);
  for (const type of state.types) out.push(["type", type]);
  for (const media of state.media) out.push(["media", media]);
  if (state.from) out.push(["from", state.from]);
  if (state.to) out.push(["to", state.to]);
  if (state.cameraMake) out.push(["camera_make", state.cameraMake]);
  if (state.cameraModel) out.push(["camera_model", state.cameraModel]);
  if (state.country) out.push(["country", state.country]);
  if (state.city) out.push(["city", state.city]);
  if (state.favourite) out.push(["favourite", "true"]);
  if (state.archived) out.push(["archived", String(state.archived)]);
  return out;
}

// "?q=harbour&tag=…" (or "" when nothing is set).
export function filtersToSearch(state) {
  const query = new URLSearchParams(pairs(state)).toString();
  return query ? `?${query}` : "";
}

// The parameters for QuerySource / GET /api/library/assets: repeated ones as arrays.
export function filtersToParams(state) {
  const params = {};
  for (const [name, value] of pairs(state)) {
    if (name === "tag" || name === "type" || name === "media") (params[name] ||= []).push(value);
    else if (name === "favourite") params[name] = true;
    else params[name] = value;
  }
  return params;
}

// How many filters are set besides the text (the badge on the phone's "Filters" button).
export function activeFilterCount(state) {
  return pairs(state).filter(([name]) => name !== "q").length;
}

export function hasAnyFilter(state) {
  return pairs(state).length > 0;
}

export function sameFilters(a, b) {
  return filtersToSearch(a) === filtersToSearch(b);
}

export function labelOf(list, value) {
  const found = list.find(([key]) => key === value);
  return found ? found[1] : value;
}
