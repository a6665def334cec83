import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AttemptFailure, KeyManager, KeyPoolAdmin, Lease, Ownership, ViewUpdate } from "../key-pool";
import { quotaDay } from "../pacific-time";
import type { QuotaEntry } from "../key-store/quota-book";
import type { ViewMark } from "../key-store/pool-state";
import type { StatsSnapshot } from "../stats-model";
import { localPool, type LocalPoolOptions } from "./local-pool";
import { LocalView, REFRESH_AFTER_MS, STALE_AFTER_MS } from "./local-view";
import { UsageBatch } from "./usage-batch";
import { idlePool } from "../../../test/setup/idle-pool";
import type { StatSessions } from "../stats/session-store";

// The isolate's side of key choice, against a key manager that holds a pool in memory
// and records every call it gets. The manager's own choice and storage are tested in
// key-store.test.ts; the two together, on real Durable Object storage, in test/workers/isolate-views.test.ts.

const NOW = Date.parse("2026-12-15T12:00:00Z");
const DAY_QUOTA = { kind: "quota-day", reason: "You exceeded your current quota" } as const;

class MemoryManager {
  calls: string[] = [];
  keys = ["a", "b", "c"].map((id, index) => ({ id, position: index + 1, disabled: false, scope: `key:${id}` }));
  marks: ViewMark[] = [];
  owners: Ownership[] = [];
  version = 1;
  quota: QuotaEntry[] = [];
  /** Resolves the manager's answers only when released, to look at the isolate meanwhile. */
  hold: Promise<void> | null = null;
  /** poolView fails, as an unreachable manager's does. */
  failing = false;

  #update(): ViewUpdate {
    return {
      stamp: { epoch: "e", version: this.version },
      view: { keys: this.keys.map((key) => ({ ...key })), marks: [...this.marks], quota: structuredClone(this.quota), disabled: {} },
    };
  }

  /** Holds every answer until the returned function is called. */
  holdAnswers(): () => void {
    let release: () => void = () => undefined;
    this.hold = new Promise((resolve) => (release = resolve));
    return () => {
      this.hold = null;
      release();
    };
  }

  async recordFailure(failure: AttemptFailure): Promise<ViewUpdate> {
    this.calls.push("recordFailure");
    if (failure.model !== null) {
      this.marks.push({ keyId: failure.keyId, model: failure.model, until: NOW + 86_400_000 });
      this.version++;
    }
    const update = this.#update();
    await this.hold;
    return update;
  }
  async ownersOf(names: string[]): Promise<{ owners: Ownership[]; update: ViewUpdate }> {
    this.calls.push("ownersOf");
    return { owners: this.owners.filter((owner) => names.includes(owner.name)), update: this.#update() };
  }
  async poolView(): Promise<ViewUpdate> {
    this.calls.push("poolView");
    if (this.failing) throw new Error("the manager is unreachable");
    const update = this.#update();
    await this.hold;
    return update;
  }
  async recordUsage(): Promise<ViewUpdate> {
    this.calls.push("recordUsage");
    return this.#update();
  }
  async recordOwnership(): Promise<void> {}
  async forgetResources(): Promise<void> {}
  async snapshot(): Promise<StatsSnapshot> {
    return {} as StatsSnapshot;
  }
  async reset(): Promise<void> {
    this.calls.push("reset");
  }
  async startStatSession(): Promise<void> {}
  async statSession(): Promise<null> {
    return null;
  }
  async endStatSession(): Promise<void> {}
  async loginWait(): Promise<number> {
    return 0;
  }
  async loginFailed(): Promise<number> {
    return 0;
  }
  async setLimit(): Promise<void> {}
}

/** The manager as the pool sees it: every method the tests do not use fails. */
function asManager(memory: MemoryManager): KeyManager & KeyPoolAdmin & StatSessions {
  return {
    ...idlePool(),
    poolView: () => memory.poolView(),
    recordFailure: (failure) => memory.recordFailure(failure),
    recordUsage: () => memory.recordUsage(),
    ownersOf: (names) => memory.ownersOf(names),
    reset: () => memory.reset(),
    startStatSession: () => memory.startStatSession(),
    statSession: () => memory.statSession(),
    endStatSession: () => memory.endStatSession(),
    loginWait: () => memory.loginWait(),
    loginFailed: () => memory.loginFailed(),
  };
}

