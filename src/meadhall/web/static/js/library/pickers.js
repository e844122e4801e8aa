// Choosing albums and tags: the dialogs behind "Add to album" and "Add tags", and the tag
// field with suggestions that the viewer's info panel uses.
//
//   const album = await pickAlbum({ title: "Add 3 photos to…" });   // {id, name} | null
//   const names = await pickTags({ title: "Tag 3 photos" });         // ["npc", "tavern"] | null
//   new TagInput(container, { value: tags, onAdd: async (name) => …, onRemove: async (tag) => … });

import { api } from "../api.js";
import { debounce, el, errorMessage, icon, openDialog } from "../ui.js";

const SUGGESTIONS = 8;
const MAX_TAG_LENGTH = 100;
const MAX_ALBUM_NAME = 200;
let nextId = 0;

function uniqueId(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// Tags whose names start with `prefix`, most used first.
async function suggestTags(prefix) {
  const query = new URLSearchParams({ prefix, limit: String(SUGGESTIONS) });
  const page = await api.get(`/api/library/tags?${query}`);
  return page.items;
}

// TagInput ------------------------------------------------------------------------------------

// Chips for the current tags and a combobox that suggests existing tags as you type. Enter adds
// the highlighted suggestion or the typed text; a chip's button removes it. The owner decides
// what adding and removing mean (onAdd/onRemove may call the API and throw to refuse).
export class TagInput {
  constructor(container, { value = [], onAdd = async () => {}, onRemove = async () => {}, label = "Add a tag", placeholder = "Add a tag…" } = {}) {
    this.onAdd = onAdd;
    this.onRemove = onRemove;
    this.tags = [...value];
    this.suggestions = [];
    this.active = -1;

    const listId = uniqueId("tag-suggestions");
    this.chips = el("ul", { class: "tag-input__chips", "aria-label": "Tags" });
    this.input = el("input", {
      class: "input tag-input__field",
      type: "text",
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": listId,
      "aria-label": label,
      placeholder,
      maxlength: MAX_TAG_LENGTH,
      autocomplete: "off",
      spellcheck: "false",
    });
    this.list = el("ul", { class: "tag-input__suggestions", id: listId, role: "listbox", hidden: true });
    this.error = el("p", { class: "field__error", hidden: true });
    this.root = el("div", { class: "tag-input" }, this.chips, el("div", { class: "tag-input__entry" }, this.input, this.list), this.error);
    container.append(this.root);

    const refresh = debounce(() => this.refreshSuggestions(), 150);
    this.input.addEventListener("input", () => {
      this.clearError();
      refresh();
    });
    this.input.addEventListener("focus", () => refresh());
    this.input.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("blur", () => window.setTimeout(() => this.closeList(), 150));
    this.renderChips();
  }

  setTags(tags) {
    this.tags = [...tags];
    this.renderChips();
  }

  renderChips() {
    this.chips.replaceChildren(
      ...this.tags.map((tag) =>
        el(
          "li",
          { class: "chip", dataset: { tagId: tag.id || "" } },
          el("span", { class: "chip__label" }, tag.name),
          el(
            "button",
            { type: "button", class: "chip__remove", "aria-label": `Remove tag ${tag.name}`, title: `Remove ${tag.name}`, onclick: () => this.remove(tag) },
            icon("x", "icon icon--small"),
          ),
        ),
      ),
    );
  }

  async refreshSuggestions() {
    const text = this.input.value.trim();
    if (document.activeElement !== this.input) return;
    try {
      const taken = new Set(this.tags.map((tag) => tag.name.toLowerCase()));
      const found = await suggestTags(text);
      if (this.input.value.trim() !== text) return; // typing moved on
      this.suggestions = found.filter((tag) => !taken.has(tag.name.toLowerCase()));
    } catch {
      this.suggestions = [];
    }
    this.active = -1;
    this.renderList();
  }

  renderList() {
    const text = this.input.value.trim();
    const exact = this.suggestions.some((tag) => tag.name.toLowerCase() === text.toLowerCase());
    const options = this.suggestions.map((tag, index) =>
      el(
        "li",
        { class: "tag-input__option", role: "option", id: `${this.list.id}-${index}`, "aria-selected": index === this.active ? "true" : "false", onmousedown: (event) => event.preventDefault(), onclick: () => this.add(tag.name) },
        el("span", {}, tag.name),
        tag.asset_count !== undefined ? el("span", { class: "tag-input__count" }, String(tag.asset_count)) : null,
      ),
    );
    if (text && !exact) {
      const index = options.length;
      options.push(
        el(
          "li",
          { class: "tag-input__option tag-input__option--new", role: "option", id: `${this.list.id}-${index}`, "aria-selected": index === this.active ? "true" : "false", onmousedown: (event) => event.preventDefault(), onclick: () => this.add(text) },
          icon("plus", "icon icon--small"),
          el("span", {}, `Create “${text}”`),
        ),
      );
    }
    this.list.replaceChildren(...options);
    const open = options.length > 0 && document.activeElement === this.input;
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `${this.list.id}-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  closeList() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  keydown(event) {
    const count = this.list.children.length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      this.active = (this.active + 1) % count;
      this.renderList();
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      this.active = (this.active - 1 + count) % count;
      this.renderList();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const option = this.active >= 0 ? this.list.children[this.active] : null;
      if (option) option.click();
      else if (this.input.value.trim()) this.add(this.input.value.trim());
    } else if (event.key === "Escape" && !this.list.hidden) {
      // Close the suggestions only; a second Escape reaches the dialog or viewer around us.
      event.preventDefault();
      event.stopPropagation();
      this.closeList();
    }
  }

  async add(name) {
    const clean = name.trim().replace(/\s+/g, " ");
    if (!clean) return;
    if (this.tags.some((tag) => tag.name.toLowerCase() === clean.toLowerCase())) {
      this.input.value = "";
      this.closeList();
      return;
    }
    this.input.disabled = true;
    try {
      const added = (await this.onAdd(clean)) || { id: null, name: clean };
      this.tags.push(added);
      this.renderChips();
      this.input.value = "";
      this.closeList();
    } catch (error) {
      this.showError(errorMessage(error));
    } finally {
      this.input.disabled = false;
      this.input.focus();
    }
  }

  async remove(tag) {
    try {
      await this.onRemove(tag);
      this.tags = this.tags.filter((item) => item !== tag);
      this.renderChips();
      this.input.focus();
    } catch (error) {
      this.showError(errorMessage(error));
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  clearError() {
    this.error.hidden = true;
  }
}

// pickTags ------------------------------------------------------------------------------------

// Collect tag names (existing or new) in a dialog; resolves with the names or null.
export function pickTags({ title = "Add tags", confirm = "Add tags" } = {}) {
  let input = null;
  const holder = el("div", { class: "picker__tags" });
  const dialog = openDialog({
    title,
    confirm,
    className: "picker",
    body: [el("p", {}, "Pick existing tags or type new ones."), holder],
    collect: () => {
      const typed = input.input.value.trim();
      const names = input.tags.map((tag) => tag.name);
      if (typed && !names.some((name) => name.toLowerCase() === typed.toLowerCase())) names.push(typed);
      if (!names.length) throw new Error("Add at least one tag.");
      return names;
    },
  });
  input = new TagInput(holder, { label: "Tags to add" });
  input.input.focus();
  return dialog;
}

// pickAlbum -----------------------------------------------------------------------------------

// Albums the viewer may add photos to: their own and those where they contribute.
async function writableAlbums() {
  const albums = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api.get(`/api/library/albums?limit=500&offset=${offset}`);
    albums.push(...page.items.filter((album) => album.role === "owner" || album.role === "contributor"));
    if (offset + page.items.length >= page.total || !page.items.length) break;
  }
  return albums;
}

// Choose an album, or name a new one (created here); resolves with {id, name} or null.
export function pickAlbum({ title = "Add to album", confirm = "Add", allowCreate = true } = {}) {
  const filter = el("input", { class: "input", type: "search", placeholder: "Find an album", "aria-label": "Find an album", autocomplete: "off" });
  const list = el("div", { class: "picker__list", role: "radiogroup", "aria-label": "Albums" }, el("p", { class: "picker__status" }, "Loading albums…"));
  const newName = el("input", { class: "input", name: "new_album", maxlength: MAX_ALBUM_NAME, placeholder: "New album name", "aria-label": "New album name", autocomplete: "off" });
  let albums = [];

  const render = () => {
    const text = filter.value.trim().toLowerCase();
    const shown = albums.filter((album) => album.name.toLowerCase().includes(text));
    if (!shown.length) {
      list.replaceChildren(el("p", { class: "picker__status" }, albums.length ? "No album matches." : "No albums yet."));
      return;
    }
    list.replaceChildren(
      ...shown.map((album) =>
        el(
          "label",
          { class: "picker__option" },
          el("input", { type: "radio", name: "album", value: album.id, onchange: () => (newName.value = "") }),
          album.cover_asset_id
            ? el("img", { class: "picker__cover", src: `/api/library/assets/${album.cover_asset_id}/thumbnail`, alt: "", loading: "lazy", width: 40, height: 40 })
            : el("span", { class: "picker__cover picker__cover--empty" }, icon("album", "icon icon--small")),
          el("span", { class: "picker__name" }, album.name),
          el("span", { class: "picker__count" }, String(album.asset_count)),
        ),
      ),
    );
  };

  filter.addEventListener("input", render);
  newName.addEventListener("input", () => {
    if (newName.value) list.querySelectorAll('input[type="radio"]').forEach((radio) => (radio.checked = false));
  });
  writableAlbums()
    .then((found) => {
      albums = found;
      render();
    })
    .catch((error) => list.replaceChildren(el("p", { class: "field__error" }, errorMessage(error))));

  return openDialog({
    title,
    confirm,
    className: "picker",
    body: [filter, list, allowCreate ? el("label", { class: "field" }, el("span", { class: "field__label" }, "Or create a new album"), newName) : null],
    collect: async (form) => {
      const name = newName.value.trim();
      if (allowCreate && name) {
        const album = await api.post("/api/library/albums", { name });
        return { id: album.id, name: album.name, created: true };
      }
      const chosen = form.querySelector('input[name="album"]:checked');
      if (!chosen) throw new Error(allowCreate ? "Choose an album or name a new one." : "Choose an album.");
      const album = albums.find((item) => item.id === chosen.value);
      return { id: album.id, name: album.name, created: false };
    },
  });
}
