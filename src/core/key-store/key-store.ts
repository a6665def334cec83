import type { EventInput, EventKind, Role } from "../admin-model";
import type { AcquireRequest, AttemptFailure, Lease, LimitSetting, Ownership, UsageReport, ViewStamp, ViewUpdate } from "../key-pool";
import { quotaDay, quotaDayStart } from "../pacific-time";
import type { StatsSnapshot } from "../stats-model";
import { bindingOf, chooseKey } from "./choose-key";
import { markFor, type Mark, type MarkKind } from "./cooldown";
import { EventLog } from "./event-log";
import { KeyChanges } from "./key-changes";
import { migrate } from "./migrations";
import type { SqlRunner } from "./sql";
import { PoolState, quotaScope } from "./pool-state";
import { buildKeyStats, type PoolKeyStats } from "./key-stats";
import { ALL_SCOPES, QuotaBook, quotaKey } from "./quota-book";
import { Recency } from "./recency";
import type { QuotaWindow } from "../quota-limits";
import { withQuotaStats } from "./capacity";
import { buildSnapshot } from "./snapshot";
import { VerifyJobs } from "./verify-jobs";
import { Rechecks } from "./rechecks";

export interface StoredKey {
  id: string;
  masked: string;
  position: number;
  /** The project group from `group:key` in API_KEYS. */
  group?: string;
}

