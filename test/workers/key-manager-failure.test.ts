import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import type { AttemptFailure, KeyManager, KeyPoolAdmin, ViewUpdate } from "../../src/core/key-pool";
import type { StatSessions } from "../../src/core/stats/session-store";
import { idlePool } from "../setup/idle-pool";
import { createKeyRing } from "../../src/core/key-ring";
import type { RequestLog, RuntimeServices } from "../../src/core/services";
import { fake, leakedKeys, poolKeys, proxyToken, uniqueModel, upstreamOrigin } from "./support";

// The proxy's own handling when its dependency, the key manager (the Durable Object),
// fails or stops answering. The real application (createApp: routing, auth, forward)
// runs against the real fake upstream; only the key manager is replaced, by one that
// misbehaves on cue. A fresh app asks it for the pool's view first (`view`), and
// reports a failed attempt to it (`failure`).

interface Harness {
  services: RuntimeServices;
  logs: RequestLog[];
  background: Promise<unknown>[];
}

interface Misbehaviour {
  view?: (call: number) => Promise<void>;
  failure?: (failure: AttemptFailure) => Promise<void>;
  recordUsage?: () => Promise<void>;
  snapshot?: KeyPoolAdmin["snapshot"];
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

async function harness(misbehaviour: Misbehaviour): Promise<Harness> {
  const keyRing = await createKeyRing(poolKeys.join(","));
  let calls = 0;
  const update: ViewUpdate = {
    stamp: { epoch: "test", version: 1 },
    view: { keys: keyRing.keys.map(({ id, position }) => ({ id, position, disabled: false, scope: `key:${id}` })), marks: [], quota: [], disabled: {} },
  };
  const view = misbehaviour.view ?? (async () => undefined);
  const keyManager: KeyManager & KeyPoolAdmin & StatSessions = {
    ...idlePool(),
    poolView: async () => {
      await view(++calls);
      return update;
    },
    recordFailure: async (failure) => {
      await misbehaviour.failure?.(failure);
      return update;
    },
    ownersOf: async () => ({ owners: [], update }),
    recordUsage: async () => {
      await misbehaviour.recordUsage?.();
      return update;
    },
    recordOwnership: async () => undefined,
    forgetResources: async () => undefined,
    snapshot: misbehaviour.snapshot ?? (() => never()),
    reset: () => never(),
    startStatSession: () => never(),
    statSession: () => never(),
    endStatSession: () => never(),
    // A Bearer token on /api/* asks first whether its address must wait: here, never.
    loginWait: async () => 0,
    loginFailed: async () => 0,
    setLimit: () => never(),
  };
  const logs: RequestLog[] = [];
  const background: Promise<unknown>[] = [];
  const config = readConfig({
    GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${upstreamOrigin}/v1beta/openai`,
    PROXY_API_KEY: proxyToken,
  });
  return {
    services: {
      config,
      keyRing,
      keyManager,
      waitUntil: (promise) => {
        // Handled at once, as the runtime handles waitUntil work; the tests look at the outcome later.
        void promise.catch(() => undefined);
        background.push(promise);
      },
      log: (entry) => logs.push(entry),
    },
    logs,
    background,
  };
}

// A new app per request: each starts without a view, as a fresh isolate does.
const send = (request: Request, services: RuntimeServices): Promise<Response> => createApp().fetch(request, { services });

function nativeRequest(model: string): Request {
  return new Request(`http://proxy.test/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
  });
}

function filesRequest(): Request {
  return new Request("http://proxy.test/v1beta/files", { headers: { "x-goog-api-key": proxyToken } });
}

function statsRequest(): Request {
  return new Request("http://proxy.test/api/stats", { headers: { authorization: `Bearer ${proxyToken}` } });
}

function openaiRequest(model: string): Request {
  return new Request("http://proxy.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("when the key manager fails", () => {
  it("answers 503 in Gemini's style, with any pool key in the error masked", async () => {
    const { services, logs } = await harness({ view: () => Promise.reject(new Error(`storage broke while holding ${poolKeys[2]}`)) });
    const response = await send(nativeRequest(uniqueModel("dofail")), services);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
    expect(text).toContain("key manager");
    expect(leakedKeys(text)).toEqual([]);
    expect(logs).toMatchObject([{ status: 503, attempts: 0 }]);
  });

  it("answers 503 in OpenAI's style for OpenAI clients", async () => {
    const { services } = await harness({ view: () => Promise.reject(new Error("Durable Object reset because its code was updated.")) });
    const response = await send(openaiRequest(uniqueModel("dofail-oa")), services);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { type: "server_error", code: "key_manager_unavailable" } });
  });

  it("keeps rotating when it fails to record a first key's quota 429: the failure stays in the background", async () => {
    const model = uniqueModel("dofail-mid");
    await fake.script({ key: poolKeys[0]!, model, outcomes: ["quota-day"] });
    const { services, logs, background } = await harness({ failure: () => Promise.reject(new Error("overloaded")) });
    const response = await send(nativeRequest(model), services);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect((await fake.log(model)).requests.map((request) => request.status)).toEqual([429, 200]);
    expect(logs).toMatchObject([{ status: 200, attempts: 2 }]);
    await expect(Promise.all(background)).rejects.toThrow("overloaded");
  });

  it("answers 503 within the pool timeout when it never answers, instead of hanging", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { services } = await harness({ view: () => never() });
    const pending = send(nativeRequest(uniqueModel("dohang")), services);
    let settled = false;
    void pending.finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_500);
    const response = await pending;
    expect(response.status).toBe(503);
    const body = await response.json<{ error: { message: string } }>();
    expect(body.error.message).toMatch(/did not answer in time/);
  });

  it("answers /api/stats with a JSON 503 when the key manager fails, with pool keys masked", async () => {
    const { services } = await harness({ snapshot: () => Promise.reject(new Error(`snapshot broke on ${poolKeys[1]}`)) });
    const response = await send(statsRequest(), services);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE", message: expect.stringContaining("snapshot broke") } });
    expect(leakedKeys(text)).toEqual([]);
  });

  it("answers /api/stats with a JSON 503 when the key manager never answers", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { services } = await harness({});
    const pending = send(statsRequest(), services);
    await vi.advanceTimersByTimeAsync(10_500);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 503, message: expect.stringMatching(/did not answer in time/) } });
  });

  it("still serves the response when counting usage fails afterwards", async () => {
    const model = uniqueModel("usagefail");
    const { services, background } = await harness({ recordUsage: () => Promise.reject(new Error("usage write failed")) });
    const response = await send(nativeRequest(model), services);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("candidates");
    // The failure stays in the background task (the runtime logs it); the client is unaffected.
    // Usage is counted once the body's counting side has finished, which may be after the
    // client has read the body; it then opens the usage batch, more background work.
    await vi.waitFor(() => expect(background.length).toBeGreaterThan(1));
    await expect(Promise.all(background)).rejects.toThrow("usage write failed");
  });
  it("answers 503 to a list that asks every key (GET /v1beta/files) when the key manager fails", async () => {
    const { services, logs } = await harness({ view: () => Promise.reject(new Error(`no keys for ${poolKeys[0]}`)) });
    const response = await send(filesRequest(), services);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
    expect(leakedKeys(text)).toEqual([]);
    expect(logs).toMatchObject([{ status: 503 }]);
  });

  it("answers 503 to such a list when the key manager never answers", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { services } = await harness({ view: () => never() });
    const pending = send(filesRequest(), services);
    await vi.advanceTimersByTimeAsync(10_500);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 503, message: expect.stringMatching(/did not answer in time/) } });
  });
});
