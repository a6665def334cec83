import { DurableObject } from "cloudflare:workers";
import type { AcquireRequest, KeyPool, KeyPoolAdmin, Lease, Ownership, UsageReport } from "../core/key-pool";
import { keyRingFor } from "../core/key-ring";
import { KeyStore } from "../core/key-store/key-store";
import type { StatsSnapshot } from "../core/stats-model";
import { sqlRunner } from "./sql-runner";

/**
 * The single source of truth for key state and usage: one instance serves the whole
 * pool, so choosing a key and marking it never race. A thin RPC shell over KeyStore.
 */
export class ApiKeyManager extends DurableObject<Env> implements KeyPool, KeyPoolAdmin {
  #store: KeyStore | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = sqlRunner(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      const ring = await keyRingFor(env.API_KEYS);
      this.#store = ctx.storage.transactionSync(() => {
        const store = new KeyStore(sql);
        store.syncKeys(ring.keys.map(({ id, masked, position }) => ({ id, masked, position })));
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
    this.#ready.recordOwnership(entries);
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
}
