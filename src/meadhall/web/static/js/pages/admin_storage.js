// Admin › Storage: how full the disk under the library is, and each person's share — the
// originals Meadhall stores (uploads) apart from those it only reads (indexed folders).

import { api } from "../api.js";
import { el, errorMessage, formatBytes, formatCount, iconButton } from "../ui.js";
import { emptyState, sectionHeader } from "../admin/common.js";

const mount = document.querySelector('[data-page="storage"]');

function percent(part, whole) {
  return whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)) : 0;
}

// A bar segment sized with CSSOM (the page's CSP allows no inline style attributes).
function segment(className, width, label) {
  const part = el("span", { class: className, title: label });
  part.style.width = `${width}%`;
  return part;
}

function stat(label, value, note, data = {}) {
  return el("div", { class: "stat", ...data }, el("span", { class: "stat__label" }, label), el("span", { class: "stat__value" }, value), note ? el("span", { class: "stat__note" }, note) : null);
}

function diskSection(usage) {
  const { disk, totals } = usage;
  // Meadhall's own share of the used space: the originals it stores (derivatives and the
  // database are not counted, so "other" includes them).
  const ours = Math.min(totals.uploaded_bytes, disk.used_bytes);
  const meter = el(
    "div",
    { class: "meter", role: "img", "aria-label": `${formatBytes(disk.used_bytes)} of ${formatBytes(disk.total_bytes)} used, ${formatBytes(ours)} by Meadhall's originals` },
    segment("meter__part meter__part--meadhall", percent(ours, disk.total_bytes), `Meadhall originals: ${formatBytes(ours)}`),
    segment("meter__part meter__part--other", percent(disk.used_bytes - ours, disk.total_bytes), `Everything else: ${formatBytes(disk.used_bytes - ours)}`),
  );
  const header = sectionHeader("Disk", iconButton("refresh", "Refresh", { className: "button button--quiet", onclick: () => load() }));
  return el(
    "section",
    { class: "admin-section", "aria-label": "Disk" },
    header,
    el(
      "div",
      { class: "stats" },
      stat("Free", formatBytes(disk.free_bytes), `of ${formatBytes(disk.total_bytes)} on the library's disk`, { "data-stat": "free", "data-bytes": String(disk.free_bytes) }),
      stat("Stored by Meadhall", formatBytes(totals.uploaded_bytes), `${formatCount(totals.uploaded_assets, "uploaded original")}`, { "data-stat": "uploaded", "data-bytes": String(totals.uploaded_bytes) }),
      stat("Indexed in place", formatBytes(totals.indexed_bytes), `${formatCount(totals.indexed_assets, "file")} read from folders, not copied`, { "data-stat": "indexed", "data-bytes": String(totals.indexed_bytes) }),
      stat("In the trash", formatBytes(totals.trashed_bytes), `${formatCount(totals.trashed_assets, "asset")}, freed when the trash is emptied`, { "data-stat": "trashed", "data-bytes": String(totals.trashed_bytes) }),
    ),
    meter,
    el(
      "ul",
      { class: "legend" },
      el("li", {}, el("span", { class: "legend__swatch legend__swatch--uploaded" }), "Meadhall's originals"),
      el("li", {}, el("span", { class: "legend__swatch meter__part--other" }), "Everything else on the disk"),
    ),
  );
}

