import { errorResponse } from "../error-response";
import type { NativeRoute } from "../route";
import type { ProxyServices } from "../services";
import { clientHeaders, upstreamHeaders, upstreamUrl } from "../proxy/upstream-request";
import { describedResource } from "./created-resources";
import { field } from "../json-field";

// GET /{v}/files (and cachedContents, batches) asks one project; the pool spans many.
// The proxy asks every usable key and merges the pages; its page token records where
// each key's own listing stands, so paging on walks every key to its end.

type Cursor = Record<string, string>;

function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(token: string): Cursor | null {
  try {
    const parsed: unknown = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    const entries = Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string");
    return Object.fromEntries(entries);
  } catch {
    return null;
  }
}

interface Page {
  keyId: string;
  items: unknown[];
  field: string | null;
  next: string | null;
  response: Response | null;
}

async function listOne(route: NativeRoute, url: URL, headers: Headers, keyId: string, token: string, services: ProxyServices): Promise<Page> {
  const key = services.keyRing.byId(keyId);
  const failed = (response: Response | null): Page => ({ keyId, items: [], field: null, next: null, response });
  if (key === undefined) return failed(null);
  const pageUrl = new URL(url);
  pageUrl.searchParams.delete("pageToken");
  if (token !== "") pageUrl.searchParams.set("pageToken", token);
  try {
    const upstream = await fetch(upstreamUrl(route, services.config, pageUrl), {
      headers: upstreamHeaders(route, headers, key.secret),
      redirect: "manual",
    });
    if (!upstream.ok) {
      const text = services.keyRing.redact(await upstream.text());
      return failed(new Response(text, { status: upstream.status, headers: clientHeaders(upstream.headers, services.keyRing.redact) }));
    }
    const body = (await upstream.json()) as Record<string, unknown>;
    const field = Object.keys(body).find((name) => Array.isArray(body[name])) ?? null;
    const items = field === null ? [] : (body[field] as unknown[]);
    const next = typeof body.nextPageToken === "string" && body.nextPageToken !== "" ? body.nextPageToken : null;
    return { keyId, items, field, next, response: null };
  } catch {
    return failed(null);
  }
}

/** Keys of one Google project see the same files and caches: each is listed once. */
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

/** One list over every key of the pool; each listed item's owner is remembered on the way. */
export async function mergedList(route: NativeRoute, url: URL, headers: Headers, services: ProxyServices): Promise<Response> {
  const token = url.searchParams.get("pageToken");
  let cursor: Cursor;
  if (token === null || token === "") {
    cursor = Object.fromEntries((await services.pool.usableKeys()).map((id) => [id, ""]));
  } else {
    const decoded = decodeCursor(token);
    if (decoded === null) return errorResponse("gemini", 400, "Invalid pageToken: pass back the nextPageToken of a previous page.");
    cursor = decoded;
  }

  const pages = await Promise.all(Object.entries(cursor).map(([keyId, next]) => listOne(route, url, headers, keyId, next, services)));
  const answered = pages.filter((page) => page.response === null);
  if (answered.length === 0 && pages.length > 0) {
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

  const field = answered.find((page) => page.field !== null)?.field ?? route.resource.split("/")[0] ?? "items";
  const nextCursor = Object.fromEntries(answered.flatMap((page) => (page.next === null ? [] : [[page.keyId, page.next]])));
  const body: Record<string, unknown> = { [field]: distinctByName(answered.flatMap((page) => page.items)) };
  if (Object.keys(nextCursor).length > 0) body.nextPageToken = encodeCursor(nextCursor);
  // Built from bodies the proxy read whole, so masked like an error body.
  return new Response(services.keyRing.redact(JSON.stringify(body)), { headers: { "content-type": "application/json" } });
}
