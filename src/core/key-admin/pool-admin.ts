import type {
  AddKeysResult,
  BulkAction,
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
import { storedText } from "../stored-text";
import type { VerificationStart } from "../key-pool";
import type { KeyAnswer, KeyListPage, StatsSnapshot } from "../stats-model";
import type { VerificationVerdict } from "./verification-outcome";

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

  async add(secrets: readonly string[], verify: boolean, role: Role): Promise<Omit<AddKeysResult, "rejected">> {
    // Fingerprints first (async); then one synchronous block, so concurrent adds of the same key add it once.
    const keys = await Promise.all(secrets.map(async (secret) => ({ id: await fingerprint(secret), secret, masked: maskKey(secret) })));
    const now = this.#now();
    const result = this.#store.changes.add(keys, verify, role, now);
    this.#changed();
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
    return { id, masked: key.masked, outcome: verdict.outcome, ...(message !== undefined && { message }), at: new Date(now).toISOString() };
  }

  /** Starts checking `ids` (every key when null); `started: false` with the running job while one runs. */
  async startVerification(ids: readonly string[] | null, role: Role | undefined): Promise<VerificationStart> {
    const known = new Set(this.#store.keyIds());
    const given = ids === null ? [...known] : [...new Set(ids)];
    const wanted = given.filter((id) => known.has(id));
    const unknown = given.filter((id) => !known.has(id));
    // Only unknown ids: a job with nothing to check would read as success (a running one still answers 409).
    if (ids !== null && wanted.length === 0) {
      const running = this.#store.jobs.current();
      return { started: false, job: running?.running === true ? running : null, unknown };
    }
    const job = this.#store.jobs.start(wanted, role, this.#now());
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

  /** One alarm's work: up to VERIFY_BATCH keys; true when more are left (the caller re-arms). */
  async runVerificationBatch(): Promise<boolean> {
    const batch = this.#store.jobs.next(VERIFY_BATCH);
    if (batch.length === 0) return this.#store.jobs.settle(this.#now());
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
      }
    };
    await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, batch.length) }, worker));
    this.#store.reloadState();
    return this.#store.jobs.settle(this.#now());
  }

  async bulk(action: BulkAction, ids: readonly string[], role: Role): Promise<BulkResult | VerificationStart> {
    if (action === "verify") return this.startVerification(ids, role);
    const now = this.#now();
    const skipped: BulkResult["skipped"] = [];
    let done = 0;
    for (const id of new Set(ids)) {
      const result =
        action === "delete"
          ? this.#store.changes.delete(id, role, now)
          : action === "disable"
            ? this.#store.changes.disable(id, "Disabled by an operator.", role, now)
            : this.#store.changes.enable(id, role, now);
      if (!("refused" in result)) done++;
      else if (result.refused === "unknown") skipped.push({ id, masked: "", reason: "No key has this id." });
      else skipped.push({ id, masked: result.masked, reason: "From API_KEYS: remove it from the secret (it can be disabled here)." });
    }
    this.#changed();
    return { action, done, skipped };
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
