import { nextQuotaReset, quotaDay } from "../pacific-time";
import { QUOTA_WINDOWS, type QuotaLimit, type QuotaWindow } from "../quota-limits";

// Requests and input tokens per quota scope (a project group, or a key of its own) and
// model, counted against the limits Google's 429s named: the current Pacific day and the
// last minute window. The Durable Object counts what was served; each isolate holds a
// copy (in its pool view) and adds what it sent and nobody has counted yet. Runtime-neutral.

/** Google's per-minute quotas, unless a 429 showed a shorter window. */
export const DEFAULT_WINDOW_MS = 60_000;
const MIN_WINDOW_MS = 1_000;
/** Send times kept per scope and model: enough for any minute limit this tracks exactly. */
const MAX_SENDS = 1_024;
/** How long a 429's window waits for the reports of the requests that filled it. */
const CALIBRATION_MS = 60_000;

/** A limit as the pool knows it: set by the operator (wins), else learned from a 429. */
export interface KnownLimit {
  value: number;
  source: "learned" | "set";
  /** When it was learned or set (epoch ms). */
  at: number;
}

type Limits = Partial<Record<QuotaWindow, { value: number; at: number }>>;

/** Operator-set limits under this scope apply to every scope. */
export const ALL_SCOPES = "*";

export interface QuotaEntry {
  scope: string;
  model: string;
  /** The limits that apply (0: the model is not available to this scope). */
  limits: Partial<Record<QuotaWindow, number>>;
  /** The same, with where each comes from. */
  known: Partial<Record<QuotaWindow, KnownLimit>>;
  /** Length of the minute window (rpm, tpm). */
  windowMs: number;
  /**
   * Whether that length was found (from a 429's RetryInfo and the requests that filled the
   * window). Until then only the 429's own wait holds the group back, not the minute counts:
   * a guessed length could keep it out longer than Google does.
   */
  windowKnown: boolean;
  /** The Pacific day `dayRequests` counts. */
  day: string;
  dayRequests: number;
  /** Send times of the requests served in the last window, oldest first. */
  sends: number[];
  /** Send time and input tokens of the requests served in the last window, oldest first. */
  tokens: PendingSend[];
}

/** What the counts say about a scope for a model (QuotaBook.assess). */
export interface QuotaAssessment {
  /** When it can next take a request; null when it can now. */
  until: number | null;
  /** The share left in its tightest known window: 1 when no limit is known, 0 when one is reached. */
  room: number;
}

/** What a scope with no known limit allows: any request now, all its room. */
export const UNLIMITED: QuotaAssessment = Object.freeze({ until: null, room: 1 });

/** A request sent that the Durable Object has not counted yet. */
export interface PendingSend {
  at: number;
  tokens: number;
}

interface Calibration {
  limit: number;
  /** When the 429 arrived, and when Google said the window frees a slot. */
  at: number;
  freesAt: number;
}

/** Models and scopes whose entry keys are kept; past either (a client naming models at random) the keeping starts over. */
const MAX_INTERNED_MODELS = 64;
const MAX_INTERNED_SCOPES = 20_000;
const interned = new Map<string, Map<string, string>>();

/**
 * The key of a scope's entry for a model. Kept once made: choosing a key looks up every
 * key's entries on every request, and a string made anew is hashed anew at each lookup,
 * while a kept one is hashed once (with 1,000 keys, a third of choosing a key's CPU).
 */
export function quotaKey(scope: string, model: string): string {
  let keys = interned.get(model);
  if (keys === undefined) {
    if (interned.size >= MAX_INTERNED_MODELS) interned.clear();
    keys = new Map();
    interned.set(model, keys);
  }
  let key = keys.get(scope);
  if (key === undefined) {
    if (keys.size >= MAX_INTERNED_SCOPES) keys.clear();
    key = `${scope}\n${model}`;
    keys.set(scope, key);
  }
  return key;
}

/** Requests sent after `since`, counted and pending. */
function sendsSince(sends: readonly number[], pending: readonly PendingSend[], since: number): number {
  let count = 0;
  for (const at of sends) if (at > since) count++;
  for (const send of pending) if (send.at > since) count++;
  return count;
}

/** Input tokens of the requests sent after `since`. */
function tokensSince(sends: readonly PendingSend[], since: number): number {
  let total = 0;
  for (const send of sends) if (send.at > since) total += send.tokens;
  return total;
}

/**
 * A copy of `entry` that shares nothing it changes in place (its records and lists): the
 * manager in the same process (Node) hands out its own entries. Not structuredClone: a view
 * of 300 keys carries hundreds of entries, and cloning them one by one that way cost more CPU
 * than everything else in taking the view (bench/README.md).
 */
