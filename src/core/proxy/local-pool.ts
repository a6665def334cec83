import type { AttemptFailure, KeyManager, KeyPool, KeyPoolAdmin, UsageReport } from "../key-pool";
import { bindingOf } from "../key-store/choose-key";
import { RECHECK_AFTER_MS, REFRESH_AFTER_MS, STALE_AFTER_MS, type LocalView } from "./local-view";
import type { StatSessions } from "../stats/session-store";
import type { UsageBatch } from "./usage-batch";

type Manager = KeyManager & KeyPoolAdmin & StatSessions;
type Pool = KeyPool & KeyPoolAdmin & StatSessions;

/**
 * The pool as one request sees it. Keys are chosen from the isolate's view, never by a
 * remote call. The manager is awaited only when there is no view to choose from (a cold
 * isolate, or one whose own change invalidated it), when a resource's owner is not cached,
 * and before a client is told no key is left. A view older than STALE_AFTER_MS is still
 * chosen from, while a fresh one is asked for at the same moment; the lease carries that
 * check (`confirmed`), so the attempt can be abandoned if the key can no longer serve.
 * Failures and usage are reported in the background; their answers, like a background
 * refresh of a view older than REFRESH_AFTER_MS, bring the view up to date.
 */
export interface LocalPoolOptions {
  /**
   * A key manager in the same process answers at once: a view past STALE_AFTER_MS is then
   * waited for, rather than an attempt started on the old one that the check may abandon.
   */
  awaitAgedView?: boolean;
}

export function localPool(
  manager: Manager,
  view: LocalView,
  batch: UsageBatch,
  waitUntil: (promise: Promise<unknown>) => void,
  options: LocalPoolOptions = {},
): Pool {
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
  /**
   * Keeps the view fresh: nothing to do under REFRESH_AFTER_MS; a background refresh up to
   * STALE_AFTER_MS; beyond that, a fresh view for this request, asked for now and returned
   * unawaited. Each request whose view is that old makes its own call rather than share
   * another request's: a promise made in one request's I/O context must not be awaited in
   * another's (on Workers it hangs or warns), and a request that went on without one would
   * use a view past a second old with nothing to stop it. Such requests come after a quiet
   * second, seldom together, and each awaited a call of its own before: no more calls.
   */
  const update = (now: number): Promise<void> | null => {
    const age = view.age(now);
    if (age > STALE_AFTER_MS) return refresh();
    if (age > REFRESH_AFTER_MS && !view.refreshing) {
      view.refreshing = true;
      // Pending usage goes now and brings the view with it: one call instead of two. A
      // failed background refresh changes nothing: the next request past the limit asks again.
      const call = batch.pending ? batch.flush(send) : refresh().catch(() => undefined);
      waitUntil(call.finally(() => (view.refreshing = false)));
    }
    return null;
  };
  /**
   * Whether a key chosen from an aged view can still serve the request, once the fresh view
   * has arrived. A refresh that failed confirms it: waiting for the manager, the request
   * would have been refused with a 503; going on is better.
   */
  const confirm = (arriving: Promise<void>, keyId: string, model: string | null): Promise<boolean> => {
    const confirmed = arriving.then(
      () => view.stillServes(keyId, model, Date.now()),
      () => true,
    );
    // The view is applied even if the answer is given before the check settles.
    waitUntil(confirmed);
    return confirmed;
  };
  /**
   * The fresh view this request asked for when it chose from an aged one. A retry in the same
   * request (Google refused the key, or the check withdrew it) waits for it: choosing from the
   * old view again would start each retry on a key the manager may already know is out of
   * quota, with a call of its own, as fast as Google refuses them, until the budget runs out.
   * The pool is made per request (app.ts), so this promise never crosses requests.
   */
  let asked: Promise<void> | null = null;
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
      let now = Date.now();
      if (request.failure !== undefined) {
        // This isolate knows at once; the others learn it from the manager's next view.
        view.learn(request.failure, now);
        waitUntil(report(request.failure, now));
      }
      if (request.withdrawn !== undefined) view.withdraw(request.withdrawn, request.model);
      if (asked !== null) {
        const pending = asked;
        asked = null;
        // A view that failed to arrive leaves the old one: asked for again below, as before.
        await pending.catch(() => undefined);
        now = Date.now();
      }
      const { owners, uncached } = view.ownersOf(request, now);
      /** A fresh view on its way while the request chooses from an aged one. */
      let arriving: Promise<void> | null = null;
      if (uncached.length > 0) {
        const answer = await manager.ownersOf(uncached, view.stamp);
        view.apply(answer.update, now);
        view.cacheOwners(answer.owners);
        owners.push(...answer.owners);
      } else {
        // No view yet, or one this isolate's own change invalidated (its age is Infinity):
        // nothing to choose from but what the manager sends.
        const held = Number.isFinite(view.age(now));
        arriving = update(now);
        if (arriving !== null && (!held || options.awaitAgedView === true)) {
          await arriving;
          arriving = null;
        }
        asked = arriving;
      }
      const binding = bindingOf(request, owners);
      const lease = view.choose(request, binding, Date.now());
      if (lease.keyId !== null) return arriving === null ? lease : { ...lease, confirmed: confirm(arriving, lease.keyId, request.model) };
      // Before a client is told no key is left, the manager's latest word: a key may have
      // been added, enabled or freed since the view was taken.
      if (arriving === null && view.age(Date.now()) <= RECHECK_AFTER_MS) return lease;
      await (arriving ?? refresh());
      return view.choose(request, binding, Date.now());
    },
    uncounted: (keyId, model) => view.withdraw(keyId, model),
    recordUsage: async (reports) => batch.add(reports, send, waitUntil),
    recordOwnership: (entries) => manager.recordOwnership(entries),
    forgetResources: async (names) => {
      view.forgetOwners(names);
      await manager.forgetResources(names);
    },
    async usableKeys() {
      // A list asks every key at once from one request: it waits for a view under a second old.
      await update(Date.now());
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
