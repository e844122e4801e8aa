// The picture area of the viewer: layered images (placeholder → preview → original), zoom and
// pan, swipe between photos, and the "set focus point" crosshair.
//
// Layers never leave a blank: the placeholder (a ThumbHash, else the thumbnail the grid has
// probably cached already) is painted at once at the photo's final size, the preview fades in
// over it, and the original is fetched only when a zoom asks for more pixels than the preview
// has. The frame's size comes from the asset's width and height, so nothing jumps on load.

import { el, icon } from "../ui.js";
import { placeholderUrl } from "./thumbhash.js";

const PREVIEW_LONG_SIDE = 1440; // the server's preview size (pipeline/derivatives.py)
const MIN_SCALE = 1;
const DOUBLE_TAP_MS = 300;
const SWIPE_PX = 60;
const WHEEL_SPEED = 0.0022;

export const assetUrl = (id, kind) => `/api/library/assets/${id}/${kind}`;

// The ThumbHash blur when the asset has one, else the thumbnail (probably cached by the grid).
function placeholderImage(asset) {
  return (asset.placeholder && placeholderUrl(asset.placeholder)) || assetUrl(asset.id, "thumbnail");
}

export class Stage {
  constructor({ onSwipe, onZoomChange, onFocusPick }) {
    this.onSwipe = onSwipe;
    this.onZoomChange = onZoomChange;
    this.onFocusPick = onFocusPick;
    this.asset = null;
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.pointers = new Map();
    this.gesture = null;
    this.lastTap = null;
    this.focusMode = false;
    this.focusMarker = el("span", { class: "viewer__focus", "data-focus-marker": true, hidden: true }, icon("crosshair"));
    this.frame = el("div", { class: "viewer__frame" });
    this.node = el("div", { class: "viewer__stage", "data-viewer-stage": true }, this.frame);
    this.bind();
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(this.node);
  }

  // Show ``asset`` (at least {id, name, width, height, media, placeholder}); resets the zoom.
  show(asset) {
    // The same photo again is only re-drawn when its processing finished meanwhile.
    const same = this.asset && this.asset.id === asset.id && this.asset.status === asset.status;
    this.asset = asset;
    if (same) {
      this.updateAlt();
      this.layout();
      return;
    }
    this.reset(false);
    this.originalLoaded = false;
    this.frame.replaceChildren();
    this.frame.dataset.assetId = asset.id;
    const alt = asset.name || "Photo";
    const placeholder = el("img", { class: "viewer__layer viewer__layer--placeholder", alt: "", "aria-hidden": "true", src: placeholderImage(asset), draggable: "false" });
    this.frame.append(placeholder);
    if (asset.media === "video") {
      this.main = el("video", {
        class: "viewer__layer viewer__video",
        controls: true,
        playsinline: true,
        preload: "metadata",
        poster: assetUrl(asset.id, "preview"),
        src: assetUrl(asset.id, "original"),
        "aria-label": alt,
      });
      this.frame.append(this.main);
    } else {
      // An animation's preview is a still frame: show the original so it moves.
      const source = asset.media === "animation" ? "original" : "preview";
      this.main = el("img", { class: "viewer__layer viewer__layer--main", alt, draggable: "false", "data-viewer-image": true });
      this.main.addEventListener("load", () => {
        this.main.classList.add("is-loaded");
        if (!asset.width || !asset.height) this.layout();
      });
      this.main.addEventListener("error", () => {
        this.main.classList.add("is-broken");
        this.notice(asset.status === "failed" ? "This file could not be read." : "This photo is still being processed.");
      });
      this.main.src = assetUrl(asset.id, source);
      this.frame.append(this.main);
    }
    this.frame.append(this.focusMarker);
    this.showFocus(asset.focus);
    this.node.querySelector("[data-viewer-notice]")?.remove();
    this.layout();
  }

  // Said over the photo when there is nothing to show yet (or ever).
  notice(text) {
    this.node.querySelector("[data-viewer-notice]")?.remove();
    this.node.append(el("p", { class: "viewer__notice", "data-viewer-notice": true, role: "status" }, text));
  }

  updateAlt() {
    if (this.main && this.main.tagName === "IMG") this.main.alt = this.asset.name || "Photo";
  }

  get zoomable() {
    return Boolean(this.asset) && this.asset.media !== "video";
  }

