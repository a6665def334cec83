import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { StatsSnapshot } from "../../src/core/stats-model.ts";
import { startFakeUpstream, type FakeUpstream, type RequestLogEntry } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// The proxy as users run it (`wrangler dev` with real Durable Object storage, or the Node
// server with its SQLite file; real HTTP either way)
// under concurrent load that spends every key's daily quota: exactly the servable
// requests are served, the rest get the proxy's 429, usage is exact, and a key marked
// out of quota is not hammered afterwards.

const KEYS = poolKeys.slice(0, 5);
const MODEL = "gemini-load-exactness";
const PER_DAY = 60;
const CAPACITY = KEYS.length * PER_DAY;
const TOTAL = 500;
const CONCURRENCY = 50;

let upstream: FakeUpstream;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  for (const key of KEYS) upstream.setQuota({ key, model: MODEL, perDay: PER_DAY });
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: KEYS, proxyToken });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

interface Outcome {
  /** Epoch ms on the same clock as the fake's log (same process). */
  sentAt: number;
  answeredAt: number;
  status: number;
  retryAfter: string | null;
  body: string;
}

async function generate(index: number): Promise<Outcome> {
  const sentAt = Date.now();
  const response = await fetch(`${proxy.origin}/v1beta/models/${MODEL}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: `load request ${index}` }] }] }),
  });
  const body = await response.text();
  return { sentAt, answeredAt: Date.now(), status: response.status, retryAfter: response.headers.get("retry-after"), body };
}

/** CONCURRENCY clients, each sending its next request as soon as the previous one is answered. */
async function runLoad(): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let index = next++; index < TOTAL; index = next++) outcomes.push(await generate(index));
    }),
  );
  return outcomes;
}

async function stats(): Promise<StatsSnapshot> {
  const response = await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as StatsSnapshot;
}

interface AfterMark {
  /** Requests that reached the key after its first quota 429 had been answered. */
  late: number;
  /** Client requests in flight at that moment: the most that can have been on their way to it. */
  inFlight: number;
}

function sentAfterMarked(requests: RequestLogEntry[], outcomes: Outcome[], key: string): AfterMark {
  const toKey = requests.filter((request) => request.apiKey === key);
  const refusals = toKey.filter((request) => request.status === 429).map((request) => request.endedAt ?? Infinity);
  const markedAt = Math.min(...refusals);
  return {
    late: toKey.filter((request) => request.at > markedAt).length,
    inFlight: outcomes.filter((outcome) => outcome.sentAt <= markedAt && outcome.answeredAt > markedAt).length,
  };
}

describe(`${TOTAL} requests at ${CONCURRENCY} concurrent connections over ${KEYS.length} keys of ${PER_DAY} requests/day`, () => {
  it("serves exactly the capacity, refuses the rest with the proxy's 429, counts usage exactly and stops using spent keys", async () => {
    const started = Date.now();
    const outcomes = await runLoad();
    const elapsed = Date.now() - started;

    const served = outcomes.filter((outcome) => outcome.status === 200);
    const refused = outcomes.filter((outcome) => outcome.status === 429);
    expect(served).toHaveLength(Math.min(TOTAL, CAPACITY));
    expect(refused).toHaveLength(TOTAL - Math.min(TOTAL, CAPACITY));
    for (const outcome of refused) {
      expect(Number(outcome.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } });
      expect(outcome.body).toContain("out of quota");
    }

    const log = upstream.log({ model: MODEL });
    for (const key of KEYS) expect(log.successes[key]?.[MODEL], key).toBe(PER_DAY);

    // Usage is recorded after each response; wait until the last records are in.
    await vi.waitFor(async () => expect((await stats()).totals.requests).toBe(CAPACITY), { timeout: 15_000, interval: 250 });
    const snapshot = await stats();
    for (const key of snapshot.keys) {
      const secret = KEYS[key.position - 1] ?? "";
      expect(key.models[MODEL]?.requests, key.masked).toBe(log.successes[secret]?.[MODEL]);
      expect(key.models[MODEL]?.state, key.masked).toBe("exhausted");
    }

    const afterMark = KEYS.map((key) => sentAfterMarked(log.requests, outcomes, key));
    for (const { late, inFlight } of afterMark) {
      expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);
      expect(late).toBeLessThanOrEqual(inFlight);
    }
    const upstreamRefusals = log.requests.filter((request) => request.status === 429).length;
    console.info(
      `load (${inject("proxyRuntime")}): ${TOTAL} requests in ${elapsed} ms; served ${served.length}/${CAPACITY}, refused ${refused.length} with 429; ` +
        `upstream saw ${log.requests.length} requests (${upstreamRefusals} quota 429s); ` +
        `requests reaching a key after its first 429 ended, per key: ${afterMark.map((mark) => `${mark.late} (of ${mark.inFlight} in flight)`).join(", ")}`,
    );
  });
});
