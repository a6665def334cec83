import { describe, expect, it, vi } from "vitest";
import type { KeyManager, KeyPoolAdmin, UsageReport, ViewUpdate } from "../key-pool";
import type { StatsSnapshot } from "../stats-model";
import { idlePool } from "../../../test/setup/idle-pool";
import type { StatSessions } from "../stats/session-store";
import { localPool } from "./local-pool";
import { LocalView } from "./local-view";
import { UsageBatch } from "./usage-batch";

// The batch, as the isolate's pool uses it, against a key manager that records what reaches it: the key manager's side of
// batched usage is tested in key-store.test.ts and end to end in load-exactness.

function recordingPool(fail = false) {
  const events: string[] = [];
  const batches: UsageReport[][] = [];
  const update: ViewUpdate = { stamp: { epoch: "e", version: 1 }, view: { keys: [], marks: [], quota: [], disabled: {} } };
  const pool: KeyManager & KeyPoolAdmin & StatSessions = {
    ...idlePool(),
    poolView: async () => update,
    recordFailure: () => Promise.reject(new Error("not used")),
    ownersOf: () => Promise.reject(new Error("not used")),
    recordUsage: async (reports) => {
      if (fail) throw new Error("usage write failed");
      batches.push(reports);
      events.push(`usage ×${reports.length}`);
      return update;
    },
    recordOwnership: async () => undefined,
    forgetResources: async () => undefined,
    snapshot: async () => {
      events.push("snapshot");
      return {} as StatsSnapshot;
    },
    reset: async () => undefined,
    startStatSession: async () => undefined,
    statSession: async () => null,
    endStatSession: async () => undefined,
    loginWait: async () => 0,
    loginFailed: async () => 0,
    setLimit: async () => undefined,
  };
  return { pool, events, batches };
}

const batchedUsage = (pool: KeyManager & KeyPoolAdmin & StatSessions, batch: UsageBatch, waitUntil: (promise: Promise<unknown>) => void) =>
  localPool(pool, new LocalView(), batch, waitUntil);

const report = (n: number): UsageReport => ({ keyId: `k${n % 3}`, model: "m", promptTokens: n, outputTokens: 1, at: n });

describe("usage batch", () => {
  it("sends the reports of many requests in one call, from the request that opened the batch", async () => {
    const { pool, batches } = recordingPool();
    const batch = new UsageBatch(20);
    const kept: Promise<unknown>[][] = [];
    for (let i = 0; i < 5; i++) {
      const background: Promise<unknown>[] = [];
      kept.push(background);
      await batchedUsage(pool, batch, (promise) => background.push(promise)).recordUsage([report(i)]);
    }
    expect(kept.map((background) => background.length)).toEqual([1, 0, 0, 0, 0]);
    expect(batches).toEqual([]);
    await Promise.all(kept[0]!);
    expect(batches).toEqual([[0, 1, 2, 3, 4].map(report)]);
  });

  it("with no delay, sends within the same turn of the event loop, still one call for the reports of that turn", async () => {
    vi.useFakeTimers();
    try {
      const { pool, batches } = recordingPool();
      const batch = new UsageBatch(0);
      const background: Promise<unknown>[] = [];
      const view = batchedUsage(pool, batch, (promise) => background.push(promise));
      await Promise.all([view.recordUsage([report(1)]), view.recordUsage([report(2)])]);
      // No timer may run: a process killed between two turns would lose what waits for one.
      await Promise.all(background);
      expect(vi.getTimerCount()).toBe(0);
      expect(batches).toEqual([[report(1), report(2)]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("opens a new batch once the last one went out", async () => {
    const { pool, batches } = recordingPool();
    const batch = new UsageBatch(5);
    const background: Promise<unknown>[] = [];
    const view = batchedUsage(pool, batch, (promise) => background.push(promise));
    await view.recordUsage([report(1)]);
    await Promise.all(background);
    await view.recordUsage([report(2)]);
    await Promise.all(background);
    expect(batches).toEqual([[report(1)], [report(2)]]);
  });

  it("sends a full batch at once instead of waiting", async () => {
    const { pool, batches } = recordingPool();
    const batch = new UsageBatch(60_000);
    const background: Promise<unknown>[] = [];
    const view = batchedUsage(pool, batch, (promise) => background.push(promise));
    for (let i = 0; i < 100; i++) await view.recordUsage([report(i)]);
    await Promise.all(background.slice(1));
    expect(batches.map((sent) => sent.length)).toEqual([100]);
  });

  it("delivers pending usage before the stats are read, so they include this process's requests", async () => {
    const { pool, events } = recordingPool();
    const view = batchedUsage(pool, new UsageBatch(60_000), () => undefined);
    await view.recordUsage([report(1), report(2)]);
    await view.snapshot();
    expect(events).toEqual(["usage ×2", "snapshot"]);
  });

  it("lets a failed delivery fail the opener's background work, where the runtime reports it", async () => {
    const { pool } = recordingPool(true);
    const background: Promise<unknown>[] = [];
    await batchedUsage(pool, new UsageBatch(1), (promise) => background.push(promise)).recordUsage([report(1)]);
    await expect(Promise.all(background)).rejects.toThrow("usage write failed");
  });
});
