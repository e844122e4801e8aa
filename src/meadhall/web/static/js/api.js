// The JSON API client every page uses.
//
// - bodies go out and come back as JSON;
// - failures become an ApiError built from the server's error envelope
//   {"error": {"code", "message", "request_id", "details"}};
// - state-changing requests echo the meadhall_csrf cookie in X-CSRF-Token (double submit);
// - a 401 on a signed-in call renews the session once (POST /api/auth/refresh) and retries;
//   when that fails too, the browser goes to the sign-in page and comes back afterwards.

const CSRF_COOKIE = "meadhall_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor({ status, code, message, details = null, requestId = null }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  // Seconds to wait before trying again, when the server said so (HTTP 429).
  get retryAfter() {
    const value = this.details && this.details.retry_after;
    return Number.isFinite(value) ? Math.max(1, Math.ceil(value)) : null;
  }

  // {fieldName: message} from a validation error's details, for inline messages.
  get fieldErrors() {
    const fields = {};
    if (!Array.isArray(this.details)) return fields;
    for (const item of this.details) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const name = loc.length > 1 && loc[0] === "body" ? String(loc[1]) : null;
      if (name && !(name in fields)) fields[name] = cleanMessage(item.msg);
    }
    return fields;
  }
}

function cleanMessage(text) {
  const message = String(text || "").replace(/^Value error, /, "");
  return message ? message.charAt(0).toUpperCase() + message.slice(1) : "";
}

export function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

// Whether this browser has (or recently had) a session that a refresh might renew.
export function hasSessionHint() {
  return readCookie(CSRF_COOKIE) !== null;
}

function headersFor(method, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const csrf = readCookie(CSRF_COOKIE);
  if (csrf && !SAFE_METHODS.has(method)) headers[CSRF_HEADER] = csrf;
  return headers;
}

async function send(method, path, body, signal) {
  try {
    return await fetch(path, {
      method,
      credentials: "same-origin",
      headers: headersFor(method, body),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError({
      status: 0,
      code: "network_error",
      message: "Could not reach the server. Check your connection and try again.",
    });
  }
}

async function parse(response) {
  if (response.status === 204 || response.status === 205) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok) return data;
  const error = data && data.error;
  throw new ApiError({
    status: response.status,
    code: (error && error.code) || "http_" + response.status,
    message: cleanMessage(error && error.message) || `The server answered with HTTP ${response.status}.`,
    details: error ? error.details : null,
    requestId: (error && error.request_id) || response.headers.get("x-request-id"),
  });
}

let refreshing = null;

// Renew the session from the refresh cookie; resolves to the new tokens ({access_token, user,
// ...}) or null. Concurrent callers share one attempt.
export function refreshSession() {
  if (!refreshing) {
    refreshing = send("POST", "/api/auth/refresh", {})
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export function loginUrl(next = location.pathname + location.search) {
  return "/login?next=" + encodeURIComponent(next).replace(/%2F/g, "/");
}

// options.auth: false for calls that are not made as a signed-in user (sign-in itself,
//   registration, password reset): their 401 is an answer, not an expired session.
// options.redirect: false to get the ApiError instead of leaving for the sign-in page.
export async function request(method, path, { body, auth = true, redirect = true, signal } = {}) {
  let response = await send(method, path, body, signal);
  if (response.status === 401 && auth) {
    if (await refreshSession()) response = await send(method, path, body, signal);
    if (response.status === 401 && redirect) {
      location.assign(loginUrl());
    }
  }
  return parse(response);
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  delete: (path, options) => request("DELETE", path, options),
};
