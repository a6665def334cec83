import { QUOTA_WINDOWS } from "../quota-limits";
import type { KeyStats, ModelCapacity, QuotaLimitStats, StatsSnapshot } from "../stats-model";
import type { QuotaOracle } from "./choose-key";
import type { PoolState } from "./pool-state";
import type { QuotaBook } from "./quota-book";

// What the stats add from the quota counts: per key (its group's) limits and what is left,
// and per model how much the pool can still do today.

export function withQuotaStats(
  snapshot: Omit<StatsSnapshot, "capacity">,
  state: PoolState,
  quota: QuotaBook,
  oracle: QuotaOracle,
  now: number,
): StatsSnapshot {
  const keys: KeyStats[] = snapshot.keys.map((key) => {
    const scope = state.scopeOf(key.id);
    const models = Object.fromEntries(
      Object.entries(key.models).map(([model, stats]) => {
        const entry = quota.get(scope, model);
        const limits: Partial<Record<(typeof QUOTA_WINDOWS)[number], QuotaLimitStats>> = {};
        for (const window of QUOTA_WINDOWS) {
          const known = entry?.known[window];
          if (known !== undefined) limits[window] = { value: known.value, source: known.source, at: new Date(known.at).toISOString() };
        }
        return Object.keys(limits).length === 0 ? [model, stats] : [model, { ...stats, limits, remaining: quota.remaining(scope, model, now) }];
      }),
    );
    return { ...key, models };
  });

  const enabled = state.keys().filter((key) => !key.disabled);
  const scopes = [...new Set(enabled.map((key) => key.scope))];
  const entries = quota.entries(now);
  const models = new Set([...entries.map((entry) => entry.model), ...state.marks(now).map((mark) => mark.model)]);
  const capacity: Record<string, ModelCapacity> = {};
  for (const model of models) {
    let requestsToday = 0;
    let dailyLimit: number | null = null;
    let remainingToday: number | null = null;
    let groupsWithDailyLimit = 0;
    let minuteRemaining: number | null = null;
    for (const entry of entries) if (entry.model === model) requestsToday += entry.dayRequests;
    for (const scope of scopes) {
      const left = quota.remaining(scope, model, now);
      const perDay = quota.get(scope, model)?.limits.rpd;
      if (perDay !== undefined) {
        groupsWithDailyLimit++;
        dailyLimit = (dailyLimit ?? 0) + perDay;
        remainingToday = (remainingToday ?? 0) + (left.rpd ?? 0);
      }
      if (left.rpm !== undefined) minuteRemaining = (minuteRemaining ?? 0) + left.rpm;
    }
    const candidates = state.candidates(model, now).map((row) => {
      const blocked = oracle.blockedUntil(row.id, model, now);
      return blocked === null ? row.until : Math.max(row.until ?? 0, blocked);
    });
    const keysUsableNow = candidates.filter((until) => until === null).length;
    const waits = candidates.filter((until): until is number => until !== null);
    capacity[model] = {
      requestsToday,
      dailyLimit,
      remainingToday,
      groups: scopes.length,
      groupsWithDailyLimit,
      minuteRemaining,
      keysUsableNow,
      ...(keysUsableNow === 0 && waits.length > 0 && { nextFreeAt: new Date(Math.min(...waits)).toISOString() }),
    };
  }
  return { ...snapshot, keys, capacity };
}
