import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultReplyText,
  fakeControlClient,
  promptTokenCount,
  REDACTED_MARKER,
  startFakeUpstream,
  tokensForText,
} from "../fake-upstream/index.ts";
import type { FakeControlClient, FakeUpstream, GenerateContentResponse, GoogleErrorBody } from "../fake-upstream/index.ts";

// Proves the fake speaks Google's wire formats: raw framing checks plus the official SDKs
// parsing its answers. Each test uses its own model (and keys) so none depends on order.

let upstream: FakeUpstream;
let control: FakeControlClient;
let serial = 0;

const unique = (label: string): string => `gemini-fake-${label}-${++serial}`;
const keyFor = (label: string): string => `AIzaSy${label.padEnd(33, "x").slice(0, 33)}`;
const prompt = { contents: [{ role: "user", parts: [{ text: "Tell me a story about proxies" }] }] };

function generate(model: string, key: string, action = "generateContent", query = ""): Promise<Response> {
  return fetch(`${upstream.origin}/v1beta/models/${model}:${action}${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": key },
    body: JSON.stringify(prompt),
  });
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  if (response.body === null) throw new Error(`no body (status ${response.status})`);
  return response.body;
}

async function quotaIdOf(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as GoogleErrorBody;
  const failure = body.error.details?.find(
    (detail): detail is { violations: { quotaId: string }[] } =>
      typeof detail === "object" && detail !== null && "violations" in detail,
  );
  return failure?.violations[0]?.quotaId;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  control = fakeControlClient(upstream.origin);
});

afterAll(async () => {
  await upstream?.close();
});

describe("native generateContent", () => {
  it("answers with Google's shape and predictable usage", async () => {
    const model = unique("plain");
    const response = await generate(model, keyFor("plain"));
    expect(response.status).toBe(200);
    const body = await response.json();
    const promptTokens = promptTokenCount(prompt);
    expect(promptTokens).toBe(Math.ceil("Tell me a story about proxies".length / 4));
    expect(body).toMatchObject({
      candidates: [{ content: { parts: [{ text: defaultReplyText }], role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount: tokensForText(defaultReplyText),
        totalTokenCount: promptTokens + tokensForText(defaultReplyText),
      },
      modelVersion: model,
    });
  });

  it("streams SSE with CRLF framing, cumulative usage and no [DONE]", async () => {
    const model = unique("sse");
    upstream.setModel({ model, chunks: 4, text: "one two three four five six seven" });
    const response = await generate(model, keyFor("sse"), "streamGenerateContent", "?alt=sse");
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const raw = await response.text();
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
    const events = raw.split("\r\n\r\n").filter((event) => event !== "");
    expect(events).toHaveLength(4);
    expect(raw).not.toContain("[DONE]");
    const chunks = events.map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return JSON.parse(event.slice("data: ".length)) as GenerateContentResponse;
    });
    const counts = chunks.map((chunk) => chunk.usageMetadata.candidatesTokenCount as number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const last = chunks.at(-1);
    expect(last?.usageMetadata.totalTokenCount).toBe(promptTokenCount(prompt) + tokensForText("one two three four five six seven"));
    expect(last?.candidates[0]?.finishReason).toBe("STOP");
    expect(chunks[0]?.candidates[0]?.finishReason).toBeUndefined();
  });

  it("streams a JSON array incrementally without alt=sse", async () => {
    const model = unique("array");
    upstream.setModel({ model, chunks: 3, chunkDelayMs: 300 });
    const started = Date.now();
    const response = await generate(model, keyFor("array"), "streamGenerateContent");
    const reader = bodyOf(response).pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(first.value?.startsWith("[{")).toBe(true);
    expect(first.value?.trimEnd().endsWith("]")).toBe(false);
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += part.value;
    expect(Date.now() - started - firstAt).toBeGreaterThanOrEqual(500);
    const whole = first.value + rest;
    expect(whole).toMatch(/\r\n,\{/);
    expect(whole.endsWith("\r\n]")).toBe(true);
    expect(JSON.parse(whole)).toHaveLength(3);
  });

  it("destroys the socket after resetAfterChunks and logs it", async () => {
    const model = unique("reset");
    upstream.setModel({ model, chunks: 4, chunkDelayMs: 50, resetAfterChunks: 2 });
    const response = await generate(model, keyFor("reset"), "streamGenerateContent", "?alt=sse");
    await expect(response.text()).rejects.toThrow();
    const [request] = upstream.log({ model }).requests;
    expect(request).toMatchObject({ status: 200, streamed: true, serverReset: true, clientAborted: false });
  });

  it("notices a client that hangs up mid-stream", async () => {
    const model = unique("abort");
    upstream.setModel({ model, chunks: 5, chunkDelayMs: 200 });
    const aborter = new AbortController();
    const response = await fetch(`${upstream.origin}/v1beta/models/${model}:streamGenerateContent?alt=sse&key=${keyFor("abort")}`, {
      method: "POST",
      body: JSON.stringify(prompt),
      signal: aborter.signal,
    });
    await bodyOf(response).getReader().read();
    aborter.abort();
    await expect.poll(() => upstream.log({ model }).requests[0]?.clientAborted).toBe(true);
    expect(upstream.log({ model }).requests[0]?.serverReset).toBe(false);
  });
});

describe("errors and quotas", () => {
  it("returns Google's 429 bodies per quota kind with RetryInfo", async () => {
    const model = unique("kinds");
    const key = keyFor("kinds");
    await control.script({
      key,
      model,
      outcomes: ["quota-day", { kind: "quota-minute", retryDelay: "0.8s" }, "quota-tokens", "bare-429"],
    });
    const day = await generate(model, key);
    expect(day.status).toBe(429);
    expect(await quotaIdOf(day)).toBe("GenerateRequestsPerDayPerProjectPerModel-FreeTier");
    const minute = await generate(model, key);
    const minuteBody = (await minute.json()) as GoogleErrorBody;
    expect(minuteBody.error.details).toContainEqual({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "0.8s" });
    expect(JSON.stringify(minuteBody)).toContain("GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
    expect(await quotaIdOf(await generate(model, key))).toBe("GenerateContentInputTokensPerModelPerMinute-FreeTier");
    expect(await (await generate(model, key)).json()).toEqual({
      error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" },
    });
    expect((await generate(model, key)).status).toBe(200);
  });

  it("answers key faults with Google's bodies", async () => {
    const model = unique("keys");
    const invalid = keyFor("invalid");
    const suspended = keyFor("suspended");
    await control.setKey({ key: invalid, invalid: true });
    await control.setKey({ key: suspended, suspended: true });
    const bad = await generate(model, invalid);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("API_KEY_INVALID");
    const gone = await generate(model, suspended);
    expect(gone.status).toBe(403);
    expect(((await gone.json()) as GoogleErrorBody).error.message).toBe(`Permission denied: Consumer 'api_key:${suspended}' has been suspended.`);
    const anonymous = await fetch(`${upstream.origin}/v1beta/models/${model}:generateContent`, { method: "POST", body: "{}" });
    expect(anonymous.status).toBe(403);
    const notFound = await generate(`${model}-nonexistent`, keyFor("plain"));
    expect(notFound.status).toBe(404);
    const invalidJson = await fetch(`${upstream.origin}/v1beta/models/${model}:generateContent?key=k`, { method: "POST", body: "{" });
    expect(((await invalidJson.json()) as GoogleErrorBody).error.status).toBe("INVALID_ARGUMENT");
  });

  it("wraps errors in a JSON array on the OpenAI-compatible path", async () => {
    const model = unique("openai-error");
    const key = keyFor("openai-error");
    upstream.script({ key, model, outcomes: [{ kind: "quota-minute", retryDelay: "3s" }] });
    const response = await fetch(`${upstream.origin}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: `models/${model}`, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(429);
    const body = (await response.json()) as GoogleErrorBody[];
    expect(Array.isArray(body)).toBe(true);
    expect(body[0]?.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(upstream.log({ model }).requests[0]).toMatchObject({ dialect: "openai", model, apiKey: key, status: 429 });
  });

  it("exhausts a per-day quota after N successes", async () => {
    const model = unique("per-day");
    const key = keyFor("per-day");
    await control.setQuota({ key, model, perDay: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await generate(model, key)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("enforces a per-minute window and reports the configured retryDelay", async () => {
    const model = unique("per-minute");
    const key = keyFor("per-minute");
    upstream.setQuota({ key, model, perMinute: { limit: 1, windowMs: 300, retryDelay: "0.3s" } });
    expect((await generate(model, key)).status).toBe(200);
    const limited = await generate(model, key);
    expect(limited.status).toBe(429);
    expect(JSON.stringify(await limited.json())).toContain('"retryDelay":"0.3s"');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await generate(model, key)).status).toBe(200);
  });

  it("shares quota between keys of one project", async () => {
    const model = unique("project");
    const [first, second, outsider] = [keyFor("project-a"), keyFor("project-b"), keyFor("project-c")];
    upstream.setKey({ key: first, project: "shared" });
    upstream.setKey({ key: second, project: "shared" });
    upstream.setQuota({ project: "shared", model, perDay: 1 });
    upstream.setQuota({ key: outsider, model, perDay: 1 });
    expect((await generate(model, first)).status).toBe(200);
    expect((await generate(model, second)).status).toBe(429);
    expect((await generate(model, outsider)).status).toBe(200);
  });
});

describe("request log", () => {
  it("records keys, where they travelled and success counts", async () => {
    const model = unique("log");
    const key = keyFor("log");
    await generate(model, key);
    await fetch(`${upstream.origin}/v1beta/models/${model}:countTokens?key=${key}`, { method: "POST", body: JSON.stringify(prompt) });
    const log = await control.log({ model });
    expect(log.requests).toHaveLength(2);
    expect(log.requests[0]).toMatchObject({ apiKey: key, googApiKeyHeaderPresent: true, keyInQuery: false, query: {} });
    expect(log.requests[1]).toMatchObject({ apiKey: key, keyInQuery: true, query: { key: REDACTED_MARKER } });
    const travelled = log.requests.map((request) => JSON.stringify([request.query, request.headers]));
    expect(travelled.join()).not.toContain(key);
    expect(log.successes).toEqual({ [key]: { [model]: 2 } });
  });

  it("rejects malformed control input", async () => {
    const response = await fetch(`${upstream.origin}/__fake/script`, { method: "POST", body: JSON.stringify({ key: "k", outcomes: ["nope"] }) });
    expect(response.status).toBe(400);
  });
});

describe("official SDKs against the fake", () => {
  it("@google/genai generates and streams", async () => {
    const model = unique("genai");
    upstream.setModel({ model, chunks: 3 });
    const google = new GoogleGenAI({ apiKey: keyFor("genai"), httpOptions: { baseUrl: upstream.origin } });
    const generated = await google.models.generateContent({ model, contents: "Hello fake" });
    expect(generated.text).toBe(defaultReplyText);
    expect(generated.usageMetadata?.promptTokenCount).toBe(promptTokenCount({ text: "Hello fake" }));
    let streamed = "";
    let chunks = 0;
    for await (const chunk of await google.models.generateContentStream({ model, contents: "Stream please" })) {
      streamed += chunk.text ?? "";
      chunks++;
    }
    expect(chunks).toBe(3);
    expect(streamed).toBe(defaultReplyText);
    const requests = upstream.log({ model }).requests;
    expect(requests.map((request) => request.query)).toEqual([{}, { alt: "sse" }]);
    expect(requests.every((request) => request.googApiKeyHeaderPresent && !request.keyInQuery)).toBe(true);
  });

  it("openai chats, streamed and not", async () => {
    const model = unique("openai");
    const openai = new OpenAI({ apiKey: keyFor("openai"), baseURL: `${upstream.origin}/v1beta/openai`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hi there" }] });
    expect(completion.choices[0]?.message.content).toBe(defaultReplyText);
    expect(completion.usage?.prompt_tokens).toBe(promptTokenCount({ content: "Hi there" }));
    const stream = await openai.chat.completions.create({ model, stream: true, messages: [{ role: "user", content: "Hi" }] });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(defaultReplyText);
    expect(usage?.completion_tokens).toBe(tokensForText(defaultReplyText));
    const models = await openai.models.list();
    expect(models.data.map((entry) => entry.id)).toContain("models/gemini-2.5-flash");
    await expect(
      openai.chat.completions.create({ model: `${model}-nonexistent`, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
