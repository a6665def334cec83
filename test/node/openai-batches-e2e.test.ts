import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../setup/test-keys.ts";
import { openAiBatchJsonl as jsonl } from "../fake-upstream/openai-batch-input.ts";

// Google's documented OpenAI batch flow (ai.google.dev/gemini-api/docs/openai#batch),
// through the proxy with a pool of several keys: the JSONL input is uploaded with
// @google/genai (Google's OpenAI layer has no Files API), the batch is created and
// followed with the official openai SDK, the results are downloaded with @google/genai.
// Every upstream request of a batch must carry the key whose project owns it.

let upstream: FakeUpstream;
let proxy: RunningProxy;
let google: GoogleGenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken });
  google = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: proxy.origin } });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

/** Upstream requests since `from` (an index into the fake's log). */
function requestsSince(from: number) {
  return upstream.log().requests.slice(from);
}

describe("openai batches through the proxy", () => {
  for (const base of ["/v1", "/v1beta/openai", ""]) {
    it(`creates and follows a batch with the owner's key (base URL "${base || "/"}")`, async () => {
      const openai = new OpenAI({ apiKey: proxyToken, baseURL: `${proxy.origin}${base}`, maxRetries: 0 });
      const from = upstream.log().requests.length;
      const model = `gemini-openai-batch-e2e${base.replace(/\//g, "-")}`;
      const file = await google.files.upload({
        file: new Blob([jsonl(model, ["Tell me a one-sentence joke.", "Why is the sky blue?"])], { type: "application/jsonl" }),
        config: { displayName: "my-batch-requests", mimeType: "jsonl" },
      });
      expect(file.name).toMatch(/^files\//);
      const owner = requestsSince(from).find((request) => request.action === "upload.start")?.apiKey;
      expect(poolKeys).toContain(owner);

      const batch = await openai.batches.create({
        input_file_id: file.name!,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      expect(batch.id).toMatch(/^batches\//);
      expect(batch.input_file_id).toBe(file.name);

      let current = await openai.batches.retrieve(batch.id);
      expect(current.id).toBe(batch.id);
      for (let polls = 0; current.status !== "completed" && polls < 50; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        current = await openai.batches.retrieve(batch.id);
      }
      expect(current.status).toBe("completed");
      expect(current.request_counts).toMatchObject({ total: 2, completed: 2 });

      // Results come back in the OpenAI output format, downloaded natively as Google's example does.
      const download = await fetch(`${proxy.origin}/v1beta/${current.output_file_id}:download?alt=media`, {
        headers: { "x-goog-api-key": proxyToken },
      });
      expect(download.status).toBe(200);
      const lines = (await download.text()).trim().split("\n").map((line) => JSON.parse(line) as { custom_id: string });
      expect(lines.map((line) => line.custom_id)).toEqual(["request-1", "request-2"]);

      const used = requestsSince(from);
      expect(new Set(used.map((request) => request.apiKey))).toEqual(new Set([owner]));
      const batchPaths = used.filter((request) => request.dialect === "openai").map((request) => request.path);
      expect(batchPaths[0]).toBe("/v1beta/openai/batches");
      // The SDK sent /batches/batches%2F…; Google got the name unencoded.
      expect(new Set(batchPaths.slice(1))).toEqual(new Set([`/v1beta/openai/batches/${batch.id}`]));
    });
  }

  it("cancels a batch with the owner's key", async () => {
    upstream.configure({ batchDelayMs: 60_000 });
    try {
      const openai = new OpenAI({ apiKey: proxyToken, baseURL: `${proxy.origin}/v1`, maxRetries: 0 });
      const from = upstream.log().requests.length;
      const file = await google.files.upload({
        file: new Blob([jsonl("gemini-openai-batch-cancel", ["never mind"])], { type: "application/jsonl" }),
        config: { mimeType: "jsonl" },
      });
      const batch = await openai.batches.create({ input_file_id: file.name!, endpoint: "/v1/chat/completions", completion_window: "24h" });
      expect((await openai.batches.cancel(batch.id)).status).toBe("cancelled");
      expect(new Set(requestsSince(from).map((request) => request.apiKey)).size).toBe(1);
    } finally {
      upstream.configure({ batchDelayMs: 200 });
    }
  });

  it("tells an openai files.create that Google's OpenAI layer has no Files API, and what to use", async () => {
    for (const base of ["/v1", "/v1beta/openai", ""]) {
      const openai = new OpenAI({ apiKey: proxyToken, baseURL: `${proxy.origin}${base}`, maxRetries: 0 });
      const from = upstream.log().requests.length;
      const error = await openai.files
        .create({ file: new File([jsonl("gemini-2.5-flash", ["hi"])], "input.jsonl"), purpose: "batch" })
        .catch((caught: unknown) => caught);
      expect(error, base).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("/upload/v1beta/files");
      expect(requestsSince(from)).toEqual([]);
    }
  });
});
