import type { StatsSnapshot } from "./stats-model";
import type { KeyFault } from "./upstream-outcome";

// The contract between a proxied request and the single source of truth about keys.
// One `acquire` per upstream attempt is the only call a request awaits; it also carries
// the verdict on the previous attempt, so a retry costs no extra round trip.

export interface AttemptFailure {
  keyId: string;
  /** null for requests not tied to a model (model lists, files): only key-level faults apply. */
  model: string | null;
  fault: KeyFault;
}

export interface AcquireRequest {
  model: string | null;
  /** Keys this request already tried. */
  exclude: string[];
  /** The outcome of this request's previous attempt, recorded before choosing. */
  failure?: AttemptFailure;
}

export type Lease =
  | { keyId: string }
  | {
      keyId: null;
      /** Why nothing is left: no keys configured, all disabled, all marked, or all tried already. */
      cause: "no-keys" | "disabled" | "exhausted" | "all-tried";
      /** When the earliest marked key frees up (epoch ms), for Retry-After. */
      freeAt: number | null;
      /** The next quota-day boundary (epoch ms). */
      resetAt: number;
    };

export interface UsageReport {
  keyId: string;
  model: string;
  promptTokens: number;
  outputTokens: number;
}

export interface KeyPool {
  acquire(request: AcquireRequest): Promise<Lease>;
  /** Counts a successful request; called off the critical path. */
  recordUsage(report: UsageReport): Promise<void>;
}

/** What the stats page and the daily reset need besides the request path. */
export interface KeyPoolAdmin {
  snapshot(): Promise<StatsSnapshot>;
  /** `day`: lift marks from before the current quota day (the cron); `all`: lift every mark and disable. */
  reset(scope: "day" | "all"): Promise<void>;
}