  // The frame's untransformed size: the photo fitted into the stage, never enlarged past its
  // own pixels (a small image stays sharp and small, as in other photo apps).
  layout() {
    if (!this.asset) return;
    const box = this.node.getBoundingClientRect();
    const width = this.asset.width || this.main?.naturalWidth || box.width;
    const height = this.asset.height || this.main?.naturalHeight || box.height;
    if (!box.width || !box.height || !width || !height) return;
    // Photos are never blown up past their pixels (zoom does that on request); a video
    // cannot be zoomed, so it fills the screen as players do.
    const cap = this.asset.media === "video" ? Infinity : 1;
    const fit = Math.min(box.width / width, box.height / height, cap);
    this.baseWidth = Math.max(1, Math.round(width * fit));
    this.baseHeight = Math.max(1, Math.round(height * fit));
    this.frame.style.width = `${this.baseWidth}px`;
    this.frame.style.height = `${this.baseHeight}px`;
    this.maxScale = Math.max(4, (2 * width) / this.baseWidth);
    this.clamp();
    this.apply();
  }

  // Zoom --------------------------------------------------------------------------------------

  // Zoom by ``factor`` around a point given in stage coordinates relative to its centre.
  zoomBy(factor, around = { x: 0, y: 0 }) {
    if (!this.zoomable) return;
    const next = Math.min(this.maxScale || 4, Math.max(MIN_SCALE, this.scale * factor));
    const ratio = next / this.scale;
    this.x = around.x - (around.x - this.x) * ratio;
    this.y = around.y - (around.y - this.y) * ratio;
    this.scale = next;
    this.clamp();
    this.apply();
    this.maybeLoadOriginal();
    this.onZoomChange?.(this.scale);
  }

  reset(notify = true) {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
    if (notify) this.onZoomChange?.(this.scale);
  }

  get zoomed() {
    return this.scale > 1.01;
  }

  clamp() {
    const box = this.node.getBoundingClientRect();
    const spareX = Math.max(0, (this.baseWidth * this.scale - box.width) / 2);
    const spareY = Math.max(0, (this.baseHeight * this.scale - box.height) / 2);
    this.x = Math.min(spareX, Math.max(-spareX, this.x));
    this.y = Math.min(spareY, Math.max(-spareY, this.y));
  }

  apply(dragX = 0) {
    this.frame.style.transform = `translate(${this.x + dragX}px, ${this.y}px) scale(${this.scale})`;
    this.node.classList.toggle("is-zoomed", this.zoomed);
    this.node.dataset.zoom = this.scale.toFixed(2);
  }

  // Past the preview's resolution the original takes over (photos only; it can be large).
  maybeLoadOriginal() {
    const asset = this.asset;
    if (this.originalLoaded || asset.media !== "image" || !asset.width || !asset.height) return;
    if (Math.max(asset.width, asset.height) <= PREVIEW_LONG_SIDE) return;
    const previewWidth = asset.width * Math.min(1, PREVIEW_LONG_SIDE / Math.max(asset.width, asset.height));
    const shownWidth = this.baseWidth * this.scale * (window.devicePixelRatio || 1);
    if (shownWidth <= previewWidth * 1.05) return;
    this.originalLoaded = true;
    const original = new Image();
    original.decoding = "async";
    original.src = assetUrl(asset.id, "original");
    original.decode().then(
      () => {
        if (this.asset !== asset || !this.main) return;
        this.main.src = original.src;
        this.node.dataset.original = "loaded";
      },
      () => {
        this.originalLoaded = false;
      },
    );
  }

  // Gestures ----------------------------------------------------------------------------------

  bind() {
    const node = this.node;
    node.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    node.addEventListener("dblclick", (event) => {
      if (this.lastPointerType === "touch" || this.focusMode) return;
      this.toggleZoom(event);
    });
    node.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    node.addEventListener("pointermove", (event) => this.onPointerMove(event));
    node.addEventListener("pointerup", (event) => this.onPointerUp(event));
    node.addEventListener("pointercancel", (event) => this.onPointerUp(event, true));
    node.addEventListener("click", (event) => this.onClick(event));
  }

  centreOffset(event) {
    const box = this.node.getBoundingClientRect();
    return { x: event.clientX - box.left - box.width / 2, y: event.clientY - box.top - box.height / 2 };
  }

  onWheel(event) {
    if (!this.zoomable) return;
    event.preventDefault();
    // Trackpad pinches arrive as ctrl+wheel with small deltas; a mouse wheel's are large.
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    this.zoomBy(Math.exp(-delta * (event.ctrlKey ? WHEEL_SPEED * 4 : WHEEL_SPEED)), this.centreOffset(event));
  }

  toggleZoom(event) {
    if (!this.zoomable) return;
    if (this.zoomed) this.reset();
    else this.zoomBy(2.5, this.centreOffset(event));
  }

