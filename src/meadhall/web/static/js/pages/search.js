// The search page: text, tags, album, type, media, dates, camera, place, favourites and the
// archive, over a grid of results with multi-select and bulk actions.
//
// The address bar is the one source of truth: every change of a filter writes the query
// string (/search?q=harbour&tag=<id>&type=character), so a search can be linked or reloaded,
// and Back/Forward step through earlier searches. A burst of typing is one history entry, not
// one per pause. The form itself is drawn by the template; this module fills its lists and
// keeps it and the results in step with the address.

import { api } from "../api.js";
import { live } from "../live.js";
import { AssetGrid } from "../library/grid.js";
import { QuerySource } from "../library/sources.js";
import { SelectionBar, bulk, libraryActions } from "../library/selection.js";
import {
  MEDIA,
  TYPES,
  activeFilterCount,
  emptyFilters,
  filtersToParams,
  filtersToSearch,
  hasAnyFilter,
  labelOf,
  readFilters,
  sameFilters,
} from "../library/filters.js";
import { el, errorMessage, formatCount, icon, toast, viewer } from "../ui.js";

const TYPING_MS = 300;
const TAG_SUGGESTIONS = 8;

const PATH = location.pathname;
const root = document.querySelector('[data-page="search"]');
const form = root.querySelector("[data-search-form]");
const input = root.querySelector("[data-search-input]");
const panel = root.querySelector("[data-filters-panel]");
const toggle = root.querySelector("[data-filters-toggle]");
const toggleCount = root.querySelector("[data-filters-count]");
const chips = root.querySelector("[data-active-filters]");
const clearButton = root.querySelector("[data-clear-filters]");
const status = root.querySelector("[data-search-status]");
const results = root.querySelector("[data-search-results]");
const controls = {
  album: root.querySelector('[data-filter="album"]'),
  type: root.querySelector('[data-filter="type"]'),
  media: root.querySelector('[data-filter="media"]'),
  from: root.querySelector('[data-filter="from"]'),
  to: root.querySelector('[data-filter="to"]'),
  camera: root.querySelector('[data-filter="camera"]'),
  place: root.querySelector('[data-filter="place"]'),
  favourite: root.querySelector('[data-filter="favourite"]'),
  archived: root.querySelector('[data-filter="archived"]'),
};

let current = readFilters(location.search);
// Names of tags and albums by id, for chips; filled from the API as ids turn up.
const tagNames = new Map();
const albumNames = new Map();
let grid = null;
let bar = null;

// Address bar -----------------------------------------------------------------------------

// Make `next` the current search. Typing replaces the history entry it created itself, so
// Back goes to the search before the typing began rather than to every half-typed word.
// Bumped by every search someone asks for, so the start-up below never overwrites one made
// while it was still loading the lists.
let commits = 0;

function commit(next, { typing = false } = {}) {
  if (sameFilters(next, current)) return;
  commits += 1;
  current = next;
  const url = `${PATH}${filtersToSearch(current)}`;
  const entry = { search: true, typing };
  if (typing && history.state && history.state.typing) history.replaceState(entry, "", url);
  else history.pushState(entry, "", url);
  render();
  runSearch();
}

function update(change) {
  commit({ ...current, ...change });
}

// The viewer opened over the results adds history entries of its own (/photos/<id>); going
// back from one lands on an unchanged search, which must keep its grid, scroll and selection.
window.addEventListener("popstate", async () => {
  if (location.pathname !== PATH) return;
  const next = readFilters(location.search);
  if (sameFilters(next, current)) return;
  cancelTyping();
  current = await checked(next);
  render({ force: true });
  runSearch();
});

