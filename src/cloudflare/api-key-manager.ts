import { DurableObject } from "cloudflare:workers";
import type { AcquireRequest, KeyPool, KeyPoolAdmin, Lease, Ownership, UsageReport } from "../core/key-pool";
import { keyRingFor } from "../core/key-ring";
import { KeyStore } from "../core/key-store/key-store";
import type { StatsSnapshot } from "../core/stats-model";
import { SessionStore, type StatSession, type StatSessions } from "../core/stats/session-store";
import { sqlRunner } from "./sql-runner";

/**
 * The single source of truth for key state and usage: one instance serves the whole
 * pool, so choosing a key and marking it never race. A thin RPC shell over KeyStore.
 */
export class ApiKeyManager extends DurableObject<Env> implements KeyPool, KeyPoolAdmin, StatSessions {
  #store: KeyStore | undefined;
  #sessions: SessionStore | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = sqlRunner(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      const ring = await keyRingFor(env.API_KEYS);
      this.#store = ctx.storage.transactionSync(() => {
        const store = new KeyStore(sql);
        store.syncKeys(ring.keys.map(({ id, masked, position }) => ({ id, masked, position })));
        // After KeyStore: its constructor runs the migrations both share.
        this.#sessions = new SessionStore(sql);
        return store;
      });
    });
  }

  get #ready(): KeyStore {
    if (this.#store === undefined) throw new Error("ApiKeyManager used before its storage was ready");
    return this.#store;
  }

  async acquire(request: AcquireRequest): Promise<Lease> {
    return this.#ready.acquire(request, Date.now());
  }

  async recordUsage(reports: UsageReport[]): Promise<void> {
    this.#ready.recordUsage(reports, Date.now());
  }

  async recordOwnership(entries: Ownership[]): Promise<void> {
    this.#ready.recordOwnership(entries, Date.now());
  }

  async forgetResources(names: string[]): Promise<void> {
    this.#ready.forgetResources(names);
  }

  async usableKeys(): Promise<string[]> {
    return this.#ready.usableKeys();
  }

  async snapshot(): Promise<StatsSnapshot> {
    return this.#ready.snapshot(Date.now());
  }

  async reset(scope: "day" | "all"): Promise<void> {
    this.#ready.reset(scope, Date.now());
  }

  get #sessionStore(): SessionStore {
    if (this.#sessions === undefined) throw new Error("ApiKeyManager used before its storage was ready");
    return this.#sessions;
  }

  async startStatSession(idHash: string, session: StatSession, client: string): Promise<void> {
    this.#sessionStore.start(idHash, session, client, Date.now());
  }

  async statSession(idHash: string): Promise<StatSession | null> {
    return this.#sessionStore.find(idHash, Date.now());
  }

  async endStatSession(idHash: string): Promise<void> {
    this.#sessionStore.end(idHash);
  }

  async loginWait(client: string): Promise<number> {
    return this.#sessionStore.loginWait(client, Date.now());
  }

  async loginFailed(client: string): Promise<number> {
    return this.#sessionStore.loginFailed(client, Date.now());
  }
}
