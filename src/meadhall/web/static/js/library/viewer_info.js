// The viewer's info panel: what is known about a photo, and the owner's edits.
//
// Each editable field saves on its own (on change: blur, or Enter in a one-line field) with its
// own status and inline error, so a bad description never blocks a good name. The panel is a
// side panel on wide screens and a bottom sheet on phones (css/viewer.css decides).

import { api, request } from "../api.js";
import { el, errorMessage, formatBytes, formatLocalDateTime, icon, viewer as me } from "../ui.js";
import { TagInput } from "./pickers.js";

// The AssetType values of the API (AssetType in the OpenAPI schema), with their labels.
export const ASSET_TYPES = [
  ["photo", "Photo"],
  ["backdrop", "Backdrop"],
  ["character", "Character"],
  ["handout", "Handout"],
  ["map", "Map"],
  ["other", "Other"],
];

const ZONE_SOURCES = {
  exif_offset: "zone from the camera",
  gps: "zone from the GPS position",
  file_time: "time from the file",
  server_default: "default zone",
};

const ORIGINS = {
  upload: "Uploaded",
  url: "Imported from a URL",
  scan: "Indexed folder",
  cli: "Imported from the command line",
  chat: "Shared in chat",
  generated: "Generated",
};

let fieldCounter = 0;

export class InfoPanel {
  constructor({ onChanged, onFocusMode }) {
    this.onChanged = onChanged;
    this.onFocusMode = onFocusMode;
    this.asset = null;
    this.heading = el("h2", { class: "viewer-info__title", id: "viewer-info-title" }, "Info");
    this.body = el("div", { class: "viewer-info__body" });
    this.node = el(
      "aside",
      { class: "viewer-info", "aria-labelledby": "viewer-info-title", "data-viewer-info": true, hidden: true },
      el("div", { class: "viewer-info__handle", "aria-hidden": "true" }),
      el("div", { class: "viewer-info__header" }, this.heading),
      this.body,
    );
  }

  get open() {
    return !this.node.hidden;
  }

  setOpen(open) {
    this.node.hidden = !open;
  }

  // Render ``asset`` (an AssetDetail). A change to the same asset refreshes the facts and the
  // albums only: the fields and tags are where the change came from, and keep focus and typing.
  show(asset) {
    const same = this.asset && this.asset.id === asset.id && this.rendered === this.editable;
    this.asset = asset;
    if (same) {
      this.renderFacts();
      this.albumList.replaceWith(this.albumsSection());
      return;
    }
    this.render();
  }

  get editable() {
    return this.asset.owner_id === me.userId && !this.asset.trashed_at;
  }

  render() {
    this.rendered = this.editable;
    this.facts = el("dl", { class: "viewer-info__facts" });
    this.focusStatus = el("span", { class: "viewer-info__muted", "data-focus-status": true });
    this.body.replaceChildren(
      this.editable ? this.editFields() : this.readOnlyFields(),
      this.facts,
      this.tagsSection(),
      this.albumsSection(),
    );
    this.renderFacts();
  }

  // Editing ------------------------------------------------------------------------------------

  editFields() {
    const asset = this.asset;
    const typeSelect = el(
      "select",
      { class: "input" },
      ASSET_TYPES.map(([value, label]) => el("option", { value, selected: value === asset.type }, label)),
    );
    return el(
      "div",
      { class: "viewer-info__edit" },
      this.field("name", "Name", el("input", { class: "input", value: asset.name, maxlength: 255, autocomplete: "off" })),
      this.field("description", "Description", el("textarea", { class: "input", rows: 3, maxlength: 10000, placeholder: "Add a description" }, asset.description || "")),
      this.field("type", "Type", typeSelect),
      this.field("attribution", "Attribution", el("input", { class: "input", value: asset.attribution || "", maxlength: 500, placeholder: "Who made it, a licence", autocomplete: "off" })),
      this.focusControls(),
    );
  }

