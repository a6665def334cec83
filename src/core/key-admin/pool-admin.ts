import { CHANGE_IN_API_KEYS, REMOVE_FROM_API_KEYS } from "../api-keys-removal";
import type {
  AddKeysResult,
  BulkAction,
  BulkOptions,
  BulkResult,
  EventInput,
  EventPage,
  EventQuery,
  KeyChangeRefusal,
  KeyListQuery,
  MaskedKey,
  Role,
  RuntimeKeys,
  VerifyJob,
  VerifyResult,
} from "../admin-model";
import { fingerprint, maskKey, ringOf, type KeyRing } from "../key-ring";
import { pageOfKeys } from "../key-store/key-list";
import type { KeyStore } from "../key-store/key-store";
import type { GroupMove } from "../key-store/key-changes";
import { storedText } from "../stored-text";
import type { VerificationStart } from "../key-pool";
import type { KeyAnswer, KeyListPage, StatsSnapshot } from "../stats-model";
import type { VerificationVerdict } from "./verification-outcome";
import type { NewKeyEntry } from "./parse-new-keys";

// The admin side of the pool, runtime-neutral: the Durable Object hands it its store,
// the API_KEYS ring, a verifier (one model-list call per key) and a way to schedule
// the next verification batch (its alarm), and delegates every admin RPC here.

/**
 * Keys one verification batch checks: each is one subrequest, and an alarm run of the
 * Durable Object may make 50 on the Free plan. The rest wait for the next run.
 */
export const VERIFY_BATCH = 40;
/** Checks in flight at once: the Workers limit of simultaneous outgoing connections. */
const VERIFY_CONCURRENCY = 6;

export interface PoolAdminDeps {
  store: KeyStore;
  /** The API_KEYS ring: fixed for an instance's life (new secrets mean a new deploy). */
  envRing: KeyRing;
  verify: (secret: string) => Promise<VerificationVerdict>;
  /** Runs `runVerificationBatch` soon, in its own invocation. */
  wake: () => Promise<void>;
  now?: () => number;
}

/** Why an API_KEYS key's group is not changed here (KeyChanges.setGroup says why not). */
const ENV_GROUP_REASON = `From API_KEYS: its group is written there (group:key); ${CHANGE_IN_API_KEYS}.`;

export class PoolAdmin {
  readonly #deps: PoolAdminDeps;
  readonly #now: () => number;
  /** Changes whenever runtime keys join or leave; the proxy's rings compare it to refresh. */
  #version = crypto.randomUUID();
  /** The full ring of the current version: building its redactor walks every key, so it is kept. */
  #ring: { version: string; ring: KeyRing } | undefined;

  constructor(deps: PoolAdminDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    // Every text the store keeps is masked here, with every key, runtime ones included.
    deps.store.events.redactWith((text) => this.#fullRing().redact(text));
  }

  get #store(): KeyStore {
    return this.#deps.store;
  }

