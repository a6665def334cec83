import type { KeyManager, KeyPoolAdmin } from "../key-pool";
import type { StatSessions } from "../stats/session-store";

// Cloudflare limits what one invocation may send out: 50 subrequests on the Workers Free
// plan (10,000 on paid plans; SUBREQUEST_LIMIT) and 6 connections open at once on every
// plan. Past the first, the runtime fails the request ("Too many subrequests"), so every
// path that may ask several keys spends from one budget per request and stops, with an
// answer, while enough is left for what must follow (reporting the last attempt,
// counting usage). Whether a call to the Durable Object counts is not documented either
// way; it is counted, to be safe.

export const DEFAULT_SUBREQUEST_LIMIT = 50;
/** Simultaneous outgoing connections per invocation, on every plan. */
export const CONNECTION_LIMIT = 6;

export class SubrequestBudget {
  #used = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Counts subrequests that happen regardless (calls to the key manager). */
  spend(count = 1): void {
    this.#used += count;
  }

  /** How many of `wanted` can be taken while leaving `reserve`. */
  available(wanted: number, reserve: number): number {
    return Math.max(0, Math.min(wanted, this.limit - reserve - this.#used));
  }

  /** Takes `count` if that leaves `reserve` for what must follow; takes nothing otherwise. */
  take(count: number, reserve: number): boolean {
    if (this.available(count, reserve) < count) return false;
    this.#used += count;
    return true;
  }
}

type Manager = KeyManager & KeyPoolAdmin & StatSessions;

/** The key manager, with each call (one subrequest to the Durable Object) counted against the budget. */
export function budgetedPool(pool: Manager, budget: SubrequestBudget): Manager {
  const counted = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => (...args: A): Promise<R> => {
    budget.spend();
    return call(...args);
  };
  return {
    poolView: counted((known) => pool.poolView(known)),
    recordFailure: counted((failure, known) => pool.recordFailure(failure, known)),
    recordUsage: counted((reports, known) => pool.recordUsage(reports, known)),
    ownersOf: counted((names, known) => pool.ownersOf(names, known)),
    recordOwnership: counted((entries) => pool.recordOwnership(entries)),
    forgetResources: counted((names) => pool.forgetResources(names)),
    recordEvents: counted((events) => pool.recordEvents(events)),
    runtimeKeys: counted((known) => pool.runtimeKeys(known)),
    snapshot: counted((options) => pool.snapshot(options)),
    reset: counted((scope, role) => pool.reset(scope, role)),
    listKeys: counted((query) => pool.listKeys(query)),
    addKeys: counted((keys, verify, role) => pool.addKeys(keys, verify, role)),
    groupKey: counted((id, group, role) => pool.groupKey(id, group, role)),
    deleteKey: counted((id, role) => pool.deleteKey(id, role)),
    disableKey: counted((id, reason, role) => pool.disableKey(id, reason, role)),
    enableKey: counted((id, role) => pool.enableKey(id, role)),
    verifyKey: counted((id, role) => pool.verifyKey(id, role)),
    startVerification: counted((ids, role, join) => pool.startVerification(ids, role, join)),
    verification: counted(() => pool.verification()),
    bulk: counted((action, ids, role, options) => pool.bulk(action, ids, role, options)),
    events: counted((query) => pool.events(query)),
    setLimit: counted((setting) => pool.setLimit(setting)),
    startStatSession: counted((idHash, session, client) => pool.startStatSession(idHash, session, client)),
    statSession: counted((idHash) => pool.statSession(idHash)),
    endStatSession: counted((idHash) => pool.endStatSession(idHash)),
    loginWait: counted((client) => pool.loginWait(client)),
    loginFailed: counted((client) => pool.loginFailed(client)),
  };
}
