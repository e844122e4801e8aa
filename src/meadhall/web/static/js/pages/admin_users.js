// Admin › Users: every account (role, status, joined, storage used) with its actions, and the
// invites that let new people register. Both lists follow the "admin" topic live: someone
// registering, another admin's change or a finished deletion shows without a reload.

import { api, ApiError } from "../api.js";
import { live } from "../live.js";
import { confirmDialog, debounce, el, errorMessage, formatBytes, icon, iconButton, openDialog, toast, viewer } from "../ui.js";
import { emptyState, pager, sectionHeader, timeElement } from "../admin/common.js";

const PAGE_SIZE = 50;
const mount = document.querySelector('[data-page="users"]');

const state = {
  offset: 0,
  page: null,
  usage: new Map(),
  invites: [],
};

const usersSection = el("section", { class: "admin-section", "aria-labelledby": "users-title" });
const invitesSection = el("section", { class: "admin-section", "aria-labelledby": "invites-title" });

// Users ------------------------------------------------------------------------------------

async function loadUsers() {
  const [page, usage] = await Promise.all([
    api.get(`/api/admin/users?limit=${PAGE_SIZE}&offset=${state.offset}`),
    // Storage is a nicety here: a failure must not hide the accounts.
    api.get("/api/library/usage").catch(() => null),
  ]);
  state.page = page;
  state.usage = new Map((usage ? usage.users : []).map((row) => [row.user_id, row]));
  renderUsers();
}

// A re-render replaces the rows; the focused control (found again by its row and its label)
// keeps the focus, so a live update never throws a keyboard user back to the top.
function keepingFocus(section, render) {
  const active = document.activeElement;
  const row = active && section.contains(active) ? active.closest("tr[data-user-id], tr[data-invite-id]") : null;
  const label = row ? active.getAttribute("aria-label") || active.textContent : null;
  render();
  if (!row) return;
  const key = row.dataset.userId ? `tr[data-user-id="${row.dataset.userId}"]` : `tr[data-invite-id="${row.dataset.inviteId}"]`;
  const again = [...section.querySelectorAll(`${key} button`)].find((button) => (button.getAttribute("aria-label") || button.textContent) === label);
  if (again && !again.disabled) {
    again.focus({ preventScroll: true });
    return;
  }
  const heading = section.querySelector("h2");
  heading?.setAttribute("tabindex", "-1");
  heading?.focus({ preventScroll: true });
}

function renderUsers() {
  keepingFocus(usersSection, drawUsers);
}

function drawUsers() {
  const { page } = state;
  const header = sectionHeader(
    "People",
    iconButton("refresh", "Refresh", { className: "button button--quiet", onclick: () => Promise.all([reloadUsers(), reloadInvites()]) }),
    iconButton("plus", "New user", { iconOnly: false, className: "button button--primary", onclick: createUser }),
  );
  header.querySelector("h2").id = "users-title";
  const rows = page.items.map(userRow);
  const table = el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data-table", "data-table": "users" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Role"), el("th", { scope: "col" }, "Status"), el("th", { scope: "col" }, "Joined"), el("th", { scope: "col", class: "num" }, "Storage"), el("th", { scope: "col", class: "actions" }, el("span", { class: "visually-hidden" }, "Actions")))),
      el("tbody", {}, rows),
    ),
  );
  usersSection.replaceChildren(
    header,
    table,
    pager({ offset: page.offset, limit: page.limit, total: page.total, label: "Users pages", go: (offset) => ((state.offset = offset), reloadUsers()) }),
  );
}

function userStatus(user) {
  if (user.deletion_requested_at) return el("span", { class: "badge status--failed" }, "Being deleted");
  if (!user.is_active) return el("span", { class: "badge status--disabled" }, "Disabled");
  return el("span", { class: "badge status--succeeded" }, "Active");
}

