// The bar over the top of the page while photos are selected, and the standard bulk actions.
//
//   new SelectionBar(grid, { actions: libraryActions() });
//   // actions: [{ key, label, icon, danger?, run: async (ids, grid) => void }]
//
// The bar says how many are selected, clears with its close button (or Escape), and runs an
// action on the selected ids; while one runs, the buttons are busy. libraryActions() are
// favourite, unfavourite, archive, add tags, add to album and move to trash, each with a toast,
// and Undo where a photo leaves the view (archive, trash).

import { api } from "../api.js";
import { el, errorMessage, formatCount, icon, toast } from "../ui.js";

// The bulk, tag and album endpoints take at most this many ids per request.
const BATCH = 500;

export class SelectionBar {
  constructor(grid, { actions = libraryActions() } = {}) {
    this.grid = grid;
    this.actions = actions;
    this.count = el("span", { class: "selbar__count", role: "status", "aria-live": "polite" });
    this.buttons = actions.map((action) =>
      el(
        "button",
        {
          type: "button",
          class: `button button--quiet selbar__action${action.danger ? " selbar__action--danger" : ""}`,
          "aria-label": action.label,
          title: action.label,
          "data-action": action.key,
          onclick: () => this.run(action),
        },
        icon(action.icon || "check"),
        el("span", { class: "selbar__action-label" }, action.label),
      ),
    );
    this.node = el(
      "div",
      { class: "selbar", role: "toolbar", "aria-label": "Selected photos", "data-selection-bar": true, hidden: true },
      el("button", { type: "button", class: "button button--quiet button--icon", "aria-label": "Clear selection", title: "Clear selection (Esc)", onclick: () => grid.clearSelection() }, icon("x")),
      this.count,
      el("div", { class: "selbar__actions" }, this.buttons),
    );
    this.actionsNode = this.node.lastElementChild;
    document.body.append(this.node);
    this.onChange = (event) => this.show(event.detail.ids.size);
    this.onResize = () => this.fit();
    grid.addEventListener("selectionchange", this.onChange);
    window.addEventListener("resize", this.onResize);
    this.show(grid.selection.size);
  }

  show(size) {
    const appearing = this.node.hidden && size > 0;
    this.node.hidden = size === 0;
    // On a phone only the number shows; the word stays for screen readers.
    this.count.replaceChildren(size ? size.toLocaleString() : "", size ? el("span", { class: "selbar__count-word" }, " selected") : "");
    if (appearing) this.fit();
  }

  // Labels next to the icons when they all fit on one line; icons alone (named by their
  // tooltips and accessible names) when they do not.
  fit() {
    if (this.node.hidden) return;
    this.node.classList.add("selbar--labelled");
    if (this.actionsNode.scrollWidth > this.actionsNode.clientWidth + 1) this.node.classList.remove("selbar--labelled");
  }

  async run(action) {
    const ids = [...this.grid.selection];
    if (!ids.length) return;
    for (const button of this.buttons) button.disabled = true;
    this.node.setAttribute("aria-busy", "true");
    try {
      await action.run(ids, this.grid);
    } catch (error) {
      toast(errorMessage(error), { kind: "error" });
    } finally {
      for (const button of this.buttons) button.disabled = false;
      this.node.removeAttribute("aria-busy");
    }
  }

  destroy() {
    this.grid.removeEventListener("selectionchange", this.onChange);
    window.removeEventListener("resize", this.onResize);
    this.node.remove();
  }
}

// Helpers -------------------------------------------------------------------------------------

