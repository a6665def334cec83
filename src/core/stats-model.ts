import type { QuotaWindow } from "./quota-limits";

// The shape of GET /api/stats, built by the key store and rendered by /stat.

import type { DisabledBy, KeyChangeRefusal, KeySource, PoolEvent, Role, Verification } from "./admin-model";

export type ModelState = "ok" | "cooling" | "exhausted";

/**
 * disabled: the key is refused upstream (invalid, suspended) for every model.
 * exhausted: some model is out for the day; cooling: some model waits out a per-minute limit.
 */
export type KeyStatus = "available" | "cooling" | "exhausted" | "disabled";

export interface ModelStats {
  requests: number;
  promptTokens: number;
  outputTokens: number;
  state: ModelState;
  /** When a cooling or exhausted mark ends (ISO 8601). */
  until?: string;
  /** The upstream's reason for the mark, with every pool key masked. */
  reason?: string;
  /** The quota limits that apply to the key's group for this model: rpm, rpd (requests), tpm (input tokens). */
  limits?: Partial<Record<QuotaWindow, QuotaLimitStats>>;
  /** What is left of each known limit right now (the group's, shared by its keys). */
  remaining?: Partial<Record<QuotaWindow, number>>;
}

export interface QuotaLimitStats {
  value: number;
  /** Learned from a Google 429, or set by the operator (PUT /api/limits; wins). */
  source: "learned" | "set";
  /** When (ISO 8601). */
  at: string;
}

/** One model across the pool, today. */
export interface ModelCapacity {
  /** Requests served today, every key. */
  requestsToday: number;
  /** Sum of the known per-day limits of the groups that have an enabled key; null while none is known. */
  dailyLimit: number | null;
  /** What those groups have left today; null while no per-day limit is known. */
  remainingToday: number | null;
  /** Groups (projects) with an enabled key, and how many of them have a known per-day limit. */
  groups: number;
  groupsWithDailyLimit: number;
  /** Sum of what is left in the current minute window of the groups with a known per-minute limit. */
  minuteRemaining: number | null;
  /** Keys that could take a request for the model now. */
  keysUsableNow: number;
  /** When the first key frees up, while none is usable (ISO 8601). */
  nextFreeAt?: string;
}

export interface KeyStats {
  /** Fingerprint of the key: stable, not the key. */
  id: string;
  /** `AIza…x7Q2`. */
  masked: string;
  /** 1-based position in API_KEYS; keys added at runtime come after them. */
  position: number;
  status: KeyStatus;
  disabledReason?: string;
  source: KeySource;
  /** When a runtime key was added (ISO 8601). */
  addedAt?: string;
  disabled?: { by: DisabledBy; reason: string; at: string };
  /** The last verification's outcome. */
  verification?: Verification;
  requestsToday: number;
  lastUsedAt?: string;
  lastEvent?: PoolEvent;
  /**
   * The project group: from `group:key` in API_KEYS, or given through the admin API for a
   * runtime key. Keys without one are a group of their own.
   */
  group?: string;
  /** Today's models (and any model with an active mark). */
  models: Record<string, ModelStats>;
}

/** GET /api/keys: one page of the filtered, sorted key table. */
export interface KeyListPage {
  total: number;
  offset: number;
  limit: number;
  keys: KeyStats[];
  /** Every group of the pool (whatever the filter) with its number of keys, by name: the page's group filter. */
  groups: { name: string; keys: number }[];
}

/** The answer to a change of one key: the key as it is now, or why nothing changed. */
export type KeyAnswer = { key: KeyStats } | KeyChangeRefusal;

/** The pool's health for one model today: how many keys can serve it, and when the next frees up. */
export interface ModelHealth {
  available: number;
  cooling: number;
  exhausted: number;
  disabled: number;
  requests: number;
  promptTokens: number;
  outputTokens: number;
  /** When the first cooling or exhausted key frees up for this model (ISO 8601). */
  nextFreeAt?: string;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  outputTokens: number;
}

export interface HistoryBucket {
  /** Hour start (ISO 8601) for hourly buckets, Pacific quota day (YYYY-MM-DD) for daily ones. */
  start: string;
  /** Requests per model in that bucket. */
  models: Record<string, number>;
}

export interface StatsSnapshot {
  generatedAt: string;
  /** The current Pacific quota day. */
  quotaDay: string;
  /** Next midnight America/Los_Angeles (ISO 8601). */
  nextResetAt: string;
  totals: UsageTotals & { keys: Record<KeyStatus, number> & { total: number } };
  keys: KeyStats[];
  /** Per model seen today (used or marked). */
  models: Record<string, ModelHealth>;
  history: { hourly: HistoryBucket[]; daily: HistoryBucket[] };
  /** Per model: how much the pool can still do today, as far as the limits are known. */
  capacity: Record<string, ModelCapacity>;
}

/** GET /api/stats: the snapshot plus what the page must know about the proxy itself. */
export interface StatsApiResponse extends StatsSnapshot {
  /** False while PROXY_API_KEY is unset: anyone who reaches the proxy can use it (the page warns). */
  proxyAuthEnabled: boolean;
  /** The caller's role; `adminTokenSet` says whether ADMIN_API_KEY separates admins from viewers. */
  access: { role: Role; adminTokenSet: boolean };
}
