// The wire side of uploading: multipart requests and resumable chunks over XMLHttpRequest
// (fetch cannot report upload progress), each answering with parsed JSON or a TransferError.
//
//   const report = await sendFiles(files, { signal, onProgress: (loaded, total) => … });
//   const result = await sendChunk(uploadId, offset, blob, { signal, onProgress });

import { readCookie, refreshSession } from "../api.js";

const CSRF_COOKIE = "meadhall_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const ASSETS_URL = "/api/library/assets";
const UPLOADS_URL = "/api/library/uploads";

// Why a transfer failed. `retryable` is true when trying the same bytes again later may work
// (the connection dropped, the server was busy or failing), false when the server refused them.
export class TransferError extends Error {
  constructor({ status = 0, code = "network_error", message, details = null }) {
    super(message || "Could not reach the server.");
    this.name = "TransferError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export function isAbort(error) {
  return Boolean(error) && error.name === "AbortError";
}

// The server's messages are sentence fragments ("the file is larger than …"): capitalise.
export function sentence(text) {
  const value = String(text || "").trim();
  return value ? value.charAt(0).toUpperCase() + value.slice(1) : "";
}

function abortError() {
  return new DOMException("The upload was cancelled.", "AbortError");
}

function parseBody(xhr) {
  try {
    return xhr.responseText ? JSON.parse(xhr.responseText) : null;
  } catch {
    return null;
  }
}

function errorFrom(xhr, body) {
  const error = body && body.error;
  return new TransferError({
    status: xhr.status,
    code: (error && error.code) || `http_${xhr.status}`,
    message: sentence(error && error.message) || `The server answered with HTTP ${xhr.status}.`,
    details: error ? error.details : null,
  });
}

// One request; resolves with the parsed JSON of a 2xx answer, rejects with a TransferError
// (or an AbortError when `signal` fires).
function xhrOnce(method, url, { body, headers = {}, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    const csrf = readCookie(CSRF_COOKIE);
    if (csrf) xhr.setRequestHeader(CSRF_HEADER, csrf);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
    }
    xhr.addEventListener("load", () => {
      done();
      const parsed = parseBody(xhr);
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body: parsed });
      else reject(errorFrom(xhr, parsed));
    });
    xhr.addEventListener("error", () => {
      done();
      reject(new TransferError({ message: "The connection was lost." }));
    });
    xhr.addEventListener("timeout", () => {
      done();
      reject(new TransferError({ message: "The server took too long to answer." }));
    });
    xhr.addEventListener("abort", () => {
      done();
      reject(abortError());
    });
    xhr.send(body);
  });
}

// Access tokens live minutes; a long upload can outlive one. A 401 renews the session once
// and sends the request again.
async function xhrRequest(method, url, options) {
  try {
    return await xhrOnce(method, url, options);
  } catch (error) {
    if (!(error instanceof TransferError) || error.status !== 401) throw error;
    if (!(await refreshSession())) throw error;
    return xhrOnce(method, url, options);
  }
}

// POST /api/library/assets with these files in one multipart request; the answer has one
// outcome per file, in the order sent.
export function sendFiles(files, { signal, onProgress } = {}) {
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  return xhrRequest("POST", ASSETS_URL, { body: form, signal, onProgress });
}

// PATCH one chunk of a resumable upload at `offset`.
export function sendChunk(uploadId, offset, blob, { signal, onProgress } = {}) {
  return xhrRequest("PATCH", `${UPLOADS_URL}/${uploadId}`, {
    body: blob,
    headers: { "Content-Type": "application/octet-stream", "Upload-Offset": String(offset) },
    signal,
    onProgress,
  });
}

// Wait `ms` (or until `wake()` is called or `signal` fires). Returns the waker so callers can
// cut a backoff short when the browser comes back online.
export function pause(ms, signal) {
  let wake = () => {};
  const promise = new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const timer = window.setTimeout(finish, ms);
    function finish() {
      window.clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
      resolve();
    }
    function cancel() {
      window.clearTimeout(timer);
      reject(abortError());
    }
    signal?.addEventListener("abort", cancel, { once: true });
    wake = finish;
  });
  return { promise, wake: () => wake() };
}
