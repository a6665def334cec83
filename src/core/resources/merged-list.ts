import { errorResponse } from "../error-response";
import type { NativeRoute } from "../route";
import type { ProxyServices } from "../services";
import { clientHeaders, upstreamHeaders, upstreamUrl } from "../proxy/upstream-request";
import { CONNECTION_LIMIT } from "../proxy/subrequest-budget";
import { resolveKey } from "../ring-refresh";
import { classifyUpstream } from "../upstream-outcome";
import { describedResource } from "./created-resources";
import { field } from "../json-field";

// GET /{v}/files (and cachedContents, batches) asks one project; the pool spans many.
// The proxy walks the pool's keys in order, each key's listing to its end before the
// next, a few keys at a time (at most CONNECTION_LIMIT at once, within the request's
// subrequest budget), and merges what it got into one page. The page token is just where
// the walk stands: a key and that key's own page token. It stays small whatever the
// pool's size, and a page costs a bounded number of subrequests.

interface Cursor {
  /** The key whose listing the next page continues. */
  keyId: string;
  /** That key's own page token; empty to start its listing. */
  token: string;
  /** Redirects (307) that led to this page since the client last got items. */
  hops?: number;
}

/** Subrequests a page leaves for the key manager call that records what it listed. */
const PAGE_RESERVE = 1;
/**
 * Redirects one list call is sent through at most. HTTP clients follow about 20 (fetch,
 * httpx) and then fail with no word of why; past this the client gets an error that says.
 */
export const MAX_LIST_REDIRECTS = 18;

function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify({ k: cursor.keyId, t: cursor.token, ...(cursor.hops !== undefined && cursor.hops > 0 && { h: cursor.hops }) });
  return btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(token: string): Cursor | null {
  try {
    const parsed: unknown = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
    const keyId = field(parsed, "k");
    const next = field(parsed, "t");
    const hops = field(parsed, "h");
    if (typeof keyId !== "string" || typeof next !== "string") return null;
    return { keyId, token: next, hops: typeof hops === "number" && Number.isInteger(hops) && hops > 0 ? hops : 0 };
  } catch {
    return null;
  }
}

interface Page {
  keyId: string;
  /** The key's own page token it was asked for. */
  token: string;
  items: unknown[];
  field: string | null;
  next: string | null;
  response: Response | null;
  /**
   * The key could not list now (a 429, a 5xx, a broken connection, a refused request): the
   * walk stops at it instead of passing it by, or its items would be missing from the list
   * without a word. Only a key Google no longer accepts, or one the pool no longer has, is
   * passed by.
   */
  stop: boolean;
}

async function listOne(route: NativeRoute, url: URL, headers: Headers, keyId: string, token: string, services: ProxyServices): Promise<Page> {
  const key = await resolveKey(services, keyId);
  const failed = (response: Response | null, stop: boolean): Page => ({ keyId, token, items: [], field: null, next: null, response, stop });
  if (key === undefined) return failed(null, false);
  const pageUrl = new URL(url);
  pageUrl.searchParams.delete("pageToken");
  if (token !== "") pageUrl.searchParams.set("pageToken", token);
  try {
    const upstream = await fetch(upstreamUrl(route, services.config, pageUrl), {
      headers: upstreamHeaders(route, headers, key.secret),
      redirect: "manual",
    });
    if (!upstream.ok) {
      const raw = await upstream.text();
      const text = services.keyRing.redact(raw);
      const response = new Response(text, { status: upstream.status, headers: clientHeaders(upstream.headers, services.keyRing.redact) });
      return failed(response, classifyUpstream(upstream.status, raw).kind !== "key-disabled");
    }
    const body = (await upstream.json()) as Record<string, unknown>;
    const field = Object.keys(body).find((name) => Array.isArray(body[name])) ?? null;
    const items = field === null ? [] : (body[field] as unknown[]);
    const next = typeof body.nextPageToken === "string" && body.nextPageToken !== "" ? body.nextPageToken : null;
    return { keyId, token, items, field, next, response: null, stop: false };
  } catch {
    return failed(null, true);
  }
}