  field(name, label, control) {
    fieldCounter += 1;
    const id = `viewer-field-${name}-${fieldCounter}`;
    const errorId = `${id}-error`;
    control.id = id;
    control.name = name;
    control.setAttribute("aria-describedby", errorId);
    const error = el("p", { class: "field__error", id: errorId, hidden: true });
    const status = el("span", { class: "viewer-info__saved", "aria-live": "polite" });
    const save = () => this.save(name, control, error, status);
    control.addEventListener("change", save);
    if (control.tagName === "INPUT") {
      control.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          save();
        }
      });
    }
    return el(
      "div",
      { class: "field viewer-info__field", "data-field": name },
      el("span", { class: "viewer-info__label-row" }, el("label", { class: "field__label", for: id }, label), status),
      control,
      error,
    );
  }

  async save(name, control, error, status) {
    const raw = control.value;
    const value = name === "type" || name === "name" ? raw.trim() : raw.trim() || null;
    const current = this.asset[name] ?? (name === "name" || name === "type" ? "" : null);
    // Enter saves and the blur that follows fires "change" again: one request is enough.
    if (value === current || control.dataset.saving === String(value)) return;
    error.hidden = true;
    control.removeAttribute("aria-invalid");
    if (name === "name" && !value) {
      this.fail(control, error, "Name can't be empty.");
      return;
    }
    status.textContent = "Saving…";
    control.dataset.saving = String(value);
    try {
      const updated = await api.patch(`/api/library/assets/${this.asset.id}`, { [name]: value });
      status.textContent = "Saved";
      window.setTimeout(() => {
        if (status.textContent === "Saved") status.textContent = "";
      }, 2000);
      this.onChanged(updated);
    } catch (problem) {
      status.textContent = "";
      this.fail(control, error, problem.fieldErrors?.[name] || errorMessage(problem));
    } finally {
      delete control.dataset.saving;
    }
  }

  fail(control, error, message) {
    error.textContent = message;
    error.hidden = false;
    control.setAttribute("aria-invalid", "true");
  }

  focusControls() {
    const setButton = el(
      "button",
      { type: "button", class: "button button--small", "data-action": "set-focus", "aria-pressed": "false", onclick: () => this.onFocusMode(!this.focusMode) },
      icon("crosshair", "icon icon--small"),
      el("span", {}, "Set focus point"),
    );
    const clearButton = el(
      "button",
      { type: "button", class: "button button--small button--quiet", "data-action": "clear-focus", onclick: () => this.saveFocus(null) },
      "Clear focus",
    );
    this.focusButtons = { setButton, clearButton };
    this.focusError = el("p", { class: "field__error", hidden: true });
    const wrapper = el(
      "div",
      { class: "field viewer-info__field" },
      el("span", { class: "field__label" }, "Focus point"),
      el("div", { class: "viewer-info__row" }, setButton, clearButton, this.focusStatus),
      this.focusError,
    );
    this.syncFocus();
    return wrapper;
  }

  // Called by the viewer when the focus mode turns on or off.
  setFocusMode(on) {
    this.focusMode = on;
    this.syncFocus();
  }

  syncFocus() {
    if (!this.focusButtons) return;
    const focus = this.asset.focus;
    this.focusButtons.setButton.setAttribute("aria-pressed", String(Boolean(this.focusMode)));
    this.focusButtons.setButton.lastChild.textContent = this.focusMode ? "Click the photo…" : "Set focus point";
    this.focusButtons.clearButton.hidden = !focus;
    this.focusStatus.textContent = focus ? `${Math.round(focus.x * 100)}% across, ${Math.round(focus.y * 100)}% down` : "Not set";
  }

  async saveFocus(point) {
    this.focusError.hidden = true;
    try {
      const updated = await api.patch(`/api/library/assets/${this.asset.id}`, { focus: point });
      this.onChanged(updated);
      if (this.focusMode) this.onFocusMode(false);
    } catch (problem) {
      this.focusError.textContent = errorMessage(problem);
      this.focusError.hidden = false;
    }
  }

  readOnlyFields() {
    const asset = this.asset;
    return el(
      "div",
      { class: "viewer-info__edit" },
      el("p", { class: "viewer-info__name" }, asset.name),
      asset.description ? el("p", { class: "viewer-info__description" }, asset.description) : null,
    );
  }

  // Facts ---------------------------------------------------------------------------------------

  renderFacts() {
    const asset = this.asset;
    this.syncFocus();
    const rows = [
      this.editable ? null : ["Type", typeLabel(asset.type), "type"],
      ["Taken", captureText(asset.capture, asset.local_at), "taken", "calendar"],
      ["Camera", cameraText(asset.camera), "camera", "camera"],
      ["Exposure", exposureText(asset.camera), "exposure"],
      ["Place", placeText(asset.place), "place", "pin"],
      ["Colours", paletteNode(asset.palette), "palette"],
      ["Size", sizeText(asset), "size", "images"],
      ["Origin", originNode(asset), "origin"],
      this.editable ? null : ["Attribution", asset.attribution, "attribution"],
      asset.status === "failed" && asset.error ? ["Problem", asset.error, "error", "alert"] : null,
    ];
    this.facts.replaceChildren(
      ...rows
        .filter((row) => row && row[1])
        .map(([label, value, key, iconName]) =>
          el(
            "div",
            { class: "viewer-info__fact", "data-fact": key },
            el("dt", {}, iconName ? icon(iconName, "icon icon--small") : null, label),
            el("dd", {}, value),
          ),
        ),
    );
  }

  // Tags and albums ---------------------------------------------------------------------------

  tagsSection() {
    const asset = this.asset;
    const box = el("div", { class: "viewer-info__tags", "data-viewer-tags": true });
    const section = el("section", { class: "viewer-info__section" }, el("h3", { class: "viewer-info__subtitle" }, "Tags"), box);
    if (!this.editable) {
      box.append(
        asset.tags.length
          ? el("ul", { class: "tag-input__chips" }, asset.tags.map((tag) => el("li", { class: "chip" }, tag.name)))
          : el("p", { class: "viewer-info__muted" }, "No tags"),
      );
      return section;
    }
    // TagInput shows a refusal (a thrown error) itself, next to the field.
    this.tagInput = new TagInput(box, {
      value: asset.tags.map((tag) => ({ id: tag.id, name: tag.name })),
      onAdd: async (name) => {
        const tags = await this.changeTags("POST", { names: [name] });
        return tags.find((tag) => tag.name.toLowerCase() === name.toLowerCase()) || { id: null, name };
      },
      onRemove: (tag) => this.changeTags("DELETE", tag.id ? { tag_ids: [tag.id] } : { names: [tag.name] }),
    });
    return section;
  }

  // The tag endpoints answer with all of the asset's tags. A DELETE carries a body here, which
  // api.delete does not send, hence request().
  async changeTags(method, body) {
    const result = await request(method, `/api/library/assets/${this.asset.id}/tags`, { body });
    const tags = result.tags.map((tag) => ({ id: tag.id, name: tag.name }));
    this.asset = { ...this.asset, tags };
    this.onChanged(this.asset);
    return tags;
  }

  albumsSection() {
    const albums = this.asset.albums || [];
    this.albumList = el(
      "section",
      { class: "viewer-info__section", "data-viewer-albums": true },
      el("h3", { class: "viewer-info__subtitle" }, "Albums"),
      albums.length
        ? el("ul", { class: "viewer-info__albums" }, albums.map((album) => el("li", {}, el("a", { href: `/albums/${album.id}` }, icon("album", "icon icon--small"), album.name))))
        : el("p", { class: "viewer-info__muted" }, "In no album"),
    );
    return this.albumList;
  }
}

