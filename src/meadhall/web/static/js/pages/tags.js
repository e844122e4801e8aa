// The tags page: every tag of the signed-in user with how many photos carry it; filter, sort,
// rename, merge into another tag, delete, and clear out tags no photo uses any more.
//
// The API lists tags by name in pages; people have hundreds of tags, not millions, so the page
// loads them all once and filters and sorts in the browser (instant, and sorting by count needs
// every count anyway). A few thumbnails per tag load only when its row scrolls into view.

import { api } from "../api.js";
import { placeholderUrl } from "../library/thumbhash.js";
import { confirmDialog, debounce, el, errorMessage, formatCount, icon, iconButton, openDialog, toast } from "../ui.js";

const mount = document.querySelector('[data-page="tags"]');
const PAGE = 500;
const THUMBS = 3;
const RENDER_STEP = 200;

const state = { tags: [], filter: "", sort: "name", shown: RENDER_STEP, orphans: 0 };

// Loading ---------------------------------------------------------------------------------

async function loadTags() {
  const tags = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.get(`/api/library/tags?limit=${PAGE}&offset=${offset}`);
    tags.push(...page.items);
    if (tags.length >= page.total || !page.items.length) break;
  }
  return tags;
}

async function loadOrphanCount() {
  try {
    const page = await api.get("/api/library/tags/orphans?limit=1");
    state.orphans = page.total;
  } catch {
    state.orphans = 0;
  }
  renderToolbar();
}

async function reload() {
  try {
    state.tags = await loadTags();
    render();
  } catch (error) {
    list.replaceChildren(el("p", { class: "alert alert--error" }, errorMessage(error)));
  }
  loadOrphanCount();
}

// Thumbnails ------------------------------------------------------------------------------

const thumbCache = new Map();

const thumbObserver = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      thumbObserver.unobserve(entry.target);
      fillThumbs(entry.target);
    }
  },
  { rootMargin: "200px" },
);

async function fillThumbs(strip) {
  const id = strip.dataset.tagId;
  if (!thumbCache.has(id)) {
    thumbCache.set(
      id,
      api.get(`/api/library/assets?tag=${id}&limit=${THUMBS}`).then(
        (page) => page.items,
        () => [],
      ),
    );
  }
  const assets = await thumbCache.get(id);
  const slots = strip.querySelectorAll(".tagrow__thumb");
  assets.forEach((asset, index) => {
    const slot = slots[index];
    if (!slot) return;
    const blur = placeholderUrl(asset.placeholder);
    if (blur) slot.style.backgroundImage = `url("${blur}")`;
    const img = el("img", {
      src: `/api/library/assets/${asset.id}/thumbnail`,
      alt: "",
      loading: "lazy",
      decoding: "async",
      onload: (event) => event.target.classList.add("is-loaded"),
    });
    slot.replaceChildren(img);
  });
}

// Rendering -------------------------------------------------------------------------------

const filterInput = el("input", {
  class: "input",
  type: "search",
  id: "tag-filter",
  placeholder: "Filter tags",
  autocomplete: "off",
  "aria-label": "Filter tags",
});
const sortSelect = el(
  "select",
  { class: "input tags__sort", id: "tag-sort", "aria-label": "Sort tags" },
  el("option", { value: "name" }, "By name"),
  el("option", { value: "count" }, "Most used"),
);
const orphanButton = el(
  "button",
  { type: "button", class: "button button--small", "data-action": "remove-unused" },
  icon("trash", "icon icon--small"),
  el("span", {}, "Remove unused"),
);
const summary = el("p", { class: "tags__summary", role: "status", "aria-live": "polite" });
const list = el("ul", { class: "taglist", "aria-label": "Tags" });
const more = el("button", { type: "button", class: "button tags__more", hidden: true }, "Show more");

