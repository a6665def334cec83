import { nextQuotaReset, quotaDay, quotaDayStart } from "../pacific-time";
import type { HistoryBucket, KeyStats, KeyStatus, ModelStats, StatsSnapshot } from "../stats-model";
import type { SqlRunner } from "./sql";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface KeyRow extends Record<string, string | number | null> {
  id: string;
  masked: string;
  position: number;
  disabled_reason: string | null;
}

interface MarkRow extends Record<string, string | number | null> {
  key_id: string;
  model: string;
  kind: "cooling" | "exhausted";
  until: number;
  reason: string;
}

interface UsageRow extends Record<string, string | number | null> {
  key_id: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  output_tokens: number;
}

interface BucketRow extends Record<string, string | number | null> {
  bucket: string | number;
  model: string;
  requests: number;
}

function keyStatus(disabled: boolean, models: ModelStats[]): KeyStatus {
  if (disabled) return "disabled";
  if (models.some((model) => model.state === "exhausted")) return "exhausted";
  if (models.some((model) => model.state === "cooling")) return "cooling";
  return "available";
}

function buckets(rows: BucketRow[], starts: (string | number)[], label: (start: string | number) => string): HistoryBucket[] {
  const byStart = new Map<string | number, Record<string, number>>(starts.map((start) => [start, {}]));
  for (const row of rows) {
    const models = byStart.get(row.bucket);
    if (models !== undefined) models[row.model] = (models[row.model] ?? 0) + row.requests;
  }
  return starts.map((start) => ({ start: label(start), models: byStart.get(start) ?? {} }));
}

export function buildSnapshot(sql: SqlRunner, now: number): StatsSnapshot {
  const today = quotaDay(now);
  const keys = sql<KeyRow>("SELECT id, masked, position, disabled_reason FROM keys ORDER BY position");
  const marks = sql<MarkRow>("SELECT key_id, model, kind, until, reason FROM marks WHERE until > ?", now);
  const usage = sql<UsageRow>(
    "SELECT key_id, model, requests, prompt_tokens, output_tokens FROM usage_daily WHERE day = ?",
    today,
  );

  const perKey = new Map<string, Record<string, ModelStats>>(keys.map((key) => [key.id, {}]));
  const totals = { requests: 0, promptTokens: 0, outputTokens: 0 };
  for (const row of usage) {
    totals.requests += row.requests;
    totals.promptTokens += row.prompt_tokens;
    totals.outputTokens += row.output_tokens;
    const models = perKey.get(row.key_id);
    if (models === undefined) continue;
    models[row.model] = {
      requests: row.requests,
      promptTokens: row.prompt_tokens,
      outputTokens: row.output_tokens,
      state: "ok",
    };
  }
  for (const mark of marks) {
    const models = perKey.get(mark.key_id);
    if (models === undefined) continue;
    const stats = models[mark.model] ?? { requests: 0, promptTokens: 0, outputTokens: 0, state: "ok" };
    models[mark.model] = { ...stats, state: mark.kind, until: new Date(mark.until).toISOString(), reason: mark.reason };
  }

  const counts: Record<KeyStatus, number> = { available: 0, cooling: 0, exhausted: 0, disabled: 0 };
  const keyStats: KeyStats[] = keys.map((key) => {
    const models = perKey.get(key.id) ?? {};
    const status = keyStatus(key.disabled_reason !== null, Object.values(models));
    counts[status]++;
    return {
      id: key.id,
      masked: key.masked,
      position: key.position,
      status,
      ...(key.disabled_reason === null ? {} : { disabledReason: key.disabled_reason }),
      models,
    };
  });

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
    keys: keyStats,
    history: {
      hourly: buckets(hourly, hourStarts, (start) => new Date(start).toISOString()),
      daily: buckets(daily, days, String),
    },
  };
}
