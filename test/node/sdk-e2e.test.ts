import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";

// The proxy as users run it (`wrangler dev`, or the Node server in the node-server
// project), called by the official SDKs with nothing
// changed but the base URL and the API key, against a fake Gemini API on loopback.

let upstream: FakeUpstream;
let proxy: RunningProxy;
let google: GoogleGenAI;
let openai: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken });
  google = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: proxy.origin } });
  openai = new OpenAI({ apiKey: proxyToken, baseURL: `${proxy.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

describe("@google/genai through the proxy", () => {
  it("generates, streams, counts tokens, embeds and lists models", async () => {
    const generated = await google.models.generateContent({ model: "gemini-2.5-flash", contents: "Hello proxy" });
    expect(generated.text).toBeTruthy();
    expect(generated.usageMetadata?.promptTokenCount).toBeGreaterThan(0);

    let streamed = "";
    let chunks = 0;
    for await (const chunk of await google.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Stream please" })) {
      streamed += chunk.text ?? "";
      chunks++;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(streamed.length).toBeGreaterThan(0);

    const counted = await google.models.countTokens({ model: "gemini-2.5-flash", contents: "count these tokens" });
    expect(counted.totalTokens).toBeGreaterThan(0);

    const embedded = await google.models.embedContent({ model: "text-embedding-004", contents: ["one", "two"] });
    expect(embedded.embeddings).toHaveLength(2);

    const names: string[] = [];
    for await (const model of await google.models.list()) names.push(model.name ?? "");
    expect(names).toContain("models/gemini-2.5-flash");

    // The SDK sent the proxy token; upstream only ever saw pool keys.
    const seen = new Set(upstream.log().requests.map((request) => request.apiKey));
    expect([...seen].every((key) => poolKeys.includes(key ?? ""))).toBe(true);
  });

  it("never notices a key running out of quota while others have some", async () => {
    const model = "gemini-e2e-rotation";
    for (const key of poolKeys.slice(0, -1)) upstream.setQuota({ key, model, perDay: 1 });
    for (let i = 0; i < poolKeys.length * 2; i++) {
      const response = await google.models.generateContent({ model, contents: `request ${i}` });
      expect(response.text).toBeTruthy();
    }
  });

  it("gets a 429 ApiError naming the model once every key is spent", async () => {
    const model = "gemini-e2e-spent";
    for (const key of poolKeys) upstream.setQuota({ key, model, perDay: 0 });
    const error = await google.models.generateContent({ model, contents: "hi" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).message).toContain(model);
  });
});

describe("openai through the proxy", () => {
  it("chats, streams, embeds and lists models", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "Hello proxy" }],
    });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);

    let streamed = "";
    const stream = await openai.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    expect(streamed.length).toBeGreaterThan(0);

    const embedding = await openai.embeddings.create({ model: "text-embedding-004", input: "embed me" });
    expect(embedding.data[0]?.embedding.length).toBeGreaterThan(0);

    const models = await openai.models.list();
    expect(models.data.map((model) => model.id)).toContain("models/gemini-2.5-flash");
    // An id straight from the list: the SDK percent-encodes its slash into the path.
    const retrieved = await openai.models.retrieve("models/gemini-2.5-flash");
    expect(retrieved.id).toContain("gemini-2.5-flash");
  });

  it("works with Google's compat path and the bare host as base URL", async () => {
    for (const baseURL of [`${proxy.origin}/v1beta/openai`, proxy.origin]) {
      const client = new OpenAI({ apiKey: proxyToken, baseURL, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] });
      expect(completion.choices[0]?.message.content, baseURL).toBeTruthy();
    }
  });

  it("gets a RateLimitError with Retry-After once every key is spent, and a 401 with a wrong token", async () => {
    const model = "gemini-e2e-openai-spent";
    for (const key of poolKeys) upstream.setQuota({ key, model, perDay: 0 });
    const error = await openai.chat.completions
      .create({ model, messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after"))).toBeGreaterThan(0);

    const stranger = new OpenAI({ apiKey: "wrong", baseURL: `${proxy.origin}/v1`, maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