function visibleTags() {
  const needle = state.filter.toLowerCase();
  const matching = needle ? state.tags.filter((tag) => tag.name.toLowerCase().includes(needle)) : [...state.tags];
  const byName = (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" });
  matching.sort(state.sort === "count" ? (a, b) => b.asset_count - a.asset_count || byName(a, b) : byName);
  return matching;
}

function renderToolbar() {
  orphanButton.disabled = state.orphans === 0;
  orphanButton.title = state.orphans
    ? `Delete ${formatCount(state.orphans, "tag")} no photo carries`
    : "Every tag is in use";
  orphanButton.querySelector("span").textContent = state.orphans ? `Remove unused (${state.orphans})` : "Remove unused";
}

function tagRow(tag) {
  const strip = el(
    "span",
    { class: "tagrow__thumbs", "aria-hidden": "true", dataset: { tagId: tag.id } },
    Array.from({ length: Math.min(THUMBS, tag.asset_count) }, () => el("span", { class: "tagrow__thumb" })),
  );
  if (tag.asset_count) thumbObserver.observe(strip);
  return el(
    "li",
    { class: "tagrow", "data-tag-id": tag.id },
    el(
      "a",
      { class: "tagrow__link", href: `/search?tag=${encodeURIComponent(tag.id)}` },
      el("span", { class: "tagrow__icon", "aria-hidden": "true" }, icon("tag")),
      el(
        "span",
        { class: "tagrow__text" },
        el("span", { class: "tagrow__name" }, tag.name),
        el("span", { class: "tagrow__count" }, formatCount(tag.asset_count, "photo")),
      ),
      strip,
    ),
    el(
      "span",
      { class: "tagrow__actions" },
      iconButton("edit", `Rename ${tag.name}`, { className: "button button--quiet", onclick: () => rename(tag) }),
      iconButton("merge", `Merge ${tag.name} into another tag`, { className: "button button--quiet", onclick: () => merge(tag) }),
      iconButton("trash", `Delete ${tag.name}`, { className: "button button--quiet", onclick: () => remove(tag) }),
    ),
  );
}

function emptyState() {
  return el(
    "div",
    { class: "empty" },
    el("span", { class: "empty__icon", "aria-hidden": "true" }, icon("tag", "icon icon--large")),
    el("h2", { class: "empty__title" }, "No tags yet"),
    el("p", { class: "empty__text" }, "Tags you give your photos show up here, with how many photos carry each."),
    el("a", { class: "button", href: "/" }, "Go to photos"),
  );
}

function render() {
  thumbObserver.disconnect();
  if (!state.tags.length) {
    toolbar.hidden = true;
    summary.textContent = "";
    list.replaceChildren();
    more.hidden = true;
    emptyHolder.replaceChildren(emptyState());
    return;
  }
  toolbar.hidden = false;
  emptyHolder.replaceChildren();
  const tags = visibleTags();
  summary.textContent = state.filter
    ? `${formatCount(tags.length, "tag")} of ${state.tags.length.toLocaleString()}`
    : formatCount(state.tags.length, "tag");
  if (!tags.length) {
    list.replaceChildren(el("li", { class: "taglist__none" }, `No tag matches “${state.filter}”.`));
  } else {
    list.replaceChildren(...tags.slice(0, state.shown).map(tagRow));
  }
  more.hidden = tags.length <= state.shown;
  renderToolbar();
}

// Actions ---------------------------------------------------------------------------------

function afterChange(message) {
  toast(message);
  reload();
}

async function rename(tag) {
  const input = el("input", { class: "input", name: "name", value: tag.name, maxlength: 100, autocomplete: "off" });
  const renamed = await openDialog({
    title: "Rename tag",
    confirm: "Rename",
    body: [el("label", { class: "field" }, el("span", { class: "field__label" }, "Name"), input)],
    collect: async () => {
      const name = input.value.trim();
      if (!name) throw new Error("Enter a name.");
      if (name === tag.name) return tag;
      try {
        return await api.patch(`/api/library/tags/${tag.id}`, { name });
      } catch (error) {
        if (error.status === 409) {
          const other = error.details && error.details.name ? error.details.name : name;
          throw new Error(`You already have a tag named “${other}”. Use Merge to move these photos into it.`);
        }
        throw error;
      }
    },
  });
  if (renamed && renamed.name !== tag.name) afterChange(`Renamed to “${renamed.name}”`);
}

// A small combobox over the loaded tags: type to narrow, arrows to move, Enter or click to pick.
function tagChooser(exclude) {
  const candidates = state.tags.filter((tag) => tag.id !== exclude.id);
  let matches = [];
  let active = 0;
  let chosen = null;
  const input = el("input", {
    class: "input",
    id: "merge-target",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "true",
    "aria-controls": "merge-options",
    autocomplete: "off",
    placeholder: "Start typing a tag",
  });
  const options = el("ul", { class: "chooser__options", id: "merge-options", role: "listbox", "aria-label": "Tags" });
  const chosenText = el("p", { class: "chooser__chosen", "aria-live": "polite" });

  const choose = (tag) => {
    chosen = tag;
    input.value = tag.name;
    chosenText.textContent = `“${exclude.name}” (${formatCount(exclude.asset_count, "photo")}) will be merged into “${tag.name}” and then deleted.`;
    paint();
  };
  const paint = () => {
    const needle = input.value.trim().toLowerCase();
    matches = candidates
      .filter((tag) => !needle || tag.name.toLowerCase().includes(needle))
      .sort((a, b) => Number(!a.name.toLowerCase().startsWith(needle)) - Number(!b.name.toLowerCase().startsWith(needle)) || a.name.localeCompare(b.name))
      .slice(0, 8);
    active = Math.min(active, Math.max(0, matches.length - 1));
    options.replaceChildren(
      ...matches.map((tag, index) =>
        el(
          "li",
          {
            id: `merge-option-${index}`,
            role: "option",
            class: "chooser__option",
            "aria-selected": String(chosen ? chosen.id === tag.id : index === active),
            onmousedown: (event) => event.preventDefault(),
            onclick: () => choose(tag),
          },
          el("span", {}, tag.name),
          el("span", { class: "chooser__count" }, tag.asset_count.toLocaleString()),
        ),
      ),
      matches.length ? null : el("li", { class: "chooser__none" }, "No other tag matches."),
    );
    input.setAttribute("aria-activedescendant", matches.length ? `merge-option-${active}` : "");
  };
  input.addEventListener("input", () => {
    chosen = null;
    chosenText.textContent = "";
    active = 0;
    paint();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + matches.length) % Math.max(1, matches.length);
      paint();
    } else if (event.key === "Enter" && !chosen && matches[active]) {
      // The first Enter picks the highlighted tag; the next one submits the dialog.
      event.preventDefault();
      choose(matches[active]);
    }
  });
  paint();
  const field = el(
    "div",
    { class: "field chooser" },
    el("label", { class: "field__label", for: "merge-target" }, "Merge into"),
    input,
    options,
    chosenText,
  );
  return { field, picked: () => chosen || candidates.find((tag) => tag.name.toLowerCase() === input.value.trim().toLowerCase()) || null };
}

