// Per-project, per-model quota accounting. Google meters quota per project, so keys
// grouped into one project draw from the same counters.

import { formatDuration, quotaExceeded } from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";
import type { QuotaConfig, WindowQuota } from "./types.ts";

const DEFAULT_WINDOW_MS = 60_000;
/** Google's per-day RetryInfo says nothing about when the day ends; any plausible value will do. */
const DAY_RETRY_DELAY = "26s";

interface Limits {
  perDay?: number;
  perMinute?: WindowQuota;
  tokensPerMinute?: WindowQuota;
}

interface Usage {
  day: number;
  /** Arrival times of admitted requests, oldest first. */
  requests: number[];
  /** Arrival times and prompt tokens of admitted requests, oldest first. */
  tokens: { at: number; tokens: number }[];
}

export interface QuotaSubject {
  key: string;
  project: string | undefined;
  model: string;
  promptTokens: number;
}

function scopeOf(key: string, project: string | undefined): string {
  return project === undefined ? `key:${key}` : `project:${project}`;
}

function pruned<T>(entries: T[], at: (entry: T) => number, since: number): T[] {
  const first = entries.findIndex((entry) => at(entry) > since);
  return first === -1 ? [] : first === 0 ? entries : entries.slice(first);
}

export class QuotaLedger {
  #limits = new Map<string, Limits>();
  #usage = new Map<string, Usage>();

  reset(): void {
    this.#limits.clear();
    this.#usage.clear();
  }

  /** Merges into any limits already set for the same scope and model. */
  setLimits(config: QuotaConfig): void {
    const scope = config.project === undefined ? `key:${config.key ?? ""}` : `project:${config.project}`;
    const id = `${scope}|${config.model}`;
    const limits = this.#limits.get(id) ?? {};
    if (config.perDay !== undefined) limits.perDay = config.perDay;
    if (config.perMinute !== undefined) limits.perMinute = config.perMinute;
    if (config.tokensPerMinute !== undefined) limits.tokensPerMinute = config.tokensPerMinute;
    this.#limits.set(id, limits);
  }

  /** Checks every limit and, when none is hit, counts the request against them. */
  admit(subject: QuotaSubject, now = Date.now()): ErrorReply | null {
    const { key, project, model, promptTokens } = subject;
    const limits =
      (project === undefined ? undefined : this.#limits.get(`project:${project}|${model}`)) ??
      this.#limits.get(`key:${key}|${model}`);
    const usageId = `${scopeOf(key, project)}|${model}`;
    const usage = this.#usage.get(usageId) ?? { day: 0, requests: [], tokens: [] };
    this.#usage.set(usageId, usage);

    if (limits?.perDay !== undefined && usage.day >= limits.perDay) {
      return quotaExceeded({ kind: "day", model, limit: limits.perDay, retryDelay: DAY_RETRY_DELAY });
    }
    const minute = limits?.perMinute;
    if (minute !== undefined) {
      const windowMs = minute.windowMs ?? DEFAULT_WINDOW_MS;
      usage.requests = pruned(usage.requests, (at) => at, now - windowMs);
      const oldest = usage.requests[0];
      if (usage.requests.length >= minute.limit && oldest !== undefined) {
        const retryDelay = minute.retryDelay ?? formatDuration(oldest + windowMs - now);
        return quotaExceeded({ kind: "minute", model, limit: minute.limit, retryDelay });
      }
    }
    const tokens = limits?.tokensPerMinute;
    if (tokens !== undefined) {
      const windowMs = tokens.windowMs ?? DEFAULT_WINDOW_MS;
      usage.tokens = pruned(usage.tokens, (entry) => entry.at, now - windowMs);
      const used = usage.tokens.reduce((sum, entry) => sum + entry.tokens, 0);
      if (used + promptTokens > tokens.limit) {
        const oldest = usage.tokens[0]?.at ?? now;
        const retryDelay = tokens.retryDelay ?? formatDuration(oldest + windowMs - now);
        return quotaExceeded({ kind: "tokens", model, limit: tokens.limit, retryDelay });
      }
    }

    usage.day += 1;
    // Windows are only tracked while limited, so unlimited benchmark runs keep no history.
    if (minute !== undefined) usage.requests.push(now);
    if (tokens !== undefined) usage.tokens.push({ at: now, tokens: promptTokens });
    return null;
  }
}
