import { nextQuotaReset, quotaDay, quotaDayStart } from "../pacific-time";
import type { HistoryBucket, StatsSnapshot } from "../stats-model";
import { buildKeyStats } from "./key-stats";
import type { SqlRunner } from "./sql";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface BucketRow extends Record<string, string | number | null> {
  bucket: string | number;
  model: string;
  requests: number;
}

function buckets(rows: BucketRow[], starts: (string | number)[], label: (start: string | number) => string): HistoryBucket[] {
  const byStart = new Map<string | number, Record<string, number>>(starts.map((start) => [start, {}]));
  for (const row of rows) {
    const models = byStart.get(row.bucket);
    if (models !== undefined) models[row.model] = (models[row.model] ?? 0) + row.requests;
  }
  return starts.map((start) => ({ start: label(start), models: byStart.get(start) ?? {} }));
}

export function buildSnapshot(sql: SqlRunner, now: number): Omit<StatsSnapshot, "capacity"> {
  const today = quotaDay(now);
  const { keys, models, totals, counts } = buildKeyStats(sql, now);

  const thisHour = now - (now % HOUR_MS);
  const hourStarts = Array.from({ length: 24 }, (_, i) => thisHour - (23 - i) * HOUR_MS);
  const hourly = sql<BucketRow>(
    "SELECT hour AS bucket, model, requests FROM usage_hourly WHERE hour >= ?",
    hourStarts[0] ?? thisHour,
  );
  // Stepping back 24 h from today's Pacific noon lands on each earlier date exactly once:
  // daylight saving shifts the wall clock by an hour at most, never past midnight.
  const todayNoon = quotaDayStart(now) + 12 * HOUR_MS;
  const days = Array.from({ length: 30 }, (_, i) => quotaDay(todayNoon - (29 - i) * DAY_MS));
  const daily = sql<BucketRow>(
    "SELECT day AS bucket, model, SUM(requests) AS requests FROM usage_daily WHERE day >= ? GROUP BY day, model",
    days[0] ?? today,
  );

  return {
    generatedAt: new Date(now).toISOString(),
    quotaDay: today,
    nextResetAt: new Date(nextQuotaReset(now)).toISOString(),
    totals: { ...totals, keys: { total: keys.length, ...counts } },
    keys,
    models,
    history: {
      hourly: buckets(hourly, hourStarts, (start) => new Date(start).toISOString()),
      daily: buckets(daily, days, String),
    },
  };
}
