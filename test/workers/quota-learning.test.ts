import { describe, expect, it } from "vitest";
import type { StatsApiResponse } from "../../src/core/stats-model";
import { callProxy, fake, generate, poolKeys, proxyToken, uniqueModel } from "./support";

// The pool learns each key's limits from Google's 429s (the fake words them as Google
// does: QuotaFailure with quotaId and quotaValue, RetryInfo) and counts against them.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function burst(model: string, size: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: size }, async () => {
      const response = await generate(model);
      await response.arrayBuffer();
      return response.status;
    }),
  );
}

describe("quota limits learned from 429s", () => {
  it("cost each key one 429 per window kind, and none in later windows", { timeout: 30_000 }, async () => {
    const model = uniqueModel("learn");
    const perMinute = 2;
    const perDay = 5;
    const windowMs = 1_500;
    for (const key of poolKeys) await fake.quota({ key, model, perDay, perMinute: { limit: perMinute, windowMs } });
    const upstream429s = async (since: number) => (await fake.log(model)).requests.slice(since).filter((request) => request.status === 429);
    const sentSoFar = async () => (await fake.log(model)).requests.length;
    const size = poolKeys.length * perMinute + 4;

    // Window 1 teaches the per-minute limit: at most one 429 per key (and a few raced).
    const first = await burst(model, size);
    expect(first.filter((status) => status === 200)).toHaveLength(poolKeys.length * perMinute);
    await sleep(windowMs + 300);

    // Window 2: the pool knows; every key serves its 2 and nothing more goes upstream.
    let since = await sentSoFar();
    const second = await burst(model, size);
    expect(second.filter((status) => status === 200)).toHaveLength(poolKeys.length * perMinute);
    expect(await upstream429s(since)).toEqual([]);
    await sleep(windowMs + 300);

    // Window 3: one request left per key today; the per-day limit is taught once per key.
    since = await sentSoFar();
    const third = await burst(model, size);
    expect(third.filter((status) => status === 200)).toHaveLength(poolKeys.length);
    const dayTeaching = await upstream429s(since);
    expect(new Set(dayTeaching.map((request) => request.apiKey)).size).toBe(dayTeaching.length);
    await sleep(windowMs + 300);

    // Window 4: every key is out for the day, and the proxy knows without asking.
    since = await sentSoFar();
    const fourth = await burst(model, size);
    expect(fourth).toEqual(fourth.map(() => 429));
    expect(await sentSoFar()).toBe(since);

    // The stats say so, in the fake's own figures.
    const stats = await (await callProxy("/api/stats", { headers: { authorization: `Bearer ${proxyToken}` } })).json<StatsApiResponse>();
    const served = (await fake.log(model)).requests.filter((request) => request.status === 200).length;
    expect(stats.capacity[model]).toMatchObject({
      requestsToday: served,
      dailyLimit: poolKeys.length * perDay,
      remainingToday: poolKeys.length * perDay - served,
      groups: poolKeys.length,
      groupsWithDailyLimit: poolKeys.length,
      keysUsableNow: 0,
    });
    expect(served).toBe(poolKeys.length * perDay);
    for (const key of stats.keys) {
      expect(key.models[model]).toMatchObject({
        limits: { rpm: { value: perMinute, source: "learned" }, rpd: { value: perDay, source: "learned" } },
        remaining: { rpd: 0 },
      });
    }
  });
});

describe("limits set by the operator (PUT /api/limits)", () => {
  const put = (body: string, headers: Record<string, string> = { authorization: `Bearer ${proxyToken}` }) =>
    callProxy("/api/limits", { method: "PUT", headers: { "content-type": "application/json", ...headers }, body });

  it("prevent even the first 429, win over nothing learned yet, and can be removed", { timeout: 30_000 }, async () => {
    const model = uniqueModel("set");
    for (const key of poolKeys) await fake.quota({ key, model, perMinute: { limit: 2, windowMs: 60_000 } });
    const set = await put(JSON.stringify({ model, window: "rpm", value: 2 }));
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ limit: { model, window: "rpm", value: 2 } });

    const statuses = await burst(model, poolKeys.length * 2 + 4);
    expect(statuses.filter((status) => status === 200)).toHaveLength(poolKeys.length * 2);
    expect((await fake.log(model)).requests.filter((request) => request.status === 429)).toEqual([]);

    const stats = async () => (await callProxy("/api/stats", { headers: { authorization: `Bearer ${proxyToken}` } })).json<StatsApiResponse>();
    // Usage is counted once each answer's counting branch has been read: give it a moment.
    let served = await stats();
    for (let polls = 0; polls < 20 && served.keys.some((key) => key.models[model] === undefined); polls++) {
      await sleep(100);
      served = await stats();
    }
    for (const key of served.keys) expect(key.models[model]?.limits?.rpm).toMatchObject({ value: 2, source: "set" });
    expect((await put(JSON.stringify({ model, window: "rpm", value: null }))).status).toBe(200);
    for (const key of (await stats()).keys) expect(key.models[model]?.limits).toBeUndefined();
  });

  it("refuses what is not a limit, and callers without the token", async () => {
    const model = uniqueModel("set-bad");
    for (const body of [
      "not json",
      "[]",
      JSON.stringify({ model, window: "rph", value: 1 }),
      JSON.stringify({ model, window: "rpm", value: -1 }),
      JSON.stringify({ model, window: "rpm", value: 1.5 }),
      JSON.stringify({ model, window: "rpm", value: "5" }),
      JSON.stringify({ model: "../etc", window: "rpm", value: 1 }),
      JSON.stringify({ model, window: "rpm", value: 1, key: "nope" }),
      JSON.stringify({ model, window: "rpm", value: 1, group: "a b" }),
    ]) {
      const response = await put(body);
      expect(response.status, body).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 400 } });
    }
    expect((await put(JSON.stringify({ model, window: "rpm", value: 1, key: "0123456789abcdef" }))).status).toBe(404);
    expect((await put(JSON.stringify({ model, window: "rpm", value: 1 }), {})).status).toBe(401);
  });
});