function copyEntry(entry: QuotaEntry): QuotaEntry {
  const known: QuotaEntry["known"] = {};
  for (const window of QUOTA_WINDOWS) {
    const limit = entry.known[window];
    if (limit !== undefined) known[window] = { ...limit };
  }
  return { ...entry, limits: { ...entry.limits }, known, sends: [...entry.sends], tokens: entry.tokens.map((send) => ({ ...send })) };
}

function insertSorted<T>(list: T[], item: T, at: (item: T) => number): void {
  let index = list.length;
  while (index > 0 && at(list[index - 1] as T) > at(item)) index--;
  list.splice(index, 0, item);
}

export class QuotaBook {
  readonly #entries = new Map<string, QuotaEntry>();
  readonly #calibrations = new Map<string, Calibration>();
  /** Per scope and model: learned from 429s, and set by the operator (scope ALL_SCOPES: everyone). */
  readonly #learned = new Map<string, Limits>();
  readonly #set = new Map<string, Limits>();

  get(scope: string, model: string): QuotaEntry | undefined {
    return this.#entries.get(quotaKey(scope, model));
  }

  /** Every entry (the stats), or only those with a known limit (what isolates need). */
  entries(now: number, limitedOnly = false): QuotaEntry[] {
    const entries: QuotaEntry[] = [];
    for (const entry of this.#entries.values()) {
      this.#prune(entry, now);
      if (!limitedOnly || Object.keys(entry.limits).length > 0) entries.push(entry);
    }
    return entries;
  }

  /** Replaces the given entries and keeps the others: an isolate taking the manager's new counts. */
  update(entries: readonly QuotaEntry[]): void {
    for (const entry of entries) this.#entries.set(quotaKey(entry.scope, entry.model), copyEntry(entry));
  }

  /** Replaces every entry: an isolate taking the manager's view. */
  load(entries: readonly QuotaEntry[]): void {
    this.#entries.clear();
    for (const entry of entries) this.#entries.set(quotaKey(entry.scope, entry.model), copyEntry(entry));
  }