// Formatting ---------------------------------------------------------------------------------

function typeLabel(type) {
  return (ASSET_TYPES.find(([value]) => value === type) || [type, type])[1];
}

function captureText(capture, localAt) {
  const local = capture?.local || localAt;
  if (!local) return null;
  const parts = [formatLocalDateTime(local)];
  if (capture?.timezone) {
    const source = ZONE_SOURCES[capture.source];
    parts.push(el("span", { class: "viewer-info__muted", "data-zone": true }, ` ${capture.timezone}${source ? ` (${source})` : ""}`));
  }
  return el("span", {}, parts);
}

function cameraText(camera) {
  if (!camera) return null;
  const body = [camera.make, camera.model].filter(Boolean);
  // Models often repeat the make ("Canon" + "Canon EOS R5"): say it once.
  if (body.length === 2 && body[1].toLowerCase().startsWith(body[0].toLowerCase())) body.shift();
  const lines = [body.join(" "), camera.lens].filter(Boolean);
  if (!lines.length) return null;
  return el("span", {}, lines.map((line, index) => el("span", { class: index ? "viewer-info__muted viewer-info__line" : "viewer-info__line" }, line)));
}

export function exposureText(camera) {
  if (!camera) return null;
  const parts = [];
  const seconds = camera.exposure_seconds;
  if (seconds) parts.push(seconds >= 1 ? `${Number(seconds.toFixed(1))} s` : `1/${Math.round(1 / seconds)} s`);
  if (camera.f_number) parts.push(`f/${Number(camera.f_number.toFixed(1))}`);
  if (camera.iso) parts.push(`ISO ${camera.iso}`);
  if (camera.focal_length_mm) parts.push(`${Math.round(camera.focal_length_mm)} mm`);
  return parts.length ? parts.join(" · ") : null;
}

