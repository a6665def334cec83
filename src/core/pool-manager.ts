import type { BulkAction, BulkOptions, EventInput, EventQuery, KeyListQuery, Role } from "./admin-model";
import type { ProxyConfig } from "./config";
import type { NewKeyEntry } from "./key-admin/parse-new-keys";
import { PoolAdmin } from "./key-admin/pool-admin";
import { verifyKey } from "./key-admin/verify-key";
import type { AttemptFailure, KeyManager, KeyPoolAdmin, LimitSetting, Ownership, UsageReport, ViewStamp, ViewUpdate } from "./key-pool";
import type { KeyRing } from "./key-ring";
import { KeyStore } from "./key-store/key-store";
import type { SqlRunner } from "./key-store/sql";
import type { StatsSnapshot } from "./stats-model";
import { SessionStore, type StatSession, type StatSessions } from "./stats/session-store";

// The single source of truth for key state and usage, whatever runtime hosts it: the
// Durable Object on Workers, the process itself on Node. It is synchronous over its
// SqlRunner, and its host runs one call at a time to completion, so choosing a key and
// marking it never race. Each runtime only supplies storage, a transaction, the API_KEYS
// ring and a way to run the next verification batch in its own turn.

export interface PoolManagerDeps {
  sql: SqlRunner;
  /** Runs `body` as one atomic write (the DO's transactionSync; BEGIN … COMMIT on node:sqlite). */
  transaction: <T>(body: () => T) => T;
  /** The API_KEYS ring: fixed for the manager's life. */
  envRing: KeyRing;
  config: Pick<ProxyConfig, "geminiBase" | "defaultVersion">;
  /** Calls `verificationBatch` soon, in its own invocation (the DO's alarm, a timer on Node). */
  wake: () => Promise<void>;
}

export class PoolManager implements KeyManager, KeyPoolAdmin, StatSessions {
  readonly #store: KeyStore;
  readonly #sessions: SessionStore;
  readonly #admin: PoolAdmin;
  readonly #atomic: <T>(body: () => T) => T;

  constructor({ sql, transaction, envRing, config, wake }: PoolManagerDeps) {
    this.#atomic = transaction;
    this.#store = transaction(() => {
      const store = new KeyStore(sql);
      store.syncKeys(envRing.keys.map(({ id, masked, position, group }) => ({ id, masked, position, group })));
      return store;
    });
    // After KeyStore: its constructor runs the migrations both share.
    this.#sessions = new SessionStore(sql);
    this.#admin = new PoolAdmin({ store: this.#store, envRing, verify: (secret) => verifyKey(secret, config), wake });
  }

  async poolView(known: ViewStamp | null): Promise<ViewUpdate> {
    return this.#store.view(known, Date.now());
  }

  async recordFailure(failure: AttemptFailure, known: ViewStamp | null): Promise<ViewUpdate> {
    const now = Date.now();
    this.#atomic(() => this.#store.recordFailure(failure, now));
    return this.#store.view(known, now);
  }

  async ownersOf(names: string[], known: ViewStamp | null): Promise<{ owners: Ownership[]; update: ViewUpdate }> {
    const now = Date.now();
    return { owners: this.#store.ownersOf(names, now), update: this.#store.view(known, now) };
  }

  async recordUsage(reports: UsageReport[], known: ViewStamp | null): Promise<ViewUpdate> {
    const now = Date.now();
    this.#atomic(() => this.#store.recordUsage(reports, now));
    return this.#store.view(known, now);
  }

  async recordOwnership(entries: Ownership[]): Promise<void> {
    this.#atomic(() => this.#store.recordOwnership(entries, Date.now()));
  }

  async forgetResources(names: string[]): Promise<void> {
    this.#atomic(() => this.#store.forgetResources(names));
  }

  async recordEvents(events: EventInput[]): Promise<void> {
    this.#atomic(() => this.#admin.recordEvents(events));
  }

  async runtimeKeys(known?: string) {
    return this.#admin.runtimeKeys(known);
  }

  async snapshot(options: { keys?: boolean } = {}): Promise<StatsSnapshot> {
    return this.#admin.snapshot(options.keys !== false);
  }

  async reset(scope: "day" | "all", role?: Role): Promise<void> {
    if (scope === "day") await this.#admin.dailyReset();
    else this.#atomic(() => this.#admin.reset(role));
  }

  async setLimit(setting: LimitSetting): Promise<void> {
    this.#atomic(() => this.#store.setLimit(setting, Date.now()));
  }

  async listKeys(query: KeyListQuery) {
    return this.#admin.listKeys(query);
  }

  async addKeys(keys: NewKeyEntry[], verify: boolean, role: Role) {
    return this.#admin.add(keys, verify, role);
  }

  async groupKey(id: string, group: string | null, role: Role) {
    return this.#atomic(() => this.#admin.group(id, group, role));
  }

  async deleteKey(id: string, role: Role) {
    return this.#atomic(() => this.#admin.delete(id, role));
  }

  async disableKey(id: string, reason: string, role: Role) {
    return this.#atomic(() => this.#admin.disable(id, reason, role));
  }

  async enableKey(id: string, role: Role) {
    return this.#atomic(() => this.#admin.enable(id, role));
  }

  async verifyKey(id: string, role: Role) {
    return this.#admin.verifyOne(id, role);
  }

  async startVerification(ids: string[] | null, role: Role, join?: boolean) {
    return this.#admin.startVerification(ids, role, join);
  }

  async verification() {
    return this.#admin.verification();
  }

  async bulk(action: BulkAction, ids: string[], role: Role, options?: BulkOptions) {
    return this.#admin.bulk(action, ids, role, options);
  }

  async events(query: EventQuery) {
    return this.#admin.events(query);
  }

  /**
   * One verification batch (each stays within a Workers invocation's subrequests); when the
   * next is due (epoch ms: now while keys are left, else the next re-check), or null when none is.
   */
  async verificationBatch(): Promise<number | null> {
    return this.#admin.runVerificationBatch();
  }

  async startStatSession(idHash: string, session: StatSession, client: string): Promise<void> {
    this.#atomic(() => this.#sessions.start(idHash, session, client, Date.now()));
  }

  async statSession(idHash: string): Promise<StatSession | null> {
    return this.#sessions.find(idHash, Date.now());
  }

  async endStatSession(idHash: string): Promise<void> {
    this.#sessions.end(idHash);
  }

  async loginWait(client: string): Promise<number> {
    return this.#sessions.loginWait(client, Date.now());
  }

  async loginFailed(client: string): Promise<number> {
    return this.#atomic(() => this.#sessions.loginFailed(client, Date.now()));
  }
}
