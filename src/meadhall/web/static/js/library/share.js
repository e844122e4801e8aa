// Sharing an album: who is in it, with which role, and finding people to add.
//
//   import { openShareDialog, openSheet } from "../library/share.js";
//   await openShareDialog({ album, onChanged: () => reloadAlbum() });
//
// The owner sees a search box and can add, re-role and remove members; everyone else sees the
// same list read-only. The API enforces the roles anyway; the dialog only hides what would fail.
// `openSheet` is the plain modal the album page also uses for its photo picker.

import { api } from "../api.js";
import { debounce, el, errorMessage, icon, iconButton, toast, viewer } from "../ui.js";

const ROLE_LABELS = { owner: "Owner", contributor: "Contributor", viewer: "Viewer" };
const ROLE_HINTS = {
  viewer: "Can see the photos",
  contributor: "Can see and add photos",
};

let sheetCount = 0;

// A modal <dialog> with a title, a body and a footer, closed by its close button, Escape or
// close(). Unlike ui.js's openDialog it is not a form: it suits lists that act as you click.
// Returns { dialog, body, footer, close, closed } where `closed` resolves when it goes away.
export function openSheet({ title, className = "", footer = [] }) {
  sheetCount += 1;
  const titleId = `sheet-title-${sheetCount}`;
  const previous = document.activeElement;
  const body = el("div", { class: "sheet__body" });
  const footerNode = el("div", { class: "sheet__footer" }, footer);
  let resolveClosed;
  const closed = new Promise((resolve) => (resolveClosed = resolve));
  const closeButton = iconButton("x", "Close", { className: "button button--quiet" });
  const dialog = el(
    "dialog",
    { class: `dialog sheet ${className}`, "aria-labelledby": titleId },
    el("div", { class: "sheet__header" }, el("h2", { class: "dialog__title", id: titleId }, title), closeButton),
    body,
    footerNode,
  );
  let open = true;
  const close = (value = null) => {
    if (!open) return;
    open = false;
    dialog.close();
    dialog.remove();
    if (previous && previous.focus) previous.focus();
    resolveClosed(value);
  };
  closeButton.addEventListener("click", () => close());
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, footer: footerNode, close, closed };
}

function initial(name) {
  return (name || "?").trim().charAt(0).toUpperCase() || "?";
}

function avatar(person) {
  return el("span", { class: "avatar share__avatar", "aria-hidden": "true" }, initial(person.display_name));
}

function roleSelect(value, label, onchange) {
  const select = el(
    "select",
    { class: "input share__role", "aria-label": label, onchange },
    ["viewer", "contributor"].map((role) =>
      el("option", { value: role, selected: role === value, title: ROLE_HINTS[role] }, ROLE_LABELS[role]),
    ),
  );
  return select;
}