/** Keys of one Google project see the same files and caches: each is listed once per page. */
function distinctByName(items: unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const name = field(item, "name");
    if (typeof name !== "string") return true;
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

/** Where in the pool's key order a cursor resumes: its key, or the next one in API_KEYS if it left the pool. */
function resumeAt(keys: readonly string[], cursor: Cursor, services: ProxyServices): number | null {
  const exact = keys.indexOf(cursor.keyId);
  if (exact !== -1) return exact;
  const position = services.keyRing.byId(cursor.keyId)?.position;
  if (position === undefined) return null;
  const later = keys.findIndex((id) => (services.keyRing.byId(id)?.position ?? 0) > position);
  return later === -1 ? keys.length : later;
}

interface Walk {
  pages: Page[];
  next: Cursor | null;
  /** The page of the key the walk stopped at because it could not list now. */
  stopped?: Page;
}

/**
 * Lists keys from `start` on, up to CONNECTION_LIMIT at a time, until a key has more
 * pages (the walk stops in it), a key cannot list now (the walk stops at it), the page
 * holds `pageSize` items, or the budget is spent. Pages of keys after the one it stopped
 * in or at are dropped: the next page lists them again.
 */
async function walk(keys: readonly string[], start: Cursor, wanted: number, list: (keyId: string, token: string) => Promise<Page>, services: ProxyServices): Promise<Walk> {
  const pages: Page[] = [];
  let index = keys.indexOf(start.keyId);
  let token = start.token;
  let items = 0;
  while (index < keys.length) {
    const count = services.budget.available(Math.min(CONNECTION_LIMIT, keys.length - index), PAGE_RESERVE);
    const wave = keys.slice(index, index + count);
    const keyId = keys[index];
    if (wave.length === 0 || keyId === undefined || (pages.length > 0 && items >= wanted)) {
      return { pages, next: keyId === undefined ? null : { keyId, token } };
    }
    services.budget.take(wave.length, PAGE_RESERVE);
    const answers = await Promise.all(wave.map((id, offset) => list(id, offset === 0 ? token : "")));
    for (const page of answers) {
      if (page.stop) return { pages, next: { keyId: page.keyId, token: page.token }, stopped: page };
      pages.push(page);
      items += page.items.length;
      if (page.next !== null) return { pages, next: { keyId: page.keyId, token: page.next } };
    }
    index += wave.length;
    token = "";
  }
  return { pages, next: null };
}

/**
 * A page that found nothing in the keys its budget reached, with keys still to list. An
 * empty page with a nextPageToken is something Google does not send, and the official
 * SDK's pager yields `undefined` for it; a redirect to the next page instead makes the
 * client's HTTP stack ask again, which starts a new invocation with a fresh budget.
 */
function continueAt(url: URL, token: string): Response {
  const next = new URL(url);
  next.searchParams.set("pageToken", token);
  return new Response(null, { status: 307, headers: { location: next.toString(), "cache-control": "no-store" } });
}

/** One list over every key of the pool; each listed item's owner is remembered on the way. */
export async function mergedList(route: NativeRoute, url: URL, headers: Headers, services: ProxyServices): Promise<Response> {
  const keys = await services.pool.usableKeys();
  const pageToken = url.searchParams.get("pageToken");
  let start: Cursor | null = keys[0] === undefined ? null : { keyId: keys[0], token: "" };
  let hops = 0;
  if (pageToken !== null && pageToken !== "") {
    const cursor = decodeCursor(pageToken);
    const index = cursor === null ? null : resumeAt(keys, cursor, services);
    if (cursor === null || index === null) {
      return errorResponse("gemini", 400, "Invalid pageToken: pass back the nextPageToken of a previous page.");
    }
    const keyId = keys[index];
    start = keyId === undefined ? null : { keyId, token: keyId === cursor.keyId ? cursor.token : "" };
    hops = cursor.hops ?? 0;
  }

  const collection = route.resource.split("/")[0] ?? "items";
  if (start === null) return Response.json({ [collection]: [] });
  const pageSize = Number(url.searchParams.get("pageSize"));
  const wanted = Number.isInteger(pageSize) && pageSize > 0 ? pageSize : Infinity;
  const { pages, next, stopped } = await walk(keys, start, wanted, (keyId, token) => listOne(route, url, headers, keyId, token, services), services);

  if (stopped !== undefined && pages.every((page) => page.items.length === 0)) {
    // Nothing gathered before a key that cannot list now: its answer, for the client to retry.
    return stopped.response ?? errorResponse("gemini", 502, "A key of the pool could not be reached to list this collection; try again shortly.");
  }
  if (pages.length === 0) {
    return errorResponse("gemini", 503, `SUBREQUEST_LIMIT (${services.budget.limit}) leaves no subrequest to list a key with; raise it.`);
  }
  const answered = pages.filter((page) => page.response === null);
  if (answered.length === 0) {
    const failure = pages.find((page) => page.response !== null)?.response;
    if (failure) return failure;
    return errorResponse("gemini", 502, "No key of the pool could list this collection; try again shortly.");
  }

  const now = Date.now();
  const ownership = answered.flatMap((page) =>
    page.items.flatMap((item) => {
      const resource = describedResource(item, now);
      return resource === null ? [] : [{ ...resource, keyId: page.keyId }];
    }),
  );
  if (ownership.length > 0) services.waitUntil(services.pool.recordOwnership(ownership));

  const listField = answered.find((page) => page.field !== null)?.field ?? collection;
  const items = distinctByName(answered.flatMap((page) => page.items));
  if (items.length === 0 && next !== null) {
    if (hops >= MAX_LIST_REDIRECTS) {
      const reached = keys.indexOf(next.keyId);
      return errorResponse(
        "gemini",
        503,
        `Listing ${collection} found nothing in the first ${reached} of the pool's ${keys.length} keys after ${hops} redirects, ` +
          `about as many as HTTP clients follow. Each redirect lists as many keys as SUBREQUEST_LIMIT (${services.budget.limit}) allows: ` +
          `raise it on a paid plan to list more keys per redirect.`,
      );
    }
    return continueAt(url, encodeCursor({ ...next, hops: hops + 1 }));
  }
  const body: Record<string, unknown> = { [listField]: items };
  if (next !== null) body.nextPageToken = encodeCursor(next);
  // Built from bodies the proxy read whole, so masked like an error body.
  return new Response(services.keyRing.redact(JSON.stringify(body)), { headers: { "content-type": "application/json" } });
}
