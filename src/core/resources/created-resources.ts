import type { NativeRoute } from "../route";
import { field } from "../json-field";

// What a successful response says was created, and how long the ownership record is
// worth keeping: as long as the resource itself lives.

const HOUR_MS = 3_600_000;
/** Google deletes uploaded files after 48 hours. */
const FILE_LIFETIME_MS = 48 * HOUR_MS;
/** Caches default to a one-hour TTL when no expireTime is given. */
const CACHE_LIFETIME_MS = HOUR_MS;
/** A batch may run for up to a day and its results stay available for days after. */
const BATCH_LIFETIME_MS = 7 * 24 * HOUR_MS;

export interface CreatedResource {
  name: string;
  expiresAt: number;
}

function expiry(resource: unknown, now: number): number {
  for (const name of ["expirationTime", "expireTime"]) {
    const value = field(resource, name);
    const at = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isFinite(at)) return at;
  }
  return now;
}

/** The resource a listed or fetched item names, with its lifetime; null if it names none. */
export function describedResource(item: unknown, now: number): CreatedResource | null {
  const name = field(item, "name");
  if (typeof name !== "string") return null;
  const [collection] = name.split("/");
  const fallback =
    collection === "files" ? FILE_LIFETIME_MS : collection === "cachedContents" ? CACHE_LIFETIME_MS : BATCH_LIFETIME_MS;
  const stated = expiry(item, now);
  return { name, expiresAt: stated > now ? stated : now + fallback };
}

/** Does a successful response to this request create something that belongs to its key? */
export function createsResource(route: NativeRoute, method: string): boolean {
  if (method !== "POST") return false;
  if (route.upload) return true;
  if (route.resource === "cachedContents") return true;
  return route.action === "batchGenerateContent" || route.action === "asyncBatchEmbedContent" || route.action === "predictLongRunning";
}

/** The resource a creating response names (`{"file":{...}}` for uploads, the resource itself otherwise). */
export function createdResource(body: unknown, now: number): CreatedResource | null {
  return describedResource(field(body, "file") ?? body, now);
}
