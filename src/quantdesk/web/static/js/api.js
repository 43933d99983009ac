// The public API, called the way any client would: JSON over fetch, a bearer access token
// kept in memory only, one refresh (from the httpOnly cookie) when it expires, and every
// error turned into an ApiError carrying the problem+json fields, so forms can show the
// API's own message next to the field it names.

export const API = "/api/v1";

/** An answer that was not 2xx: the problem document's fields, plus per-field messages. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    // "body.quantity" / "query.symbol" -> the last part, which forms use as field names.
    this.fields = {};
    for (const error of problem.errors || []) {
      const name = String(error.field || "").split(".").pop();
      if (name && !(name in this.fields)) this.fields[name] = error.msg;
    }
  }
}

let accessToken = null;
let refreshing = null;
const listeners = new Set();

/** Called with the new token (or null) whenever it changes: the stream re-authenticates. */
export function onToken(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function token() {
  return accessToken;
}

export function setToken(value) {
  accessToken = value;
  for (const listener of listeners) listener(value);
}

/** One refresh at a time; every caller that saw a 401 waits for the same one. */
export function refreshToken() {
  refreshing ??= (async () => {
    try {
      const response = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: "{}",
      });
      setToken(response.ok ? (await response.json()).access_token : null);
      return accessToken;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function query(params) {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function send(method, path, { params, body, retry = true, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${API}${path}${query(params)}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && accessToken) {
    if (await refreshToken()) return send(method, path, { params, body, raw, retry: false });
  }
  if (!response.ok) {
    let problem = { title: response.statusText };
    try {
      problem = await response.json();
    } catch {
      /* not JSON: keep the status text */
    }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const api = {
  get: (path, params) => send("GET", path, { params }),
  post: (path, body, params) => send("POST", path, { body: body ?? {}, params }),
  patch: (path, body) => send("PATCH", path, { body }),
  put: (path, body) => send("PUT", path, { body }),
  del: (path, params) => send("DELETE", path, { params }),
  raw: (path, params) => send("GET", path, { params, raw: true }),
};

/** Every page of a cursor-paginated list (`meta.next_cursor`), up to `limit` items. */
export async function getAll(path, params = {}, limit = 1000) {
  const items = [];
  let cursor;
  do {
    const page = await api.get(path, { ...params, cursor });
    items.push(...page.data);
    cursor = page.meta?.next_cursor;
  } while (cursor && items.length < limit);
  return items;
}
