import type { EventInput, EventKind, Role } from "../admin-model";
import type { AcquireRequest, AttemptFailure, Lease, Ownership, UsageReport } from "../key-pool";
import { nextQuotaReset, quotaDay, quotaDayStart } from "../pacific-time";
import type { StatsSnapshot } from "../stats-model";
import { markFor, type Mark, type MarkKind } from "./cooldown";
import { EventLog } from "./event-log";
import { KeyChanges } from "./key-changes";
import { migrate } from "./migrations";
import type { SqlRunner } from "./sql";
import { PoolState, type Candidate } from "./pool-state";
import { buildKeyStats, type PoolKeyStats } from "./key-stats";
import { buildSnapshot } from "./snapshot";
import { VerifyJobs } from "./verify-jobs";

export interface StoredKey {
  id: string;
  masked: string;
  position: number;
}

const HOUR_MS = 3_600_000;
const MARK_EVENTS: Record<"quota-day" | "quota-minute" | "quota-unknown", EventKind> = {
  "quota-day": "quota-day",
  "quota-minute": "quota-minute",
  "quota-unknown": "cooldown",
};
const DAILY_HISTORY_DAYS = 35;
const HOURLY_HISTORY_MS = 48 * HOUR_MS;
/** Models tracked for least-recently-used order; beyond this the oldest model is forgotten. */
const MAX_LRU_MODELS = 256;
/**
 * Ownership rows kept at most; beyond this the records that expire first go. A row is a
 * name (at most ~300 bytes, checked below) and two numbers, so this bounds the table to a few MB.
 */
export const MAX_OWNERSHIP_ROWS = 10_000;
const MAX_RESOURCE_NAME_LENGTH = 300;
/** Marks left over from a fault: a strike older than this no longer escalates a cooldown. */
const STRIKE_MEMORY_MS = 15 * 60_000;

interface UsageTotals {
  requests: number;
  promptTokens: number;
  outputTokens: number;
}

function counted(totals: UsageTotals | undefined, report: UsageReport): UsageTotals {
  return {
    requests: (totals?.requests ?? 0) + 1,
    promptTokens: (totals?.promptTokens ?? 0) + report.promptTokens,
    outputTokens: (totals?.outputTokens ?? 0) + report.outputTokens,
  };
}

/**
 * Key state and usage over SQLite. Every method is synchronous: within a Durable Object
 * each call runs to completion before the next, so choosing a key and marking it is atomic.
 */