function storageCell(user) {
  const usage = state.usage.get(user.id);
  if (!usage) return el("span", { class: "muted" }, "—");
  const title = `${usage.assets.toLocaleString()} assets · ${formatBytes(usage.uploaded_bytes)} uploaded · ${formatBytes(usage.indexed_bytes)} indexed in place`;
  return el(
    "span",
    { title, "data-bytes": String(usage.uploaded_bytes) },
    formatBytes(usage.uploaded_bytes),
    usage.indexed_bytes ? el("span", { class: "muted" }, ` + ${formatBytes(usage.indexed_bytes)} indexed`) : null,
  );
}

function userRow(user) {
  const self = user.id === viewer.userId;
  const gone = Boolean(user.deletion_requested_at);
  // Guard rails: nobody demotes, disables or deletes themselves from here (the API protects
  // the last admin; this also keeps a second admin from locking themselves out by a slip).
  const selfNote = "You cannot change your own account here";
  const adminButton = el(
    "button",
    {
      type: "button",
      class: "button button--small",
      disabled: self || gone,
      title: self ? selfNote : null,
      onclick: () => update(user, { is_admin: !user.is_admin }, user.is_admin ? `${user.display_name} is no longer an admin.` : `${user.display_name} is now an admin.`),
    },
    user.is_admin ? "Remove admin" : "Make admin",
  );
  const activeButton = el(
    "button",
    {
      type: "button",
      class: "button button--small",
      disabled: self || gone,
      title: self ? selfNote : null,
      onclick: () => toggleActive(user),
    },
    user.is_active ? "Disable" : "Enable",
  );
  const deleteButton = iconButton("trash", `Delete ${user.display_name}`, {
    className: "button button--small button--quiet",
    disabled: self || gone,
    onclick: () => deleteUser(user),
  });
  return el(
    "tr",
    { "data-user-id": user.id, "data-email": user.email },
    el(
      "td",
      {},
      el(
        "div",
        { class: "who" },
        el("span", { class: "avatar", "aria-hidden": "true" }, (user.display_name || "?").slice(0, 1).toUpperCase()),
        el("span", { class: "who__text" }, el("span", { class: "who__name" }, user.display_name, self ? el("span", { class: "muted" }, " (you)") : null), el("span", { class: "who__email" }, user.email)),
      ),
    ),
    el("td", { "data-label": "Role" }, el("span", { class: user.is_admin ? "badge badge--accent" : "badge", "data-role": user.is_admin ? "admin" : "member" }, user.is_admin ? "Admin" : "Member")),
    el("td", { "data-label": "Status", "data-user-status": true }, userStatus(user)),
    el("td", { "data-label": "Joined" }, timeElement(user.created_at)),
    el("td", { "data-label": "Storage", class: "num", "data-storage": true }, storageCell(user)),
    el("td", { class: "actions" }, adminButton, activeButton, deleteButton),
  );
}

async function reloadUsers() {
  try {
    await loadUsers();
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
}

async function update(user, changes, done) {
  try {
    await api.patch(`/api/admin/users/${user.id}`, changes);
    toast(done, { kind: "success" });
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
  await reloadUsers();
}

async function toggleActive(user) {
  if (user.is_active) {
    const sure = await confirmDialog({
      title: `Disable ${user.display_name}?`,
      body: "They are signed out everywhere at once and cannot sign in until you enable the account again. Nothing they own is removed.",
      confirm: "Disable",
      danger: true,
    });
    if (!sure) return;
  }
  await update(user, { is_active: !user.is_active }, user.is_active ? `${user.display_name} is disabled.` : `${user.display_name} is enabled.`);
}

function textField(label, attributes) {
  return el("label", { class: "field" }, el("span", { class: "field__label" }, label), el("input", { class: "input", required: true, ...attributes }));
}

// The server's reason, with the field it concerns ("Password: too short") when it says.
function describe(error) {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.fieldErrors);
    if (fields.length) return fields.map(([name, message]) => `${name.replace("_", " ")}: ${message}`).join(" ");
  }
  return errorMessage(error);
}

