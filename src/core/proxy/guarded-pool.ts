import type { ApiStyle } from "../api-style";
import { errorResponse } from "../error-response";
import type { KeyManager, KeyPoolAdmin } from "../key-pool";
import type { StatSessions } from "../stats/session-store";

// Every call into the key manager (a Durable Object: one instance for the whole pool)
// can fail (a deploy resets it, storage errors) or stall (overload). Guarded here once,
// so no request path can hang on it or turn its failure into an unexplained 500.

/** The key manager failed or did not answer; the message is safe to show (keys masked). */
export class KeyManagerUnavailable extends Error {}

/** The client's answer when the key manager failed: a 503 it may retry, in its API's style. */
export function keyManagerUnavailableResponse(style: ApiStyle, detail: string): Response {
  return errorResponse(style, 503, `The proxy's key manager is unavailable (${detail}); try again shortly.`, {
    code: "key_manager_unavailable",
  });
}

/** It answers in milliseconds; this long means it is stuck. */
const POOL_CALL_TIMEOUT_MS = 10_000;

type Manager = KeyManager & KeyPoolAdmin & StatSessions;

export function guardedPool(pool: Manager, redact: (text: string) => string, timeoutMs = POOL_CALL_TIMEOUT_MS): Manager {
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KeyManagerUnavailable("did not answer in time")), timeoutMs);
    });
    const answered = (async () => call())().catch((error: unknown) => {
      throw new KeyManagerUnavailable(redact(error instanceof Error ? error.message : String(error)));
    });
    return Promise.race([answered, stuck]).finally(() => clearTimeout(timer));
  };
  return {
    poolView: (known) => guard(() => pool.poolView(known)),
    recordFailure: (failure, known) => guard(() => pool.recordFailure(failure, known)),
    recordUsage: (reports, known) => guard(() => pool.recordUsage(reports, known)),
    ownersOf: (names, known) => guard(() => pool.ownersOf(names, known)),
    recordOwnership: (entries) => guard(() => pool.recordOwnership(entries)),
    forgetResources: (names) => guard(() => pool.forgetResources(names)),
    recordEvents: (events) => guard(() => pool.recordEvents(events)),
    runtimeKeys: (known) => guard(() => pool.runtimeKeys(known)),
    snapshot: (options) => guard(() => pool.snapshot(options)),
    reset: (scope, role) => guard(() => pool.reset(scope, role)),
    listKeys: (query) => guard(() => pool.listKeys(query)),
    addKeys: (keys, verify, role) => guard(() => pool.addKeys(keys, verify, role)),
    groupKey: (id, group, role) => guard(() => pool.groupKey(id, group, role)),
    deleteKey: (id, role) => guard(() => pool.deleteKey(id, role)),
    disableKey: (id, reason, role) => guard(() => pool.disableKey(id, reason, role)),
    enableKey: (id, role) => guard(() => pool.enableKey(id, role)),
    // One model-list call to Google: its own timeout (verify-key.ts) is what bounds it.
    verifyKey: (id, role) => guard(() => pool.verifyKey(id, role)),
    startVerification: (ids, role, join) => guard(() => pool.startVerification(ids, role, join)),
    verification: () => guard(() => pool.verification()),
    bulk: (action, ids, role, options) => guard(() => pool.bulk(action, ids, role, options)),
    events: (query) => guard(() => pool.events(query)),
    setLimit: (setting) => guard(() => pool.setLimit(setting)),
    startStatSession: (idHash, session, client) => guard(() => pool.startStatSession(idHash, session, client)),
    statSession: (idHash) => guard(() => pool.statSession(idHash)),
    endStatSession: (idHash) => guard(() => pool.endStatSession(idHash)),
    loginWait: (client) => guard(() => pool.loginWait(client)),
    loginFailed: (client) => guard(() => pool.loginFailed(client)),
  };
}
