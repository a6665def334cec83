import { DurableObject } from "cloudflare:workers";
import type { BulkAction, EventInput, EventQuery, KeyListQuery, Role } from "../core/admin-model";
import { readConfig } from "../core/config";
import { PoolAdmin } from "../core/key-admin/pool-admin";
import { verifyKey } from "../core/key-admin/verify-key";
import type { AttemptFailure, KeyManager, KeyPoolAdmin, LimitSetting, Ownership, UsageReport, ViewStamp, ViewUpdate } from "../core/key-pool";
import { keyRingFor } from "../core/key-ring";
import { KeyStore } from "../core/key-store/key-store";
import type { StatsSnapshot } from "../core/stats-model";
import { SessionStore, type StatSession, type StatSessions } from "../core/stats/session-store";
import { sqlRunner } from "./sql-runner";

/**
 * The single source of truth for key state and usage: one instance serves the whole
 * pool, so marks and counts never race. Isolates choose keys from views it hands out
 * (see core/proxy/local-pool.ts). A thin RPC shell over KeyStore (the request path) and
 * PoolAdmin (runtime keys, verification, events); its alarm works through verification
 * jobs a batch at a time.
 */
export class ApiKeyManager extends DurableObject<Env> implements KeyManager, KeyPoolAdmin, StatSessions {
  #store: KeyStore | undefined;
  #sessions: SessionStore | undefined;
  #admin: PoolAdmin | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = sqlRunner(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      const ring = await keyRingFor(env.API_KEYS);
      const store = ctx.storage.transactionSync(() => {
        const opened = new KeyStore(sql);
        opened.syncKeys(ring.keys.map(({ id, masked, position, group }) => ({ id, masked, position, group })));
        // After KeyStore: its constructor runs the migrations both share.
        this.#sessions = new SessionStore(sql);
        return opened;
      });
      const config = readConfig(env);
      this.#store = store;
      this.#admin = new PoolAdmin({
        store,
        envRing: ring,
        verify: (secret) => verifyKey(secret, config),
        wake: () => ctx.storage.setAlarm(Date.now()),
      });
    });
  }

  get #ready(): KeyStore {
    if (this.#store === undefined) throw new Error("ApiKeyManager used before its storage was ready");
    return this.#store;
  }

  get #pool(): PoolAdmin {
    if (this.#admin === undefined) throw new Error("ApiKeyManager used before its storage was ready");
    return this.#admin;
  }

  async poolView(known: ViewStamp | null): Promise<ViewUpdate> {
    return this.#ready.view(known, Date.now());
  }

  async recordFailure(failure: AttemptFailure, known: ViewStamp | null): Promise<ViewUpdate> {
    const now = Date.now();
    this.#ready.recordFailure(failure, now);
    return this.#ready.view(known, now);
  }

  async ownersOf(names: string[], known: ViewStamp | null): Promise<{ owners: Ownership[]; update: ViewUpdate }> {
    const now = Date.now();
    return { owners: this.#ready.ownersOf(names, now), update: this.#ready.view(known, now) };
  }

  async recordUsage(reports: UsageReport[], known: ViewStamp | null): Promise<ViewUpdate> {
    const now = Date.now();
    this.#ready.recordUsage(reports, now);
    return this.#ready.view(known, now);
  }

  async recordOwnership(entries: Ownership[]): Promise<void> {
    this.#ready.recordOwnership(entries, Date.now());
  }

  async forgetResources(names: string[]): Promise<void> {
    this.#ready.forgetResources(names);
  }

  async recordEvents(events: EventInput[]): Promise<void> {
    this.#pool.recordEvents(events);
  }

  async runtimeKeys(known?: string) {
    return this.#pool.runtimeKeys(known);
  }

  async snapshot(options: { keys?: boolean } = {}): Promise<StatsSnapshot> {
    return this.#pool.snapshot(options.keys !== false);
  }

  async reset(scope: "day" | "all", role?: Role): Promise<void> {
    if (scope === "day") await this.#pool.dailyReset();
    else this.#pool.reset(role);
  }

  async setLimit(setting: LimitSetting): Promise<void> {
    this.#ready.setLimit(setting, Date.now());
  }

  async listKeys(query: KeyListQuery) {
    return this.#pool.listKeys(query);
  }

  async addKeys(secrets: string[], verify: boolean, role: Role) {
    return this.#pool.add(secrets, verify, role);
  }

  async deleteKey(id: string, role: Role) {
    return this.#pool.delete(id, role);
  }

  async disableKey(id: string, reason: string, role: Role) {
    return this.#pool.disable(id, reason, role);
  }

  async enableKey(id: string, role: Role) {
    return this.#pool.enable(id, role);
  }

  async verifyKey(id: string, role: Role) {
    return this.#pool.verifyOne(id, role);
  }

  async startVerification(ids: string[] | null, role: Role) {
    return this.#pool.startVerification(ids, role);
  }

  async verification() {
    return this.#pool.verification();
  }

  async bulk(action: BulkAction, ids: string[], role: Role) {
    return this.#pool.bulk(action, ids, role);
  }

  async events(query: EventQuery) {
    return this.#pool.events(query);
  }

  /** One verification batch per run, re-armed while keys are left: each run stays within the subrequest limit. */
  override async alarm(): Promise<void> {
    if (await this.#pool.runVerificationBatch()) await this.ctx.storage.setAlarm(Date.now());
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
