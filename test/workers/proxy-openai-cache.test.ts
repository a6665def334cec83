import { describe, expect, it } from "vitest";
import { callProxy, fake, poolKeys, proxyToken, uniqueModel } from "./support";

// Google's OpenAI-compatible chat uses a context cache through
// `extra_body.google.cached_content`; the cache lives in the project of the key that
// created it, so every such chat must go out with that key.

describe("an OpenAI-style chat that uses a context cache", () => {
  it("goes out with the key that created the cache, whichever key is least recently used", async () => {
    const model = uniqueModel("oa-cache");
    const created = await callProxy("/v1beta/cachedContents", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: `models/${model}`, contents: [{ role: "user", parts: [{ text: "a long document" }] }], ttl: "600s" }),
    });
    expect(created.status).toBe(200);
    const { name } = await created.json<{ name: string }>();
    expect(name).toMatch(/^cachedContents\//);

    for (let i = 0; i < poolKeys.length * 2; i++) {
      const chat = await callProxy("/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
        body: JSON.stringify({
          model,
          messages: [{ role: "user", content: `question ${i} about the document` }],
          extra_body: { google: { cached_content: name } },
        }),
      });
      expect(chat.status).toBe(200);
    }
    const keys = (await fake.log(model)).requests.map((request) => request.apiKey);
    expect(keys).toHaveLength(1 + poolKeys.length * 2);
    expect(new Set(keys).size).toBe(1);
  });
});
