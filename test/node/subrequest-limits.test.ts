import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RequestLog } from "../../src/core/services.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { proxyToken } from "../setup/test-keys.ts";

// The Workers Free plan allows one invocation 50 subrequests and 6 connections open at
// once; `wrangler dev` enforces neither. The Node server has neither limit but promises to
// keep both bounds (README, SUBREQUEST_LIMIT), so this runs on both runtimes. With a pool
// of 300 keys, every path that may ask several keys (merged lists, retries over exhausted
// keys, the search for a resource's owner) must stay inside both. The fake upstream counts
// what it really received per request (x-fake-tag: requests, and the most open at once);
// the proxy's own log line counts its subrequests, key manager calls included.

const POOL_SIZE = 300;
const SUBREQUEST_LIMIT = 50;
const CONNECTION_LIMIT = 6;
/** A page token carries a position, not the pool: it must stay this small. */
const MAX_TOKEN_LENGTH = 512;

const keys = Array.from({ length: POOL_SIZE }, (_, i) => `AIzaSy${String(i).padStart(4, "0")}${"Lk9_q-Zx3".repeat(4).slice(0, 29)}`);

let upstream: FakeUpstream;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys, proxyToken, vars: { LOG_REQUESTS: "true" } });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

let tags = 0;
const newTag = (): string => `limits-${++tags}-${crypto.randomUUID().slice(0, 8)}`;

function logLines(): RequestLog[] {
  return proxy
    .output()
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("{") && line.includes('"subrequests"'))
    .map((line) => JSON.parse(line) as RequestLog);
}

/** Sends one request with its own tag; returns it with what the fake and the proxy's log say it cost. */
async function measured(path: string, init: RequestInit = {}) {
  const tag = newTag();
  const linesBefore = logLines().length;
  const headers = new Headers(init.headers);
  headers.set("x-fake-tag", tag);
  if (!headers.has("authorization")) headers.set("x-goog-api-key", proxyToken);
  const response = await fetch(`${proxy.origin}${path}`, { redirect: "manual", ...init, headers });
  const text = await response.text();
  await vi.waitFor(() => expect(logLines().length).toBeGreaterThan(linesBefore), { timeout: 5_000 });
  const line = logLines()[linesBefore]!;
  const log = upstream.log({ tag });
  return { response, text, line, upstreamRequests: log.requests, maxInFlight: log.maxInFlight ?? 0 };
}

function expectWithinPlan(cost: { line: RequestLog; upstreamRequests: unknown[]; maxInFlight: number }): void {
  expect(cost.upstreamRequests.length).toBeLessThanOrEqual(SUBREQUEST_LIMIT);
  // The proxy's count includes its key manager calls: at least what the upstream saw.
  expect(cost.line.subrequests).toBeGreaterThanOrEqual(cost.upstreamRequests.length);
  expect(cost.line.subrequests).toBeLessThanOrEqual(SUBREQUEST_LIMIT);
  expect(cost.maxInFlight).toBeLessThanOrEqual(CONNECTION_LIMIT);
}

