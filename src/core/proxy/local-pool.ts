import type { AttemptFailure, KeyManager, KeyPool, KeyPoolAdmin, UsageReport } from "../key-pool";
import { bindingOf } from "../key-store/choose-key";
import { RECHECK_AFTER_MS, REFRESH_AFTER_MS, STALE_AFTER_MS, type LocalView } from "./local-view";
import type { StatSessions } from "../stats/session-store";
import type { UsageBatch } from "./usage-batch";

type Manager = KeyManager & KeyPoolAdmin & StatSessions;
type Pool = KeyPool & KeyPoolAdmin & StatSessions;

/**
 * The pool as one request sees it. Keys are chosen from the isolate's view, never by a
 * remote call. The manager is awaited only when the view is missing or older than
 * STALE_AFTER_MS, or when a resource's owner is not cached. Failures and usage are
 * reported in the background; their answers, like a background refresh of a view older
 * than REFRESH_AFTER_MS, bring the view up to date.
 */
export function localPool(manager: Manager, view: LocalView, batch: UsageBatch, waitUntil: (promise: Promise<unknown>) => void): Pool {
  const refresh = async (): Promise<void> => {
    const askedAt = Date.now();
    view.apply(await manager.poolView(view.stamp), askedAt);
  };
  const send = async (reports: UsageReport[]): Promise<void> => {
    const askedAt = Date.now();
    const sends = view.delivering(reports);
    try {
      view.apply(await manager.recordUsage(reports, view.stamp), askedAt);
    } finally {
      view.delivered(sends);
    }
  };
  /** A fresh enough view: awaited only when the one held is too old to trust. */
  const fresh = async (now: number): Promise<void> => {
    const age = view.age(now);
    if (age > STALE_AFTER_MS) return refresh();
    if (age > REFRESH_AFTER_MS && !view.refreshing) {
      view.refreshing = true;
      // Pending usage goes now and brings the view with it: one call instead of two. A
      // failed background refresh changes nothing: the next request past the limit asks again.
      const call = batch.pending ? batch.flush(send) : refresh().catch(() => undefined);
      waitUntil(call.finally(() => (view.refreshing = false)));
    }
  };
  const report = async (failure: AttemptFailure, askedAt: number): Promise<void> => {
    view.apply(await manager.recordFailure(failure, view.stamp), askedAt);
    view.confirm(failure);
  };

  /**
   * A change made through this isolate shows in its own view from the next request on
   * (others learn it within a second): that request waits for a view taken after it.
   */
  const afterChange =
    <A extends unknown[], R>(change: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await change(...args);
      view.invalidate(Date.now());
      return result;
    };

  return {
    ...manager,
    addKeys: afterChange(manager.addKeys),
    deleteKey: afterChange(manager.deleteKey),
    disableKey: afterChange(manager.disableKey),
    enableKey: afterChange(manager.enableKey),
    groupKey: afterChange(manager.groupKey),
    verifyKey: afterChange(manager.verifyKey),
    bulk: afterChange(manager.bulk),
    async acquire(request) {
      const now = Date.now();
      if (request.failure !== undefined) {
        // This isolate knows at once; the others learn it from the manager's next view.
        view.learn(request.failure, now);
        waitUntil(report(request.failure, now));
      }
      const { owners, uncached } = view.ownersOf(request, now);
      if (uncached.length > 0) {
        const answer = await manager.ownersOf(uncached, view.stamp);
        view.apply(answer.update, now);
        view.cacheOwners(answer.owners);
        owners.push(...answer.owners);
      } else {
        await fresh(now);
      }
      const binding = bindingOf(request, owners);
      const lease = view.choose(request, binding, Date.now());
      // Before a client is told no key is left, the manager's latest word: a key may have
      // been added, enabled or freed since the view was taken.
      if (lease.keyId !== null || view.age(Date.now()) <= RECHECK_AFTER_MS) return lease;
      await refresh();
      return view.choose(request, binding, Date.now());
    },
    recordUsage: async (reports) => batch.add(reports, send, waitUntil),
    recordOwnership: (entries) => manager.recordOwnership(entries),
    forgetResources: async (names) => {
      view.forgetOwners(names);
      await manager.forgetResources(names);
    },
    async usableKeys() {
      await fresh(Date.now());
      return view.enabledKeys();
    },
    // The stats are read after this isolate's pending usage landed, so a page never misses its own requests.
    async snapshot(options) {
      await batch.flush(send);
      return manager.snapshot(options);
    },
    async listKeys(query) {
      await batch.flush(send);
      return manager.listKeys(query);
    },
    reset: afterChange(manager.reset),
    setLimit: afterChange(manager.setLimit),
  };
}