function chunks(ids, size = BATCH) {
  const out = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

// POST /assets/bulk in batches; resolves with the ids it worked for and how many failed.
export async function bulk(action, ids) {
  const done = [];
  let failed = 0;
  for (const batch of chunks(ids)) {
    const result = await api.post("/api/library/assets/bulk", { ids: batch, action });
    for (const item of result.results) {
      if (item.ok) done.push(item.id);
      else failed += 1;
    }
  }
  return { done, failed };
}

function photos(count) {
  return formatCount(count, "photo");
}

function reportFailures(failed, what) {
  if (failed) toast(`${photos(failed)} could not be ${what} (not yours, or gone).`, { kind: "error" });
}

// A bulk action that takes photos out of this view, with Undo putting them back in place.
async function leaveWithUndo(grid, ids, { action, undo, message, undoneMessage, what }) {
  const before = new Map(ids.map((id) => [id, grid.item(id)]));
  const { done, failed } = await bulk(action, ids);
  grid.remove(done);
  grid.clearSelection();
  reportFailures(failed, what);
  if (!done.length) return;
  toast(message(done.length), {
    action: {
      label: "Undo",
      run: async () => {
        try {
          const back = await bulk(undo, done);
          for (const id of back.done) if (before.get(id)) grid.insert(before.get(id));
          toast(undoneMessage(back.done.length));
        } catch (error) {
          toast(errorMessage(error), { kind: "error" });
        }
      },
    },
  });
}

// The standard actions ---------------------------------------------------------------------------

export function libraryActions() {
  return [
    {
      key: "favourite",
      label: "Add to favourites",
      icon: "heart",
      run: async (ids, grid) => {
        const { done, failed } = await bulk("favourite", ids);
        for (const id of done) grid.update({ id, is_favourite: true });
        grid.clearSelection();
        reportFailures(failed, "favourited");
        if (done.length) toast(`${photos(done.length)} added to favourites`);
      },
    },
    {
      key: "unfavourite",
      label: "Remove from favourites",
      icon: "heart-off",
      run: async (ids, grid) => {
        const { done, failed } = await bulk("unfavourite", ids);
        for (const id of done) grid.update({ id, is_favourite: false });
        grid.clearSelection();
        reportFailures(failed, "changed");
        if (done.length) toast(`${photos(done.length)} removed from favourites`);
      },
    },
    {
      key: "tag",
      label: "Add tags",
      icon: "tag",
      run: async (ids, grid) => {
        const { pickTags } = await import("./pickers.js");
        const names = await pickTags({ title: `Tag ${photos(ids.length)}` });
        if (!names || !names.length) return;
        let tagged = 0;
        for (const batch of chunks(ids)) {
          tagged += (await api.post("/api/library/tags/attach", { asset_ids: batch, names })).done;
        }
        grid.clearSelection();
        reportFailures(ids.length - tagged, "tagged");
        if (tagged) toast(`Tagged ${photos(tagged)} with ${names.join(", ")}`);
      },
    },
    {
      key: "album",
      label: "Add to album",
      icon: "album",
      run: async (ids, grid) => {
        const { pickAlbum } = await import("./pickers.js");
        const album = await pickAlbum({ title: `Add ${photos(ids.length)} to an album` });
        if (!album) return;
        let added = 0;
        for (const batch of chunks(ids)) {
          const result = await api.post(`/api/library/albums/${encodeURIComponent(album.id)}/assets`, { asset_ids: batch });
          added += result.results.filter((item) => item.result === "added" || item.result === "already").length;
        }
        grid.clearSelection();
        toast(`${photos(added)} added to “${album.name}”`, {
          action: { label: "Open album", run: () => location.assign(`/albums/${encodeURIComponent(album.id)}`) },
        });
      },
    },
    {
      key: "archive",
      label: "Archive",
      icon: "archive",
      run: (ids, grid) =>
        leaveWithUndo(grid, ids, {
          action: "archive",
          undo: "unarchive",
          what: "archived",
          message: (n) => `${photos(n)} archived`,
          undoneMessage: (n) => `${photos(n)} back from the archive`,
        }),
    },
    {
      key: "trash",
      label: "Move to trash",
      icon: "trash",
      danger: true,
      run: (ids, grid) =>
        leaveWithUndo(grid, ids, {
          action: "trash",
          undo: "restore",
          what: "moved to the trash",
          message: (n) => `${photos(n)} moved to the trash`,
          undoneMessage: (n) => `${photos(n)} restored`,
        }),
    },
  ];
}
