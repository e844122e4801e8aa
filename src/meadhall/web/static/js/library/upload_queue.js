// The upload queue: every file picked or dropped becomes an item that moves through
//
//   waiting → checking (hash, "do you have this?") → uploading ⇄ retrying → processing → done
//                                      ↘ duplicate            ↘ failed / cancelled
//
// Small files travel a few at a time in one multipart request; large ones through the
// resumable API, chunk by chunk, resuming from the server's offset after a cut. The queue is
// an EventTarget: "change" (detail {item} — or {} when items were added or removed) for the
// panel, "uploaded" (detail {asset}) for every asset created, "processed" (detail {id, status})
// once the server has made its thumbnails.

import { api } from "../api.js";
import { live } from "../live.js";
import { formatBytes, viewer } from "../ui.js";
import { TransferError, isAbort, pause, sendChunk, sendFiles, sentence } from "./upload_transfer.js";

const MB = 1024 * 1024;
const CONCURRENCY = 3;
// Larger files go through the resumable API (as do files larger than one server chunk):
// below this a lost request costs little to send again, above it resuming pays off.
const RESUMABLE_FROM = 8 * MB;
const CHUNK_BYTES = 8 * MB;
// Small files share a multipart request, up to this many and this many bytes.
const BATCH_FILES = 4;
const BATCH_BYTES = 8 * MB;
// SubtleCrypto hashes a whole buffer at once (it cannot stream), so hashing means holding the
// file in memory: only files up to this size are checked for duplicates before sending. One
// file is hashed at a time. Larger ones upload unchecked; the server still reports them as
// duplicates when they complete.
const HASH_MAX = 64 * MB;
const EXISTS_BATCH = 50;
// Waits between attempts after a lost connection or a failing server; then the item fails
// (and can be retried by hand).
const RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000];
// When the gateway has said nothing about a processed asset after this long, ask the API.
const PROCESSING_POLL_MS = 5000;
const PROCESSING_POLL_BATCH = 10;
// An unfinished resumable upload is remembered this long (the server keeps it for a day).
const RESUME_KEEP_MS = 20 * 60 * 60 * 1000;

export const ACTIVE_STATES = new Set(["waiting", "checking", "uploading", "retrying"]);
export const FINISHED_STATES = new Set(["done", "duplicate", "failed", "cancelled"]);

let lastItemId = 0;

export class UploadItem {
  constructor(file) {
    lastItemId += 1;
    this.id = lastItemId;
    this.file = file;
    this.name = file.name || "Untitled";
    this.size = file.size;
    this.state = "waiting";
    this.sent = 0;
    this.error = null;
    this.retryable = false;
    this.sha256 = null;
    this.checked = false;
    this.hashTried = false;
    this.assetId = null;
    this.duplicateOf = null;
    this.uploadId = null;
    this.controller = null;
    this.processingSince = 0;
  }

  get progress() {
    if (this.state === "done" || this.state === "processing" || this.state === "duplicate") return 1;
    return this.size > 0 ? Math.min(1, this.sent / this.size) : 0;
  }
}

function retryable(error) {
  if (error instanceof TransferError) return error.retryable;
  const status = error && Number.isFinite(error.status) ? error.status : -1;
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function reason(error) {
  if (error && error.message) return sentence(error.message);
  return "Something went wrong. Try again.";
}

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Unfinished resumable uploads by file (name, size, modification time), so picking the same
// file again after a reload continues where it stopped.
class ResumeStore {
  constructor(userId) {
    this.key = `meadhall.uploads.${userId || "anonymous"}`;
  }

  read() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(this.key) || "{}");
      const now = Date.now();
      return Object.fromEntries(Object.entries(stored).filter(([, value]) => value && now - value.at < RESUME_KEEP_MS));
    } catch {
      return {};
    }
  }

  write(entries) {
    try {
      if (Object.keys(entries).length) window.localStorage.setItem(this.key, JSON.stringify(entries));
      else window.localStorage.removeItem(this.key);
    } catch {
      // Private browsing or a full storage: resuming after a reload is a nicety.
    }
  }

  static fingerprint(item) {
    return [item.name, item.size, item.file.lastModified || 0].join("|");
  }

  get(item) {
    const entry = this.read()[ResumeStore.fingerprint(item)];
    return entry ? entry.id : null;
  }

  set(item, uploadId) {
    this.write({ ...this.read(), [ResumeStore.fingerprint(item)]: { id: uploadId, at: Date.now() } });
  }

  forget(item) {
    const entries = this.read();
    delete entries[ResumeStore.fingerprint(item)];
    this.write(entries);
  }
}

