// cachedContents: create, get, list, patch (ttl / expireTime) and delete, per project.
// Contents are kept only as a token count: Google never returns them either.

import { badRequest, invalidJson, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { cacheJson, DEFAULT_CACHE_TTL_MS } from "./cache-records.ts";
import type { StoredCache } from "./cache-records.ts";
import { parseJson, sleep } from "./http-io.ts";
import { field } from "./json-access.ts";
import { bareModelName } from "./model-name.ts";
import { sendError, sendJson } from "./respond.ts";
import { cacheDenied, invalidPageToken } from "./resource-errors.ts";
import { durationMs, newResourceId, timestampMs } from "./resource-ids.ts";
import { pageOf } from "./resource-pages.ts";
import { referenceFault } from "./resource-refs.ts";
import type { ResourceRoute } from "./resource-routes.ts";
import { promptTokenCount } from "./tokens.ts";

/** Expiry from `ttl` ("300s") or `expireTime`; undefined when the body names neither, null when one is malformed. */
function expiryOf(body: unknown, now: number): number | null | undefined {
  const ttl = field(body, "ttl");
  const expireTime = field(body, "expireTime");
  if (ttl !== undefined) {
    const ms = durationMs(ttl);
    return ms === null ? null : now + ms;
  }
  if (expireTime !== undefined) return timestampMs(expireTime);
  return undefined;
}

async function create(ex: Exchange, route: ResourceRoute, body: unknown): Promise<void> {
  const model = field(body, "model");
  if (typeof model !== "string" || model === "") return sendError(ex, badRequest("CachedContent.model is required."));
  const bare = bareModelName(model);
  ex.entry.model = bare;
  const fault = referenceFault(ex.state.resources, route.caller.project, null, body);
  if (fault !== null) return sendError(ex, fault);
  const now = Date.now();
  const expiresAt = expiryOf(body, now);
  if (expiresAt === null) return sendError(ex, badRequest("Invalid ttl or expireTime."));
  const cache: StoredCache = {
    id: newResourceId(),
    project: route.caller.project,
    ownerKey: route.caller.key,
    createdAt: now,
    updatedAt: now,
    model: bare,
    expiresAt: expiresAt ?? now + DEFAULT_CACHE_TTL_MS,
    totalTokenCount: promptTokenCount(body),
  };
  const displayName = field(body, "displayName");
  if (typeof displayName === "string") cache.displayName = displayName;
  ex.state.resources.caches.add(cache);
  // Google creates the cache, then answers: a caller that leaves meanwhile does not undo it.
  await sleep(ex.state.shapeOf(bare).firstByteDelayMsByKey?.[route.caller.key] ?? 0, ex.signal);
  if (ex.signal.aborted) return;
  sendJson(ex, 200, cacheJson(cache));
}

export function handleCaches(ex: Exchange, route: ResourceRoute): void {
  const { caches, config } = ex.state.resources;
  const { method, id, verb, caller } = route;
  const parsed = parseJson(ex.body);
  if (!parsed.ok) return sendError(ex, invalidJson());
  if (verb !== undefined) return sendError(ex, routeNotFound(ex.url.pathname));
  if (id === undefined) {
    if (method === "POST") return void create(ex, route, parsed.value);
    if (method !== "GET") return sendError(ex, routeNotFound(ex.url.pathname));
    const page = pageOf(caches.list(caller.project), ex.url.searchParams, config.listPageSize);
    if (!page.ok) return sendError(ex, invalidPageToken());
    const body: { cachedContents: unknown[]; nextPageToken?: string } = { cachedContents: page.items.map(cacheJson) };
    if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
    return sendJson(ex, 200, body);
  }
  // Expired caches are gone: the same 403 as unknown or foreign ones.
  const cache = caches.owned(id, caller.project);
  if (cache === undefined) return sendError(ex, cacheDenied());
  switch (method) {
    case "GET":
      return sendJson(ex, 200, cacheJson(cache));
    case "DELETE":
      caches.delete(id);
      return sendJson(ex, 200, {});
    case "PATCH": {
      const now = Date.now();
      const expiresAt = expiryOf(parsed.value, now);
      if (expiresAt === null) return sendError(ex, badRequest("Invalid ttl or expireTime."));
      if (expiresAt !== undefined) cache.expiresAt = expiresAt;
      cache.updatedAt = now;
      return sendJson(ex, 200, cacheJson(cache));
    }
    default:
      return sendError(ex, routeNotFound(ex.url.pathname));
  }
}