async function merge(tag) {
  if (state.tags.length < 2) {
    toast("There is no other tag to merge into.");
    return;
  }
  const chooser = tagChooser(tag);
  const target = await openDialog({
    title: `Merge “${tag.name}”`,
    confirm: "Merge",
    className: "dialog--chooser",
    body: [el("p", {}, "Its photos get the tag you choose, and this tag goes away."), chooser.field],
    collect: async () => {
      const into = chooser.picked();
      if (!into) throw new Error("Choose the tag to merge into.");
      return api.post(`/api/library/tags/${tag.id}/merge`, { into: into.id });
    },
  });
  if (target) afterChange(`Merged into “${target.name}” (${formatCount(target.asset_count, "photo")})`);
}

async function remove(tag) {
  const ok = await confirmDialog({
    title: `Delete “${tag.name}”?`,
    body: tag.asset_count
      ? `It comes off ${formatCount(tag.asset_count, "photo")}. The photos themselves stay.`
      : "No photo carries it.",
    confirm: "Delete tag",
    danger: true,
  });
  if (!ok) return;
  try {
    await api.delete(`/api/library/tags/${tag.id}`);
    afterChange(`Deleted “${tag.name}”`);
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

async function removeUnused() {
  const ok = await confirmDialog({
    title: `Remove ${formatCount(state.orphans, "unused tag")}?`,
    body: "Tags that no photo carries any more are deleted. Tags on photos in the trash are kept.",
    confirm: "Remove",
    danger: true,
  });
  if (!ok) return;
  try {
    const result = await api.delete("/api/library/tags/orphans");
    afterChange(`Removed ${formatCount(result.deleted, "unused tag")}`);
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

// Wiring ----------------------------------------------------------------------------------

const toolbar = el(
  "div",
  { class: "tags__toolbar", hidden: true },
  el("div", { class: "tags__filter" }, icon("search", "icon icon--small tags__filter-icon"), filterInput),
  sortSelect,
  orphanButton,
);
const emptyHolder = el("div");

filterInput.addEventListener(
  "input",
  debounce(() => {
    state.filter = filterInput.value.trim();
    state.shown = RENDER_STEP;
    render();
  }, 120),
);
sortSelect.addEventListener("change", () => {
  state.sort = sortSelect.value;
  render();
});
orphanButton.addEventListener("click", removeUnused);
more.addEventListener("click", () => {
  state.shown += RENDER_STEP;
  render();
});

mount.append(toolbar, summary, list, more, emptyHolder);
reload();
