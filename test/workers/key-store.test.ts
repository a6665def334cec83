import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Lease } from "../../src/core/key-pool";
import type { KeyFault } from "../../src/core/upstream-outcome";
import { KeyStore } from "../../src/core/key-store/key-store";
import { sqlRunner } from "../../src/cloudflare/sql-runner";

// The key store on real Durable Object SQLite storage, with the clock in the test's hands.

const keys = ["a", "b", "c"].map((id, index) => ({ id, masked: `AIza…000${id}`, position: index + 1 }));
const NOW = Date.parse("2026-12-15T12:00:00Z");
const DAY_QUOTA = { kind: "quota-day", reason: "You exceeded your current quota" } as const;

let instances = 0;

/** A fresh KeyStore over the storage of a Durable Object nobody else uses. */
async function withStore<T>(run: (store: KeyStore, reopen: () => KeyStore) => T): Promise<T> {
  const stub = env.API_KEY_MANAGER.getByName(`key-store-test-${++instances}`);
  return runInDurableObject(stub, (_instance, state) => {
    const open = () => new KeyStore(sqlRunner(state.storage.sql));
    const store = open();
    store.syncKeys(keys);
    return run(store, open);
  });
}

const keyOf = (lease: Lease) => lease.keyId;

describe("KeyStore", () => {
  it("hands out the least recently used key per model", async () => {
    await withStore((store) => {
      const picks = Array.from({ length: 6 }, () => keyOf(store.acquire({ model: "m1", exclude: [] }, NOW)));
      expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
      // Another model has its own order.
      expect(keyOf(store.acquire({ model: "m2", exclude: [] }, NOW))).toBe("a");
      expect(keyOf(store.acquire({ model: "m1", exclude: ["a"] }, NOW))).toBe("b");
    });
  });

  it("marks a key exhausted for one model until Pacific midnight, and records the previous attempt in the same call", async () => {
    await withStore((store) => {
      const lease = store.acquire({ model: "m1", exclude: ["a"], failure: { keyId: "a", model: "m1", fault: DAY_QUOTA } }, NOW);
      expect(keyOf(lease)).toBe("b");
      for (let i = 0; i < 4; i++) expect(keyOf(store.acquire({ model: "m1", exclude: [] }, NOW))).not.toBe("a");
      expect(keyOf(store.acquire({ model: "other", exclude: ["b", "c"] }, NOW))).toBe("a");
      const midnight = Date.parse("2026-12-16T08:00:00Z");
      expect(keyOf(store.acquire({ model: "m1", exclude: ["b", "c"] }, midnight - 1))).toBeNull();
      expect(keyOf(store.acquire({ model: "m1", exclude: ["b", "c"] }, midnight))).toBe("a");
    });
  });

  it("answers when the first key frees up once every key is marked", async () => {
    await withStore((store) => {
      store.recordFailure({ keyId: "a", model: "m", fault: { kind: "quota-minute", reason: "rpm", retryAfterMs: 30_000 } }, NOW);
      store.recordFailure({ keyId: "b", model: "m", fault: { kind: "quota-minute", reason: "rpm", retryAfterMs: 5_000 } }, NOW);
      store.recordFailure({ keyId: "c", model: "m", fault: DAY_QUOTA }, NOW);
      const lease = store.acquire({ model: "m", exclude: [] }, NOW);
      expect(lease).toEqual({ keyId: null, cause: "exhausted", freeAt: NOW + 5_000, resetAt: Date.parse("2026-12-16T08:00:00Z") });
      expect(keyOf(store.acquire({ model: "m", exclude: [] }, NOW + 5_000))).toBe("b");
    });
  });

  it("escalates repeated bare 429s and forgets them after a success", async () => {
    await withStore((store) => {
      const bare = { keyId: "a", model: "m", fault: { kind: "quota-unknown", reason: "Resource has been exhausted" } } as const;
      store.recordFailure(bare, NOW);
      const first = store.snapshot(NOW).keys[0]?.models.m?.until;
      expect(first).toBe(new Date(NOW + 10_000).toISOString());
      store.recordFailure(bare, NOW + 10_000);
      expect(store.snapshot(NOW + 10_000).keys[0]?.models.m?.until).toBe(new Date(NOW + 30_000).toISOString());
      store.recordUsage([{ keyId: "a", model: "m", promptTokens: 1, outputTokens: 1, at: NOW + 30_000 }], NOW + 30_000);
      store.recordFailure(bare, NOW + 31_000);
      expect(store.snapshot(NOW + 31_000).keys[0]?.models.m?.until).toBe(new Date(NOW + 41_000).toISOString());
    });
  });

  it("takes a 429 that arrives while the key is marked as a straggler: no new strike, never a shorter wait", async () => {
    await withStore((store) => {
      const until = (model: string) => store.snapshot(NOW + 2).keys[0]?.models[model]?.until;
      const bare = (model: string) => ({ keyId: "a", model, fault: { kind: "quota-unknown", reason: "Resource has been exhausted" } }) as const;
      // Sixteen requests were in flight on key a when its first bare 429 came back.
      for (let i = 0; i < 16; i++) store.recordFailure(bare("m"), NOW + (i === 0 ? 0 : 1));
      expect(until("m")).toBe(new Date(NOW + 10_000).toISOString());
      // A per-day mark is not cut short by a per-minute 429 from a request sent before it.
      store.recordFailure({ keyId: "a", model: "d", fault: DAY_QUOTA }, NOW);
      store.recordFailure({ keyId: "a", model: "d", fault: { kind: "quota-minute", reason: "per minute", retryAfterMs: 60_000 } }, NOW + 1);
      expect(store.snapshot(NOW + 2).keys[0]?.models.d).toMatchObject({ state: "exhausted", reason: DAY_QUOTA.reason });
      // But a longer wait that Google names does lengthen a short one.
      store.recordFailure(bare("x"), NOW);
      store.recordFailure({ keyId: "a", model: "x", fault: DAY_QUOTA }, NOW + 1);
      expect(store.snapshot(NOW + 2).keys[0]?.models.x?.state).toBe("exhausted");
    });
  });

  it("disables an invalid key for every model and tells why", async () => {
    await withStore((store) => {
      store.recordFailure({ keyId: "b", model: "m", fault: { kind: "key-disabled", reason: "API key not valid." } }, NOW);
      const picks = new Set(Array.from({ length: 4 }, () => keyOf(store.acquire({ model: "x", exclude: [] }, NOW))));
      expect(picks).toEqual(new Set(["a", "c"]));
      expect(store.snapshot(NOW).keys[1]).toMatchObject({ status: "disabled", disabledReason: "API key not valid." });
    });
  });

  it("treats the keys of one group as one project: a day's 429 and the counts are shared", async () => {
    await withStore((store) => {
      store.syncKeys([
        { id: "a", masked: "AIza…000a", position: 1, group: "p" },
        { id: "b", masked: "AIza…000b", position: 2, group: "p" },
        { id: "c", masked: "AIza…000c", position: 3 },
      ]);
      store.recordFailure({ keyId: "a", model: "day", fault: { ...DAY_QUOTA, limits: [{ window: "rpd", value: 3 }] } }, NOW);
      // b shares a's project: out for the day without a 429 of its own. c is not.
      expect(keyOf(store.acquire({ model: "day", exclude: [] }, NOW))).toBe("c");
      expect(keyOf(store.acquire({ model: "day", exclude: ["c"] }, NOW))).toBeNull();

      // One request served by a and one by b, then a per-minute 429 on a: the group's limit is 2,
      // and its window frees 1 s after those two were sent, so it is 1 s long.
      const served = (at: number) =>
        store.recordUsage(
          ["a", "b"].map((keyId) => ({ keyId, model: "m", promptTokens: 1, outputTokens: 1, at, sentAt: at })),
          at,
        );
      served(NOW);
      const minute: KeyFault = { kind: "quota-minute", reason: "rpm", retryAfterMs: 900, limits: [{ window: "rpm", value: 2 }] };
      store.recordFailure({ keyId: "a", model: "m", fault: minute }, NOW + 100);
      // Both keys of the group wait for Google's retryDelay; c is not held back.
      expect(keyOf(store.acquire({ model: "m", exclude: [] }, NOW + 200))).toBe("c");
      expect(store.acquire({ model: "m", exclude: ["c"] }, NOW + 200)).toMatchObject({ keyId: null, freeAt: NOW + 1_000 });
      // Later, two more requests fill the group's window again: no 429 needed to know it.
      served(NOW + 1_100);
      expect(store.acquire({ model: "m", exclude: ["c"] }, NOW + 1_101)).toMatchObject({ keyId: null, cause: "exhausted", freeAt: NOW + 2_100 });
      expect(keyOf(store.acquire({ model: "m", exclude: ["c"] }, NOW + 2_100))).not.toBeNull();
    });
  });

  it("keeps a key whose limit is 0 out for the day only", async () => {
    await withStore((store) => {
      const none: KeyFault = { kind: "quota-day", reason: "limit: 0", limits: [{ window: "rpm", value: 0 }] };
      store.recordFailure({ keyId: "a", model: "m", fault: none }, NOW);
      expect(keyOf(store.acquire({ model: "m", exclude: ["b", "c"] }, NOW))).toBeNull();
      const midnight = Date.parse("2026-12-16T08:00:00Z");
      expect(keyOf(store.acquire({ model: "m", exclude: ["b", "c"] }, midnight))).toBe("a");
    });
  });

  it("keeps learned limits and their window across a restart", async () => {
    await withStore((store, reopen) => {
      store.recordUsage([{ keyId: "a", model: "m", promptTokens: 1, outputTokens: 1, at: NOW - 1_000, sentAt: NOW - 1_000 }], NOW);
      // Google: limit 1, next slot in 29 s; so the window is 30 s long.
      const minute: KeyFault = { kind: "quota-minute", reason: "rpm", retryAfterMs: 29_000, limits: [{ window: "rpm", value: 1 }] };
      store.recordFailure({ keyId: "a", model: "m", fault: minute }, NOW);
      const later = NOW + 31_000;
      const restarted = reopen();
      restarted.syncKeys(keys);
      restarted.recordUsage([{ keyId: "a", model: "m", promptTokens: 1, outputTokens: 1, at: later, sentAt: later }], later);
      expect(restarted.acquire({ model: "m", exclude: ["b", "c"] }, later + 1)).toMatchObject({ keyId: null, freeAt: later + 30_000 });
    });
  });

  it("keeps state of kept keys when API_KEYS changes, adds new ones and drops removed ones", async () => {
    await withStore((store) => {
      store.recordFailure({ keyId: "a", model: "m", fault: DAY_QUOTA }, NOW);
      store.syncKeys([{ id: "a", masked: "AIza…000a", position: 1 }, { id: "d", masked: "AIza…000d", position: 2 }]);
      const snapshot = store.snapshot(NOW);
      expect(snapshot.keys.map((key) => key.id)).toEqual(["a", "d"]);
      expect(snapshot.keys[0]?.models.m?.state).toBe("exhausted");
    });
  });

  it("sends a view behind only by counts just the entries counted since it, and the whole view after any other change", async () => {
    await withStore((store, reopen) => {
      const served = (keyId: string, at: number) => ({ keyId, model: "m", promptTokens: 10, outputTokens: 5, at });
      const scopes = (entries: readonly { scope: string }[] | undefined) => entries?.map((entry) => entry.scope).sort();
      store.setLimit({ model: "m", window: "rpm", value: 10 }, NOW);
      const first = store.view(null, NOW);
      expect(scopes(first.view?.quota)).toEqual(["key:a", "key:b", "key:c"]);

      store.recordUsage([served("b", NOW + 1)], NOW + 1);
      const counted = store.view(first.stamp, NOW + 2);
      expect(counted.view).toBeUndefined();
      expect(counted.quota).toEqual([expect.objectContaining({ scope: "key:b", model: "m", dayRequests: 1, sends: [NOW + 1] })]);
      expect(counted.since).toBe(first.stamp.version);
      expect(store.view(counted.stamp, NOW + 3)).toEqual({ stamp: counted.stamp });
      // Two counts behind: both entries.
      store.recordUsage([served("c", NOW + 4)], NOW + 4);
      expect(scopes(store.view(first.stamp, NOW + 5).quota)).toEqual(["key:b", "key:c"]);

      // A mark is more than a count, and so is a new limit: the whole view, marks and all.
      store.recordFailure({ keyId: "a", model: "m", fault: DAY_QUOTA }, NOW + 6);
      const marked = store.view(counted.stamp, NOW + 7);
      expect(marked.quota).toBeUndefined();
      expect(marked.view?.marks).toEqual([expect.objectContaining({ keyId: "a", model: "m" })]);
      // A limit a 429 taught, and a window length found, are more than counts too.
      const taught = store.view(null, NOW + 7).stamp;
      store.recordFailure({ keyId: "b", model: "m", fault: { kind: "quota-minute", reason: "rpm", retryAfterMs: 20_000, limits: [{ window: "tpm", value: 500 }] } }, NOW + 7);
      expect(store.view(taught, NOW + 7).view?.quota.find((entry) => entry.scope === "key:b")?.limits).toEqual({ rpm: 10, tpm: 500 });
      store.setLimit({ model: "m", window: "rpd", value: 100 }, NOW + 8);
      expect(store.view(marked.stamp, NOW + 9).view?.quota.map((entry) => entry.limits.rpd)).toEqual([100, 100, 100]);
      // A manager that restarted sends the whole view to a stamp of its previous life.
      store.recordUsage([served("a", NOW + 10)], NOW + 10);
      expect(reopen().view(marked.stamp, NOW + 11).view?.keys).toHaveLength(3);
    });
  });

  it("counts usage per key, model and Pacific day, with hourly and daily history", async () => {
    await withStore((store) => {
      // One batch, as the proxy sends them: each report counts in the day and hour it was served.
      const dayBefore = NOW - 24 * 3_600_000;
      store.recordUsage(
        [
          { keyId: "a", model: "m", promptTokens: 10, outputTokens: 5, at: NOW },
          { keyId: "a", model: "m", promptTokens: 1, outputTokens: 2, at: NOW + 1 },
          { keyId: "b", model: "n", promptTokens: 3, outputTokens: 3, at: NOW },
          { keyId: "a", model: "m", promptTokens: 100, outputTokens: 100, at: dayBefore },
        ],
        NOW + 1,
      );
      const snapshot = store.snapshot(NOW + 2);
      expect(snapshot.keys[0]?.models.m).toEqual({ requests: 2, promptTokens: 11, outputTokens: 7, state: "ok" });
      expect(snapshot.totals).toMatchObject({ requests: 3, promptTokens: 14, outputTokens: 10 });
      expect(snapshot.history.hourly).toHaveLength(24);
      expect(snapshot.history.hourly.at(-1)?.models).toEqual({ m: 2, n: 1 });
      expect(snapshot.history.daily).toHaveLength(30);
      expect(snapshot.history.daily.at(-1)).toEqual({ start: "2026-12-15", models: { m: 2, n: 1 } });
      expect(snapshot.history.daily.at(-2)).toEqual({ start: "2026-12-14", models: { m: 1 } });
      // The next Pacific day starts from zero.
      expect(store.snapshot(Date.parse("2026-12-16T08:00:00Z")).totals.requests).toBe(0);
    });
  });

  it("daily reset lifts yesterday's marks but not today's (a cron an hour early in winter does no harm) and leaves Google's disables to a verification", async () => {
    await withStore((store) => {
      const yesterday = Date.parse("2026-12-14T20:00:00Z");
      store.recordFailure({ keyId: "a", model: "m", fault: { kind: "quota-minute", reason: "x", retryAfterMs: 3 * 86_400_000 } }, yesterday);
      store.recordFailure({ keyId: "b", model: "m", fault: DAY_QUOTA }, NOW);
      store.recordFailure({ keyId: "c", model: "m", fault: { kind: "key-disabled", reason: "bad" } }, yesterday);
      const cronInWinter = Date.parse("2026-12-16T07:00:00Z");
      // What key choice sees (kept in memory) must agree with what is stored (the snapshot).
      const handedOut = (): string[] => {
        const ids: string[] = [];
        for (let lease = store.acquire({ model: "m", exclude: ids }, cronInWinter); lease.keyId !== null; ) {
          ids.push(lease.keyId);
          lease = store.acquire({ model: "m", exclude: ids }, cronInWinter);
        }
        return ids.sort();
      };
      expect(handedOut()).toEqual([]);
      // The key Google disabled is not re-enabled blindly: the reset names it for a fresh verification.
      expect(store.reset("day", cronInWinter)).toEqual(["c"]);
      const snapshot = store.snapshot(cronInWinter);
      expect(snapshot.keys.map((key) => key.status)).toEqual(["available", "exhausted", "disabled"]);
      expect(handedOut()).toEqual(["a"]);
      store.reset("all", cronInWinter);
      expect(store.snapshot(cronInWinter).keys.map((key) => key.status)).toEqual(["available", "available", "available"]);
      expect(handedOut()).toEqual(["a", "b", "c"]);
    });
  });

  it("pins a request to the key that owns its resources, until the record expires", async () => {
    await withStore((store) => {
      store.recordOwnership([{ name: "files/f1", keyId: "c", expiresAt: NOW + 60_000 }], NOW);
      for (let i = 0; i < 3; i++) {
        expect(store.acquire({ model: "m", exclude: [], resources: ["files/f1", "files/unknown"] }, NOW)).toEqual({
          keyId: "c",
          pinned: true,
        });
      }
      expect(store.acquire({ model: "m", exclude: [], resources: ["files/f1"] }, NOW + 60_000)).toMatchObject({ pinned: false });
      store.forgetResources(["files/f1"]);
      expect(store.acquire({ model: "m", exclude: [], resources: ["files/f1"] }, NOW)).toMatchObject({ pinned: false });
    });
  });

  it("refuses resources of two owners, and answers for the owner alone when it is marked or gone", async () => {
    await withStore((store) => {
      store.recordOwnership([
        { name: "files/a", keyId: "a", expiresAt: NOW + 60_000 },
        { name: "cachedContents/b", keyId: "b", expiresAt: NOW + 60_000 },
      ], NOW);
      expect(store.acquire({ model: "m", exclude: [], resources: ["files/a", "cachedContents/b"] }, NOW)).toMatchObject({
        keyId: null,
        cause: "mixed-owners",
      });
      store.recordFailure({ keyId: "a", model: "m", fault: { kind: "quota-minute", reason: "rpm", retryAfterMs: 9_000 } }, NOW);
      expect(store.acquire({ model: "m", exclude: [], resources: ["files/a"] }, NOW)).toMatchObject({
        keyId: null,
        cause: "exhausted",
        freeAt: NOW + 9_000,
        pinned: true,
      });
      expect(store.acquire({ model: "m", exclude: [], owner: "b" }, NOW)).toEqual({ keyId: "b", pinned: true });
      store.recordFailure({ keyId: "b", model: null, fault: { kind: "key-disabled", reason: "bad" } }, NOW);
      expect(store.acquire({ model: "m", exclude: [], owner: "b" }, NOW)).toMatchObject({ keyId: null, cause: "owner-unavailable" });
      expect(store.usableKeys()).toEqual(["a", "c"]);
    });
  });

  it("persists marks and usage across a restart of the store (migrations run once)", async () => {
    await withStore((store, reopen) => {
      store.recordFailure({ keyId: "a", model: "m", fault: DAY_QUOTA }, NOW);
      store.recordUsage([{ keyId: "b", model: "m", promptTokens: 1, outputTokens: 1, at: NOW }], NOW);
      const again = reopen();
      expect(again.snapshot(NOW).keys.map((key) => key.models.m?.state)).toEqual(["exhausted", "ok", undefined]);
    });
  });
});