function isolate(manager = new MemoryManager(), options: LocalPoolOptions = {}) {
  const view = new LocalView();
  const background: Promise<unknown>[] = [];
  const pool = () => localPool(asManager(manager), view, new UsageBatch(60_000), (promise) => background.push(promise), options);
  const pick = async (model: string, exclude: string[] = []) => (await pool().acquire({ model, exclude })).keyId;
  return { manager, view, background, pool, pick };
}

/** The check a lease from an aged view carries. */
function confirmedOf(lease: Lease): Promise<boolean> {
  if (lease.keyId === null || lease.confirmed === undefined) throw new Error(`no check on ${JSON.stringify(lease)}`);
  return lease.confirmed;
}

/** Whether `promise` settles within a few event-loop turns: a call held by the manager does not. */
async function settlesWithin(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return settled;
}

/** A per-day limit of `limit` requests for model "m" on a key of its own, `used` of them counted. */
function dayLimit(keyId: string, limit: number, used: number): QuotaEntry {
  return {
    scope: `key:${keyId}`,
    model: "m",
    limits: { rpd: limit },
    known: { rpd: { value: limit, source: "set", at: NOW } },
    windowMs: 60_000,
    windowKnown: false,
    day: quotaDay(NOW),
    dayRequests: used,
    sends: [],
    tokens: [],
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("an isolate's pool view", () => {
  it("asks the manager once, then chooses keys itself, least recently used first", async () => {
    const { manager, pick } = isolate();
    const picks = [];
    for (let i = 0; i < 6; i++) picks.push(await pick("m"));
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(manager.calls).toEqual(["poolView"]);
  });

  it("refreshes in the background once the view is half a second old", async () => {
    const { manager, background, pick } = isolate();
    await pick("m");
    vi.setSystemTime(NOW + REFRESH_AFTER_MS + 1);
    // A key was added meanwhile: the request still uses the view it has, and refreshes it behind.
    manager.keys.push({ id: "d", position: 4, disabled: false, scope: "key:d" });
    manager.version++;
    let release: () => void = () => undefined;
    manager.hold = new Promise((resolve) => (release = resolve));
    expect(await pick("m", ["b", "c"])).toBe("a");
    expect(background).toHaveLength(1);
    release();
    manager.hold = null;
    await Promise.all(background);
    expect(await pick("m", ["a", "b", "c"])).toBe("d");
    expect(manager.calls).toEqual(["poolView", "poolView"]);
  });

  it("chooses from a view older than a second at once, and checks the key against the view it asks for meanwhile", async () => {
    const { manager, pool, pick } = isolate();
    await pick("m");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    // Another isolate disabled b, the key this one would hand out next.
    manager.keys[1]!.disabled = true;
    manager.version++;
    const release = manager.holdAnswers();
    const lease = await pool().acquire({ model: "m", exclude: [] });
    expect(lease).toMatchObject({ keyId: "b", pinned: false });
    expect(manager.calls).toEqual(["poolView", "poolView"]);
    const check = confirmedOf(lease);
    expect(await settlesWithin(check)).toBe(false);
    release();
    expect(await check).toBe(false);
    // The retry chooses from the view that arrived: no call, no check.
    expect(await pool().acquire({ model: "m", exclude: ["b"], withdrawn: "b" })).toEqual({ keyId: "c", pinned: false });
    expect(manager.calls).toEqual(["poolView", "poolView"]);

    // A key the fresh view still holds usable is confirmed.
    vi.setSystemTime(NOW + 2 * (STALE_AFTER_MS + 1));
    const next = await pool().acquire({ model: "m", exclude: [] });
    expect(next).toMatchObject({ keyId: "a" });
    expect(await confirmedOf(next)).toBe(true);
  });

  it("checks a key's quota by the fresh counts, leaving the request's own send out of them", async () => {
    const { manager, pool, pick } = isolate();
    // One request a day for key a; nothing used yet.
    manager.quota = [dayLimit("a", 1, 0)];
    await pick("other");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    const own = await pool().acquire({ model: "m", exclude: [] });
    expect(own).toMatchObject({ keyId: "a" });
    expect(await confirmedOf(own)).toBe(true);
    // Withdrawn, that attempt no longer counts against a's quota.
    expect(await pool().acquire({ model: "m", exclude: ["a", "b", "c"], withdrawn: "a" })).toMatchObject({ keyId: null });

    // Another isolate spends a's one request; this one's view still says none was used.
    manager.quota = [dayLimit("a", 1, 1)];
    manager.version++;
    vi.setSystemTime(NOW + 2 * (STALE_AFTER_MS + 1));
    const spent = await pool().acquire({ model: "m", exclude: ["b", "c"] });
    expect(spent).toMatchObject({ keyId: "a" });
    expect(await confirmedOf(spent)).toBe(false);
  });

  // A withdrawn send was looked for only under the key's quota scope as the fresh view has it.
  // A key removed from the pool (or moved to another group) meanwhile has another scope there,
  // so its send stayed counted against the group it was sent under for PENDING_MAX_MS (ten
  // minutes): the group looked a request fuller.
  it("a withdrawn attempt stops counting against its group even when the fresh view removed its key", async () => {
    const { manager, pool, pick } = isolate();
    // a and b share one group's quota: two requests a day for "m", none used yet.
    for (const key of manager.keys.slice(0, 2)) key.scope = "group:g";
    manager.quota = [{ ...dayLimit("a", 2, 0), scope: "group:g" }];
    await pick("other");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    // Another isolate removes a.
    manager.keys.splice(0, 1);
    manager.version++;
    const lease = await pool().acquire({ model: "m", exclude: ["b", "c"] });
    expect(lease).toMatchObject({ keyId: "a" });
    expect(await confirmedOf(lease)).toBe(false);
    // The retry takes one of the group's two requests; the withdrawn one took none.
    expect(await pool().acquire({ model: "m", exclude: ["a", "c"], withdrawn: "a" })).toMatchObject({ keyId: "b" });
    expect(await pool().acquire({ model: "m", exclude: ["a", "c"] })).toMatchObject({ keyId: "b" });
  });

  it("a retry in a request that started on an aged view waits for the view on its way, and asks for no other", async () => {
    const { manager, pool, pick } = isolate();
    await pick("m");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    // Other isolates learned that b and c are out of quota for "m".
    for (const keyId of ["b", "c"]) manager.marks.push({ keyId, model: "m", until: NOW + 86_400_000 });
    manager.version++;
    const release = manager.holdAnswers();
    const request = pool();
    expect(await request.acquire({ model: "m", exclude: [] })).toMatchObject({ keyId: "b" });
    // Google refused b at once, before the fresh view arrived: the retry waits for that view
    // rather than start on c, which the manager already knows is spent.
    const retry = request.acquire({ model: "m", exclude: ["b"], failure: { keyId: "b", model: "m", fault: DAY_QUOTA } });
    expect(await settlesWithin(retry)).toBe(false);
    release();
    expect(await retry).toEqual({ keyId: "a", pinned: false });
    expect(manager.calls).toEqual(["poolView", "poolView", "recordFailure"]);
  });

  it("a check the manager cannot answer confirms the key: the request goes on rather than fail", async () => {
    const { manager, pool, pick } = isolate();
    await pick("m");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    manager.failing = true;
    const lease = await pool().acquire({ model: "m", exclude: [] });
    expect(lease).toMatchObject({ keyId: "b" });
    expect(await confirmedOf(lease)).toBe(true);
  });

  it("waits for the manager when it holds no view, or when a change made through it made its view stale", async () => {
    const { manager, pool } = isolate();
    let release = manager.holdAnswers();
    let acquiring = pool().acquire({ model: "m", exclude: [] });
    expect(await settlesWithin(acquiring)).toBe(false);
    release();
    expect(await acquiring).toEqual({ keyId: "a", pinned: false });

    // A change made through this isolate shows from its next request on.
    await pool().reset("all");
    release = manager.holdAnswers();
    acquiring = pool().acquire({ model: "m", exclude: [] });
    expect(await settlesWithin(acquiring)).toBe(false);
    release();
    expect(await acquiring).toEqual({ keyId: "b", pinned: false });
    expect(manager.calls).toEqual(["poolView", "reset", "poolView"]);
  });

  it("waits for a fresh view instead of checking alongside when its manager is in the same process", async () => {
    const { manager, pool, pick } = isolate(new MemoryManager(), { awaitAgedView: true });
    await pick("m");
    vi.setSystemTime(NOW + STALE_AFTER_MS + 1);
    manager.keys[1]!.disabled = true;
    manager.version++;
    const release = manager.holdAnswers();
    const acquiring = pool().acquire({ model: "m", exclude: [] });
    expect(await settlesWithin(acquiring)).toBe(false);
    release();
    // Chosen from the fresh view, which no longer offers b: nothing left to check.
    expect(await acquiring).toEqual({ keyId: "c", pinned: false });
  });

  it("never hands out a key it saw fail again, even while the manager has not answered or an older view arrives", async () => {
    const { manager, view, background, pool, pick } = isolate();
    await pick("m");
    let release: () => void = () => undefined;
    manager.hold = new Promise((resolve) => (release = resolve));
    // The retry does not wait for the manager to record the failure.
    const retry = await pool().acquire({ model: "m", exclude: ["a"], failure: { keyId: "a", model: "m", fault: DAY_QUOTA } });
    expect(retry.keyId).toBe("b");
    expect(manager.calls).toEqual(["poolView", "recordFailure"]);
    // Other requests of the isolate, while the manager records the failure.
    for (let i = 0; i < 3; i++) expect(await pick("m")).not.toBe("a");
    // A view the manager sent before the failure, arriving late, does not bring the key back.
    view.apply({ stamp: { epoch: "e", version: 1 }, view: { keys: manager.keys, marks: [], quota: [], disabled: {} } }, NOW);
    expect(await pick("m", ["b"])).toBe("c");
    release();
    await Promise.all(background);
    for (let i = 0; i < 3; i++) expect(await pick("m")).not.toBe("a");
    // Another model is not affected.
    expect(await pick("other", ["b", "c"])).toBe("a");
  });

  it("caches the owners the manager names, and asks again only for resources it has not seen", async () => {
    const { manager, pool } = isolate();
    manager.owners = [{ name: "files/f1", keyId: "c", expiresAt: NOW + 60_000 }];
    const acquire = () => pool().acquire({ model: "m", exclude: [], resources: ["files/f1"] });
    expect(await acquire()).toEqual({ keyId: "c", pinned: true });
    expect(await acquire()).toEqual({ keyId: "c", pinned: true });
    expect(manager.calls).toEqual(["ownersOf"]);
    // A resource nobody recorded leaves the choice free, and is asked about again next time.
    expect(await pool().acquire({ model: "m", exclude: [], resources: ["files/f2"] })).toMatchObject({ pinned: false });
    expect(manager.calls).toEqual(["ownersOf", "ownersOf"]);
    // An owner is cached only until its record expires.
    vi.setSystemTime(NOW + 60_000);
    await acquire();
    expect(manager.calls.at(-1)).toBe("ownersOf");
  });

  it("takes each usage batch's answer as a fresh view", async () => {
    const { manager, background, pick } = isolate();
    await pick("m");
    vi.setSystemTime(NOW + 900);
    const batch = new UsageBatch(0);
    const view = new LocalView();
    const withBatch = localPool(asManager(manager), view, batch, (promise) => background.push(promise));
    await withBatch.recordUsage([{ keyId: "a", model: "m", promptTokens: 1, outputTokens: 1, at: NOW + 900 }]);
    await Promise.all(background);
    expect(view.age(Date.now())).toBe(0);
    await withBatch.acquire({ model: "m", exclude: [] });
    expect(manager.calls).toEqual(["poolView", "recordUsage"]);
  });
});
