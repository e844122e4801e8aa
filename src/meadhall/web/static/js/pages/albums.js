// The albums page: a grid of album cards (cover, name, count, sharing), filtered to all, mine
// or shared with me, and "New album".
//
// Cards have a fixed square cover box, so a cover arriving late never moves anything; until it
// loads the box shows the cover's ThumbHash blur. My albums shared with others say so, with
// how many people, straight from the list answer.

import { api } from "../api.js";
import { placeholderUrl } from "../library/thumbhash.js";
import { el, errorMessage, formatCount, icon, promptDialog, toast } from "../ui.js";

const mount = document.querySelector('[data-page="albums"]');
const PAGE = 200;
const FILTERS = [
  { key: "all", label: "All", role: null },
  { key: "mine", label: "Mine", role: "owner" },
  { key: "shared", label: "Shared with me", role: "shared" },
];
const ROLE_LABELS = { contributor: "Contributor", viewer: "Viewer" };

const params = new URLSearchParams(location.search);
let current = FILTERS.find((filter) => filter.key === params.get("show")) || FILTERS[0];
let loadToken = 0;

async function loadAlbums(role) {
  const albums = [];
  for (let offset = 0; ; offset += PAGE) {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (role) query.set("role", role);
    const page = await api.get(`/api/library/albums?${query}`);
    albums.push(...page.items);
    if (albums.length >= page.total || !page.items.length) break;
  }
  return albums;
}

// Rendering ---------------------------------------------------------------------------------

function cover(album) {
  const box = el("span", { class: "album-card__cover" });
  const blur = placeholderUrl(album.cover_placeholder);
  if (blur && album.cover_asset_id) box.style.backgroundImage = `url("${blur}")`;
  if (!album.cover_asset_id) {
    box.classList.add("album-card__cover--empty");
    box.append(icon("album", "icon icon--large"));
    return box;
  }
  const img = el("img", {
    src: `/api/library/assets/${album.cover_asset_id}/thumbnail`,
    alt: "",
    loading: "lazy",
    decoding: "async",
    width: 256,
    height: 256,
  });
  // Fade in once decoded; a broken cover (asset gone meanwhile) falls back to the icon.
  img.addEventListener("load", () => img.classList.add("is-loaded"));
  img.addEventListener("error", () => {
    box.style.backgroundImage = "";
    box.classList.add("album-card__cover--empty");
    box.replaceChildren(icon("album", "icon icon--large"));
  });
  box.append(img);
  return box;
}

function card(album) {
  const mine = album.role === "owner";
  const meta = [formatCount(album.asset_count, "photo")];
  if (!mine) meta.push(`by ${album.owner.display_name}`);
  const shared = album.member_count || 0;
  const badge = mine
    ? el(
        "span",
        {
          class: "badge album-card__badge",
          "data-share-badge": true,
          hidden: !shared,
          title: shared ? `Shared with ${formatCount(shared, "person", "people")}` : null,
        },
        shared ? [icon("users", "icon icon--small"), el("span", {}, `Shared · ${shared}`)] : [],
      )
    : el("span", { class: "badge badge--accent album-card__badge", "data-role-badge": album.role }, ROLE_LABELS[album.role] || album.role);
  const node = el(
    "li",
    { class: "album-card", dataset: { albumId: album.id } },
    el(
      "a",
      { class: "album-card__link", href: `/albums/${album.id}` },
      cover(album),
      el("span", { class: "album-card__name" }, album.name),
      el("span", { class: "album-card__meta" }, meta.join(" · ")),
    ),
    badge,
  );
  return node;
}

function emptyState() {
  const shared = current.key === "shared";
  return el(
    "div",
    { class: "empty" },
    el("span", { class: "empty__icon", "aria-hidden": "true" }, icon(shared ? "users" : "album", "icon icon--large")),
    el("h2", { class: "empty__title" }, shared ? "Nothing shared with you yet" : "No albums yet"),
    el(
      "p",
      { class: "empty__text" },
      shared
        ? "When someone shares an album with you, it appears here."
        : "Gather photos for a campaign, a session or a character. Select photos anywhere and choose “Add to album”, or start an empty one.",
    ),
    shared ? null : el("button", { type: "button", class: "button button--primary", onclick: createAlbum }, icon("plus"), el("span", {}, "New album")),
  );
}

const grid = el("ul", { class: "album-grid", "aria-label": "Albums", "aria-busy": "true" });
const summary = el("p", { class: "albums__summary", role: "status", "aria-live": "polite" });
const emptyHolder = el("div");

async function render() {
  const token = ++loadToken;
  grid.setAttribute("aria-busy", "true");
  try {
    const albums = await loadAlbums(current.role);
    if (token !== loadToken) return; // a newer filter won
    grid.replaceChildren(...albums.map(card));
    emptyHolder.replaceChildren(albums.length ? "" : emptyState());
    summary.textContent = albums.length ? formatCount(albums.length, "album") : "";
  } catch (error) {
    grid.replaceChildren();
    emptyHolder.replaceChildren(el("p", { class: "alert alert--error" }, errorMessage(error)));
  } finally {
    grid.setAttribute("aria-busy", "false");
  }
}

// Filter and creation -----------------------------------------------------------------------

const filterBar = el(
  "div",
  { class: "segmented", role: "group", "aria-label": "Show albums" },
  FILTERS.map((filter) =>
    el(
      "button",
      {
        type: "button",
        class: "segmented__button",
        "aria-pressed": String(filter === current),
        dataset: { filter: filter.key },
        onclick: () => choose(filter),
      },
      filter.label,
    ),
  ),
);

function choose(filter) {
  current = filter;
  for (const button of filterBar.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.filter === filter.key));
  }
  const url = new URL(location.href);
  if (filter.key === "all") url.searchParams.delete("show");
  else url.searchParams.set("show", filter.key);
  history.replaceState(null, "", url);
  render();
}

async function createAlbum() {
  const name = await promptDialog({ title: "New album", label: "Name", confirm: "Create", maxLength: 200 });
  if (!name) return;
  try {
    const album = await api.post("/api/library/albums", { name });
    location.assign(`/albums/${album.id}`);
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

const newButton = el(
  "button",
  { type: "button", class: "button button--primary", "data-action": "new-album" },
  icon("plus"),
  el("span", {}, "New album"),
);
newButton.addEventListener("click", createAlbum);

mount.append(el("div", { class: "albums__toolbar" }, filterBar, summary, newButton), grid, emptyHolder);
render();
