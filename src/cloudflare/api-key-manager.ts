import { DurableObject } from "cloudflare:workers";
import type { BulkAction, BulkOptions, EventInput, EventQuery, KeyListQuery, Role } from "../core/admin-model";
import { readConfig } from "../core/config";
import type { NewKeyEntry } from "../core/key-admin/parse-new-keys";
import type { AttemptFailure, KeyManager, KeyPoolAdmin, LimitSetting, Ownership, UsageReport, ViewStamp, ViewUpdate } from "../core/key-pool";
import { keyRingFor } from "../core/key-ring";
import { PoolManager } from "../core/pool-manager";
import type { StatsSnapshot } from "../core/stats-model";
import type { StatSession, StatSessions } from "../core/stats/session-store";
import { sqlRunner } from "./sql-runner";

/**
 * The pool's single source of truth on Workers: one instance serves the whole pool.
 * Isolates choose keys from views it hands out (see core/proxy/local-pool.ts). An RPC
 * shell over the runtime-neutral PoolManager, which the Node server hosts in-process;
 * its alarm works through verification jobs a batch at a time.
 */
export class ApiKeyManager extends DurableObject<Env> implements KeyManager, KeyPoolAdmin, StatSessions {
  #manager: PoolManager | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#manager = new PoolManager({
        sql: sqlRunner(ctx.storage.sql),
        transaction: (body) => ctx.storage.transactionSync(body),
        envRing: await keyRingFor(env.API_KEYS),
        config: readConfig(env),
        wake: () => ctx.storage.setAlarm(Date.now()),
      });
    });
  }

  get #pool(): PoolManager {
    if (this.#manager === undefined) throw new Error("ApiKeyManager used before its storage was ready");
    return this.#manager;
  }

  async poolView(known: ViewStamp | null): Promise<ViewUpdate> {
    return this.#pool.poolView(known);
  }

  async recordFailure(failure: AttemptFailure, known: ViewStamp | null): Promise<ViewUpdate> {
    return this.#pool.recordFailure(failure, known);
  }

  async ownersOf(names: string[], known: ViewStamp | null): Promise<{ owners: Ownership[]; update: ViewUpdate }> {
    return this.#pool.ownersOf(names, known);
  }

  async recordUsage(reports: UsageReport[], known: ViewStamp | null): Promise<ViewUpdate> {
    return this.#pool.recordUsage(reports, known);
  }

  async recordOwnership(entries: Ownership[]): Promise<void> {
    return this.#pool.recordOwnership(entries);
  }

  async forgetResources(names: string[]): Promise<void> {
    return this.#pool.forgetResources(names);
  }

  async recordEvents(events: EventInput[]): Promise<void> {
    return this.#pool.recordEvents(events);
  }

  async runtimeKeys(known?: string) {
    return this.#pool.runtimeKeys(known);
  }

  async snapshot(options: { keys?: boolean } = {}): Promise<StatsSnapshot> {
    return this.#pool.snapshot(options);
  }

  async reset(scope: "day" | "all", role?: Role): Promise<void> {
    return this.#pool.reset(scope, role);
  }

  async setLimit(setting: LimitSetting): Promise<void> {
    return this.#pool.setLimit(setting);
  }

  async listKeys(query: KeyListQuery) {
    return this.#pool.listKeys(query);
  }

  async addKeys(keys: NewKeyEntry[], verify: boolean, role: Role) {
    return this.#pool.addKeys(keys, verify, role);
  }

  async groupKey(id: string, group: string | null, role: Role) {
    return this.#pool.groupKey(id, group, role);
  }

  async deleteKey(id: string, role: Role) {
    return this.#pool.deleteKey(id, role);
  }

  async disableKey(id: string, reason: string, role: Role) {
    return this.#pool.disableKey(id, reason, role);
  }

  async enableKey(id: string, role: Role) {
    return this.#pool.enableKey(id, role);
  }

  async verifyKey(id: string, role: Role) {
    return this.#pool.verifyKey(id, role);
  }

  async startVerification(ids: string[] | null, role: Role, join?: boolean) {
    return this.#pool.startVerification(ids, role, join);
  }

  async verification() {
    return this.#pool.verification();
  }

  async bulk(action: BulkAction, ids: string[], role: Role, options?: BulkOptions) {
    return this.#pool.bulk(action, ids, role, options);
  }

  async events(query: EventQuery) {
    return this.#pool.events(query);
  }

  /** One verification batch per run, re-armed while keys are left (each run stays within the subrequest limit) or for the next re-check. */
  override async alarm(): Promise<void> {
    const next = await this.#pool.verificationBatch();
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  async startStatSession(idHash: string, session: StatSession, client: string): Promise<void> {
    return this.#pool.startStatSession(idHash, session, client);
  }

  async statSession(idHash: string): Promise<StatSession | null> {
    return this.#pool.statSession(idHash);
  }

  async endStatSession(idHash: string): Promise<void> {
    return this.#pool.endStatSession(idHash);
  }

  async loginWait(client: string): Promise<number> {
    return this.#pool.loginWait(client);
  }

  async loginFailed(client: string): Promise<number> {
    return this.#pool.loginFailed(client);
  }
}