  #ensure(scope: string, model: string, now: number): QuotaEntry {
    const key = quotaKey(scope, model);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        scope,
        model,
        limits: {},
        known: {},
        windowMs: DEFAULT_WINDOW_MS,
        windowKnown: false,
        day: quotaDay(now),
        dayRequests: 0,
        sends: [],
        tokens: [],
      };
      this.#entries.set(key, entry);
      this.#resolve(entry);
    }
    this.#prune(entry, now);
    return entry;
  }

  #prune(entry: QuotaEntry, now: number): void {
    const today = quotaDay(now);
    if (entry.day !== today) {
      entry.day = today;
      entry.dayRequests = 0;
    }
    // Kept a full default window even when the known one is shorter: a 429 may still
    // need them to show how long the window is.
    const since = now - Math.max(entry.windowMs, DEFAULT_WINDOW_MS);
    while ((entry.sends[0] ?? Number.POSITIVE_INFINITY) <= since) entry.sends.shift();
    while ((entry.tokens[0]?.at ?? Number.POSITIVE_INFINITY) <= since) entry.tokens.shift();
    if (entry.sends.length > MAX_SENDS) entry.sends.splice(0, entry.sends.length - MAX_SENDS);
    if (entry.tokens.length > MAX_SENDS) entry.tokens.splice(0, entry.tokens.length - MAX_SENDS);
  }

  /** Sets today's count, e.g. from storage after a restart. */
  restoreDay(scope: string, model: string, requests: number, now: number): void {
    this.#ensure(scope, model, now).dayRequests += requests;
  }

  /** Moves today's requests of one key from its old scope to its new one (the key changed group). */
  moveDay(from: string, to: string, model: string, requests: number, now: number): void {
    if (requests <= 0 || from === to) return;
    const source = this.#entries.get(quotaKey(from, model));
    if (source !== undefined) {
      this.#prune(source, now);
      source.dayRequests = Math.max(0, source.dayRequests - requests);
    }
    this.#ensure(to, model, now).dayRequests += requests;
  }

  /** Counts a served request; true when the window's length was learned on the way. */
  count(scope: string, model: string, sentAt: number, tokens: number, now: number): boolean {
    const entry = this.#ensure(scope, model, now);
    if (quotaDay(sentAt) === entry.day) entry.dayRequests++;
    if (sentAt > now - Math.max(entry.windowMs, DEFAULT_WINDOW_MS)) {
      insertSorted(entry.sends, sentAt, (at) => at);
      insertSorted(entry.tokens, { at: sentAt, tokens }, (item) => item.at);
      this.#prune(entry, now);
    }
    return this.#calibrate(entry, now);
  }

  /** An operator-set limit wins over a learned one, one set for this scope over one set for all. */
  #resolve(entry: QuotaEntry): void {
    const learned = this.#learned.get(quotaKey(entry.scope, entry.model)) ?? {};
    const set = this.#set.get(quotaKey(entry.scope, entry.model)) ?? {};
    const setForAll = this.#set.get(quotaKey(ALL_SCOPES, entry.model)) ?? {};
    entry.limits = {};
    entry.known = {};
    for (const window of QUOTA_WINDOWS) {
      const chosen = set[window] ?? setForAll[window];
      const known: KnownLimit | undefined =
        chosen !== undefined ? { ...chosen, source: "set" } : learned[window] !== undefined ? { ...learned[window], source: "learned" } : undefined;
      if (known === undefined) continue;
      entry.limits[window] = known.value;
      entry.known[window] = known;
    }
  }

  /** Takes the limits a 429 named; true when one is new or changed. */
  learn(scope: string, model: string, limits: readonly QuotaLimit[], now: number, at = now): boolean {
    const learned = this.#learned.get(quotaKey(scope, model)) ?? {};
    let changed = false;
    for (const { window, value } of limits) {
      // 0 says the model is not available to the project now: a mark for the day, not a
      // standing limit that would keep it out on later days too.
      if (value === 0 || learned[window]?.value === value) continue;
      learned[window] = { value, at };
      changed = true;
    }
    this.#learned.set(quotaKey(scope, model), learned);
    this.#resolve(this.#ensure(scope, model, now));
    return changed;
  }

  /**
   * Sets (or with null, removes) an operator's limit for one scope, or for every scope
   * (ALL_SCOPES; `scopes` are the ones that exist, so each gets an entry to count in).
   */
  set(scope: string, model: string, window: QuotaWindow, value: number | null, at: number, scopes: readonly string[], now: number): void {
    const set: Limits = Object.fromEntries(Object.entries(this.#set.get(quotaKey(scope, model)) ?? {}).filter(([named]) => named !== window));
    if (value !== null) set[window] = { value, at };
    this.#set.set(quotaKey(scope, model), set);
    for (const each of scope === ALL_SCOPES ? scopes : [scope]) this.#ensure(each, model, now);
    for (const entry of this.#entries.values()) if (entry.model === model) this.#resolve(entry);
  }

  /** A limit as stored, with the window length found when it was learned. */
  restoreLimit(
    scope: string,
    model: string,
    window: QuotaWindow,
    limit: { value: number; at: number; source: "learned" | "set"; windowMs: number | null },
    scopes: readonly string[],
    now: number,
  ): void {
    if (limit.source === "set") {
      this.set(scope, model, window, limit.value, limit.at, scopes, now);
      return;
    }
    this.learn(scope, model, [{ window, value: limit.value }], now, limit.at);
    if (limit.windowMs !== null) Object.assign(this.#ensure(scope, model, now), { windowMs: limit.windowMs, windowKnown: true });
  }

  /**
   * A per-minute 429 at `now` said the window frees a slot at `freesAt`. Once the requests
   * that filled it are counted, the window's length is the time from the oldest of the
   * last `limit` of them to `freesAt`: how Google's window, whatever its length, behaves.
   */
  expectWindow(scope: string, model: string, limit: number, freesAt: number, now: number): boolean {
    if (limit <= 0) return false;
    const entry = this.#ensure(scope, model, now);
    this.#calibrations.set(quotaKey(scope, model), { limit, at: now, freesAt });
    return this.#calibrate(entry, now);
  }

  #calibrate(entry: QuotaEntry, now: number): boolean {
    const key = quotaKey(entry.scope, entry.model);
    const calibration = this.#calibrations.get(key);
    if (calibration === undefined) return false;
    if (now - calibration.at > CALIBRATION_MS) {
      // The requests that filled the window never showed up (another client uses the
      // project): count with a full minute from now on.
      this.#calibrations.delete(key);
      entry.windowKnown = true;
      return true;
    }
    const before = entry.sends.filter((at) => at < calibration.at);
    const oldest = before[before.length - calibration.limit];
    if (oldest === undefined) return false;
    this.#calibrations.delete(key);
    entry.windowMs = Math.min(DEFAULT_WINDOW_MS, Math.max(MIN_WINDOW_MS, calibration.freesAt - oldest));
    entry.windowKnown = true;
    return true;
  }

  /**
   * When the scope can next take a request for the model, or null when it can now. Counts
   * `pending` too: requests sent that the counts do not hold yet.
   */
  blockedUntil(scope: string, model: string, now: number, pending: readonly PendingSend[] = []): number | null {
    const entry = this.#entries.get(quotaKey(scope, model));
    return entry === undefined ? null : this.#blockedUntil(entry, now, pending);
  }

  /**
   * blockedUntil and room at once, from one lookup of the entry: choosing a key asks both
   * of every key in the pool, on every request.
   */
  assess(scope: string, model: string, now: number, pending: readonly PendingSend[] = []): QuotaAssessment {
    const entry = this.#entries.get(quotaKey(scope, model));
    return entry === undefined ? UNLIMITED : { until: this.#blockedUntil(entry, now, pending), room: this.#room(entry, now, pending) };
  }

  #blockedUntil(entry: QuotaEntry, now: number, pending: readonly PendingSend[]): number | null {
    const { rpd, rpm, tpm } = entry.limits;
    if (rpd === 0 || rpm === 0 || tpm === 0) return nextQuotaReset(now);
    let until: number | null = null;
    const later = (at: number) => (until = until === null ? at : Math.max(until, at));
    const dayUsed = (entry.day === quotaDay(now) ? entry.dayRequests : 0) + pending.length;
    if (rpd !== undefined && dayUsed >= rpd) later(nextQuotaReset(now));
    const since = now - entry.windowMs;
    // Counted before anything is copied or sorted: a scope below its limits, nearly every
    // one, needs no list, and every request asks this of every key in the pool.
    if (rpm !== undefined && this.#countsMinute(entry, "rpm") && sendsSince(entry.sends, pending, since) >= rpm) {
      const sends = [...entry.sends, ...pending.map((send) => send.at)].filter((at) => at > since).sort((a, b) => a - b);
      const oldest = sends[sends.length - rpm];
      if (oldest !== undefined) later(oldest + entry.windowMs);
    }
    if (tpm !== undefined && this.#countsMinute(entry, "tpm") && tokensSince(entry.tokens, since) + tokensSince(pending, since) >= tpm) {
      const used = [...entry.tokens, ...pending].filter((send) => send.at > since).sort((a, b) => a.at - b.at);
      let total = used.reduce((sum, send) => sum + send.tokens, 0);
      for (const send of used) {
        if (total < tpm) break;
        total -= send.tokens;
        later(send.at + entry.windowMs);
      }
    }
    return until;
  }

  /** An operator's per-minute limit is a minute's; a learned one counts once its window's length is known. */
  #countsMinute(entry: QuotaEntry, window: "rpm" | "tpm"): boolean {
    return entry.windowKnown || entry.known[window]?.source === "set";
  }

  /** What is left in each window with a known limit (never below 0). */
  remaining(scope: string, model: string, now: number): Partial<Record<QuotaWindow, number>> {
    const entry = this.#entries.get(quotaKey(scope, model));
    if (entry === undefined) return {};
    this.#prune(entry, now);
    const since = now - entry.windowMs;
    const used: Record<QuotaWindow, number> = {
      rpd: entry.dayRequests,
      rpm: entry.sends.filter((at) => at > since).length,
      tpm: entry.tokens.filter((send) => send.at > since).reduce((sum, send) => sum + send.tokens, 0),
    };
    const left: Partial<Record<QuotaWindow, number>> = {};
    for (const window of QUOTA_WINDOWS) {
      const limit = entry.limits[window];
      if (limit !== undefined) left[window] = Math.max(0, limit - used[window]);
    }
    return left;
  }

  /** The share left in the scope's tightest known window: 1 when no limit is known, 0 when one is reached. */
  #room(entry: QuotaEntry, now: number, pending: readonly PendingSend[]): number {
    const { rpd, rpm, tpm } = entry.limits;
    const since = now - entry.windowMs;
    let share = 1;
    if (rpd !== undefined) share = Math.min(share, rpd <= 0 ? 0 : 1 - ((entry.day === quotaDay(now) ? entry.dayRequests : 0) + pending.length) / rpd);
    if (rpm !== undefined) share = Math.min(share, rpm <= 0 ? 0 : 1 - sendsSince(entry.sends, pending, since) / rpm);
    if (tpm !== undefined) share = Math.min(share, tpm <= 0 ? 0 : 1 - tokensSince(entry.tokens, since) / tpm);
    return Math.max(0, share);
  }

}
