import { describe, expect, it, vi } from "vitest";
import { callProxy, fake, generate, poolKeys, poolSnapshot, proxyToken, uniqueModel } from "./support";

// Streams that break after the proxy has already answered 200: the client must get a
// clean ending in its own format, the key must stay usable, and the request must be
// counted exactly once (it was served upstream, so Google bills it).

async function usageOf(model: string): Promise<Record<string, number>> {
  const keys = (await poolSnapshot()).keys;
  return Object.fromEntries(
    keys.flatMap((key) => {
      const stats = key.models[model];
      return stats === undefined ? [] : [[poolKeys[key.position - 1] ?? "?", stats.requests]];
    }),
  );
}

async function servedBy(model: string): Promise<Record<string, number>> {
  const { successes } = await fake.log(model);
  return Object.fromEntries(Object.entries(successes).flatMap(([key, models]) => (models[model] ? [[key, models[model]]] : [])));
}

/** Usage is recorded after the response, off the critical path: wait for it, then make sure it stays put. */
async function expectUsageMatchesUpstream(model: string): Promise<void> {
  const served = await servedBy(model);
  await vi.waitFor(async () => expect(await usageOf(model)).toEqual(served), { timeout: 5_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await usageOf(model)).toEqual(served);
}

async function expectNoMarks(model: string): Promise<void> {
  const states = (await poolSnapshot()).keys.map((key) => key.models[model]?.state ?? "ok");
  expect(states.every((state) => state === "ok")).toBe(true);
}

function sseEvents(text: string): string[] {
  return text.split(/\r?\n\r?\n/).filter((event) => event.trim() !== "");
}

describe("upstream resets the connection mid-stream", () => {
  it("native SSE ends with one error event in Gemini's style, the key stays usable, usage counts once", async () => {
    const model = uniqueModel("reset-sse");
    await fake.model({ model, chunks: 4, resetAfterChunks: 2 });
    const response = await generate(model, {}, "streamGenerateContent?alt=sse");
    expect(response.status).toBe(200);
    const events = sseEvents(await response.text());
    expect(events).toHaveLength(3);
    expect(events.slice(0, 2).every((event) => event.includes('"candidates"'))).toBe(true);
    const last = JSON.parse(events[2]!.replace(/^data: /, "")) as unknown;
    expect(last).toMatchObject({ error: { code: 502, status: "UNAVAILABLE" } });

    const log = await fake.log(model);
    expect(log.requests).toHaveLength(1);
    expect(log.requests[0]?.serverReset).toBe(true);
    await expectUsageMatchesUpstream(model);
    await expectNoMarks(model);
    // The same key is picked again and serves the next request.
    await fake.model({ model, resetAfterChunks: 99 });
    expect((await generate(model)).status).toBe(200);
  });

  it("OpenAI-style SSE ends with an error event in OpenAI's style (no [DONE])", async () => {
    const model = uniqueModel("reset-chat");
    await fake.model({ model, chunks: 4, resetAfterChunks: 1 });
    const response = await callProxy("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    const events = sseEvents(await response.text());
    expect(events.at(-1)).not.toContain("[DONE]");
    const last = JSON.parse(events.at(-1)!.replace(/^data: /, "")) as unknown;
    expect(last).toMatchObject({ error: { type: "server_error", code: "stream_interrupted" } });
    await expectUsageMatchesUpstream(model);
    await expectNoMarks(model);
  });

  it("the JSON-array stream (no alt=sse) ends with a broken body, not a truncated success", async () => {
    const model = uniqueModel("reset-array");
    await fake.model({ model, chunks: 4, resetAfterChunks: 2 });
    const response = await generate(model, {}, "streamGenerateContent");
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await expectUsageMatchesUpstream(model);
    await expectNoMarks(model);
  });
});

describe("upstream resets the connection in the middle of a small answer (not streamed)", () => {
  // Small answers are read whole before the client gets them (small-answer.ts), so the
  // client gets a clean error instead of a 200 with half a body.
  it("answers 502 in Gemini's style, counts the request once and keeps the key usable", async () => {
    const model = uniqueModel("reset-small");
    await fake.model({ model, cutBody: "reset" });
    const response = await generate(model);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: 502, status: "UNAVAILABLE" } });
    const log = await fake.log(model);
    expect(log.requests).toHaveLength(1);
    expect(log.requests[0]?.serverReset).toBe(true);
    await expectUsageMatchesUpstream(model);
    await expectNoMarks(model);
  });

  it("an answer that arrives whole goes to the client as it came, counted once", async () => {
    const model = uniqueModel("whole-small");
    const response = await generate(model);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("usageMetadata");
    await expectUsageMatchesUpstream(model);
  });
});

describe("an answer (not streamed) sent without a Content-Length", () => {
  // Chunked, as an answer compressed on the way arrives: read as far as one byte past the
  // small bound, then answered whole, or its start sent first and the rest streamed.
  it("a small one goes to the client whole, counted once with its tokens", async () => {
    const model = uniqueModel("chunked-small");
    await fake.model({ model, chunked: true });
    const response = await generate(model);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("usageMetadata");
    await expectUsageMatchesUpstream(model);
  });

  it("a large one goes through byte for byte, its start first, counted once with its tokens", async () => {
    const model = uniqueModel("chunked-large");
    const text = "Long answer text. ".repeat(8_000);
    await fake.model({ model, chunked: true, text });
    const response = await generate(model);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[]; usageMetadata: unknown };
    expect(body.candidates[0]?.content.parts[0]?.text).toBe(text);
    expect(body.usageMetadata).toBeDefined();
    await expectUsageMatchesUpstream(model);
  });
});

describe("client disconnects mid-stream", () => {
  it("cancels the upstream request and still counts the request once", async () => {
    const model = uniqueModel("client-gone");
    await fake.model({ model, chunks: 20, chunkDelayMs: 150 });
    const response = await generate(model, {}, "streamGenerateContent?alt=sse");
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("data: ");
    await reader.cancel();

    await vi.waitFor(async () => expect((await fake.log(model)).requests[0]?.clientAborted).toBe(true), { timeout: 5_000 });
    const [request] = (await fake.log(model)).requests;
    // Twenty chunks 150 ms apart take 2.85 s; the upstream saw the hang-up long before that.
    expect((request?.endedAt ?? Infinity) - (request?.at ?? 0)).toBeLessThan(2_000);
    await expectUsageMatchesUpstream(model);
    await expectNoMarks(model);
  });
});
