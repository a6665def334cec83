import type { DisabledBy, KeySource, VerifyOutcome } from "../admin-model";
import { quotaDay } from "../pacific-time";
import type { KeyStats, KeyStatus, ModelHealth, ModelStats } from "../stats-model";
import { EventLog } from "./event-log";
import type { SqlRunner } from "./sql";

// Every key's stats for today, and the pool's health per model: what /api/stats and
// the paged /api/keys are built from. One query per table, whatever the pool's size.

interface KeyRow extends Record<string, string | number | null> {
  id: string;
  masked: string;
  position: number;
  source: KeySource;
  added_at: number | null;
  disabled_reason: string | null;
  disabled_by: DisabledBy | null;
  disabled_at: number | null;
  verified_outcome: VerifyOutcome | null;
  verified_at: number | null;
  verified_message: string | null;
  last_used_at: number | null;
  grp: string | null;
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

export interface PoolKeyStats {
  keys: KeyStats[];
  models: Record<string, ModelHealth>;
  totals: { requests: number; promptTokens: number; outputTokens: number };
  counts: Record<KeyStatus, number>;
}

function keyStatus(disabled: boolean, models: ModelStats[]): KeyStatus {
  if (disabled) return "disabled";
  if (models.some((model) => model.state === "exhausted")) return "exhausted";
  if (models.some((model) => model.state === "cooling")) return "cooling";
  return "available";
}

const iso = (ms: number): string => new Date(ms).toISOString();

function keyStats(key: KeyRow, models: Record<string, ModelStats>, extra: Pick<KeyStats, "lastEvent">): KeyStats {
  const disabled = key.disabled_reason !== null;
  const requestsToday = Object.values(models).reduce((sum, model) => sum + model.requests, 0);
  return {
    id: key.id,
    masked: key.masked,
    position: key.position,
    status: keyStatus(disabled, Object.values(models)),
    ...(key.disabled_reason !== null && {
      disabledReason: key.disabled_reason,
      disabled: { by: key.disabled_by ?? "google", reason: key.disabled_reason, at: iso(key.disabled_at ?? 0) },
    }),
    source: key.source,
    ...(key.grp !== null && { group: key.grp }),
    ...(key.added_at !== null && { addedAt: iso(key.added_at) }),
    ...(key.verified_outcome !== null && {
      verification: {
        outcome: key.verified_outcome,
        at: iso(key.verified_at ?? 0),
        ...(key.verified_message !== null && { message: key.verified_message }),
      },
    }),
    requestsToday,
    ...(key.last_used_at !== null && { lastUsedAt: iso(key.last_used_at) }),
    ...(extra.lastEvent !== undefined && { lastEvent: extra.lastEvent }),
    models,
  };
}

/** The pool's health per model, counting each key once per model it was used for or marked on today. */
function modelHealth(keys: readonly KeyStats[], modelNames: ReadonlySet<string>): Record<string, ModelHealth> {
  const health: Record<string, ModelHealth> = {};
  for (const name of modelNames) {
    const entry: ModelHealth = { available: 0, cooling: 0, exhausted: 0, disabled: 0, requests: 0, promptTokens: 0, outputTokens: 0 };
    let nextFree = Infinity;
    for (const key of keys) {
      const model = key.models[name];
      if (model !== undefined) {
        entry.requests += model.requests;
        entry.promptTokens += model.promptTokens;
        entry.outputTokens += model.outputTokens;
      }
      if (key.status === "disabled") entry.disabled++;
      else if (model === undefined || model.state === "ok") entry.available++;
      else {
        entry[model.state]++;
        if (model.until !== undefined) nextFree = Math.min(nextFree, Date.parse(model.until));
      }
    }
    if (nextFree !== Infinity) entry.nextFreeAt = iso(nextFree);
    health[name] = entry;
  }
  return health;
}

export function buildKeyStats(sql: SqlRunner, now: number): PoolKeyStats {
  const keys = sql<KeyRow>(
    `SELECT id, masked, position, source, added_at, disabled_reason, disabled_by, disabled_at,
            verified_outcome, verified_at, verified_message, last_used_at, grp
     FROM keys ORDER BY position`,
  );
  const marks = sql<MarkRow>("SELECT key_id, model, kind, until, reason FROM marks WHERE until > ?", now);
  const usage = sql<UsageRow>(
    "SELECT key_id, model, requests, prompt_tokens, output_tokens FROM usage_daily WHERE day = ?",
    quotaDay(now),
  );
  const lastEvents = new EventLog(sql).latestPerKey();

  const perKey = new Map<string, Record<string, ModelStats>>(keys.map((key) => [key.id, {}]));
  const modelNames = new Set<string>();
  const totals = { requests: 0, promptTokens: 0, outputTokens: 0 };
  for (const row of usage) {
    totals.requests += row.requests;
    totals.promptTokens += row.prompt_tokens;
    totals.outputTokens += row.output_tokens;
    modelNames.add(row.model);
    const models = perKey.get(row.key_id);
    if (models === undefined) continue;
    models[row.model] = { requests: row.requests, promptTokens: row.prompt_tokens, outputTokens: row.output_tokens, state: "ok" };
  }
  for (const mark of marks) {
    const models = perKey.get(mark.key_id);
    if (models === undefined) continue;
    modelNames.add(mark.model);
    const stats = models[mark.model] ?? { requests: 0, promptTokens: 0, outputTokens: 0, state: "ok" };
    models[mark.model] = { ...stats, state: mark.kind, until: iso(mark.until), reason: mark.reason };
  }

  const counts: Record<KeyStatus, number> = { available: 0, cooling: 0, exhausted: 0, disabled: 0 };
  const stats = keys.map((key) => {
    const built = keyStats(key, perKey.get(key.id) ?? {}, { lastEvent: lastEvents.get(key.id) });
    counts[built.status]++;
    return built;
  });
  return { keys: stats, models: modelHealth(stats, modelNames), totals, counts };
}
