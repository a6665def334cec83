import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RequestLog } from "../../src/core/services.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";

// The request log as an operator sees it (the `wrangler dev` console or the Node server's
// stdout, LOG_REQUESTS=true):
// one JSON line per API request with method, route, model, key positions, status,
// attempts, subrequests and latency, and nowhere a pool key, a client token or a prompt.

const PROMPT = `PROMPT-${crypto.randomUUID()}`;
const MAX_BODY_BYTES = 16 * 1024;
const [suspended] = poolKeys;

let upstream: FakeUpstream;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // Google's 403 for a suspended key names the key in its message: a test of redaction.
  upstream.setKey({ key: suspended!, suspended: true });
  for (const key of poolKeys) upstream.setQuota({ key, model: "gemini-log-spent", perDay: 0 });
  proxy = await startProxy({
    runtime: inject("proxyRuntime"),
    upstreamOrigin: upstream.origin,
    keys: poolKeys,
    proxyToken,
    vars: { LOG_REQUESTS: "true", MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const prompt = (extra = ""): string => JSON.stringify({ contents: [{ parts: [{ text: `${PROMPT} ${extra}` }] }] });

interface Call {
  path: string;
  init: RequestInit;
}

const native = (model: string, headers: Record<string, string> = { "x-goog-api-key": proxyToken }, body = prompt()): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body,
});

const calls: Call[] = [
  { path: "/v1beta/models/gemini-log-a:generateContent", init: native("a") },
  { path: `/v1beta/models/gemini-log-a:generateContent?key=${proxyToken}`, init: native("a", {}) },
  { path: "/v1beta/models/gemini-log-a:streamGenerateContent?alt=sse", init: native("a") },
  {
    path: "/v1/chat/completions",
    init: {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-log-b", messages: [{ role: "user", content: PROMPT }] }),
    },
  },
  { path: "/v1beta/models/gemini-log-spent:generateContent", init: native("spent") },
  { path: "/v1beta/models/gemini-log-a:generateContent", init: native("a", { "x-goog-api-key": "wrong-token" }) },
  { path: "/v1beta/models/gemini-log-a:generateContent", init: native("a", { "x-goog-api-key": poolKeys[2]! }) },
  { path: "/v1beta/models/%2e%2e%2fadmin:generateContent", init: native("bad") },
  { path: "/v1beta/nothing/here", init: { headers: { "x-goog-api-key": proxyToken } } },
  { path: "/v1beta/models/gemini-log-a:generateContent", init: native("a", undefined, prompt("z".repeat(MAX_BODY_BYTES))) },
  { path: "/v1beta/models", init: { headers: { "x-goog-api-key": proxyToken } } },
];

type LogLine = RequestLog;

function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

describe("the request log", () => {
  it("has one structured line per request, and no key, token or prompt anywhere in the output", async () => {
    const statuses: number[] = [];
    for (const { path, init } of calls) {
      const response = await fetch(`${proxy.origin}${path}`, init);
      await response.text();
      statuses.push(response.status);
    }
    expect(new Set(statuses)).toEqual(new Set([200, 429, 401, 400, 404, 413]));

    await vi.waitFor(() => expect(logLines(proxy.output())).toHaveLength(calls.length), { timeout: 5_000 });
    const lines = logLines(proxy.output());
    expect(lines.map((line) => line.status).sort()).toEqual([...statuses].sort());
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(["attempts", "keys", "method", "model", "ms", "route", "status", "style", "subrequests"]);
      expect(typeof line.ms).toBe("number");
      // Each attempt is one upstream fetch, and the key manager was asked for its key.
      expect(line.subrequests).toBeGreaterThanOrEqual(line.attempts);
      expect(line.attempts).toBe(line.keys.length);
      for (const key of line.keys) expect(key).toMatch(/^#\d+$/);
    }
    // The first request met the suspended key (#1), which was disabled; #2 served it.
    expect(lines[0]).toMatchObject({ method: "POST", route: "models/gemini-log-a:generateContent", model: "gemini-log-a", keys: ["#1", "#2"], status: 200 });
    expect(lines.find((line) => line.status === 429)).toMatchObject({ model: "gemini-log-spent", attempts: poolKeys.length - 1 });
    expect(lines.find((line) => line.style === "openai")).toMatchObject({ route: "chat/completions", model: "gemini-log-b" });

    const output = proxy.output();
    for (const key of poolKeys) expect(output).not.toContain(key);
    expect(output).not.toContain(proxyToken);
    expect(output).not.toContain("wrong-token");
    expect(output).not.toContain(PROMPT);
  });
});
