// The "Random" button: a random photo by type and tag, opened in the viewer with an "Another"
// button to roll again (the game master's random portrait for an unplanned NPC).
//
// Every [data-action="random"] on the page works, including ones rendered later: the click is
// handled on the document. The last filters are remembered in localStorage.

import { api } from "../api.js";
import { debounce, el, errorMessage, openDialog, toast } from "../ui.js";
import { openViewerById } from "./viewer.js";
import { ASSET_TYPES } from "./viewer_info.js";

const STORAGE_KEY = "meadhall.random.filters";
const NO_MATCH = "No photo matches these filters. Try another type or tag.";

function loadFilters() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return { type: typeof saved.type === "string" ? saved.type : "", tag: typeof saved.tag === "string" ? saved.tag : "" };
  } catch {
    return { type: "", tag: "" };
  }
}

function saveFilters(filters) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(filters));
}

// The tag's id for a typed name (case-insensitive exact match), or an error saying so.
async function resolveTag(name) {
  const page = await api.get(`/api/library/tags?${new URLSearchParams({ prefix: name, limit: "50" })}`);
  const found = page.items.find((tag) => tag.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`There is no tag named “${name}”.`);
  return found.id;
}

// Up to ``count`` random asset ids for the filters; [] when nothing matches.
async function randomIds({ type, tagId }, count = 1) {
  const query = new URLSearchParams({ count: String(count) });
  if (type) query.set("type", type);
  if (tagId) query.set("tag", tagId);
  try {
    const result = await api.get(`/api/library/assets/random?${query}`);
    return result.items.map((item) => item.id);
  } catch (problem) {
    if (problem.status === 404 && problem.code !== "tag_not_found") return [];
    throw problem;
  }
}

function filterForm(saved) {
  const type = el(
    "select",
    { class: "input", name: "type", id: "random-type" },
    el("option", { value: "" }, "Any type"),
    ASSET_TYPES.map(([value, label]) => el("option", { value, selected: value === saved.type }, label)),
  );
  const suggestions = el("datalist", { id: "random-tag-suggestions" });
  const tag = el("input", {
    class: "input",
    name: "tag",
    id: "random-tag",
    type: "text",
    list: "random-tag-suggestions",
    value: saved.tag,
    placeholder: "Any tag",
    autocomplete: "off",
    spellcheck: "false",
  });
  // Suggestions come from the tag list as the name is typed (the browser shows them).
  const suggest = debounce(async () => {
    const prefix = tag.value.trim();
    try {
      const page = await api.get(`/api/library/tags?${new URLSearchParams({ prefix, limit: "8" })}`);
      suggestions.replaceChildren(...page.items.map((item) => el("option", { value: item.name })));
    } catch {
      suggestions.replaceChildren();
    }
  }, 150);
  tag.addEventListener("input", suggest);
  tag.addEventListener("focus", suggest, { once: true });
  const body = [
    el("p", {}, "A random photo from your library, opened in the viewer."),
    el("div", { class: "field" }, el("label", { class: "field__label", for: "random-type" }, "Type"), type),
    el("div", { class: "field" }, el("label", { class: "field__label", for: "random-tag" }, "Tag"), tag, suggestions),
  ];
  return { body, type, tag };
}

async function pickRandom() {
  const saved = loadFilters();
  const form = filterForm(saved);
  const picked = await openDialog({
    title: "Random photo",
    confirm: "Pick",
    className: "random-dialog",
    body: form.body,
    collect: async () => {
      const filters = { type: form.type.value, tag: form.tag.value.trim() };
      saveFilters(filters);
      const tagId = filters.tag ? await resolveTag(filters.tag) : null;
      const [id] = await randomIds({ type: filters.type, tagId });
      if (!id) throw new Error(NO_MATCH);
      return { id, filters: { type: filters.type, tagId } };
    },
  });
  if (!picked) return;
  let current = picked.id;
  openViewerById(current, {
    // Another pick for the same filters, never the photo on screen when there is a choice.
    reroll: async () => {
      try {
        const ids = await randomIds(picked.filters, 2);
        const next = ids.find((id) => id !== current);
        if (!next) {
          toast(ids.length ? "This is the only photo that matches." : NO_MATCH);
          return null;
        }
        current = next;
        return next;
      } catch (problem) {
        toast(errorMessage(problem), { kind: "error" });
        return null;
      }
    },
  });
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-action="random"]') : null;
  if (!button) return;
  event.preventDefault();
  pickRandom().catch((problem) => toast(errorMessage(problem), { kind: "error" }));
});