// Opens the dialog for `album` (an AlbumRead/AlbumDetail). `onChanged()` runs after every
// successful change so the page can refresh its member count and badges.
export function openShareDialog({ album, onChanged = () => {} }) {
  const isOwner = album.role === "owner";
  const sheet = openSheet({
    title: isOwner ? `Share “${album.name}”` : `People in “${album.name}”`,
    className: "share",
    footer: [],
  });
  const done = el("button", { type: "button", class: "button button--primary", onclick: () => sheet.close() }, "Done");
  sheet.footer.append(done);

  let members = [];
  const list = el("ul", { class: "share__members", "aria-label": "People in this album" });
  const status = el("p", { class: "share__status", role: "status", "aria-live": "polite" });

  const memberIds = () => new Set(members.map((member) => member.user.id));

  async function refresh() {
    try {
      members = await api.get(`/api/library/albums/${album.id}/members`);
      renderMembers();
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  }

  async function setRole(person, role) {
    try {
      await api.put(`/api/library/albums/${album.id}/members/${person.id}`, { role });
      status.textContent = `${person.display_name} is now a ${ROLE_LABELS[role].toLowerCase()}.`;
      await refresh();
      onChanged();
      return true;
    } catch (error) {
      toast(errorMessage(error), { kind: "error" });
      return false;
    }
  }

  async function remove(person) {
    try {
      await api.delete(`/api/library/albums/${album.id}/members/${person.id}`);
      status.textContent = `${person.display_name} was removed.`;
      await refresh();
      onChanged();
    } catch (error) {
      toast(errorMessage(error), { kind: "error" });
    }
  }

  function memberRow(member) {
    const person = member.user;
    const you = person.id === viewer.userId;
    const name = el("span", { class: "share__name" }, person.display_name, you ? el("span", { class: "share__you" }, " (you)") : null);
    let control;
    if (member.role === "owner" || !isOwner) {
      control = el("span", { class: "badge share__role-badge" }, ROLE_LABELS[member.role]);
    } else {
      const select = roleSelect(member.role, `Role of ${person.display_name}`, async () => {
        select.disabled = true;
        const ok = await setRole(person, select.value);
        if (!ok) select.value = member.role;
        select.disabled = false;
      });
      control = el(
        "span",
        { class: "share__controls" },
        select,
        iconButton("x", `Remove ${person.display_name}`, {
          className: "button button--quiet",
          onclick: () => remove(person),
        }),
      );
    }
    return el("li", { class: "share__member", "data-member-id": person.id }, avatar(person), name, control);
  }

  function renderMembers() {
    list.replaceChildren(...members.map(memberRow));
    renderResults();
  }

  // Finding people (owner only) -----------------------------------------------------------

  const search = el("input", {
    class: "input",
    type: "search",
    id: "share-search",
    placeholder: "Name or e-mail address",
    autocomplete: "off",
    "aria-describedby": "share-search-hint",
    "aria-controls": "share-results",
  });
  const newRole = roleSelect("viewer", "Role for people you add", null);
  const results = el("ul", { class: "share__results", id: "share-results", "aria-label": "People found" });
  let found = [];
  let lastQuery = "";

  function renderResults() {
    if (!isOwner) return;
    const inAlbum = memberIds();
    if (!lastQuery) {
      results.replaceChildren();
      return;
    }
    if (!found.length) {
      results.replaceChildren(el("li", { class: "share__none" }, "Nobody found. Try a name or a whole e-mail address."));
      return;
    }
    results.replaceChildren(
      ...found.map((person) => {
        const already = inAlbum.has(person.id);
        return el(
          "li",
          { class: "share__result" },
          avatar(person),
          el("span", { class: "share__name" }, person.display_name),
          already
            ? el("span", { class: "badge" }, "Added")
            : el(
                "button",
                {
                  type: "button",
                  class: "button button--small",
                  "aria-label": `Add ${person.display_name}`,
                  onclick: async (event) => {
                    event.currentTarget.disabled = true;
                    if (await setRole(person, newRole.value)) {
                      toast(`Shared with ${person.display_name}`);
                      search.focus();
                    }
                  },
                },
                icon("plus", "icon icon--small"),
                el("span", {}, "Add"),
              ),
        );
      }),
    );
  }

  const lookUp = debounce(async () => {
    const query = search.value.trim();
    if (query.length < 2) {
      found = [];
      lastQuery = "";
      renderResults();
      return;
    }
    try {
      const page = await api.get(`/api/library/people?q=${encodeURIComponent(query)}`);
      // A slower answer to an older query must not replace a newer one.
      if (search.value.trim() !== query) return;
      found = page.items;
      lastQuery = query;
      renderResults();
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  }, 200);
  search.addEventListener("input", lookUp);

  if (isOwner) {
    sheet.body.append(
      el(
        "div",
        { class: "share__find" },
        el("label", { class: "field__label", for: "share-search" }, "Add people"),
        el("div", { class: "share__find-row" }, search, newRole),
        el("p", { class: "field__hint", id: "share-search-hint" }, "Viewers see the photos; contributors can also add their own."),
        results,
      ),
    );
  }
  sheet.body.append(el("h3", { class: "share__heading" }, "In this album"), list, status);
  refresh();
  (isOwner ? search : done).focus();
  return sheet.closed;
}
