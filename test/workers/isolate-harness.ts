import { env } from "cloudflare:workers";
import { workersLiveRuntime } from "../../src/cloudflare/live-runtime";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import type { KeyManager, KeyPoolAdmin } from "../../src/core/key-pool";
import { keyRingFor } from "../../src/core/key-ring";
import { RefreshableKeyRing } from "../../src/core/ring-refresh";
import { idlePool } from "../setup/idle-pool";
import type { StatSessions } from "../../src/core/stats/session-store";
import { poolKeys, proxyToken, upstreamOrigin } from "./support";

// Two isolates (two apps, each with its own pool view) in front of one real key manager
// (a Durable Object of its own per test), against the fake upstream. Every call that
// reaches the manager is counted; the pool views it sends can be made to arrive late, as
// from an object far away.

let managers = 0;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function twoIsolates() {
  const stub = env.API_KEY_MANAGER.getByName(`isolate-views-${++managers}`);
  const calls: string[] = [];
  /**
   * How late the manager's pool views arrive (`viewMs`), and the answers to its other calls
   * that carry a view too (`answerMs`: failures, usage, owners), as from an object far away.
   */
  const late = { viewMs: 0, answerMs: 0 };
  const after = async <T>(answer: Promise<T>): Promise<T> => {
    const value = await answer;
    if (late.answerMs > 0) await sleep(late.answerMs);
    return value;
  };
  const counted = <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) => (...args: A) => {
    calls.push(name);
    return call(...args);
  };
  const keyManager: KeyManager & KeyPoolAdmin & StatSessions = {
    ...idlePool(),
    poolView: counted("poolView", async (known) => {
      const view = await stub.poolView(known);
      if (late.viewMs > 0) await sleep(late.viewMs);
      return view;
    }),
    recordFailure: counted("recordFailure", (failure, known) => after(stub.recordFailure(failure, known))),
    ownersOf: counted("ownersOf", (names, known) => after(stub.ownersOf(names, known))),
    recordUsage: counted("recordUsage", (reports, known) => after(stub.recordUsage(reports, known))),
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
  const logs: unknown[] = [];
  const keyRing = new RefreshableKeyRing(await keyRingFor(poolKeys.join(",")));
  const services = {
    config: readConfig({
      GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`,
      OPENAI_UPSTREAM_URL: `${upstreamOrigin}/v1beta/openai`,
      PROXY_API_KEY: proxyToken,
      LOG_REQUESTS: "false",
    }),
    // Refreshable: keys added at runtime are fetched by id when a request meets one.
    keyRing,
    keyManager,
    live: workersLiveRuntime,
    waitUntil: (promise: Promise<unknown>) => background.push(promise),
    // Every request's log line, to search for pool keys.
    log: (line: unknown) => void logs.push(line),
  };
  const isolate = () => {
    const app = createApp();
    /** Any request to this isolate, with the proxy token unless the caller set a credential. */
    const send = (path: string, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (!headers.has("x-goog-api-key") && !headers.has("authorization")) headers.set("x-goog-api-key", proxyToken);
      return app.fetch(new Request(`http://proxy.test${path}`, { ...init, headers }), { services });
    };
    const generate = async (model: string) => {
      const response = await send(`/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
      });
      // Read whole: usage is counted once the body has ended.
      await response.arrayBuffer();
      return response;
    };
    return Object.assign(generate, { send });
  };
  const settle = () => Promise.allSettled(background.splice(0));
  /** The pool's key ids, in API_KEYS order. */
  const ids = keyRing.keys.map((key) => key.id);
  return { a: isolate(), b: isolate(), calls, settle, stub, late, ids, logs };
}
