// The shape of GET /api/stats, built by the key store and rendered by /stat.

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
}

export interface KeyStats {
  /** Fingerprint of the key: stable, not the key. */
  id: string;
  /** `AIza…x7Q2`. */
  masked: string;
  /** 1-based position in API_KEYS. */
  position: number;
  status: KeyStatus;
  disabledReason?: string;
  /** Today's models (and any model with an active mark). */
  models: Record<string, ModelStats>;
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
  history: { hourly: HistoryBucket[]; daily: HistoryBucket[] };
}

/** GET /api/stats: the snapshot plus what the page must know about the proxy itself. */
export interface StatsApiResponse extends StatsSnapshot {
  /** False while PROXY_API_KEY is unset: anyone who reaches the proxy can use it (the page warns). */
  proxyAuthEnabled: boolean;
}