  #changed(): void {
    this.#version = crypto.randomUUID();
    this.#store.reloadState();
  }

  /** Runtime keys with their secrets, or null when the caller's `known` version is current. */
  runtimeKeys(known?: string): RuntimeKeys | null {
    if (known === this.#version) return null;
    return { version: this.#version, keys: this.#store.changes.secrets() };
  }

  /** API_KEYS and runtime keys: to find secrets and to mask every text that is stored or answered. */
  #fullRing(): KeyRing {
    if (this.#ring?.version !== this.#version) {
      this.#ring = { version: this.#version, ring: ringOf([...this.#deps.envRing.keys, ...this.#store.changes.secrets()]) };
    }
    return this.#ring.ring;
  }

  /** Events from the proxy: their messages are masked with the full ring on the way in (EventLog). */
  recordEvents(events: readonly EventInput[]): void {
    this.#store.recordEvents(events, this.#now());
  }

  async add(entries: readonly NewKeyEntry[], verify: boolean, role: Role): Promise<Omit<AddKeysResult, "rejected">> {
    // Fingerprints first (async); then one synchronous block, so concurrent adds of the same key add it once.
    const keys = await Promise.all(
      entries.map(async ({ secret, group }) => ({ id: await fingerprint(secret), secret, masked: maskKey(secret), ...(group !== undefined && { group }) })),
    );
    const now = this.#now();
    const result = this.#store.changes.add(keys, verify, role, now);
    this.#changed();
    const groupOf = new Map(keys.map((key) => [key.id, key.group ?? null]));
    const joined = result.added.map(({ id }) => ({ id, from: null, to: groupOf.get(id) ?? null })).filter((move) => move.to !== null);
    if (joined.length > 0) this.#store.regrouped(joined, now);
    if (!verify || result.added.length === 0) return result;
    const job = this.#store.jobs.include(result.added.map((key) => key.id), role, now);
    await this.#deps.wake();
    return job === undefined ? result : { ...result, job };
  }

  delete(id: string, role: Role): MaskedKey | KeyChangeRefusal {
    const result = this.#store.changes.delete(id, role, this.#now());
    if (!("refused" in result)) this.#changed();
    return result;
  }

  /** `reason` is an operator's text: stored masked with every key (EventLog.stored), so a pasted key never shows. */
  disable(id: string, reason: string, role: Role): KeyAnswer {
    return this.#answer(this.#store.changes.disable(id, reason, role, this.#now()));
  }

  /** Moves one runtime key into `group` (null: out of any group). */
  group(id: string, group: string | null, role: Role): KeyAnswer {
    const [result = { refused: "unknown" }] = this.#regroup([id], group, role);
    return "refused" in result ? result : this.#answer(result);
  }

  /** Each key's move (or refusal, or `unchanged`), with the quota counts and marks following the moved ones. */
  #regroup(ids: readonly string[], group: string | null, role: Role): (MaskedKey | KeyChangeRefusal)[] {
    const now = this.#now();
    const results = [...new Set(ids)].map((id) => this.#store.changes.setGroup(id, group, role, now));
    const moves = results.filter((result): result is GroupMove => "to" in result);
    if (moves.length > 0) this.#store.regrouped(moves, now);
    return results.map((result) => ("unchanged" in result ? result.unchanged : result));
  }

  enable(id: string, role: Role): KeyAnswer {
    return this.#answer(this.#store.changes.enable(id, role, this.#now()));
  }

  #answer(result: MaskedKey | KeyChangeRefusal): KeyAnswer {
    if ("refused" in result) return result;
    this.#store.reloadState();
    const key = this.#store.keyStats(this.#now()).keys.find((candidate) => candidate.id === result.id);
    return key === undefined ? { refused: "unknown" } : { key };
  }

  async verifyOne(id: string, role: Role): Promise<VerifyResult | KeyChangeRefusal> {
    const ring = this.#fullRing();
    const key = ring.byId(id);
    if (key === undefined) return { refused: "unknown" };
    const verdict = await this.#deps.verify(key.secret);
    const message = verdict.message === undefined ? undefined : storedText(ring.redact(verdict.message));
    const now = this.#now();
    if (this.#store.changes.applyVerification(id, verdict.outcome, message, role, now)) this.#store.reloadState();
    // Google's answer ends any re-checks; an unreachable one here leaves them as they were
    // (scheduling one would move the alarm, which a running job may be using).
    if (verdict.outcome !== "unreachable") this.#store.rechecks.after(id, verdict.outcome, now);
    return { id, masked: key.masked, outcome: verdict.outcome, ...(message !== undefined && { message }), at: new Date(now).toISOString() };
  }

  /**
   * Starts checking `ids` (every key when null); `started: false` with the running job while
   * one runs, unless `join`: then the keys join the running job.
   */
  async startVerification(ids: readonly string[] | null, role: Role | undefined, join = false): Promise<VerificationStart> {
    const known = new Set(this.#store.keyIds());
    const given = ids === null ? [...known] : [...new Set(ids)];
    const wanted = given.filter((id) => known.has(id));
    const unknown = given.filter((id) => !known.has(id));
    // Only unknown ids: a job with nothing to check would read as success (a running one still answers 409).
    if (ids !== null && wanted.length === 0) {
      const running = this.#store.jobs.current();
      return { started: false, job: running?.running === true ? running : null, unknown };
    }
    const job = join ? this.#store.jobs.include(wanted, role, this.#now()) : this.#store.jobs.start(wanted, role, this.#now());
    if (job === undefined) {
      const running = this.#store.jobs.current();
      if (running === undefined) throw new Error("A verification runs but cannot be read");
      return { started: false, job: running, unknown };
    }
    if (job.running) await this.#deps.wake();
    return { started: true, job, unknown };
  }

  verification(): VerifyJob | null {
    return this.#store.jobs.current() ?? null;
  }

  /**
   * One alarm's work: the re-checks that are due join the job, then up to VERIFY_BATCH keys
   * are checked. Returns when the caller should run it again (now while keys are left, else
   * the next re-check), or null.
   */
  async runVerificationBatch(): Promise<number | null> {
    const due = this.#store.rechecks.takeDue(this.#now());
    if (due.length > 0) this.#store.jobs.include(due, undefined, this.#now());
    const batch = this.#store.jobs.next(VERIFY_BATCH);
    if (batch.length === 0) return this.#nextRun();
    const ring = this.#fullRing();
    const role = this.#store.jobs.runningRole();
    let cursor = 0;
    const worker = async (): Promise<void> => {
      for (let item = batch[cursor++]; item !== undefined; item = batch[cursor++]) {
        const key = ring.byId(item.keyId);
        const verdict: VerificationVerdict =
          key === undefined ? { outcome: "unreachable", message: "The key's secret is missing." } : await this.#deps.verify(key.secret);
        const message = verdict.message === undefined ? undefined : storedText(ring.redact(verdict.message));
        const now = this.#now();
        this.#store.jobs.record(item.seq, verdict.outcome, message, now);
        this.#store.changes.applyVerification(item.keyId, verdict.outcome, message, role, now);
        this.#store.rechecks.after(item.keyId, verdict.outcome, now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, batch.length) }, worker));
    this.#store.reloadState();
    return this.#nextRun();
  }

  /** Now while the job has keys left; else when the next re-check is due (null: none is). */
  #nextRun(): number | null {
    const now = this.#now();
    return this.#store.jobs.settle(now) ? now : this.#store.rechecks.next();
  }

  async bulk(action: BulkAction, ids: readonly string[], role: Role, options: BulkOptions = {}): Promise<BulkResult | VerificationStart> {
    if (action === "verify") return this.startVerification(ids, role, options.join);
    const now = this.#now();
    const unique = [...new Set(ids)];
    const results =
      action === "group"
        ? this.#regroup(unique, options.group ?? null, role)
        : unique.map((id) =>
            action === "delete"
              ? this.#store.changes.delete(id, role, now)
              : action === "disable"
                ? this.#store.changes.disable(id, "Disabled by an operator.", role, now)
                : this.#store.changes.enable(id, role, now),
          );
    const envReason = action === "group" ? ENV_GROUP_REASON : `From API_KEYS: ${REMOVE_FROM_API_KEYS} (it can be disabled here).`;
    const skipped: BulkResult["skipped"] = [];
    results.forEach((result, index) => {
      const id = unique[index] ?? "";
      if (!("refused" in result)) return;
      skipped.push(result.refused === "unknown" ? { id, masked: "", reason: "No key has this id." } : { id, masked: result.masked, reason: envReason });
    });
    // A group change leaves the runtime keys' secrets as they are: the state alone was reloaded (regrouped).
    if (action !== "group") this.#changed();
    return { action, done: results.length - skipped.length, skipped };
  }

  listKeys(query: KeyListQuery): KeyListPage {
    return pageOfKeys(this.#store.keyStats(this.#now()).keys, query);
  }

  events(query: EventQuery): EventPage {
    return this.#store.events.page(query);
  }

  snapshot(withKeys: boolean): StatsSnapshot {
    const snapshot = this.#store.snapshot(this.#now());
    return withKeys ? snapshot : { ...snapshot, keys: [] };
  }

  /** The cron: lifts yesterday's marks and checks Google- and verification-disabled keys again. */
  async dailyReset(): Promise<void> {
    const reverify = this.#store.reset("day", this.#now());
    if (reverify.length === 0) return;
    this.#store.jobs.include(reverify, undefined, this.#now());
    await this.#deps.wake();
  }

  reset(role: Role | undefined): void {
    this.#store.reset("all", this.#now(), role);
  }
}