export class UploadQueue extends EventTarget {
  constructor({ userId = viewer.userId } = {}) {
    super();
    this.items = [];
    this.running = 0;
    this.hashing = false;
    this.limits = null;
    this.limitsLoading = null;
    this.resume = new ResumeStore(userId);
    this.userId = userId;
    this.processing = new Map();
    this.liveOff = null;
    this.pollTimer = null;
    this.wakers = new Set();
    window.addEventListener("online", () => this.wakeAll());
  }

  // Whether files are still on their way (what a page leaving now would lose).
  get busy() {
    return this.items.some((item) => ACTIVE_STATES.has(item.state));
  }

  counts() {
    const counts = { total: this.items.length, active: 0, waiting: 0, processing: 0, done: 0, duplicate: 0, failed: 0, cancelled: 0, retryableFailed: 0 };
    let bytes = 0;
    let sent = 0;
    for (const item of this.items) {
      if (ACTIVE_STATES.has(item.state)) counts.active += 1;
      if (item.state === "waiting" || item.state === "checking") counts.waiting += 1;
      if (item.state in counts) counts[item.state] += 1;
      if (item.state === "failed" && item.retryable) counts.retryableFailed += 1;
      if (item.state === "failed" || item.state === "cancelled") continue;
      bytes += item.size;
      sent += item.size * item.progress;
    }
    counts.bytes = bytes;
    counts.sent = sent;
    counts.progress = bytes > 0 ? sent / bytes : counts.total ? 1 : 0;
    return counts;
  }

  // Public actions -------------------------------------------------------------------------

  async add(files) {
    const items = Array.from(files || [], (file) => new UploadItem(file));
    if (!items.length) return items;
    this.items.push(...items);
    this.emit();
    const limits = await this.loadLimits();
    for (const item of items) {
      if (limits && item.size > limits.upload_max_bytes) {
        this.fail(item, `Too large: ${formatBytes(item.size)}, the limit is ${formatBytes(limits.upload_max_bytes)}`, false);
      }
    }
    this.pump();
    return items;
  }

  cancel(item) {
    if (!ACTIVE_STATES.has(item.state)) return;
    item.state = "cancelled";
    item.error = null;
    // Aborting a shared multipart request puts its other files back in the queue.
    if (item.controller) item.controller.abort();
    if (item.uploadId) {
      api.delete(`/api/library/uploads/${item.uploadId}`).catch(() => {});
      item.uploadId = null;
      this.resume.forget(item);
    }
    this.emit(item);
    this.pump();
  }

  cancelAll() {
    for (const item of [...this.items]) this.cancel(item);
  }

  retry(item) {
    if (item.state !== "failed") return;
    item.state = "waiting";
    item.error = null;
    item.sent = 0;
    this.emit(item);
    this.pump();
  }

  retryFailed() {
    for (const item of this.items) if (item.state === "failed" && item.retryable) this.retry(item);
  }

  clearFinished() {
    const kept = this.items.filter((item) => !FINISHED_STATES.has(item.state));
    if (kept.length === this.items.length) return;
    this.items = kept;
    this.emit();
  }

  // Limits ---------------------------------------------------------------------------------

  async loadLimits() {
    if (this.limits) return this.limits;
    if (!this.limitsLoading) {
      this.limitsLoading = api
        .get("/api/library/limits")
        .then((limits) => {
          this.limits = limits;
          return limits;
        })
        // Without the limits the server still refuses what is too large; try again next time.
        .catch(() => null)
        .finally(() => {
          this.limitsLoading = null;
        });
    }
    return this.limitsLoading;
  }

