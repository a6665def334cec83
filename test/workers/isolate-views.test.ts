import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import type { KeyManager, KeyPoolAdmin } from "../../src/core/key-pool";
import { keyRingFor } from "../../src/core/key-ring";
import { RefreshableKeyRing } from "../../src/core/ring-refresh";
import { idlePool } from "../setup/idle-pool";
import type { StatSessions } from "../../src/core/stats/session-store";
import { newKey } from "./admin-harness";
import { fake, poolKeys, proxyToken, uniqueModel, upstreamOrigin } from "./support";

// Two isolates (two apps, each with its own pool view) in front of one real key manager
// (a Durable Object of its own per test), against the fake upstream. Every call that
// reaches the manager is counted.

let managers = 0;

async function twoIsolates() {
  const stub = env.API_KEY_MANAGER.getByName(`isolate-views-${++managers}`);
  const calls: string[] = [];
  const counted = <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) => (...args: A) => {
    calls.push(name);
    return call(...args);
  };
  const keyManager: KeyManager & KeyPoolAdmin & StatSessions = {
    ...idlePool(),
    poolView: counted("poolView", (known) => stub.poolView(known)),
    recordFailure: counted("recordFailure", (failure, known) => stub.recordFailure(failure, known)),
    ownersOf: counted("ownersOf", (names, known) => stub.ownersOf(names, known)),
    recordUsage: counted("recordUsage", (reports, known) => stub.recordUsage(reports, known)),
    recordOwnership: counted("recordOwnership", (entries) => stub.recordOwnership(entries)),
    forgetResources: counted("forgetResources", (names) => stub.forgetResources(names)),
    snapshot: counted("snapshot", () => stub.snapshot()),
    reset: counted("reset", (scope) => stub.reset(scope)),
    startStatSession: counted("startStatSession", (idHash, session, client) => stub.startStatSession(idHash, session, client)),
    statSession: counted("statSession", (idHash) => stub.statSession(idHash)),
    endStatSession: counted("endStatSession", (idHash) => stub.endStatSession(idHash)),
    loginWait: counted("loginWait", (client) => stub.loginWait(client)),
    loginFailed: counted("loginFailed", (client) => stub.loginFailed(client)),
    setLimit: counted("setLimit", (setting) => stub.setLimit(setting)),
    recordEvents: counted("recordEvents", (events) => stub.recordEvents(events)),
    runtimeKeys: counted("runtimeKeys", (known) => stub.runtimeKeys(known)),
    addKeys: counted("addKeys", (keys, verify, role) => stub.addKeys(keys, verify, role)),
  };
  const background: Promise<unknown>[] = [];
  const services = {
    config: readConfig({ GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`, PROXY_API_KEY: proxyToken, LOG_REQUESTS: "false" }),
    // Refreshable: keys added at runtime are fetched by id when a request meets one.
    keyRing: new RefreshableKeyRing(await keyRingFor(poolKeys.join(","))),
    keyManager,
    waitUntil: (promise: Promise<unknown>) => background.push(promise),
    log: () => undefined,
  };
  const isolate = () => {
    const app = createApp();
    return async (model: string) => {
      const response = await app.fetch(
        new Request(`http://proxy.test/v1beta/models/${model}:generateContent`, {
          method: "POST",
          headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
        }),
        { services },
      );
      // Read whole: usage is counted once the body has ended.
      await response.arrayBuffer();
      return response;
    };
  };
  const settle = () => Promise.allSettled(background.splice(0));
  return { a: isolate(), b: isolate(), calls, settle, stub };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("isolates in front of one key manager", () => {
  it("serve requests from their views: far fewer manager calls than requests, every success counted once", async () => {
    const model = uniqueModel("views");
    const { a, calls, settle, stub } = await twoIsolates();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await a(model)).status);
    await settle();
    expect(statuses).toEqual(statuses.map(() => 200));
    // A view at the start and now and then; usage in batches. Nothing else.
    expect(calls.filter((name) => name !== "poolView" && name !== "recordUsage")).toEqual([]);
    expect(calls.length).toBeLessThan(statuses.length / 2);
    const used = (await fake.log(model)).requests.map((request) => request.apiKey);
    expect(new Set(used)).toEqual(new Set(poolKeys));
    const counted = (await stub.snapshot()).keys.reduce((sum, key) => sum + (key.models[model]?.requests ?? 0), 0);
    expect(counted).toBe(12);
  });

  it("never reuse a key one of them saw out of quota, and the other learns it within a second", async () => {
    const model = uniqueModel("views-mark");
    const { a, b, settle } = await twoIsolates();
    const [spent] = poolKeys;
    // Both warm, then the first key runs out of daily quota for the model.
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    await fake.quota({ key: spent!, model, perDay: 0 });

    for (let i = 0; i < 6; i++) expect((await a(model)).status).toBe(200);
    const fromA = (await fake.log(model)).requests.filter((request) => request.apiKey === spent);
    expect(fromA.map((request) => request.status)).toEqual([429]);

    await sleep(1_100);
    const before = (await fake.log(model)).requests.length;
    for (let i = 0; i < 6; i++) expect((await b(model)).status).toBe(200);
    const fromB = (await fake.log(model)).requests.slice(before);
    expect(fromB.filter((request) => request.apiKey === spent)).toEqual([]);
    await settle();
  });

  it("see a reset of the pool within a second", async () => {
    const model = uniqueModel("views-reset");
    const { a, b, settle, stub } = await twoIsolates();
    const [spent] = poolKeys;
    await fake.quota({ key: spent!, model, perDay: 0 });
    expect((await a(model)).status).toBe(200);
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    await fake.quota({ key: spent!, model, perDay: 1_000 });
    await stub.reset("all");

    await sleep(1_100);
    const before = (await fake.log(model)).requests.length;
    for (let i = 0; i < poolKeys.length; i++) expect((await b(model)).status).toBe(200);
    const fromB = (await fake.log(model)).requests.slice(before);
    expect(fromB.filter((request) => request.apiKey === spent)).toHaveLength(1);
    await settle();
  });

  it("see a key's group change within a second: its group's limit then holds for it", async () => {
    const model = uniqueModel("views-group");
    const { b, settle, stub } = await twoIsolates();
    const runtime = [newKey(), newKey()];
    const added = (await stub.addKeys(runtime.map((secret) => ({ secret })), false, "admin")).added.map((key) => key.id);
    // The group's budget: one request today between the two keys.
    await stub.setLimit({ model, window: "rpd", value: 1, group: "views-team" });
    await sleep(1_100);
    // Isolate b holds a view with both keys, each a group of its own.
    expect((await b(uniqueModel("warm"))).status).toBe(200);
    // Another isolate (here: the manager itself) puts them in the group.
    expect(await stub.bulk("group", added, "admin", { group: "views-team" })).toMatchObject({ done: 2 });

    await sleep(1_100);
    for (let i = 0; i < poolKeys.length + 2; i++) expect((await b(model)).status).toBe(200);
    const byRuntimeKeys = (await fake.log(model)).requests.filter((request) => runtime.includes(request.apiKey ?? ""));
    expect(byRuntimeKeys).toHaveLength(1);
    await settle();
  });
});