const HOUR_MS = 3_600_000;
const MARK_EVENTS: Record<"quota-day" | "quota-minute" | "quota-unknown", EventKind> = {
  "quota-day": "quota-day",
  "quota-minute": "quota-minute",
  "quota-unknown": "cooldown",
};
const DAILY_HISTORY_DAYS = 35;
const HOURLY_HISTORY_MS = 48 * HOUR_MS;
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
  readonly #recency = new Recency();
  /** Keys and marks mirrored in memory, so choosing a key reads no storage. */
  readonly #state = new PoolState();
  /** Names this instance's state for isolates' views; see ViewStamp. */
  readonly #epoch: string;
  #version = 0;
  /**
   * The last version that changed more than quota counts. An isolate whose view is at
   * least that new gets only the quota entries counted since its own (see view()).
   */
  #wholeFrom = 0;
  /** Per quota scope and model with a known limit: the version its counts last changed at. */
  readonly #countedAt = new Map<string, number>();
  /** Requests per quota scope and model in the current day and minute window, and the known limits. */
  #quota = new QuotaBook();
  readonly events: EventLog;
  /** Runtime keys, operator and verification changes: call reloadState() after using it. */
  readonly changes: KeyChanges;
  readonly jobs: VerifyJobs;
  readonly rechecks: Rechecks;

  constructor(sql: SqlRunner, epoch: string = crypto.randomUUID()) {
    this.#sql = sql;
    this.#epoch = epoch;
    migrate(sql);
    this.events = new EventLog(sql);
    this.changes = new KeyChanges(sql, this.events);
    this.jobs = new VerifyJobs(sql);
    this.rechecks = new Rechecks(sql);
    this.#reload();
    this.#restoreQuota(Date.now());
  }

  /** A change isolates must take whole: keys, marks, limits, groups, who disabled what. */
  #changed(): void {
    this.#wholeFrom = ++this.#version;
  }

  /** Reads keys and marks back from storage after changes made with SQL in bulk. */
  #reload(): void {
    const keys = this.#sql<{ id: string; position: number; disabled: number; grp: string | null }>(
      "SELECT id, position, disabled_reason IS NOT NULL AS disabled, grp FROM keys ORDER BY position",
    ).map((row) => ({ id: row.id, position: row.position, disabled: row.disabled === 1, scope: quotaScope(row.id, row.grp) }));
    const marks = this.#sql<{ key_id: string; model: string; until: number }>("SELECT key_id, model, until FROM marks").map(
      (row) => ({ keyId: row.key_id, model: row.model, until: row.until }),
    );
    this.#state.load(keys, marks);
    this.#changed();
  }

  /**
   * Rebuilds the quota counts from storage: the learned limits, and today's requests per
   * scope (a restart loses only the minute windows, which a 429 would teach again).
   */
  #restoreQuota(now: number): void {
    this.#quota = new QuotaBook();
    this.#countedAt.clear();
    this.#changed();
    const scopes = this.#scopes();
    for (const row of this.#sql<{ scope: string; model: string; window: QuotaWindow; value: number; source: "learned" | "set"; at: number; window_ms: number | null }>(
      "SELECT scope, model, window, value, source, at, window_ms FROM limits",
    )) {
      this.#quota.restoreLimit(row.scope, row.model, row.window, { value: row.value, at: row.at, source: row.source, windowMs: row.window_ms }, scopes, now);
    }
    for (const row of this.#sql<{ key_id: string; model: string; requests: number }>(
      "SELECT key_id, model, requests FROM usage_daily WHERE day = ?",
      quotaDay(now),
    )) {
      this.#quota.restoreDay(this.#state.scopeOf(row.key_id), row.model, row.requests, now);
    }
  }

  #scopes(): string[] {
    return [...new Set(this.#state.keys().map((key) => key.scope))];
  }

  /**
   * An operator's limit (value null: remove it) for a model, for every key, for the group
   * of one key, or for a group by name. It wins over what 429s teach.
   */
  setLimit(setting: LimitSetting, now: number): void {
    const scope = setting.key !== undefined ? this.#state.scopeOf(setting.key) : setting.group !== undefined ? quotaScope("", setting.group) : ALL_SCOPES;
    const { model, window, value } = setting;
    if (value === null) {
      this.#sql("DELETE FROM limits WHERE scope = ? AND model = ? AND window = ? AND source = 'set'", scope, model, window);
    } else {
      this.#saveLimit(scope, model, window, value, "set", now);
    }
    this.#quota.set(scope, model, window, value, now, this.#scopes(), now);
    this.#changed();
  }

  /** What the quota counts say about each key, for the key choice. */
  #oracle(now: number) {
    return {
      blockedUntil: (keyId: string, model: string) => this.#quota.blockedUntil(this.#state.scopeOf(keyId), model, now),
      assess: (keyId: string, model: string) => this.#quota.assess(this.#state.scopeOf(keyId), model, now),
    };
  }

  /** The pool as isolates need it; the view itself only when `known` is not the current state. */
  view(known: ViewStamp | null, now: number): ViewUpdate {
    const stamp = { epoch: this.#epoch, version: this.#version };
    if (known !== null && known.epoch === stamp.epoch && known.version === stamp.version) return { stamp };
    // Only counts changed since the caller's view (its requests were counted): only those
    // entries go. A whole view of hundreds of keys costs the isolate milliseconds of the
    // Free plan's 10 to take (npm run bench:view), and a one-at-a-time client takes one per request.
    if (known !== null && known.epoch === stamp.epoch && known.version >= this.#wholeFrom) {
      const counted = new Set<string>();
      for (const [key, at] of this.#countedAt) if (at > known.version) counted.add(key);
      return { stamp, since: known.version, quota: this.#quota.entries(now, true).filter((entry) => counted.has(quotaKey(entry.scope, entry.model))) };
    }
    return {
      stamp,
      view: { keys: this.#state.keys().map((key) => ({ ...key })), marks: this.#state.marks(now), quota: this.#quota.entries(now, true), disabled: this.changes.disabledCounts() },
    };
  }

  /** The recorded, unexpired owners among `names`. */
  ownersOf(names: readonly string[], now: number): Ownership[] {
    return names.flatMap((name) =>
      this.#sql<{ key_id: string; expires_at: number; inferred: number }>(
        "SELECT key_id, expires_at, inferred FROM resources WHERE name = ? AND expires_at > ?",
        name,
        now,
      ).map((row) => ({ name, keyId: row.key_id, expiresAt: row.expires_at, ...(row.inferred === 1 && { inferred: true }) })),
    );
  }

  /**
   * After keys changed group (or joined one when added): a group is one Google project, so
   * the requests a key made today were counted by Google in the project it now names, and
   * move with it; the current minute window stays with the old group (send times are kept
   * per group, not per key), which frees it within the minute. A key joining a group that
   * is out for the day for a model is out too, as its members are: no 429 to find out.
   */
  regrouped(moves: readonly { id: string; from: string | null; to: string | null }[], now: number): void {
    this.#reload();
    const moving = new Map(moves.map((move) => [move.id, move]));
    // One query each, whatever the number of keys moved: a page may move thousands at once.
    for (const row of this.#sql<{ key_id: string; model: string; requests: number }>(
      "SELECT key_id, model, requests FROM usage_daily WHERE day = ?",
      quotaDay(now),
    )) {
      const move = moving.get(row.key_id);
      if (move !== undefined) this.#quota.moveDay(quotaScope(move.id, move.from), quotaScope(move.id, move.to), row.model, row.requests, now);
    }
    for (const group of new Set(moves.flatMap((move) => (move.to === null ? [] : [move.to])))) {
      const scope = quotaScope("", group);
      // The members that were there before: a moving key's own marks are its old group's.
      const members = this.#state.keys().filter((key) => key.scope === scope && !moving.has(key.id)).map((key) => key.id);
      if (members.length === 0) continue;
      const marks = this.#sql<{ model: string; until: number; reason: string }>(
        `SELECT model, MAX(until) AS until, reason FROM marks WHERE kind = 'exhausted' AND until > ?
         AND key_id IN (SELECT value FROM json_each(?)) GROUP BY model`,
        now,
        JSON.stringify(members),
      );
      for (const move of moves) {
        if (move.to !== group) continue;
        for (const mark of marks) this.#writeMark(move.id, mark.model, { kind: "exhausted", until: mark.until, strikes: 1 }, mark.reason, now, false);
      }
    }
    this.#changed();
  }

  /** Rereads the in-memory key state after `changes` changed keys. */
  reloadState(): void {
    this.#reload();
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
        `INSERT INTO keys (id, position, masked, source, grp) VALUES (?, ?, ?, 'env', ?)
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, masked = excluded.masked, source = 'env', grp = excluded.grp`,
        key.id,
        key.position,
        key.masked,
        key.group ?? null,
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
    this.#reload();
    // Groups may have changed: today's counts are regrouped.
    this.#restoreQuota(Date.now());
  }

  acquire(request: AcquireRequest, now: number): Lease {
    if (request.failure !== undefined) this.recordFailure(request.failure, now);
    const binding = bindingOf(request, this.ownersOf(request.resources ?? [], now));
    const lease = chooseKey(this.#state, this.#recency, request, binding, now, this.#oracle(now));
    // Who disabled the keys tells the client where to act (no-key-response.ts).
    return lease.keyId === null && lease.cause === "disabled" ? { ...lease, disabled: this.changes.disabledCounts() } : lease;
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


  recordFailure({ keyId, model, fault, status }: AttemptFailure, now: number): void {
    if (fault.kind === "key-disabled") {
      if (this.changes.disableByGoogle(keyId, fault.reason, status, now)) {
        this.#state.disable(keyId);
        this.#changed();
      }
      return;
    }
    // A quota fault on a request without a model cannot be pinned to one; nothing to mark.
    if (model === null) return;
    const scope = this.#state.scopeOf(keyId);
    if (fault.kind === "quota-day" || fault.kind === "quota-minute") this.#learnLimits(scope, model, fault, now);
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
    this.#writeMark(keyId, model, mark, fault.reason, now, true);
    this.events.record({ kind: MARK_EVENTS[fault.kind], keyId, model, status: status ?? 429, message: fault.reason }, now);
    // Named quotas are the project's: every key of the group is out as long. A bare 429
    // says nothing about whose quota it was.
    if (fault.kind !== "quota-unknown") {
      for (const member of this.#state.sharingQuota(keyId)) {
        if (member !== keyId) this.#writeMark(member, model, { ...mark, strikes: 1 }, fault.reason, now, false);
      }
    }
    this.#changed();
  }

  /** Stores a mark; unless `replace`, only where the key is not marked longer already. */
  #writeMark(keyId: string, model: string, mark: Mark, reason: string, now: number, replace: boolean): void {
    this.#sql(
      `INSERT INTO marks (key_id, model, kind, until, reason, strikes, marked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, model) DO UPDATE SET kind = excluded.kind, until = excluded.until,
         reason = excluded.reason, strikes = excluded.strikes, marked_at = excluded.marked_at
       WHERE ? OR marks.until < excluded.until`,
      keyId,
      model,
      mark.kind,
      mark.until,
      this.events.stored(reason),
      mark.strikes,
      now,
      replace ? 1 : 0,
    );
    if (replace) this.#state.mark(keyId, model, mark.until);
    else this.#state.lengthen(keyId, model, mark.until);
  }

  #saveLimit(scope: string, model: string, window: QuotaWindow, value: number, source: "learned" | "set", now: number): void {
    this.#sql(
      `INSERT INTO limits (scope, model, window, value, source, at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, model, window, source) DO UPDATE SET value = excluded.value, at = excluded.at`,
      scope,
      model,
      window,
      value,
      source,
      now,
    );
  }

  /** Keeps the limits a quota 429 named, and from a per-minute one, how long its window is. */
  #learnLimits(scope: string, model: string, fault: Extract<AttemptFailure["fault"], { kind: "quota-day" | "quota-minute" }>, now: number): void {
    const limits = fault.limits ?? [];
    if (this.#quota.learn(scope, model, limits, now)) {
      for (const { window, value } of limits) if (value > 0) this.#saveLimit(scope, model, window, value, "learned", now);
      this.#changed();
    }
    const perMinute = limits.find((limit) => limit.window === "rpm");
    if (fault.kind === "quota-minute" && perMinute !== undefined && this.#quota.expectWindow(scope, model, perMinute.value, now + fault.retryAfterMs, now)) {
      this.#saveWindow(scope, model);
    }
  }

  #saveWindow(scope: string, model: string): void {
    const windowMs = this.#quota.get(scope, model)?.windowMs ?? null;
    this.#sql("UPDATE limits SET window_ms = ? WHERE scope = ? AND model = ? AND source = 'learned'", windowMs, scope, model);
    this.#changed();
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
      const scope = this.#state.scopeOf(keyId);
      if (this.#quota.count(scope, model, report.sentAt ?? at, report.promptTokens, now)) this.#saveWindow(scope, model);
      // Isolates count against known limits: they need the new figures.
      if (Object.keys(this.#quota.get(scope, model)?.limits ?? {}).length > 0) this.#countedAt.set(quotaKey(scope, model), ++this.#version);
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
      this.#reload();
      return [];
    }
    const dayStart = quotaDayStart(now);
    const reverify = this.changes.toReverify(dayStart);
    this.#sql("DELETE FROM marks WHERE marked_at < ? OR until <= ?", dayStart, now);
    this.#sql("DELETE FROM usage_daily WHERE day < ?", quotaDay(now - DAILY_HISTORY_DAYS * 24 * HOUR_MS));
    this.#sql("DELETE FROM usage_hourly WHERE hour < ?", now - HOURLY_HISTORY_MS);
    this.#sql("DELETE FROM resources WHERE expires_at <= ?", now);
    this.events.record({ kind: "reset", message: "Daily reset." }, now);
    this.#reload();
    return reverify;
  }

  snapshot(now: number): StatsSnapshot {
    return withQuotaStats(buildSnapshot(this.#sql, now), this.#state, this.#quota, this.#oracle(now), now);
  }

  /** Every key's stats for today (without the history the snapshot adds). */
  keyStats(now: number): PoolKeyStats {
    return buildKeyStats(this.#sql, now);
  }

  /** The ids of every key, in pool order. */
  keyIds(): string[] {
    return this.#sql<{ id: string }>("SELECT id FROM keys ORDER BY position").map((row) => row.id);
  }
}
