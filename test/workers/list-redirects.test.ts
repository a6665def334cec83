import { describe, expect, it } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import type { KeyManager, KeyPoolAdmin, ViewUpdate } from "../../src/core/key-pool";
import { createKeyRing } from "../../src/core/key-ring";
import { MAX_LIST_REDIRECTS } from "../../src/core/resources/merged-list";
import type { StatSessions } from "../../src/core/stats/session-store";
import { idlePool } from "../setup/idle-pool";
import { generatedPoolKeys } from "../setup/test-keys";
import { proxyToken, upstreamOrigin } from "./support";

// A list that finds nothing in the keys one request can ask redirects (307) to the next
// page. Over a pool larger than a few redirects' worth of keys (about 48 each with the Free
// plan's 50 subrequests; over ~900 keys) that is more redirects than HTTP clients follow,
// and they failed with "redirect count exceeded" and no word of why (break-it finding).
// A small SUBREQUEST_LIMIT stands in for the large pool: a few keys per redirect.

async function walkEmptyList(poolSize: number): Promise<{ redirects: number; status: number; text: string }> {
  const keyRing = await createKeyRing(generatedPoolKeys(poolSize, poolSize).join(","));
  const update: ViewUpdate = {
    stamp: { epoch: "lists", version: 1 },
    view: { keys: keyRing.keys.map(({ id, position }) => ({ id, position, disabled: false, scope: `key:${id}` })), marks: [], quota: [], disabled: {} },
  };
  const keyManager = { ...idlePool(), poolView: async () => update, recordOwnership: async () => undefined } as unknown as KeyManager & KeyPoolAdmin & StatSessions;
  const config = readConfig({
    GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${upstreamOrigin}/v1beta/openai`,
    PROXY_API_KEY: proxyToken,
    SUBREQUEST_LIMIT: "4",
  });
  let url = `http://proxy.test/v1beta/batches`;
  for (let redirects = 0; redirects < 100; redirects++) {
    const response = await createApp().fetch(new Request(url, { headers: { "x-goog-api-key": proxyToken } }), {
      services: { config, keyRing, keyManager, waitUntil: (promise) => void promise.catch(() => undefined), log: () => undefined },
    });
    if (response.status !== 307) return { redirects, status: response.status, text: await response.text() };
    url = new URL(response.headers.get("location") ?? "", url).toString();
  }
  throw new Error("the redirects never ended");
}

describe("an empty list over a pool too large for one request", () => {
  it("redirects to the end of a pool a few redirects long", async () => {
    const { redirects, status, text } = await walkEmptyList(12);
    expect(status).toBe(200);
    // Google lists batches as long-running operations.
    expect(JSON.parse(text)).toEqual({ operations: [] });
    expect(redirects).toBeGreaterThan(1);
  });

  it("stops at MAX_LIST_REDIRECTS with an error that says why and what to change", async () => {
    const { redirects, status, text } = await walkEmptyList(120);
    expect(redirects).toBe(MAX_LIST_REDIRECTS);
    expect(status).toBe(503);
    const message = (JSON.parse(text) as { error: { message: string } }).error.message;
    expect(message).toContain("120 keys");
    expect(message).toContain("SUBREQUEST_LIMIT (4)");
  });
});
