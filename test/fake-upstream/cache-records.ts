// Stored cachedContents and the CachedContent JSON Google returns (never the contents).

import type { Owned } from "./owned-store.ts";
import { timestamp } from "./resource-ids.ts";

/** Google's default TTL when a create names neither ttl nor expireTime. */
export const DEFAULT_CACHE_TTL_MS = 3_600_000;

export interface StoredCache extends Owned {
  /** Bare model name. */
  model: string;
  displayName?: string;
  expiresAt: number;
  updatedAt: number;
  totalTokenCount: number;
}

export interface CachedContentResource {
  name: string;
  model: string;
  displayName?: string;
  createTime: string;
  updateTime: string;
  expireTime: string;
  usageMetadata: { totalTokenCount: number };
}

export function cacheJson(cache: StoredCache): CachedContentResource {
  const resource: CachedContentResource = {
    name: `cachedContents/${cache.id}`,
    model: `models/${cache.model}`,
    createTime: timestamp(cache.createdAt),
    updateTime: timestamp(cache.updatedAt),
    expireTime: timestamp(cache.expiresAt),
    usageMetadata: { totalTokenCount: cache.totalTokenCount },
  };
  if (cache.displayName !== undefined) resource.displayName = cache.displayName;
  return resource;
}