describe(`merged lists over a pool of ${POOL_SIZE} keys`, () => {
  it("page through every key, each page within the plan's limits, with small page tokens and each file once", async () => {
    // Three keys far apart in the pool each own a file.
    const owners = [keys[0]!, keys[150]!, keys[299]!];
    const uploaded: string[] = [];
    for (const key of owners) {
      const direct = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: upstream.origin } });
      const file = await direct.files.upload({ file: new Blob([`owned by key ${key.slice(6, 10)}`], { type: "text/plain" }) });
      uploaded.push(file.name ?? "");
    }

    const listed: string[] = [];
    const asked: string[] = [];
    let token: string | undefined;
    let pages = 0;
    // Each page (and each redirect past keys with nothing listed) is one invocation.
    do {
      const cost = await measured(`/v1beta/files${token === undefined ? "" : `?pageToken=${encodeURIComponent(token)}`}`);
      expectWithinPlan(cost);
      asked.push(...cost.upstreamRequests.map((entry) => (entry as { apiKey: string }).apiKey));
      if (cost.response.status === 307) {
        token = new URL(cost.response.headers.get("location") ?? "", proxy.origin).searchParams.get("pageToken") ?? "";
      } else {
        expect(cost.response.status).toBe(200);
        const body = JSON.parse(cost.text) as { files?: { name: string }[]; nextPageToken?: string };
        // Google never sends an empty page with a token, and the SDK's pager breaks on one.
        if (body.nextPageToken !== undefined) expect(body.files?.length ?? 0).toBeGreaterThan(0);
        listed.push(...(body.files ?? []).map((file) => file.name));
        token = body.nextPageToken;
      }
      if (token !== undefined) expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      pages++;
    } while (token !== undefined && pages < POOL_SIZE);

    expect(listed.sort()).toEqual([...uploaded].sort());
    // Every key was asked, and only once over the whole walk.
    expect(new Set(asked).size).toBe(POOL_SIZE);
    expect(asked).toHaveLength(POOL_SIZE);

    // The official SDK's pager walks the same pages.
    const ai = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: proxy.origin } });
    const viaSdk: string[] = [];
    for await (const file of await ai.files.list()) viaSdk.push(file.name ?? "");
    expect(viaSdk.sort()).toEqual([...uploaded].sort());
  });

  it("keep cached contents and batches lists within the limits too", async () => {
    for (const collection of ["cachedContents", "batches"]) {
      const cost = await measured(`/v1beta/${collection}`);
      // Nothing in the first keys: on to the next ones, in a new invocation.
      expect(cost.response.status).toBe(307);
      expectWithinPlan(cost);
      expect(cost.upstreamRequests.length).toBeGreaterThan(CONNECTION_LIMIT);
    }
  });

  it("refuse a page token that names no key of the pool, in Gemini's style", async () => {
    const forged = Buffer.from(JSON.stringify({ k: "no-such-key", t: "" })).toString("base64url");
    const cost = await measured(`/v1beta/files?pageToken=${forged}`);
    expect(cost.response.status).toBe(400);
    expect(JSON.parse(cost.text)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    expect(cost.upstreamRequests).toHaveLength(0);
  });
});

describe(`retries over a pool of ${POOL_SIZE} exhausted keys`, () => {
  const model = "gemini-limits-spent";
  beforeAll(() => {
    for (const key of keys) upstream.setQuota({ key, model, perDay: 0 });
  });

  it("stop at the subrequest limit with a clear 503 in Gemini's style, and the next request tries other keys", async () => {
    const body = JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] });
    const init = { method: "POST", headers: { "content-type": "application/json" }, body };
    const first = await measured(`/v1beta/models/${model}:generateContent`, init);
    expect(first.response.status).toBe(503);
    expect(JSON.parse(first.text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
    expect(JSON.parse(first.text).error.message).toContain("SUBREQUEST_LIMIT");
    expectWithinPlan(first);
    expect(first.maxInFlight).toBe(1);
    expect(first.upstreamRequests.length).toBeGreaterThan(10);

    const second = await measured(`/v1beta/models/${model}:generateContent`, init);
    expectWithinPlan(second);
    const keysOf = (requests: unknown[]) => new Set(requests.map((entry) => (entry as { apiKey: string }).apiKey));
    const overlap = [...keysOf(second.upstreamRequests)].filter((key) => keysOf(first.upstreamRequests).has(key));
    expect(overlap).toEqual([]);
  });

  it("answer an OpenAI-style client in OpenAI's style", async () => {
    const cost = await measured("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
    });
    expect(cost.response.status).toBe(503);
    expect(JSON.parse(cost.text)).toMatchObject({ error: { type: "server_error", code: "subrequest_limit" } });
    expectWithinPlan(cost);
  });
});

describe(`the search for an unknown file's owner over ${POOL_SIZE} keys`, () => {
  it("asks a bounded number of keys and answers with Google's 403", async () => {
    const body = JSON.stringify({
      contents: [{ parts: [{ fileData: { fileUri: `${upstream.origin}/v1beta/files/nobody-has-this`, mimeType: "text/plain" } }, { text: "hi" }] }],
    });
    const cost = await measured("/v1beta/models/gemini-limits-owner:generateContent", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(cost.response.status).toBe(403);
    expectWithinPlan(cost);
    expect(cost.maxInFlight).toBe(1);
  });
});