  onPointerDown(event) {
    if (event.button !== 0 || event.target.closest("video")) return;
    this.lastPointerType = event.pointerType;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    this.node.setPointerCapture?.(event.pointerId);
    // Fingers move the photo directly; the eased transition is for buttons and snaps.
    this.node.classList.add("is-gesture");
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.gesture = { kind: "pinch", distance: Math.hypot(a.x - b.x, a.y - b.y), scale: this.scale };
    } else if (this.pointers.size === 1) {
      this.gesture = { kind: this.zoomed ? "pan" : "swipe", startX: event.clientX, startY: event.clientY, x: this.x, y: this.y, moved: 0 };
    }
  }

  onPointerMove(event) {
    if (!this.pointers.has(event.pointerId) || !this.gesture) return;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const gesture = this.gesture;
    if (gesture.kind === "pinch" && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      const box = this.node.getBoundingClientRect();
      const middle = { x: (a.x + b.x) / 2 - box.left - box.width / 2, y: (a.y + b.y) / 2 - box.top - box.height / 2 };
      this.zoomBy((gesture.scale * distance) / gesture.distance / this.scale, middle);
      return;
    }
    const dx = event.clientX - gesture.startX;
    const dy = event.clientY - gesture.startY;
    gesture.moved = Math.max(gesture.moved, Math.hypot(dx, dy));
    if (gesture.kind === "pan") {
      this.x = gesture.x + dx;
      this.y = gesture.y + dy;
      this.clamp();
      this.apply();
      this.node.classList.add("is-panning");
    } else if (gesture.kind === "swipe" && Math.abs(dx) > Math.abs(dy)) {
      // Follow the finger a little so the swipe feels attached to it.
      this.frame.classList.add("is-dragging");
      this.apply(dx * 0.6);
    }
  }

  onPointerUp(event, cancelled = false) {
    if (!this.pointers.has(event.pointerId)) return;
    this.pointers.delete(event.pointerId);
    const gesture = this.gesture;
    this.node.classList.remove("is-panning");
    this.frame.classList.remove("is-dragging");
    if (this.pointers.size) {
      // One finger of a pinch lifted: carry on as a pan with the other.
      const [rest] = [...this.pointers.values()];
      this.gesture = { kind: "pan", startX: rest.x, startY: rest.y, x: this.x, y: this.y, moved: 99 };
      return;
    }
    this.gesture = null;
    this.node.classList.remove("is-gesture");
    if (!gesture || cancelled) {
      this.apply();
      return;
    }
    this.suppressClick = gesture.moved > 8 || gesture.kind === "pinch";
    if (gesture.kind === "swipe") {
      const dx = event.clientX - gesture.startX;
      const dy = event.clientY - gesture.startY;
      this.apply();
      if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy) * 1.2) {
        this.onSwipe?.(dx < 0 ? 1 : -1);
        return;
      }
    }
    if (event.pointerType === "touch" && gesture.moved < 10 && !this.focusMode) this.detectDoubleTap(event);
  }

  detectDoubleTap(event) {
    const now = performance.now();
    const last = this.lastTap;
    if (last && now - last.time < DOUBLE_TAP_MS && Math.hypot(event.clientX - last.x, event.clientY - last.y) < 40) {
      this.lastTap = null;
      this.toggleZoom(event);
    } else {
      this.lastTap = { time: now, x: event.clientX, y: event.clientY };
    }
  }

  // Focus point -------------------------------------------------------------------------------

  setFocusMode(on) {
    this.focusMode = on;
    this.node.classList.toggle("is-picking-focus", on);
    if (on) this.showFocus(this.asset?.focus, true);
    else this.showFocus(this.asset?.focus);
  }

  onClick(event) {
    if (this.suppressClick) {
      this.suppressClick = false;
      return;
    }
    if (!this.focusMode || !this.main) return;
    const box = this.frame.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width;
    const y = (event.clientY - box.top) / box.height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return;
    const point = { x: Math.round(x * 1000) / 1000, y: Math.round(y * 1000) / 1000 };
    this.showFocus(point, true);
    this.onFocusPick?.(point);
  }

  // The crosshair shows while the info panel or the focus mode asks for it.
  showFocus(point, visible = this.focusVisible) {
    this.focusVisible = visible;
    this.focusMarker.hidden = !(visible && point);
    if (point) {
      this.focusMarker.style.left = `${point.x * 100}%`;
      this.focusMarker.style.top = `${point.y * 100}%`;
    }
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.node.remove();
  }
}

// Warm the browser cache with a neighbour's preview so the next photo appears at once.
export function preload(asset) {
  if (!asset || asset.media === "video") return;
  const image = new Image();
  image.decoding = "async";
  image.src = assetUrl(asset.id, asset.media === "animation" ? "original" : "preview");
}