function chartSection(usage) {
  const largest = Math.max(1, ...usage.users.map((user) => user.uploaded_bytes + user.indexed_bytes));
  const rows = usage.users.map((user) => {
    const total = user.uploaded_bytes + user.indexed_bytes;
    return el(
      "li",
      { class: "chart__row", "data-chart-user": user.user_id },
      el("span", { class: "chart__name", title: user.email }, user.display_name),
      el(
        "span",
        { class: "bar", role: "img", "aria-label": `${user.display_name}: ${formatBytes(user.uploaded_bytes)} uploaded, ${formatBytes(user.indexed_bytes)} indexed in place` },
        segment("bar__part bar__part--uploaded", percent(user.uploaded_bytes, largest), `Uploaded: ${formatBytes(user.uploaded_bytes)}`),
        segment("bar__part bar__part--indexed", percent(user.indexed_bytes, largest), `Indexed in place: ${formatBytes(user.indexed_bytes)}`),
      ),
      el("span", { class: "chart__value" }, formatBytes(total)),
    );
  });
  return el(
    "section",
    { class: "admin-section", "aria-labelledby": "chart-title" },
    el("div", { class: "admin-section__header" }, el("h2", { class: "admin-section__title", id: "chart-title" }, "By person"), el("ul", { class: "legend" }, el("li", {}, el("span", { class: "legend__swatch legend__swatch--uploaded" }), "Uploaded"), el("li", {}, el("span", { class: "legend__swatch legend__swatch--indexed" }), "Indexed in place"))),
    rows.length ? el("ul", { class: "chart" }, rows) : emptyState("storage", "Nobody stores anything yet", ""),
  );
}

function bytesCell(label, bytes, count, field) {
  return el(
    "td",
    { class: "num", "data-label": label, "data-field": field, "data-bytes": String(bytes) },
    formatBytes(bytes),
    count !== null ? el("div", { class: "muted" }, formatCount(count, "file")) : null,
  );
}

function tableSection(usage) {
  const row = (user) =>
    el(
      "tr",
      { "data-user-id": user.user_id },
      el("td", {}, el("div", { class: "who__text" }, el("span", { class: "who__name" }, user.display_name, user.is_active ? null : el("span", { class: "muted" }, " (disabled)")), el("span", { class: "who__email" }, user.email))),
      el("td", { class: "num", "data-label": "Assets", "data-field": "assets" }, user.assets.toLocaleString()),
      bytesCell("Uploaded", user.uploaded_bytes, user.uploaded_assets, "uploaded_bytes"),
      bytesCell("Indexed in place", user.indexed_bytes, user.indexed_assets, "indexed_bytes"),
      bytesCell("In the trash", user.trashed_bytes, user.trashed_assets, "trashed_bytes"),
      el("td", { class: "num", "data-label": "Quota", "data-field": "quota" }, user.quota_bytes === null ? el("span", { class: "muted" }, "No limit") : `${formatBytes(user.quota_bytes)} (${Math.round(percent(user.uploaded_bytes, user.quota_bytes))}%)`),
    );
  const { totals } = usage;
  return el(
    "section",
    { class: "admin-section", "aria-labelledby": "table-title" },
    el("div", { class: "admin-section__header" }, el("h2", { class: "admin-section__title", id: "table-title" }, "Details")),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "data-table", "data-table": "storage" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Person"), el("th", { scope: "col", class: "num" }, "Assets"), el("th", { scope: "col", class: "num" }, "Uploaded"), el("th", { scope: "col", class: "num" }, "Indexed in place"), el("th", { scope: "col", class: "num" }, "In the trash"), el("th", { scope: "col", class: "num" }, "Quota"))),
        el("tbody", {}, usage.users.map(row)),
        el(
          "tfoot",
          {},
          el(
            "tr",
            { "data-totals": true },
            el("th", { scope: "row" }, "Everyone"),
            el("td", { class: "num", "data-label": "Assets", "data-field": "assets" }, totals.assets.toLocaleString()),
            bytesCell("Uploaded", totals.uploaded_bytes, totals.uploaded_assets, "uploaded_bytes"),
            bytesCell("Indexed in place", totals.indexed_bytes, totals.indexed_assets, "indexed_bytes"),
            bytesCell("In the trash", totals.trashed_bytes, totals.trashed_assets, "trashed_bytes"),
            el("td", {}),
          ),
        ),
      ),
    ),
  );
}

async function load() {
  try {
    const usage = await api.get("/api/library/usage");
    mount.replaceChildren(diskSection(usage), chartSection(usage), tableSection(usage));
    mount.dataset.ready = "true";
  } catch (error) {
    mount.replaceChildren(emptyState("alert", "Could not load storage", errorMessage(error)));
  }
}

mount.classList.add("admin");
mount.replaceChildren(el("div", { class: "loading-block" }), el("div", { class: "loading-block" }));
load();