function placeText(place) {
  if (!place) return null;
  const name = [place.city, place.country].filter(Boolean).join(", ");
  const hasPoint = Number.isFinite(place.latitude) && Number.isFinite(place.longitude);
  if (!name && !hasPoint) return null;
  const point = hasPoint ? `${place.latitude.toFixed(5)}, ${place.longitude.toFixed(5)}` : null;
  return el(
    "span",
    {},
    name ? el("span", { class: "viewer-info__line" }, name) : null,
    point ? el("span", { class: "viewer-info__line viewer-info__muted" }, point) : null,
  );
}

function paletteNode(palette) {
  if (!palette || !palette.length) return null;
  return el(
    "ul",
    { class: "viewer-info__palette", "aria-label": "Palette" },
    palette.map((hex) => {
      const swatch = el("span", { class: "viewer-info__swatch", "aria-hidden": "true" });
      // The colour is data, so it is set through the CSSOM (allowed by the CSP).
      swatch.style.backgroundColor = hex;
      return el("li", { title: hex }, swatch, el("span", { class: "visually-hidden" }, hex));
    }),
  );
}

function sizeText(asset) {
  const parts = [];
  if (asset.width && asset.height) {
    const megapixels = (asset.width * asset.height) / 1e6;
    parts.push(`${asset.width} × ${asset.height}`);
    if (megapixels >= 0.1) parts.push(`${megapixels.toFixed(1)} MP`);
  }
  if (asset.size_bytes) parts.push(formatBytes(asset.size_bytes));
  if (asset.duration_ms) parts.push(`${Math.round(asset.duration_ms / 1000)} s`);
  const kind = (asset.mime_type || "").split("/")[1];
  if (kind) parts.push(kind.toUpperCase());
  return parts.join(" · ") || null;
}

function originNode(asset) {
  const label = ORIGINS[asset.origin] || asset.origin;
  return el(
    "span",
    {},
    el("span", { class: "viewer-info__line" }, label),
    asset.original_filename ? el("span", { class: "viewer-info__line viewer-info__muted" }, asset.original_filename) : null,
    asset.source_url
      ? el("a", { class: "viewer-info__line viewer-info__link", href: asset.source_url, rel: "noopener noreferrer nofollow", target: "_blank" }, asset.source_url)
      : null,
  );
}