export class KeyStore {
  readonly #sql: SqlRunner;
  /** model → key id → when it was last handed out, as a tick. Ordering only, so memory is enough. */
  readonly #lastUsed = new Map<string, Map<string, number>>();
  #tick = 0;
  readonly #state: PoolState;
  readonly events: EventLog;
  /** Runtime keys, operator and verification changes: call reloadState() after using it. */
  readonly changes: KeyChanges;
  readonly jobs: VerifyJobs;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
    migrate(sql);
    this.#state = new PoolState(sql);
    this.events = new EventLog(sql);
    this.changes = new KeyChanges(sql, this.events);
    this.jobs = new VerifyJobs(sql);
  }

  /** Rereads the in-memory key state after `changes` changed keys. */
  reloadState(): void {
    this.#state.reload();
  }

  /**
   * Makes the stored pool match API_KEYS: new keys join, removed ones leave, kept ones
   * keep their state. Keys added at runtime stay, after the API_KEYS keys.
   */
  syncKeys(keys: readonly StoredKey[]): void {
    const wanted = new Set(keys.map((key) => key.id));
    for (const { id } of this.#sql<{ id: string }>("SELECT id FROM keys WHERE source = 'env'")) {
      if (!wanted.has(id)) {
        this.#sql("DELETE FROM keys WHERE id = ?", id);
        this.#sql("DELETE FROM marks WHERE key_id = ?", id);
      }
    }
    for (const key of keys) {
      // A runtime key that now also sits in API_KEYS becomes an API_KEYS key.
      this.#sql(
        `INSERT INTO keys (id, position, masked, source) VALUES (?, ?, ?, 'env')
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, masked = excluded.masked, source = 'env'`,
        key.id,
        key.position,
        key.masked,
      );
      this.#sql("DELETE FROM runtime_secrets WHERE key_id = ?", key.id);
    }
    // Runtime keys keep their positions unless API_KEYS grew into them: then they move past the end.
    let last = Math.max(keys.length, ...this.#sql<{ position: number }>("SELECT position FROM keys").map((row) => row.position));
    for (const { id } of this.#sql<{ id: string }>(
      "SELECT id FROM keys WHERE source = 'runtime' AND position <= ? ORDER BY position",
      keys.length,
    )) {
      this.#sql("UPDATE keys SET position = ? WHERE id = ?", ++last, id);
    }
    this.#state.reload();
  }

  acquire(request: AcquireRequest, now: number): Lease {
    if (request.failure !== undefined) this.recordFailure(request.failure, now);
    const rows = this.#state.candidates(request.model, now);
    const excluded = new Set(request.exclude);
    const lastUsed = this.#lastUsedFor(request.model ?? "");
    const resetAt = nextQuotaReset(now);

    const { keys: owners, inferred } = this.#owners(request, now);
    if (owners.length > 1) return { keyId: null, cause: "mixed-owners", freeAt: null, resetAt };
    if (owners.length === 1) {
      const owner = rows.find((row) => row.id === owners[0]);
      if (owner === undefined) return { keyId: null, cause: "owner-unavailable", freeAt: null, resetAt };
      if (owner.until !== null) return { keyId: null, cause: "exhausted", freeAt: owner.until, resetAt, pinned: true };
      if (excluded.has(owner.id)) return { keyId: null, cause: "all-tried", freeAt: null, resetAt, pinned: true };
      lastUsed.set(owner.id, ++this.#tick);
      return { keyId: owner.id, pinned: true, ...(inferred && { inferred }) };
    }

    let best: Candidate | undefined;
    for (const row of rows) {
      if (row.until !== null || excluded.has(row.id)) continue;
      if (best === undefined || this.#usedBefore(row, best, lastUsed)) best = row;
    }
    if (best !== undefined) {
      lastUsed.set(best.id, ++this.#tick);
      return { keyId: best.id, pinned: false };
    }
    // Keys this request already tried count too: their marks say when to come back.
    const marked = rows.filter((row) => row.until !== null);
    const freeAt = marked.length === 0 ? null : Math.min(...marked.map((row) => row.until ?? Infinity));
    const cause =
      marked.length > 0 ? "exhausted" : rows.length > 0 ? "all-tried" : this.#state.keyCount > 0 ? "disabled" : "no-keys";
    return { keyId: null, cause, freeAt, resetAt, ...(cause === "disabled" && { disabled: this.changes.disabledCounts() }) };
  }

  /**
   * Stores owners; an owner learned from use never overwrites one learned from a
   * creation. The table stays within MAX_OWNERSHIP_ROWS whatever clients send.
   */
  recordOwnership(entries: readonly Ownership[], now: number): void {
    for (const { name, keyId, expiresAt, inferred } of entries.slice(0, MAX_OWNERSHIP_ROWS)) {
      if (typeof name !== "string" || name.length > MAX_RESOURCE_NAME_LENGTH) continue;
      this.#sql(
        `INSERT INTO resources (name, key_id, expires_at, inferred) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, expires_at = excluded.expires_at, inferred = excluded.inferred
         WHERE resources.inferred = 1 OR excluded.inferred = 0`,
        name,
        keyId,
        expiresAt,
        inferred === true ? 1 : 0,
      );
    }
    const rows = this.#sql<{ count: number }>("SELECT COUNT(*) AS count FROM resources")[0]?.count ?? 0;
    if (rows > MAX_OWNERSHIP_ROWS) {
      this.#sql("DELETE FROM resources WHERE expires_at <= ?", now);
      this.#sql(
        `DELETE FROM resources WHERE name IN
           (SELECT name FROM resources ORDER BY expires_at LIMIT max(0, (SELECT COUNT(*) FROM resources) - ?))`,
        MAX_OWNERSHIP_ROWS,
      );
    }
  }

  forgetResources(names: readonly string[]): void {
    for (const name of names) this.#sql("DELETE FROM resources WHERE name = ?", name);
  }

  usableKeys(): string[] {
    return this.#state.enabledKeys();
  }

  /**
   * The distinct keys the request is bound to by its own say-so or by the resources it
   * uses, and whether all of that binding was only inferred from earlier use.
   */
  #owners(request: AcquireRequest, now: number): { keys: string[]; inferred: boolean } {
    const owners = new Set<string>();
    let inferred = true;
    if (request.owner !== undefined) {
      owners.add(request.owner);
      inferred = false;
    }
    for (const name of request.resources ?? []) {
      const owner = this.#sql<{ key_id: string; inferred: number }>(
        "SELECT key_id, inferred FROM resources WHERE name = ? AND expires_at > ?",
        name,
        now,
      )[0];
      if (owner === undefined || (owner.inferred === 1 && request.searchInferred)) continue;
      owners.add(owner.key_id);
      if (owner.inferred === 0) inferred = false;
    }
    return { keys: [...owners], inferred: owners.size > 0 && inferred };
  }

  recordFailure({ keyId, model, fault, status }: AttemptFailure, now: number): void {
    if (fault.kind === "key-disabled") {
      if (this.changes.disableByGoogle(keyId, fault.reason, status, now)) this.#state.disable(keyId);
      return;
    }
    // A quota fault on a request without a model cannot be pinned to one; nothing to mark.
    if (model === null) return;
    const previous = this.#sql<{ kind: MarkKind; until: number; strikes: number; marked_at: number }>(
      "SELECT kind, until, strikes, marked_at FROM marks WHERE key_id = ? AND model = ?",
      keyId,
      model,
    )[0];
    // A running mark always counts; an ended one only while its strikes are remembered.
    const recent: Mark | undefined =
      previous !== undefined && (previous.until > now || now - previous.marked_at < STRIKE_MEMORY_MS) ? previous : undefined;
    const mark = markFor(fault, recent, now);
    if (mark === recent) return;
    this.#sql(
      `INSERT INTO marks (key_id, model, kind, until, reason, strikes, marked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, model) DO UPDATE SET kind = excluded.kind, until = excluded.until,
         reason = excluded.reason, strikes = excluded.strikes, marked_at = excluded.marked_at`,
      keyId,
      model,
      mark.kind,
      mark.until,
      this.events.stored(fault.reason),
      mark.strikes,
      now,
    );
    this.#state.mark(keyId, model, mark.until);
    this.events.record({ kind: MARK_EVENTS[fault.kind], keyId, model, status: status ?? 429, message: fault.reason }, now);
  }

  /** Failures that mark nothing (5xx, timeouts) but belong in a key's history. */
  recordEvents(events: readonly EventInput[], now: number): void {
    for (const event of events) this.events.record(event, now);
  }

  /** Counts served requests: one upsert per day, key and model and per hour and model in the batch. */
  recordUsage(reports: readonly UsageReport[], now: number): void {
    const daily = new Map<string, UsageTotals & { day: string; keyId: string; model: string; lastAt: number }>();
    const hourly = new Map<string, UsageTotals & { hour: number; model: string }>();
    for (const report of reports) {
      const { keyId, model, at } = report;
      const day = quotaDay(at);
      const hour = at - (at % HOUR_MS);
      const dayGroup = `${day}|${keyId}|${model}`;
      const previous = daily.get(dayGroup);
      daily.set(dayGroup, { day, keyId, model, lastAt: Math.max(previous?.lastAt ?? 0, at), ...counted(previous, report) });
      const hourGroup = `${hour}|${model}`;
      hourly.set(hourGroup, { hour, model, ...counted(hourly.get(hourGroup), report) });
    }
    for (const row of daily.values()) {
      this.#sql(
        `INSERT INTO usage_daily (day, key_id, model, requests, prompt_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, key_id, model) DO UPDATE SET requests = requests + excluded.requests,
           prompt_tokens = prompt_tokens + excluded.prompt_tokens, output_tokens = output_tokens + excluded.output_tokens`,
        row.day,
        row.keyId,
        row.model,
        row.requests,
        row.promptTokens,
        row.outputTokens,
      );
      this.#sql("UPDATE keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?", row.lastAt, row.keyId);
      // A success proves an expired mark is over; dropping it also forgets its strikes.
      this.#sql("DELETE FROM marks WHERE key_id = ? AND model = ? AND until <= ?", row.keyId, row.model, now);
    }
    for (const row of hourly.values()) {
      this.#sql(
        `INSERT INTO usage_hourly (hour, model, requests, prompt_tokens, output_tokens) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hour, model) DO UPDATE SET requests = requests + excluded.requests,
           prompt_tokens = prompt_tokens + excluded.prompt_tokens, output_tokens = output_tokens + excluded.output_tokens`,
        row.hour,
        row.model,
        row.requests,
        row.promptTokens,
        row.outputTokens,
      );
    }
  }

  /**
   * `day`: what the daily cron does: lifts marks from before the current quota day began
   * (so a cron firing at 07:00 UTC in winter, an hour before Pacific midnight, leaves
   * today's marks alone) and trims old history. Keys Google or a verification disabled
   * are not re-enabled blindly: their ids come back, for the caller to verify again.
   * `all` (an admin's reset): lifts every mark and every disable but an operator's.
   */
  reset(scope: "day" | "all", now: number, role?: Role): string[] {
    if (scope === "all") {
      this.#sql("DELETE FROM marks");
      this.#sql(
        "UPDATE keys SET disabled_reason = NULL, disabled_by = NULL, disabled_at = NULL WHERE disabled_by IS NOT 'operator'",
      );
      this.events.record({ kind: "reset", message: "Every mark lifted.", ...(role && { role }) }, now);
      this.#state.reload();
      return [];
    }
    const dayStart = quotaDayStart(now);
    const reverify = this.changes.toReverify(dayStart);
    this.#sql("DELETE FROM marks WHERE marked_at < ? OR until <= ?", dayStart, now);
    this.#sql("DELETE FROM usage_daily WHERE day < ?", quotaDay(now - DAILY_HISTORY_DAYS * 24 * HOUR_MS));
    this.#sql("DELETE FROM usage_hourly WHERE hour < ?", now - HOURLY_HISTORY_MS);
    this.#sql("DELETE FROM resources WHERE expires_at <= ?", now);
    this.events.record({ kind: "reset", message: "Daily reset." }, now);
    this.#state.reload();
    return reverify;
  }

  snapshot(now: number): StatsSnapshot {
    return buildSnapshot(this.#sql, now);
  }

  /** Every key's stats for today (without the history the snapshot adds). */
  keyStats(now: number): PoolKeyStats {
    return buildKeyStats(this.#sql, now);
  }

  /** The ids of every key, in pool order. */
  keyIds(): string[] {
    return this.#sql<{ id: string }>("SELECT id FROM keys ORDER BY position").map((row) => row.id);
  }

  #lastUsedFor(model: string): Map<string, number> {
    let lastUsed = this.#lastUsed.get(model);
    if (lastUsed === undefined) {
      if (this.#lastUsed.size >= MAX_LRU_MODELS) {
        const oldest = this.#lastUsed.keys().next().value;
        if (oldest !== undefined) this.#lastUsed.delete(oldest);
      }
      lastUsed = new Map();
      this.#lastUsed.set(model, lastUsed);
    }
    return lastUsed;
  }

  #usedBefore(a: Candidate, b: Candidate, lastUsed: Map<string, number>): boolean {
    const aUsed = lastUsed.get(a.id) ?? -1;
    const bUsed = lastUsed.get(b.id) ?? -1;
    return aUsed !== bUsed ? aUsed < bUsed : a.position < b.position;
  }
}