async function createUser() {
  const body = [
    textField("Display name", { name: "display_name", maxlength: 100, autocomplete: "off" }),
    textField("E-mail", { name: "email", type: "email", autocomplete: "off" }),
    textField("Password", { name: "password", type: "password", minlength: 10, autocomplete: "new-password" }),
    el("label", { class: "checkbox" }, el("input", { type: "checkbox", name: "is_admin" }), "Admin (can manage users, folders and jobs)"),
  ];
  const created = await openDialog({
    title: "New user",
    confirm: "Create user",
    body,
    collect: async (form) => {
      const data = new FormData(form);
      try {
        return await api.post("/api/admin/users", {
          display_name: String(data.get("display_name")).trim(),
          email: String(data.get("email")).trim(),
          password: String(data.get("password")),
          is_admin: data.get("is_admin") === "on",
        });
      } catch (error) {
        throw new Error(describe(error));
      }
    },
  });
  if (!created) return;
  toast(`${created.display_name} can now sign in.`, { kind: "success" });
  await reloadUsers();
}

async function deleteUser(user) {
  const modes = el(
    "fieldset",
    { class: "choices" },
    el("legend", { class: "visually-hidden" }, "What happens to the account"),
    choice("mode", "delete", "Delete everything", "The account and everything it owns are removed for good.", true),
    choice("mode", "anonymise", "Anonymise", "The account is closed and its name and address are erased; what it shared stays, shown as “Deleted user”."),
  );
  const mode = await openDialog({
    title: `Remove ${user.display_name}?`,
    confirm: "Remove account",
    danger: true,
    body: [el("p", {}, "They are signed out at once; a background job finishes the work."), modes],
    collect: (form) => new FormData(form).get("mode"),
  });
  if (!mode) return;
  try {
    await api.delete(`/api/admin/users/${user.id}?mode=${encodeURIComponent(mode)}`);
    toast(mode === "delete" ? `${user.display_name} is being deleted.` : `${user.display_name} is being anonymised.`, { kind: "success" });
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
  await reloadUsers();
}

function choice(name, value, title, text, checked = false) {
  return el("label", { class: "choice" }, el("input", { type: "radio", name, value, checked }), el("span", { class: "choice__title" }, title), el("span", { class: "choice__text" }, text));
}

// Invites ----------------------------------------------------------------------------------

function reloadInvites() {
  return loadInvites().catch((error) => toast(errorMessage(error), { kind: "error" }));
}

async function loadInvites() {
  state.invites = (await api.get("/api/invites")).items;
  keepingFocus(invitesSection, renderInvites);
}

const INVITE_STATUS = {
  active: ["Active", "status--succeeded"],
  used_up: ["Used up", ""],
  expired: ["Expired", "status--disabled"],
  revoked: ["Revoked", "status--disabled"],
};

function inviteRow(invite) {
  const usable = invite.status === "active";
  const status = INVITE_STATUS[invite.status] || [invite.status, ""];
  return el(
    "tr",
    { "data-invite-id": invite.id },
    el("td", {}, el("span", { class: "mono" }, `${invite.code_prefix}…`), invite.note ? el("div", { class: "muted" }, invite.note) : null),
    el("td", { "data-label": "Uses", class: "num" }, `${invite.uses} of ${invite.max_uses}`),
    el("td", { "data-label": "Expires" }, timeElement(invite.expires_at, { empty: "Never" })),
    el("td", { "data-label": "Created" }, timeElement(invite.created_at)),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${status[1]}`, "data-invite-status": invite.status }, status[0])),
    el("td", { class: "actions" }, usable ? el("button", { type: "button", class: "button button--small", onclick: () => revokeInvite(invite) }, "Revoke") : null),
  );
}

function renderInvites() {
  const header = sectionHeader("Invites", iconButton("mail", "New invite", { iconOnly: false, className: "button", onclick: createInvite }));
  header.querySelector("h2").id = "invites-title";
  const content = state.invites.length
    ? el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "data-table", "data-table": "invites" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Code"), el("th", { scope: "col", class: "num" }, "Uses"), el("th", { scope: "col" }, "Expires"), el("th", { scope: "col" }, "Created"), el("th", { scope: "col" }, "Status"), el("th", { scope: "col", class: "actions" }, el("span", { class: "visually-hidden" }, "Actions")))),
          el("tbody", {}, state.invites.map(inviteRow)),
        ),
      )
    : emptyState("mail", "No invites yet", "An invite is a link that lets someone create an account.");
  invitesSection.replaceChildren(header, content);
}

const EXPIRY_CHOICES = [
  ["24", "1 day"],
  ["168", "1 week"],
  ["720", "30 days"],
  ["", "Never"],
];

async function createInvite() {
  const uses = el("input", { class: "input", name: "max_uses", type: "number", min: 1, max: 1000, value: 1, required: true });
  const expiry = el("select", { class: "input", name: "expires_in_hours" }, EXPIRY_CHOICES.map(([value, label]) => el("option", { value, selected: value === "168" }, label)));
  const note = el("input", { class: "input", name: "note", maxlength: 200, autocomplete: "off", placeholder: "Who is it for?" });
  const invite = await openDialog({
    title: "New invite",
    confirm: "Create invite",
    body: [
      el("label", { class: "field" }, el("span", { class: "field__label" }, "How many people may use it"), uses),
      el("label", { class: "field" }, el("span", { class: "field__label" }, "Expires after"), expiry),
      el("label", { class: "field" }, el("span", { class: "field__label" }, "Note (optional)"), note),
    ],
    collect: async () => {
      const hours = expiry.value ? Number(expiry.value) : null;
      try {
        return await api.post("/api/invites", { max_uses: Number(uses.value), expires_in_hours: hours, note: note.value.trim() || null });
      } catch (error) {
        throw new Error(describe(error));
      }
    },
  });
  if (!invite) return;
  await reloadInvites();
  await showInviteLink(invite);
}

// The code exists only in this answer (the server keeps its hash): show it once, with a copy
// button, and say so.
function showInviteLink(invite) {
  // The server builds the link from its public address; the local one is the fallback.
  const link = invite.register_url || new URL(`/register?invite=${encodeURIComponent(invite.code)}`, location.origin).href;
  const field = el("input", { class: "input", readonly: true, value: link, "aria-label": "Invite link", "data-invite-link": true });
  const copy = iconButton("share", "Copy link", { iconOnly: false, className: "button" });
  copy.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(link);
      copy.querySelector("span").textContent = "Copied";
    } catch {
      // No clipboard permission (plain http on another host): the text is selected instead.
      copy.querySelector("span").textContent = "Press Ctrl+C";
    }
  });
  return openDialog({
    title: "Invite link",
    confirm: "Done",
    body: [
      el("p", {}, `Send this link to ${invite.max_uses === 1 ? "the person" : "the people"} you invite.`),
      el("div", { class: "secret" }, field, copy),
      el("p", { class: "secret-note" }, icon("alert", "icon icon--small"), "This link is shown only once. If it is lost, revoke the invite and create another."),
    ],
  });
}

async function revokeInvite(invite) {
  const sure = await confirmDialog({ title: "Revoke this invite?", body: "Its link stops working at once. Accounts already created with it stay.", confirm: "Revoke", danger: true });
  if (!sure) return;
  try {
    await api.delete(`/api/invites/${invite.id}`);
    toast("Invite revoked.", { kind: "success" });
  } catch (error) {
    toast(errorMessage(error), { kind: "error" });
  }
  await reloadInvites();
}

// Start ------------------------------------------------------------------------------------

const liveUsers = debounce(reloadUsers, 300);
const liveInvites = debounce(reloadInvites, 300);
live.on("admin", (frame) => {
  if (frame.event === "account.changed") liveUsers();
  else if (frame.event === "invite.changed") liveInvites();
});
live.onResync(() => {
  liveUsers();
  liveInvites();
});

async function start() {
  mount.classList.add("admin");
  usersSection.append(el("div", { class: "loading-block" }));
  invitesSection.append(el("div", { class: "loading-block" }));
  mount.replaceChildren(usersSection, invitesSection);
  try {
    await Promise.all([loadUsers(), loadInvites()]);
    mount.dataset.ready = "true";
  } catch (error) {
    mount.replaceChildren(emptyState("alert", "Could not load the users", errorMessage(error)));
  }
}

start();
