// Ways files reach the upload queue: the Upload button (any [data-action="upload"] on the
// page, also ones added later), the "u" key, and files or folders dropped anywhere on the
// window (a full-window overlay says where they will go).

import { el, icon } from "../ui.js";

const ACCEPT = "image/*,video/*,.heic,.heif,.avif,.mkv,.mov,.webm";
const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";

function carriesFiles(event) {
  return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
}

function fileOf(entry) {
  return new Promise((resolve) => entry.file(resolve, () => resolve(null)));
}

// A directory reader hands out its entries in batches until an empty one.
async function childrenOf(directory) {
  const reader = directory.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((resolve) => reader.readEntries(resolve, () => resolve([])));
    if (!batch.length) return children;
    children.push(...batch);
  }
}

// Files of a dropped entry; folders recurse, skipping hidden files (.DS_Store and friends) that
// would only fail as unsupported.
async function collect(entry, into) {
  if (entry.name.startsWith(".")) return;
  if (entry.isFile) {
    const file = await fileOf(entry);
    if (file) into.push(file);
  } else if (entry.isDirectory) {
    for (const child of await childrenOf(entry)) await collect(child, into);
  }
}

// The entries must be taken from the DataTransfer during the drop event itself: it is emptied
// as soon as the handler returns.
function droppedFiles(transfer) {
  const entries = [];
  const loose = [];
  for (const item of Array.from(transfer.items || [])) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry && entry.isDirectory) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (!transfer.items || !transfer.items.length) loose.push(...Array.from(transfer.files || []));
  return (async () => {
    const files = [...loose];
    for (const entry of entries) await collect(entry, files);
    return files;
  })();
}

function buildOverlay() {
  const overlay = el(
    "div",
    { class: "upload-drop", "data-upload-drop": true, hidden: true, "aria-hidden": "true" },
    el(
      "div",
      { class: "upload-drop__inner" },
      icon("upload", "icon upload-drop__icon"),
      el("p", { class: "upload-drop__title" }, "Drop photos to upload"),
      el("p", { class: "upload-drop__hint" }, "Photos and videos, or whole folders"),
    ),
  );
  document.body.append(overlay);
  return overlay;
}

export function bindUploadInputs(queue) {
  const input = el("input", { type: "file", multiple: true, accept: ACCEPT, hidden: true, tabindex: "-1", "data-upload-input": true });
  input.addEventListener("change", () => {
    queue.add(input.files);
    // Picking the same file again must fire "change" again.
    input.value = "";
  });
  document.body.append(input);
  const pick = () => input.click();

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-action="upload"]') : null;
    if (!button) return;
    event.preventDefault();
    pick();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "u" && event.key !== "U") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || event.defaultPrevented) return;
    if (event.target instanceof Element && event.target.closest(TYPING)) return;
    // Not over a dialog or the full-screen viewer: the key means something else there.
    if (document.querySelector("dialog[open], [data-viewer]")) return;
    event.preventDefault();
    pick();
  });
  // A mark that the picker, the key and drop are wired (tests wait on it).
  input.dataset.ready = "true";

  const overlay = buildOverlay();
  // dragenter/dragleave fire for every element crossed; count them to know when the drag
  // has left the window.
  let depth = 0;
  const hide = () => {
    depth = 0;
    overlay.hidden = true;
  };
  window.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  window.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0 || event.relatedTarget === null) hide();
  });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    hide();
    droppedFiles(event.dataTransfer).then((files) => queue.add(files));
  });
  return { pick };
}