  get chunkBytes() {
    const serverMax = this.limits ? this.limits.upload_chunk_max_bytes : CHUNK_BYTES;
    return Math.min(serverMax, CHUNK_BYTES);
  }

  isLarge(item) {
    return item.size > Math.min(RESUMABLE_FROM, this.chunkBytes);
  }

  // Scheduling -----------------------------------------------------------------------------

  emit(item = null) {
    this.dispatchEvent(new CustomEvent("change", { detail: item ? { item } : {} }));
  }

  fail(item, error, canRetry = retryable(error)) {
    item.state = "failed";
    item.error = typeof error === "string" ? error : reason(error);
    item.retryable = canRetry;
    this.emit(item);
  }

  ready(item) {
    return item.state === "waiting" && item.checked;
  }

  pump() {
    this.runHasher();
    while (this.running < CONCURRENCY) {
      const batch = this.nextBatch();
      if (!batch) break;
      this.running += 1;
      this.run(batch).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  nextBatch() {
    const first = this.items.find((item) => this.ready(item));
    if (!first) return null;
    if (this.isLarge(first)) return [first];
    const maxFiles = Math.min(BATCH_FILES, this.limits ? this.limits.upload_max_files : BATCH_FILES);
    const batch = [first];
    let bytes = first.size;
    for (const item of this.items) {
      if (batch.length >= maxFiles) break;
      if (item === first || !this.ready(item) || this.isLarge(item)) continue;
      if (bytes + item.size > BATCH_BYTES) continue;
      batch.push(item);
      bytes += item.size;
    }
    return batch;
  }

  async run(items) {
    const controller = new AbortController();
    for (const item of items) {
      item.controller = controller;
      item.state = "uploading";
      item.sent = 0;
      item.error = null;
      this.emit(item);
    }
    try {
      if (items.length === 1 && this.isLarge(items[0])) await this.runResumable(items[0], controller.signal);
      else await this.runMultipart(items, controller.signal);
    } catch (error) {
      for (const item of items) {
        if (isAbort(error)) {
          if (item.state !== "cancelled") {
            item.state = "waiting";
            item.sent = 0;
            this.emit(item);
          }
        } else if (ACTIVE_STATES.has(item.state)) {
          this.fail(item, error);
        }
      }
    } finally {
      for (const item of items) if (item.controller === controller) item.controller = null;
    }
  }

  // A pause after a lost connection, cut short when the browser comes back online.
  async backoff(items, attempt, signal) {
    for (const item of items) {
      item.state = "retrying";
      this.emit(item);
    }
    const wait = pause(RETRY_DELAYS[attempt], signal);
    this.wakers.add(wait.wake);
    try {
      await wait.promise;
    } finally {
      this.wakers.delete(wait.wake);
    }
    for (const item of items) {
      item.state = "uploading";
      this.emit(item);
    }
  }

  wakeAll() {
    for (const wake of [...this.wakers]) wake();
  }

  // Duplicate check ------------------------------------------------------------------------

  canHash(item) {
    return Boolean(globalThis.crypto && crypto.subtle) && item.size > 0 && item.size <= HASH_MAX;
  }

  async runHasher() {
    if (this.hashing) return;
    this.hashing = true;
    let batch = [];
    try {
      for (;;) {
        const item = this.items.find((candidate) => candidate.state === "waiting" && !candidate.checked && !candidate.hashTried);
        if (!item) break;
        item.hashTried = true;
        if (!this.canHash(item)) {
          item.checked = true;
          this.pump();
          continue;
        }
        item.state = "checking";
        this.emit(item);
        try {
          item.sha256 = await sha256Hex(item.file);
          batch.push(item);
        } catch {
          if (item.state === "checking") this.fail(item, "Could not read the file.", false);
          continue;
        }
        if (batch.length >= EXISTS_BATCH || this.starving() || !this.moreToHash()) {
          await this.checkExisting(batch);
          batch = [];
        }
      }
      if (batch.length) await this.checkExisting(batch);
    } finally {
      this.hashing = false;
    }
  }

  moreToHash() {
    return this.items.some((item) => item.state === "waiting" && !item.checked && !item.hashTried);
  }

  // The uploaders have nothing to do: hand over what is hashed rather than wait for more.
  starving() {
    return this.items.filter((item) => this.ready(item)).length < CONCURRENCY;
  }

  async checkExisting(batch) {
    const hashes = [...new Set(batch.map((item) => item.sha256))];
    let existing = {};
    try {
      existing = (await api.post("/api/library/assets/exists", { sha256: hashes })).existing || {};
    } catch {
      // The server deduplicates on arrival too; the check only saves sending the bytes.
    }
    for (const item of batch) {
      item.checked = true;
      if (item.state !== "checking") continue;
      const found = existing[item.sha256];
      if (found) {
        item.state = "duplicate";
        item.duplicateOf = found;
      } else {
        item.state = "waiting";
      }
      this.emit(item);
    }
    this.pump();
  }

  // Multipart ------------------------------------------------------------------------------

  async runMultipart(items, signal) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { body } = await sendFiles(
          items.map((item) => item.file),
          { signal, onProgress: (loaded, total) => this.spread(items, loaded, total) },
        );
        this.applyReport(items, body);
        return;
      } catch (error) {
        if (isAbort(error) || !retryable(error) || attempt >= RETRY_DELAYS.length) throw error;
        for (const item of items) item.error = reason(error);
        await this.backoff(items, attempt, signal);
        for (const item of items) item.sent = 0;
      }
    }
  }

  // A multipart body carries the files one after another: share the progress out in order.
  spread(items, loaded, total) {
    const size = items.reduce((sum, item) => sum + item.size, 0);
    let remaining = total > 0 ? (loaded / total) * size : 0;
    for (const item of items) {
      item.sent = Math.max(0, Math.min(item.size, remaining));
      remaining -= item.size;
      this.emit(item);
    }
  }

  applyReport(items, report) {
    const outcomes = (report && report.files) || [];
    items.forEach((item, index) => {
      if (item.state === "cancelled") return;
      const outcome = outcomes[index];
      if (!outcome) this.fail(item, "The server did not report on this file.", true);
      else if (outcome.status === "created" && outcome.asset) this.created(item, outcome.asset);
      else if (outcome.status === "duplicate") this.duplicate(item, outcome.duplicate_of);
      else {
        const error = outcome.error || {};
        this.fail(item, reason(error), retryable(error));
      }
    });
  }

  created(item, asset) {
    item.sent = item.size;
    item.assetId = asset.id;
    item.state = asset.status === "pending" ? "processing" : "done";
    this.emit(item);
    this.dispatchEvent(new CustomEvent("uploaded", { detail: { asset } }));
    if (item.state === "processing") this.watch(item);
  }

  duplicate(item, assetId) {
    item.sent = item.size;
    item.state = "duplicate";
    item.duplicateOf = assetId;
    this.emit(item);
  }

  // Resumable ------------------------------------------------------------------------------

  async runResumable(item, signal) {
    // undefined: the upload is yet to be opened; null: ask the server where it stands.
    let offset = item.uploadId ? null : undefined;
    let failures = 0;
    let restarted = false;
    while (item.state === "uploading") {
      try {
        if (offset === undefined) offset = await this.openUpload(item, signal);
        else if (offset === null) offset = await this.serverOffset(item, signal);
        if (offset === "complete") return;
        const start = offset;
        const end = Math.min(item.size, start + this.chunkBytes);
        item.sent = start;
        this.emit(item);
        const { body } = await sendChunk(item.uploadId, start, item.file.slice(start, end), {
          signal,
          onProgress: (loaded) => {
            item.sent = start + Math.min(loaded, end - start);
            this.emit(item);
          },
        });
        failures = 0;
        if (body.complete) {
          this.resume.forget(item);
          item.uploadId = null;
          if (body.asset) this.created(item, body.asset);
          else this.duplicate(item, body.duplicate_of);
          return;
        }
        offset = body.offset;
      } catch (error) {
        if (isAbort(error)) throw error;
        const details = (error && error.details) || {};
        if (error.status === 409 && Number.isFinite(details.offset)) {
          // Someone (an earlier attempt whose answer was lost) got further: continue there.
          if (details.asset_id) return this.finishedEarlier(item, details.asset_id);
          offset = details.offset;
          continue;
        }
        if ((error.status === 404 || error.status === 410) && item.uploadId && !restarted) {
          // The server forgot the upload (expired, cleaned up): start it over, once.
          restarted = true;
          this.resume.forget(item);
          item.uploadId = null;
          offset = undefined;
          continue;
        }
        if (!retryable(error) || failures >= RETRY_DELAYS.length) {
          // A refused file (unsupported, checksum) was discarded by the server.
          if (!retryable(error)) {
            this.resume.forget(item);
            item.uploadId = null;
          }
          throw error;
        }
        item.error = reason(error);
        await this.backoff([item], failures, signal);
        failures += 1;
        offset = item.uploadId ? null : undefined;
      }
    }
  }

  async openUpload(item, signal) {
    const saved = this.resume.get(item);
    if (saved) {
      try {
        const upload = await api.get(`/api/library/uploads/${saved}`, { signal });
        if (!upload.complete) {
          item.uploadId = upload.id;
          return upload.offset;
        }
      } catch (error) {
        if (isAbort(error)) throw error;
      }
      this.resume.forget(item);
    }
    const body = { filename: item.name, size_bytes: item.size };
    if (item.sha256) body.sha256 = item.sha256;
    const upload = await api.post("/api/library/uploads", body, { signal });
    item.uploadId = upload.id;
    this.resume.set(item, upload.id);
    return upload.offset;
  }

  async serverOffset(item, signal) {
    const upload = await api.get(`/api/library/uploads/${item.uploadId}`, { signal });
    if (upload.complete && upload.asset_id) {
      await this.finishedEarlier(item, upload.asset_id);
      return "complete";
    }
    return upload.offset;
  }

  // The last chunk arrived but its answer was lost: the asset exists, fetch it.
  async finishedEarlier(item, assetId) {
    this.resume.forget(item);
    item.uploadId = null;
    try {
      this.created(item, await api.get(`/api/library/assets/${assetId}`));
    } catch {
      item.sent = item.size;
      item.assetId = assetId;
      item.state = "done";
      this.emit(item);
    }
  }

  // Processing -----------------------------------------------------------------------------

  watch(item) {
    item.processingSince = Date.now();
    this.processing.set(String(item.assetId), item);
    if (!this.liveOff && this.userId) {
      this.liveOff = live.on(`library:${this.userId}`, (frame) => this.onLibraryEvent(frame));
    }
    if (!this.pollTimer) this.pollTimer = window.setInterval(() => this.pollProcessing(), PROCESSING_POLL_MS);
  }

  onLibraryEvent(frame) {
    const data = frame.data || {};
    const item = this.processing.get(String(data.id));
    if (!item) return;
    if (frame.event === "asset.deleted" || (data.status && data.status !== "pending")) this.processed(item, data.status || "ready");
  }

  processed(item, status) {
    this.processing.delete(String(item.assetId));
    if (item.state === "processing") {
      item.state = "done";
      this.emit(item);
    }
    this.dispatchEvent(new CustomEvent("processed", { detail: { id: item.assetId, status } }));
    if (!this.processing.size && this.pollTimer) {
      window.clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  // The gateway may be down or reconnecting; a slow poll makes sure nothing stays "processing".
  async pollProcessing() {
    const due = [...this.processing.values()]
      .filter((item) => Date.now() - item.processingSince >= PROCESSING_POLL_MS)
      .slice(0, PROCESSING_POLL_BATCH);
    await Promise.all(
      due.map(async (item) => {
        try {
          const asset = await api.get(`/api/library/assets/${item.assetId}`, { redirect: false });
          if (asset.status !== "pending") this.processed(item, asset.status);
        } catch (error) {
          if (error && error.status === 404) this.processed(item, "deleted");
        }
      }),
    );
  }
}
