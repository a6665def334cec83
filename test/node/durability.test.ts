import { GoogleGenAI } from "@google/genai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { KeyStats, StatsSnapshot } from "../../src/core/stats-model.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// Key state, usage and who owns what live in SQLite storage (the Durable Object's, or the
// Node server's file in DATA_DIR), not in memory: a restart of the runtime (a deploy, an
// eviction, a container restart) forgets nothing. Tested by stopping the runtime and
// starting it again on the same state directory (--persist-to, DATA_DIR).

const [spent, invalid, healthy] = [poolKeys[0]!, poolKeys[1]!, poolKeys[2]!];
const KEYS = [spent, invalid, healthy];
const MODEL = "gemini-durability";

let upstream: FakeUpstream;
let stateDir: string;
let proxy: RunningProxy | undefined;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.setQuota({ key: spent, model: MODEL, perDay: 1 });
  upstream.setKey({ key: invalid, invalid: true });
  stateDir = await mkdtemp(join(tmpdir(), "proxy-durability-"));
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

const start = (): Promise<RunningProxy> => startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: KEYS, proxyToken, persistTo: stateDir });

async function generate(origin: string): Promise<number> {
  const response = await fetch(`${origin}/v1beta/models/${MODEL}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ parts: [{ text: "remember me" }] }] }),
  });
  await response.body?.cancel();
  return response.status;
}

async function stats(origin: string): Promise<StatsSnapshot> {
  const response = await fetch(`${origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as StatsSnapshot;
}

/** Uploads a file through the proxy; returns its name and the pool key that uploaded it (its owner upstream). */
async function upload(origin: string, text: string): Promise<{ name: string; owner: string }> {
  const ai = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: origin } });
  const since = Date.now();
  const file = await ai.files.upload({ file: new Blob([text], { type: "text/plain" }) });
  const owners = new Set(upstream.log().requests.filter((request) => request.at >= since && request.path.startsWith("/upload/")).map((request) => request.apiKey));
  expect(owners.size).toBe(1);
  return { name: file.name!, owner: [...owners][0]! };
}

/** What must survive: per key, its status, disable reason and, for the model, usage and mark. */
function durableView(snapshot: StatsSnapshot) {
  return snapshot.keys.map((key: KeyStats) => {
    const model = key.models[MODEL];
    return {
      position: key.position,
      status: key.status,
      disabledReason: key.disabledReason,
      requests: model?.requests,
      promptTokens: model?.promptTokens,
      state: model?.state,
      until: model?.until,
    };
  });
}

describe("a restart of the runtime", () => {
  it("keeps usage, exhausted marks, disabled keys and who owns a file; a spent key is not tried again afterwards", async () => {
    proxy = await start();
    for (let i = 0; i < 4; i++) expect(await generate(proxy.origin)).toBe(200);
    const served = upstream.log({ model: MODEL }).successes;
    // Two uploads go to the two usable keys in turn (least recently used first). After a
    // restart the proxy would try the first key for a file it knew nothing about, so the
    // file that the *other* key owns shows whether its owner was remembered.
    const files = [await upload(proxy.origin, "first file"), await upload(proxy.origin, "second file")];
    const file = files.find((candidate) => candidate.owner !== spent);
    expect(file?.owner).toBe(healthy);
    await vi.waitFor(async () => expect((await stats(proxy!.origin)).totals.requests).toBe(4), { timeout: 10_000 });
    const before = await stats(proxy.origin);
    const byPosition = (position: number) => before.keys.find((key) => key.position === position);
    expect(byPosition(1)?.models[MODEL]).toMatchObject({ requests: served[spent]?.[MODEL], state: "exhausted" });
    expect(byPosition(2)).toMatchObject({ status: "disabled" });
    expect(byPosition(3)?.models[MODEL]?.requests).toBe(served[healthy]?.[MODEL]);

    await proxy.stop();
    proxy = undefined;
    const restartedAt = Date.now();
    proxy = await start();

    const after = await stats(proxy.origin);
    expect(durableView(after)).toEqual(durableView(before));
    expect(after.totals.requests).toBe(4);

    const fetched = await fetch(`${proxy.origin}/v1beta/${file!.name}`, { headers: { "x-goog-api-key": proxyToken } });
    expect(fetched.status).toBe(200);
    expect(((await fetched.json()) as { name?: string }).name).toBe(file!.name);
    const fileRequests = upstream.log().requests.filter((request) => request.at >= restartedAt && request.path.endsWith(file!.name));
    expect(fileRequests.map((request) => request.apiKey)).toEqual([healthy]);

    for (let i = 0; i < 3; i++) expect(await generate(proxy.origin)).toBe(200);
    const sentSince = upstream.log({ model: MODEL }).requests.filter((request) => request.at >= restartedAt);
    expect(sentSince.map((request) => request.apiKey)).toEqual([healthy, healthy, healthy]);
    await vi.waitFor(async () => expect((await stats(proxy!.origin)).totals.requests).toBe(7), { timeout: 10_000 });
  });
});
