import { describe, expect, it } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import type { KeyManager, KeyPoolAdmin, ViewUpdate } from "../../src/core/key-pool";
import { createKeyRing } from "../../src/core/key-ring";
import type { RequestLog } from "../../src/core/services";
import type { StatSessions } from "../../src/core/stats/session-store";
import { idlePool } from "../setup/idle-pool";
import { fake, poolKeys, proxyToken, uniqueModel, upstreamOrigin } from "./support";

// The calls to the key manager that follow an attempt are spent, not taken, once its fetch
// was taken: a request whose last attempt fails while its view is past REFRESH_AFTER_MS makes
// the failure's report, a background refresh and the fresh view asked for before "no key is
// left". The attempt's reserve must leave room for all three (break-it finding: one over).
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

async function run(firstByteDelayMs: number, limit: number): Promise<{ fetched: number; calls: number; subrequests: number | undefined }> {
  const keyRing = await createKeyRing(poolKeys.join(","));
  const update: ViewUpdate = {
    stamp: { epoch: "edge", version: 1 },
    view: { keys: keyRing.keys.map(({ id, position }) => ({ id, position, disabled: false, scope: `key:${id}` })), marks: [], quota: [], disabled: {} },
  };
  let calls = 0;
  const keyManager = {
    ...idlePool(),
    poolView: async () => (calls++, update),
    // A slow Durable Object: the report brings no fresher view meanwhile.
    recordFailure: () => (calls++, never<ViewUpdate>()),
    recordUsage: async () => (calls++, update),
    recordEvents: async () => (calls++, undefined),
  } as unknown as KeyManager & KeyPoolAdmin & StatSessions;
  const logs: RequestLog[] = [];
  const config = readConfig({
    GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${upstreamOrigin}/v1beta/openai`,
    PROXY_API_KEY: proxyToken,
    SUBREQUEST_LIMIT: String(limit),
  });
  const model = uniqueModel("budget-edge");
  await fake.model({ model, firstByteDelayMs });
  for (const key of poolKeys) await fake.quota({ key, model, perDay: 0 });
  const response = await createApp().fetch(
    new Request(`http://proxy.test/v1beta/models/${model}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    }),
    { services: { config, keyRing, keyManager, waitUntil: (promise) => void promise.catch(() => undefined), log: (entry) => logs.push(entry) } },
  );
  await response.arrayBuffer();
  return { fetched: (await fake.log(model)).requests.length, calls, subrequests: logs[0]?.subrequests };
}

describe("the subrequest budget at its edge", () => {
  it("is never exceeded, whatever calls follow the last attempt", { timeout: 60_000 }, async () => {
    // Attempts of about 90 ms cross REFRESH_AFTER_MS (500 ms) part way through the keys.
    for (const delay of [88, 92, 96]) {
      const { fetched, calls, subrequests } = await run(delay, 14);
      expect(fetched + calls, `delay ${delay} ms`).toBeLessThanOrEqual(14);
      expect(subrequests, `delay ${delay} ms`).toBeLessThanOrEqual(14);
    }
  });
});
