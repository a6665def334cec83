import { describe, expect, it, onTestFinished } from "vitest";
import { TAG_HEADER } from "../fake-upstream/request-log.ts";
import { callProxy, fake, leakedKeys, poolKeys, proxyToken, startUpload, uniqueModel, upstreamOrigin } from "./support";
import { openAiBatchJsonl as jsonl } from "../fake-upstream/openai-batch-input.ts";

// Google's OpenAI-compatible Batch API through the pool: the input file is uploaded with
// the Gemini Files API (Google's documented flow), the batch is created, read and
// cancelled the OpenAI way, and every step goes out with the key whose project owns it.
// Each test tags its requests and names its own model, so the fake's log is its own.

const PREFIXES = ["/v1", "/v1beta/openai", ""] as const;

interface Batch {
  id: string;
  status: string;
  input_file_id: string;
  output_file_id: string | null;
}

/** A resumable upload through the proxy, as @google/genai's files.upload does it; returns the file's name. */
async function uploadThroughProxy(text: string, tag: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const session = await startUpload(tag, { size: bytes.length, type: "jsonl", displayName: "batch input" });
  const done = await callProxy(session.pathname + session.search, {
    method: "POST",
    headers: { [TAG_HEADER]: tag, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
    body: bytes,
  });
  expect(done.status).toBe(200);
  return ((await done.json()) as { file: { name: string } }).file.name;
}

/** An upload and a batch made straight at the fake with one key, so the proxy never saw them. */
async function createElsewhere(key: string, model: string): Promise<{ file: string; batch: Batch }> {
  const bytes = new TextEncoder().encode(jsonl(model, ["made elsewhere"]));
  const start = await fetch(`${upstreamOrigin}/upload/v1beta/files`, {
    method: "POST",
    headers: {
      "x-goog-api-key": key,
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-length": String(bytes.length),
    },
    body: "{}",
  });
  const done = await fetch(start.headers.get("x-goog-upload-url")!, {
    method: "POST",
    headers: { "x-goog-api-key": key, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
    body: bytes,
  });
  const file = ((await done.json()) as { file: { name: string } }).file.name;
  const created = await fetch(`${upstreamOrigin}/v1beta/openai/batches`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" }),
  });
  expect(created.status).toBe(200);
  return { file, batch: await created.json<Batch>() };
}

function openai(path: string, init: RequestInit & { tag: string }): Promise<Response> {
  const { tag, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("authorization", `Bearer ${proxyToken}`);
  headers.set(TAG_HEADER, tag);
  if (rest.body !== undefined) headers.set("content-type", "application/json");
  return callProxy(path, { ...rest, headers });
}

function createBatch(prefix: string, file: string, tag: string): Promise<Response> {
  return openai(`${prefix}/batches`, {
    tag,
    method: "POST",
    body: JSON.stringify({ input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" }),
  });
}

/** The id in the path as the JavaScript SDK sends it: the slash percent-encoded. */
function encoded(id: string): string {
  return encodeURIComponent(id);
}

async function keysFor(tag: string, action?: string): Promise<string[]> {
  const { requests } = await fake.tagged(tag);
  return requests.filter((request) => action === undefined || request.action === action).map((request) => request.apiKey ?? "");
}

describe("OpenAI-style batches through the pool", () => {
  it("creates, retrieves and cancels a batch with the key that uploaded its input, on every OpenAI prefix", async () => {
    // Cancelling needs a batch still running: the fake's default 200 ms is too short for a loaded machine.
    await fake.configure({ batchDelayMs: 600_000 });
    onTestFinished(async () => {
      await fake.configure({ batchDelayMs: 200 });
    });
    for (const prefix of PREFIXES) {
      const tag = `batch-pin-${crypto.randomUUID()}`;
      const model = uniqueModel("openai-batch");
      const file = await uploadThroughProxy(jsonl(model, ["one", "two"]), tag);
      const [owner] = await keysFor(tag, "upload.start");

      const created = await createBatch(prefix, file, tag);
      expect(created.status).toBe(200);
      const batch = await created.json<Batch>();
      expect(batch).toMatchObject({ id: expect.stringMatching(/^batches\//), input_file_id: file, status: "in_progress" });

      for (let i = 0; i < poolKeys.length; i++) {
        const path = i % 2 === 0 ? `${prefix}/batches/${encoded(batch.id)}` : `${prefix}/batches/${batch.id}`;
        const retrieved = await openai(path, { tag });
        expect(retrieved.status).toBe(200);
        expect((await retrieved.json<Batch>()).id).toBe(batch.id);
      }
      const cancelled = await openai(`${prefix}/batches/${encoded(batch.id)}/cancel`, { tag, method: "POST" });
      expect(cancelled.status).toBe(200);
      expect((await cancelled.json<Batch>()).status).toBe("cancelled");

      const { requests } = await fake.tagged(tag);
      expect(new Set(requests.map((request) => request.apiKey))).toEqual(new Set([owner]));
      // Upstream always gets the name unencoded, the form Google's documented flow sends.
      expect(requests.filter((request) => request.dialect === "openai").map((request) => request.path)).toEqual([
        "/v1beta/openai/batches",
        ...Array<string>(poolKeys.length).fill(`/v1beta/openai/batches/${batch.id}`),
        `/v1beta/openai/batches/${batch.id}/cancel`,
      ]);
    }
  });

  it("downloads the finished batch's results natively with the owner's key", async () => {
    const tag = `batch-results-${crypto.randomUUID()}`;
    const model = uniqueModel("openai-batch-results");
    const file = await uploadThroughProxy(jsonl(model, ["why is the sky blue?", "tell me a joke"]), tag);
    const [owner] = await keysFor(tag, "upload.start");
    const batch = await (await createBatch("/v1", file, tag)).json<Batch>();

    let finished = batch;
    for (let polls = 0; finished.status !== "completed" && polls < 50; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      finished = await (await openai(`/v1/batches/${encoded(batch.id)}`, { tag })).json<Batch>();
    }
    expect(finished.status).toBe("completed");
    expect(finished.output_file_id).toMatch(/^files\//);

    const download = await callProxy(`/v1beta/${finished.output_file_id}:download?alt=media`, { headers: { [TAG_HEADER]: tag } });
    expect(download.status).toBe(200);
    const lines = new TextDecoder()
      .decode(await download.arrayBuffer())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number; body: { object: string } } });
    expect(lines.map((line) => line.custom_id)).toEqual(["request-1", "request-2"]);
    expect(lines.every((line) => line.response.status_code === 200 && line.response.body.object === "chat.completion")).toBe(true);
    expect(new Set(await keysFor(tag))).toEqual(new Set([owner]));
  });

  it("answers the proxy's 429 with Retry-After when the owner's key is out of quota, and tries no other key", async () => {
    const tag = `batch-quota-${crypto.randomUUID()}`;
    const model = uniqueModel("openai-batch-quota");
    const file = await uploadThroughProxy(jsonl(model, ["hello"]), tag);
    const [owner] = await keysFor(tag, "upload.start");
    const batch = await (await createBatch("/v1beta/openai", file, tag)).json<Batch>();

    await fake.script({ key: owner!, model, outcomes: [{ kind: "quota-minute", retryDelay: "7s" }, "quota-day"] });
    const cooling = await openai(`/v1beta/openai/batches/${encoded(batch.id)}`, { tag });
    expect(cooling.status).toBe(429);
    expect(cooling.headers.get("retry-after")).toBe("7");
    expect(cooling.headers.get("x-should-retry")).toBe("true");
    const body = await cooling.json<{ error: { message: string; type: string; code: string } }>();
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "all_keys_exhausted" });
    expect(body.error.message).toContain(batch.id);

    const spent = await createBatch("/v1beta/openai", file, tag);
    expect(spent.status).toBe(429);
    expect(spent.headers.get("x-should-retry")).toBe("false");
    expect(Number(spent.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(new Set(await keysFor(tag))).toEqual(new Set([owner]));
  });

  it("finds the owner of a batch or input file the proxy never saw by asking the other keys, then remembers it", async () => {
    const outsider = poolKeys[3]!;
    const model = uniqueModel("openai-batch-discovery");
    const { file, batch } = await createElsewhere(outsider, model);

    const tag = `batch-discovery-${crypto.randomUUID()}`;
    const first = await openai(`/v1/batches/${encoded(batch.id)}`, { tag });
    expect(first.status).toBe(200);
    const firstRound = await keysFor(tag);
    expect(firstRound.at(-1)).toBe(outsider);
    expect((await openai(`/v1/batches/${encoded(batch.id)}`, { tag })).status).toBe(200);
    expect((await keysFor(tag)).slice(firstRound.length)).toEqual([outsider]);

    const createTag = `batch-discovery-create-${crypto.randomUUID()}`;
    const created = await createBatch("/v1", file, createTag);
    expect(created.status).toBe(200);
    expect((await keysFor(createTag)).at(-1)).toBe(outsider);
    const second = await created.json<Batch>();
    const afterTag = `batch-discovery-after-${crypto.randomUUID()}`;
    expect((await openai(`/v1/batches/${encoded(second.id)}/cancel`, { tag: afterTag, method: "POST" })).status).toBe(200);
    expect(await keysFor(afterTag)).toEqual([outsider]);
  });

  it("passes Google's own answer through when no key can see the batch, with no pool key in it", async () => {
    const tag = `batch-unknown-${crypto.randomUUID()}`;
    const response = await openai(`/v1/batches/${encoded("batches/doesnotexist")}`, { tag });
    const text = await response.text();
    expect(response.status).toBe(403);
    expect(text).toContain("do not have permission");
    expect(leakedKeys(text)).toEqual([]);
    expect(new Set(await keysFor(tag)).size).toBe(poolKeys.length);
  });

  it("answers what Google's OpenAI layer does not offer (files, batch list) itself, in the OpenAI style", async () => {
    const tag = `openai-unsupported-${crypto.randomUUID()}`;
    const form = new FormData();
    form.set("purpose", "batch");
    form.set("file", new Blob([jsonl("gemini-2.5-flash", ["hi"])]), "input.jsonl");
    for (const prefix of PREFIXES) {
      const upload = await callProxy(`${prefix}/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${proxyToken}`, [TAG_HEADER]: tag },
        body: form,
      });
      expect(upload.status).toBe(404);
      const error = (await upload.json<{ error: { message: string; type: string } }>()).error;
      expect(error.type).toBe("not_found_error");
      expect(error.message).toContain("/upload/v1beta/files");

      const list = await openai(`${prefix}/batches`, { tag });
      expect(list.status).toBe(404);
      expect((await list.json<{ error: { message: string } }>()).error.message).toContain("GET /v1beta/batches");
    }
    expect(await keysFor(tag)).toEqual([]);
  });

  // Last: it disables a key of this file's pool for good.
  it("answers 403 resource_owner_unavailable once the owner's key is disabled, rather than trying a key that cannot see the batch", async () => {
    const tag = `batch-owner-gone-${crypto.randomUUID()}`;
    const model = uniqueModel("openai-batch-owner-gone");
    const file = await uploadThroughProxy(jsonl(model, ["hello"]), tag);
    const [owner] = await keysFor(tag, "upload.start");
    const batch = await (await createBatch("/v1", file, tag)).json<Batch>();

    await fake.script({ key: owner!, model, outcomes: ["invalid-key"] });
    const response = await openai(`/v1/batches/${encoded(batch.id)}`, { tag });
    const text = await response.text();
    expect(response.status).toBe(403);
    expect(JSON.parse(text)).toMatchObject({ error: { type: "permission_error", code: "resource_owner_unavailable" } });
    expect(leakedKeys(text)).toEqual([]);
    expect(new Set(await keysFor(tag))).toEqual(new Set([owner]));
  });
});
