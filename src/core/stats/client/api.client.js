// Calls to the proxy's /api/* from the page. The session cookie rides along (same
// origin). Answers come back as { status, body }, or as an ApiError carrying the
// server's own message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The server's own words for an error body in the proxy's JSON error shape, else the status. */
function errorMessage(status, body) {
  const message = body?.error?.message;
  return typeof message === "string" && message !== "" ? message : `HTTP ${status}`;
}

/** The body as JSON; null for an empty or non-JSON one (a proxy in front may answer HTML). */
function parseJson(text) {
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

async function call(method, path, body) {
  const init = { method, headers: { accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  return { status: response.status, body: parseJson(await response.text()) };
}

/**
 * A 401 means the session ended (logout elsewhere, token rotated, session revoked):
 * reloading shows the login form. True when it reloads.
 */
export function reloadIfSignedOut(error) {
  if (!(error instanceof ApiError) || error.status !== 401) return false;
  location.reload();
  return true;
}

/** GET that must succeed: the parsed body, or an ApiError with the server's message. */
export async function getJson(path) {
  const { status, body } = await call("GET", path);
  if (status < 200 || status > 299) throw new ApiError(status, errorMessage(status, body));
  return body;
}

/** A change (POST/DELETE); 2xx and 409 (a job already running) come back, others throw. */
export async function send(method, path, body) {
  const result = await call(method, path, body);
  if ((result.status < 200 || result.status > 299) && result.status !== 409) {
    throw new ApiError(result.status, errorMessage(result.status, result.body));
  }
  return result;
}

/** `/path?a=1&b=2`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text === "" ? path : `${path}?${text}`;
}
