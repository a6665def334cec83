import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream } from "../fake-upstream/index.ts";
import type { FakeUpstream } from "../fake-upstream/index.ts";

// Proves the fake's OpenAI-compatible Batch API speaks what the openai SDK sends in
// Google's documented flow (input uploaded natively, batch created and read the OpenAI
// way), owns batches per project like the native routes, and refuses other projects'
// keys with Google's 403 wrapped in a JSON array, as Google's OpenAI layer does.

let upstream: FakeUpstream;
let serial = 0;

function newKey(): string {
  const key = `AIzaSyOpenAiBatch${String(++serial).padStart(4, "0")}${"y".repeat(14)}`;
  upstream.setKey({ key, project: `openai-batch-project-${serial}` });
  return key;
}

async function uploadInput(key: string, model: string): Promise<string> {
  const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: upstream.origin } });
  const line = { custom_id: "request-1", method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: "hi" }] } };
  const file = await ai.files.upload({ file: new Blob([JSON.stringify(line)], { type: "application/jsonl" }), config: { mimeType: "jsonl" } });
  return file.name!;
}

function post(key: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${upstream.origin}/v1beta/openai/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
});

afterAll(async () => {
  await upstream?.close();
});

describe("the fake's OpenAI-compatible batches", () => {
  it("creates, retrieves, finishes and cancels with the openai SDK, the batch shared with the native routes", async () => {
    const key = newKey();
    const file = await uploadInput(key, "gemini-2.5-flash");
    const openai = new OpenAI({ apiKey: key, baseURL: `${upstream.origin}/v1beta/openai`, maxRetries: 0 });
    const batch = await openai.batches.create({ input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(batch).toMatchObject({ object: "batch", status: "in_progress", input_file_id: file, request_counts: { total: 1 } });
    expect(batch.id).toMatch(/^batches\/[a-z0-9]+$/);

    // The JavaScript SDK encodes the slash; the fake, like Google's documented flow, takes the name as it is.
    const retrieve = () => fetch(`${upstream.origin}/v1beta/openai/batches/${batch.id}`, { headers: { authorization: `Bearer ${key}` } });
    expect((await (await retrieve()).json()) as unknown).toMatchObject({ id: batch.id });
    await expect(openai.batches.retrieve(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    await new Promise((resolve) => setTimeout(resolve, 250));
    const finished = (await (await retrieve()).json()) as { status: string; output_file_id: string };
    expect(finished.status).toBe("completed");
    const native = await fetch(`${upstream.origin}/v1beta/${batch.id}`, { headers: { "x-goog-api-key": key } });
    expect(((await native.json()) as { metadata: { state: string } }).metadata.state).toBe("BATCH_STATE_SUCCEEDED");
    const results = await fetch(`${upstream.origin}/v1beta/${finished.output_file_id}:download?alt=media`, { headers: { "x-goog-api-key": key } });
    expect(JSON.parse((await results.text()).trim())).toMatchObject({ custom_id: "request-1", response: { status_code: 200 }, error: null });

    upstream.configure({ batchDelayMs: 60_000 });
    try {
      const pending = (await (await post(key, "batches", { input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" })).json()) as { id: string };
      const cancelled = await post(key, `batches/${pending.id}/cancel`, {});
      expect(((await cancelled.json()) as { status: string }).status).toBe("cancelled");
    } finally {
      upstream.configure({ batchDelayMs: 200 });
    }
  });

  it("refuses another project's key with Google's 403, wrapped in a JSON array", async () => {
    const owner = newKey();
    const stranger = newKey();
    const file = await uploadInput(owner, "gemini-2.5-flash");
    const foreignInput = await post(stranger, "batches", { input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(foreignInput.status).toBe(403);
    expect(await foreignInput.json()).toEqual([
      { error: { code: 403, status: "PERMISSION_DENIED", message: expect.stringContaining("You do not have permission to access the File") } },
    ]);

    const created = (await (await post(owner, "batches", { input_file_id: file, endpoint: "/v1/chat/completions", completion_window: "24h" })).json()) as { id: string };
    for (const [method, path] of [["GET", `batches/${created.id}`], ["POST", `batches/${created.id}/cancel`]] as const) {
      const response = await fetch(`${upstream.origin}/v1beta/openai/${path}`, { method, headers: { authorization: `Bearer ${stranger}` } });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual([
        { error: { code: 403, status: "PERMISSION_DENIED", message: expect.stringContaining("You do not have permission to access the Batch") } },
      ]);
    }
  });

  it("offers only what Google documents: no batch list, no Files API, bad requests answered with 400", async () => {
    const key = newKey();
    const headers = { authorization: `Bearer ${key}` };
    expect((await fetch(`${upstream.origin}/v1beta/openai/batches`, { headers })).status).toBe(404);
    expect((await fetch(`${upstream.origin}/v1beta/openai/files`, { headers })).status).toBe(404);
    const file = await uploadInput(key, "gemini-2.5-flash");
    const wrongEndpoint = await post(key, "batches", { input_file_id: file, endpoint: "/v1/responses", completion_window: "24h" });
    expect(wrongEndpoint.status).toBe(400);
    expect(await wrongEndpoint.json()).toEqual([{ error: expect.objectContaining({ code: 400, status: "INVALID_ARGUMENT" }) }]);
  });
});