// Tag and album ids from a link are looked up before searching: the API answers 404 for one
// that is not (or no longer) the viewer's, and a stale link should still show something.
async function checked(state) {
  const tags = [];
  await Promise.all(
    state.tags.map(async (id) => {
      if (tagNames.has(id)) return;
      try {
        const tag = await api.get(`/api/library/tags/${id}`);
        tagNames.set(id, tag.name);
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }),
  );
  for (const id of state.tags) if (tagNames.has(id)) tags.push(id);
  let album = state.album;
  if (album && !albumNames.has(album)) {
    try {
      const found = await api.get(`/api/library/albums/${album}`);
      albumNames.set(album, found.name);
    } catch (error) {
      if (error.status !== 404) throw error;
      album = "";
    }
  }
  const dropped = state.tags.length - tags.length + (album === state.album ? 0 : 1);
  if (dropped) toast(dropped === 1 ? "A tag or album in this link no longer exists." : "Some tags or albums in this link no longer exist.");
  return { ...state, tags, album };
}

// Results ---------------------------------------------------------------------------------

// The API gives no total for a search, so the page counts what it has loaded: exact once the
// last page is in, "200+" while more pages wait for the grid to scroll to them.
class CountingSource extends QuerySource {
  constructor(params, onCount) {
    super(params);
    this.onCount = onCount;
    this.loaded = 0;
  }

  reset() {
    super.reset();
    this.loaded = 0;
  }

  async next() {
    const page = await super.next();
    this.loaded += page.items.length;
    if (this.onCount) this.onCount(this.loaded, page.done);
    return page;
  }

  // Results that left the grid (trashed, archived, no longer matching) leave the count too.
  forget(count) {
    this.loaded = Math.max(0, this.loaded - count);
    if (this.onCount) this.onCount(this.loaded, this.done);
  }
}

function showCount(count, done) {
  if (!count) status.textContent = "";
  else status.textContent = done ? formatCount(count, "photo") : `${count.toLocaleString()}+ photos`;
}

let searches = 0;

function runSearch() {
  searches += 1;
  const generation = searches;
  if (bar && bar.destroy) bar.destroy();
  if (grid) grid.destroy();
  status.textContent = "";
  const mount = el("div", { class: "search__grid" });
  results.replaceChildren(mount);
  // A page of an earlier search that lands late must not overwrite this one's count.
  const source = new CountingSource(filtersToParams(current), (count, done) => generation === searches && showCount(count, done));
  grid = new AssetGrid(mount, {
    source,
    selectable: true,
    // Results are usually a few photos spread over years: months keep them dense.
    groupBy: "month",
    empty: emptyState,
  });
  grid.addEventListener("remove", (event) => source.forget(event.detail.ids.length));
  bar = new SelectionBar(grid, { actions: actionsFor(current) });
}

// The standard bulk actions; among archived photos "Archive" becomes "Unarchive".
function actionsFor(state) {
  const actions = libraryActions();
  if (state.archived !== true) return actions;
  return actions.map((action) => (action.key === "archive" ? unarchive : action));
}

const unarchive = {
  key: "unarchive",
  label: "Unarchive",
  icon: "restore",
  run: async (ids, shown) => {
    const { done, failed } = await bulk("unarchive", ids);
    shown.remove(done);
    shown.clearSelection();
    if (failed) toast(`${formatCount(failed, "photo")} could not be unarchived (not yours, or gone).`, { kind: "error" });
    if (done.length) toast(`${formatCount(done.length, "photo")} back from the archive`);
  },
};

function emptyState() {
  const filtered = hasAnyFilter(current);
  return el(
    "div",
    { class: "empty search__empty", "data-search-empty": true },
    el("span", { class: "empty__icon" }, icon(filtered ? "search" : "images", "icon icon--large")),
    el("h2", { class: "empty__title" }, filtered ? "No photos match" : "Nothing here yet"),
    el("p", { class: "empty__text" }, filtered ? "Try other words or fewer filters." : "Photos you upload can be searched here."),
    filtered ? el("button", { type: "button", class: "button", onclick: clearAll }, icon("x"), el("span", {}, "Clear filters")) : null,
  );
}

function clearAll() {
  cancelTyping();
  commit(emptyFilters());
  input.focus();
}

// Form ↔ state ----------------------------------------------------------------------------

// Show `current` in the form and the chips. The text box is left alone while someone types in
// it unless `force` (Back/Forward), so a debounced search never eats keystrokes.
function render({ force = false } = {}) {
  if (force || document.activeElement !== input) input.value = current.q;
  setSelect(controls.type, current.types, TYPES);
  setSelect(controls.media, current.media, MEDIA);
  controls.album.value = current.album;
  if (current.album && controls.album.value !== current.album) {
    controls.album.append(el("option", { value: current.album }, albumNames.get(current.album) || "This album"));
    controls.album.value = current.album;
  }
  controls.from.value = current.from;
  controls.to.value = current.to;
  // The two dates bound each other so the pickers cannot make an empty range.
  controls.from.max = current.to || "9999-12-31";
  controls.to.min = current.from || "1800-01-01";
  setChoice(controls.camera, [current.cameraMake, current.cameraModel], cameraLabel);
  setChoice(controls.place, [current.country, current.city], placeLabel);
  controls.favourite.setAttribute("aria-pressed", String(current.favourite));
  controls.archived.value = String(current.archived);
  renderChips();
  const count = activeFilterCount(current);
  toggleCount.hidden = count === 0;
  toggleCount.textContent = String(count);
  toggle.setAttribute("aria-label", count ? `Filters, ${count} set` : "Filters");
}

// A single-choice select showing a list the URL may hold several of (a hand-made link with two
// types): several show as one extra option naming them all.
function setSelect(select, values, labels) {
  select.querySelector("[data-several]")?.remove();
  if (values.length <= 1) {
    select.value = values[0] || "";
    return;
  }
  const text = values.map((value) => labelOf(labels, value)).join(", ");
  select.append(el("option", { value: "__several", "data-several": true }, text));
  select.value = "__several";
}

function choiceKey(first, second) {
  return JSON.stringify([first.toLowerCase(), second.toLowerCase()]);
}

// Camera and place options carry their two values as a key; a value from a link that the
// suggestions do not list (yet) gets an option of its own so the select can show it.
function setChoice(select, [first, second], label) {
  if (!first && !second) {
    select.value = "";
    return;
  }
  const key = choiceKey(first, second);
  if (![...select.options].some((option) => option.value === key)) {
    select.append(choiceOption(first, second, label(first, second)));
  }
  select.value = key;
}

function choiceOption(first, second, text, count = null) {
  return el(
    "option",
    { value: choiceKey(first, second), dataset: { first, second } },
    count === null ? text : `${text} (${count.toLocaleString()})`,
  );
}

function chosen(select) {
  const option = select.selectedOptions[0];
  if (!option || !option.value) return ["", ""];
  return [option.dataset.first || "", option.dataset.second || ""];
}

function cameraLabel(make, model) {
  if (!model) return make;
  if (!make || model.toLowerCase().startsWith(make.toLowerCase())) return model;
  return `${make} ${model}`;
}

function placeLabel(country, city) {
  if (!city) return country;
  return country ? `${city}, ${country}` : city;
}

function formatDay(value) {
  return new Date(`${value}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

function dateLabel(from, to) {
  if (from && to) return `${formatDay(from)} – ${formatDay(to)}`;
  return from ? `From ${formatDay(from)}` : `Until ${formatDay(to)}`;
}

// The active filters as removable chips: on a phone they are all one sees of a closed panel.
function renderChips() {
  const items = [];
  const chip = (iconName, text, remove) =>
    el(
      "li",
      { class: "chip search__chip" },
      icon(iconName, "icon icon--small"),
      el("span", { class: "chip__label" }, text),
      el("button", { type: "button", class: "chip__remove", "aria-label": `Remove filter ${text}`, title: "Remove", onclick: remove }, icon("x", "icon icon--small")),
    );
  for (const id of current.tags) {
    items.push(chip("tag", tagNames.get(id) || "Tag", () => update({ tags: current.tags.filter((tag) => tag !== id) })));
  }
  if (current.album) items.push(chip("album", albumNames.get(current.album) || "Album", () => update({ album: "" })));
  for (const type of current.types) items.push(chip("images", labelOf(TYPES, type), () => update({ types: current.types.filter((value) => value !== type) })));
  for (const media of current.media) items.push(chip("play", labelOf(MEDIA, media), () => update({ media: current.media.filter((value) => value !== media) })));
  if (current.from || current.to) items.push(chip("calendar", dateLabel(current.from, current.to), () => update({ from: "", to: "" })));
  if (current.cameraMake || current.cameraModel) items.push(chip("camera", cameraLabel(current.cameraMake, current.cameraModel), () => update({ cameraMake: "", cameraModel: "" })));
  if (current.country || current.city) items.push(chip("pin", placeLabel(current.country, current.city), () => update({ country: "", city: "" })));
  if (current.favourite) items.push(chip("heart", "Favourites", () => update({ favourite: false })));
  if (current.archived) {
    const label = current.archived === true ? "Archived only" : "Archived included";
    items.push(chip("archive", label, () => update({ archived: false })));
  }
  chips.replaceChildren(...items);
  clearButton.hidden = !hasAnyFilter(current);
}

// Keep focus inside the chip list when a chip removes itself (its button is gone).
chips.addEventListener("click", (event) => {
  if (!event.target.closest(".chip__remove")) return;
  window.requestAnimationFrame(() => {
    const next = chips.querySelector(".chip__remove");
    (next || input).focus();
  });
});

// Text ------------------------------------------------------------------------------------

let typingTimer = null;

function cancelTyping() {
  window.clearTimeout(typingTimer);
  typingTimer = null;
}

input.addEventListener("input", () => {
  cancelTyping();
  typingTimer = window.setTimeout(() => {
    typingTimer = null;
    commit({ ...current, q: readFilters(new URLSearchParams({ q: input.value })).q }, { typing: true });
  }, TYPING_MS);
});

// Enter searches at once.
form.addEventListener("submit", (event) => {
  event.preventDefault();
  cancelTyping();
  commit({ ...current, q: readFilters(new URLSearchParams({ q: input.value })).q }, { typing: true });
});

// "/" from anywhere on the page (except while typing somewhere else, or in a dialog) focuses
// the search box, as on most sites with one.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) return;
  if (document.querySelector("dialog[open], [data-viewer]")) return;
  event.preventDefault();
  input.focus();
  input.select();
});

// Selects, dates, switches ----------------------------------------------------------------

controls.album.addEventListener("change", () => update({ album: controls.album.value }));
controls.type.addEventListener("change", () => {
  if (controls.type.value !== "__several") update({ types: controls.type.value ? [controls.type.value] : [] });
});
controls.media.addEventListener("change", () => {
  if (controls.media.value !== "__several") update({ media: controls.media.value ? [controls.media.value] : [] });
});
for (const name of ["from", "to"]) {
  // "change" fires once a whole valid date is entered (or it is cleared), not per keystroke.
  controls[name].addEventListener("change", () => {
    const value = controls[name].value;
    if (value && !controls[name].checkValidity()) return;
    update({ [name]: value });
  });
}
controls.camera.addEventListener("change", () => {
  const [cameraMake, cameraModel] = chosen(controls.camera);
  update({ cameraMake, cameraModel });
});
controls.place.addEventListener("change", () => {
  const [country, city] = chosen(controls.place);
  update({ country, city });
});
controls.favourite.addEventListener("click", () => update({ favourite: !current.favourite }));
controls.archived.addEventListener("change", () => {
  const value = controls.archived.value;
  update({ archived: value === "true" ? true : value === "any" ? "any" : false });
});
clearButton.addEventListener("click", clearAll);

// On phones the filters fold away behind one button; wider screens always show them.
toggle.addEventListener("click", () => {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  panel.toggleAttribute("data-open", open);
});

// Tags: a combobox with suggestions from GET /api/library/tags?prefix= --------------------

const tagInput = root.querySelector("[data-tag-input]");
const tagList = root.querySelector("[data-tag-list]");
let suggestions = [];
let activeSuggestion = -1;
let suggestTimer = null;

async function refreshSuggestions() {
  const typed = tagInput.value.trim();
  const query = new URLSearchParams({ limit: String(TAG_SUGGESTIONS + current.tags.length) });
  if (typed) query.set("prefix", typed);
  try {
    const page = await api.get(`/api/library/tags?${query}`);
    if (tagInput.value.trim() !== typed || document.activeElement !== tagInput) return;
    suggestions = page.items.filter((tag) => !current.tags.includes(tag.id)).slice(0, TAG_SUGGESTIONS);
  } catch (error) {
    suggestions = [];
    toast(errorMessage(error), { kind: "error" });
  }
  activeSuggestion = -1;
  renderSuggestions();
}

function renderSuggestions() {
  const typed = tagInput.value.trim();
  const options = suggestions.map((tag, index) =>
    el(
      "li",
      {
        class: "tag-input__option",
        role: "option",
        id: `search-tag-option-${index}`,
        "aria-selected": String(index === activeSuggestion),
        onmousedown: (event) => event.preventDefault(),
        onclick: () => chooseTag(tag),
      },
      icon("tag", "icon icon--small"),
      el("span", { class: "search__option-name" }, tag.name),
      el("span", { class: "tag-input__count" }, tag.asset_count.toLocaleString()),
    ),
  );
  if (!options.length && typed) {
    options.push(el("li", { class: "tag-input__option search__option--none", role: "option", "aria-disabled": "true" }, `No tag starts with “${typed}”`));
  }
  tagList.replaceChildren(...options);
  const open = options.length > 0 && document.activeElement === tagInput;
  tagList.hidden = !open;
  tagInput.setAttribute("aria-expanded", String(open));
  if (activeSuggestion >= 0) tagInput.setAttribute("aria-activedescendant", `search-tag-option-${activeSuggestion}`);
  else tagInput.removeAttribute("aria-activedescendant");
}

function closeSuggestions() {
  tagList.hidden = true;
  tagInput.setAttribute("aria-expanded", "false");
  tagInput.removeAttribute("aria-activedescendant");
}

function chooseTag(tag) {
  tagNames.set(tag.id, tag.name);
  tagInput.value = "";
  suggestions = [];
  closeSuggestions();
  if (!current.tags.includes(tag.id)) update({ tags: [...current.tags, tag.id] });
}

tagInput.addEventListener("input", () => {
  window.clearTimeout(suggestTimer);
  suggestTimer = window.setTimeout(refreshSuggestions, 150);
});
tagInput.addEventListener("focus", refreshSuggestions);
tagInput.addEventListener("blur", () => window.setTimeout(closeSuggestions, 150));
tagInput.addEventListener("keydown", (event) => {
  const count = suggestions.length;
  if (event.key === "ArrowDown" && count) {
    event.preventDefault();
    activeSuggestion = (activeSuggestion + 1) % count;
    renderSuggestions();
  } else if (event.key === "ArrowUp" && count) {
    event.preventDefault();
    activeSuggestion = (activeSuggestion - 1 + count) % count;
    renderSuggestions();
  } else if (event.key === "Enter") {
    // Never submit the form from here: Enter picks the highlighted tag, else the exact match,
    // else the first suggestion.
    event.preventDefault();
    const typed = tagInput.value.trim().toLowerCase();
    const pick = suggestions[activeSuggestion] || suggestions.find((tag) => tag.name.toLowerCase() === typed) || (typed ? suggestions[0] : null);
    if (pick) chooseTag(pick);
  } else if (event.key === "Escape" && !tagList.hidden) {
    event.preventDefault();
    event.stopPropagation();
    closeSuggestions();
  } else if (event.key === "Backspace" && !tagInput.value && current.tags.length) {
    // Backspace in an empty box takes back the last tag, as in most chip fields.
    update({ tags: current.tags.slice(0, -1) });
  }
});

// Lists for the selects -------------------------------------------------------------------

async function loadAlbums() {
  const albums = [];
  for (let offset = 0; offset < 5000; offset += 500) {
    const page = await api.get(`/api/library/albums?limit=500&offset=${offset}`);
    albums.push(...page.items);
    if (!page.items.length || offset + page.items.length >= page.total) break;
  }
  for (const album of albums) albumNames.set(album.id, album.name);
  albums.sort((a, b) => a.name.localeCompare(b.name));
  controls.album.replaceChildren(
    el("option", { value: "" }, "Any album"),
    ...albums.map((album) => el("option", { value: album.id }, `${album.name} (${album.asset_count.toLocaleString()})`)),
  );
}

async function loadFacets() {
  const facets = await api.get("/api/library/facets");
  const group = (label, nodes) => (nodes.length ? el("optgroup", { label }, nodes) : null);
  controls.camera.replaceChildren(
    el("option", { value: "" }, facets.makes.length ? "Any camera" : "No camera data yet"),
    group("Makers", facets.makes.map((item) => choiceOption(item.make, "", item.make, item.count))),
    group(
      "Models",
      facets.models.map((item) => choiceOption(item.make || "", item.model, cameraLabel(item.make || "", item.model), item.count)),
    ),
  );
  controls.place.replaceChildren(
    el("option", { value: "" }, facets.countries.length || facets.cities.length ? "Anywhere" : "No places yet"),
    group("Countries", facets.countries.map((item) => choiceOption(item.country, "", item.country, item.count))),
    group(
      "Cities",
      facets.cities.map((item) => choiceOption(item.country || "", item.city, placeLabel(item.country || "", item.city), item.count)),
    ),
  );
}

// Start -----------------------------------------------------------------------------------

async function start() {
  // Words typed before this module ran (the box is in the page from the start) are a search.
  const early = readFilters(new URLSearchParams({ q: input.value })).q;
  if (early && early !== current.q) current = { ...current, q: early };
  // Lists first (the album select needs its options to show the chosen album), but a slow or
  // failing list never keeps the results from showing.
  const lists = [loadAlbums(), loadFacets()].map((promise) => promise.catch((error) => toast(errorMessage(error), { kind: "error" })));
  const before = commits;
  await lists[0];
  const fromLink = current;
  const valid = await checked(current);
  if (commits === before) {
    current = valid;
    history.replaceState({ search: true, typing: false }, "", `${PATH}${filtersToSearch(current)}${location.hash}`);
    render({ force: !sameFilters(fromLink, current) || document.activeElement !== input });
    runSearch();
  }
  await lists[1];
  render();
}

// Live: results already shown follow their changes (a new name, favourite), and leave when
// they no longer match (deleted, trashed, archived or unarchived, unfavourited) — whether the
// change came from this page, another tab or another device. New photos are not added: a
// search shows what matched when it ran.
function stillMatches(data) {
  if (data.trashed) return false;
  if (typeof data.is_archived === "boolean" && current.archived !== "any" && data.is_archived !== current.archived) return false;
  if (current.favourite && data.is_favourite === false) return false;
  return true;
}

function onLibraryEvent(frame) {
  const data = frame.data || {};
  if (!grid || !data.id) return;
  if (frame.event === "asset.deleted" || !stillMatches(data)) grid.remove([data.id]);
  else if (frame.event === "asset.changed" || frame.event === "asset.processed") grid.update(data);
}

if (viewer.userId) live.on(`library:${viewer.userId}`, onLibraryEvent);

start().catch((error) => {
  status.textContent = errorMessage(error);
  toast(errorMessage(error), { kind: "error" });
});

