import { ApiError, createPartFromUri, createUserContent, GoogleGenAI } from "@google/genai";
import type { LiveServerMessage } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeControlClient, startFakeUpstream } from "../fake-upstream/index.ts";
import type { FakeUpstream, FileResource } from "../fake-upstream/index.ts";

// Proves the fake's project-owned resources (resumable uploads, files, caches, batches)
// and its Live API speak what @google/genai sends and expects: the SDK drives the fake
// directly, and keys of another project meet Google's 403s.

let upstream: FakeUpstream;
let serial = 0;

/** A fresh key in a fresh project (or in the given one), so tests never share resources. */
function newKey(project = `project-${++serial}`): string {
  const key = `AIzaSyResources${String(++serial).padStart(4, "0")}${"x".repeat(15)}`;
  upstream.setKey({ key, project });
  return key;
}

function client(key: string): GoogleGenAI {
  return new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: upstream.origin } });
}

async function upload(ai: GoogleGenAI, text: string, displayName?: string) {
  return ai.files.upload({ file: new Blob([text], { type: "text/plain" }), config: displayName === undefined ? {} : { displayName } });
}

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(ApiError);
  return caught as ApiError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  upstream = await startFakeUpstream();
});

afterAll(async () => {
  await upstream?.close();
});

describe("resumable upload and the Files API", () => {
  it("uploads a Blob, then gets, lists, downloads and deletes it with Google's shapes", async () => {
    const key = newKey();
    const ai = client(key);
    const file = await upload(ai, "The quick brown fox.", "fox.txt");
    expect(file).toMatchObject({ displayName: "fox.txt", mimeType: "text/plain", sizeBytes: "20", state: "ACTIVE", source: "UPLOADED" });
    expect(file.name).toMatch(/^files\/[a-z0-9]+$/);
    // @google/genai v3 calls v1 by default; the uri names the version the upload used.
    expect(file.uri).toMatch(new RegExp(`^${upstream.origin}/v1(?:beta|alpha)?/${file.name}$`));
    expect(Date.parse(file.expirationTime!) - Date.parse(file.createTime!)).toBe(48 * 3_600_000);

    expect(await ai.files.get({ name: file.name! })).toMatchObject({ name: file.name, sizeBytes: "20" });
    const listed: string[] = [];
    for await (const item of await ai.files.list()) listed.push(item.name ?? "");
    expect(listed).toEqual([file.name]);

    const download = await fetch(`${file.uri}:download?alt=media`, { headers: { "x-goog-api-key": key } });
    expect(await download.text()).toBe("The quick brown fox.");

    await ai.files.delete({ name: file.name! });
    const error = await apiError(ai.files.get({ name: file.name! }));
    expect(error.status).toBe(403);
  });

  it("logs every step of the upload with the key it used", async () => {
    const key = newKey();
    await upload(client(key), "logged upload");
    const steps = upstream.log({ key }).requests.filter((entry) => entry.path.startsWith("/upload/"));
    expect(steps.map((entry) => [entry.action, entry.status])).toEqual([
      ["upload.start", 200],
      ["upload.finalize", 200],
    ]);
    expect(steps[1]!.query.upload_id).toMatch(/^[a-z0-9]{32}$/);
  });

  it("shows files only to keys of the owning project", async () => {
    const owner = newKey("shared-files");
    const sibling = newKey("shared-files");
    const stranger = newKey();
    const file = await upload(client(owner), "project-scoped");
    expect((await client(sibling).files.get({ name: file.name! })).name).toBe(file.name);
    const error = await apiError(client(stranger).files.get({ name: file.name! }));
    expect(error.status).toBe(403);
    const id = file.name!.slice("files/".length);
    expect(JSON.parse(error.message)).toEqual({
      error: { code: 403, message: `You do not have permission to access the File ${id} or it may not exist.`, status: "PERMISSION_DENIED" },
    });
    expect((await client(stranger).files.list()).page).toEqual([]);
  });

  it("refuses chunks from another project's key and at the wrong offset", async () => {
    const key = newKey();
    const stranger = newKey();
    const start = await fetch(`${upstream.origin}/upload/v1beta/files`, {
      method: "POST",
      headers: {
        "x-goog-api-key": key,
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": "6",
        "x-goog-upload-header-content-type": "text/plain",
        "content-type": "application/json",
      },
      body: JSON.stringify({ file: { displayName: "chunks" } }),
    });
    expect(start.headers.get("x-goog-upload-status")).toBe("active");
    expect(start.headers.get("x-goog-upload-chunk-granularity")).toBe("8388608");
    const sessionUrl = start.headers.get("x-goog-upload-url")!;
    expect(sessionUrl).toMatch(new RegExp(`^${upstream.origin}/upload/v1beta/files\\?upload_id=[a-z0-9]+&upload_protocol=resumable$`));

    const chunk = (apiKey: string, command: string, offset: number, body: string) =>
      fetch(sessionUrl, {
        method: "POST",
        headers: { "x-goog-api-key": apiKey, "x-goog-upload-command": command, "x-goog-upload-offset": String(offset) },
        body,
      });
    expect((await chunk(stranger, "upload", 0, "abc")).status).toBe(403);
    const first = await chunk(key, "upload", 0, "abc");
    expect([first.status, first.headers.get("x-goog-upload-status"), await first.text()]).toEqual([200, "active", ""]);
    expect((await chunk(key, "upload, finalize", 1, "def")).status).toBe(400);
    const last = await chunk(key, "upload, finalize", 3, "def");
    expect(last.headers.get("x-goog-upload-status")).toBe("final");
    const { file } = (await last.json()) as { file: FileResource };
    expect(file).toMatchObject({ displayName: "chunks", sizeBytes: "6", mimeType: "text/plain" });
    const uploadId = new URL(sessionUrl).searchParams.get("upload_id");
    const chunkKeys = upstream
      .log()
      .requests.filter((entry) => entry.query.upload_id === uploadId)
      .map((entry) => [entry.apiKey, entry.status]);
    expect(chunkKeys).toEqual([
      [stranger, 403],
      [key, 200],
      [key, 400],
      [key, 200],
    ]);
  });

  it("pages lists by the page size configured over HTTP", async () => {
    const ai = client(newKey());
    await fakeControlClient(upstream.origin).configure({ listPageSize: 2 });
    try {
      for (const text of ["one", "two", "three"]) await upload(ai, text);
      const pager = await ai.files.list();
      expect(pager.page).toHaveLength(2);
      const names: string[] = [];
      for await (const file of pager) names.push(file.name ?? "");
      expect(new Set(names).size).toBe(3);
    } finally {
      upstream.configure({ listPageSize: 10 });
    }
  });
});

describe("generate requests that use a file or a cache", () => {
  it("answers the owning project and refuses any other with Google's 403", async () => {
    const owner = newKey("generate-files");
    const file = await upload(client(owner), "A file to talk about.");
    const ask = (key: string) =>
      client(key).models.generateContent({
        model: "gemini-2.5-flash",
        contents: createUserContent([createPartFromUri(file.uri!, file.mimeType!), "Summarise"]),
      });
    expect((await ask(owner)).text).toBeTruthy();
    expect((await ask(newKey("generate-files"))).text).toBeTruthy();
    const error = await apiError(ask(newKey()));
    expect(error.status).toBe(403);
    expect(error.message).toContain("You do not have permission to access the File");

    const byName = await apiError(
      client(newKey()).models.countTokens({ model: "gemini-2.5-flash", contents: [{ parts: [{ fileData: { fileUri: file.name! } }] }] }),
    );
    expect(byName.status).toBe(403);
  });

  it("creates, reads, lists, updates and uses a cache, only within its project", async () => {
    const owner = newKey("caches");
    const ai = client(owner);
    const file = await upload(ai, "Context worth caching.");
    const model = "gemini-2.5-flash";
    const cache = await ai.caches.create({
      model,
      config: { contents: createUserContent([createPartFromUri(file.uri!, "text/plain")]), ttl: "300s", displayName: "ctx" },
    });
    expect(cache).toMatchObject({ model: `models/${model}`, displayName: "ctx" });
    expect(cache.name).toMatch(/^cachedContents\/[a-z0-9]+$/);
    expect(Date.parse(cache.expireTime!) - Date.parse(cache.createTime!)).toBe(300_000);
    expect(cache.usageMetadata?.totalTokenCount).toBeGreaterThan(0);

    expect((await ai.caches.get({ name: cache.name! })).name).toBe(cache.name);
    const listed: string[] = [];
    for await (const item of await ai.caches.list()) listed.push(item.name ?? "");
    expect(listed).toEqual([cache.name]);
    const updated = await ai.caches.update({ name: cache.name!, config: { ttl: "600s" } });
    expect(Date.parse(updated.expireTime!) - Date.parse(updated.updateTime!)).toBe(600_000);

    const ask = (key: string) => client(key).models.generateContent({ model, contents: "What is cached?", config: { cachedContent: cache.name! } });
    expect((await ask(owner)).text).toBeTruthy();
    const foreign = await apiError(ask(newKey()));
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.message)).toMatchObject({ error: { message: "CachedContent not found (or permission denied)" } });
    expect((await apiError(client(newKey()).caches.get({ name: cache.name! }))).status).toBe(403);

    await ai.caches.delete({ name: cache.name! });
    expect((await apiError(ai.caches.get({ name: cache.name! }))).status).toBe(403);
  });

  it("refuses a cache's creation from another project's file, and forgets expired caches", async () => {
    const file = await upload(client(newKey()), "not yours");
    const ai = client(newKey());
    const error = await apiError(
      ai.caches.create({ model: "gemini-2.5-flash", config: { contents: createUserContent([createPartFromUri(file.uri!, "text/plain")]) } }),
    );
    expect(error.status).toBe(403);

    const brief = await ai.caches.create({ model: "gemini-2.5-flash", config: { contents: "short-lived", ttl: "0.05s" } });
    await sleep(80);
    expect((await apiError(ai.caches.get({ name: brief.name! }))).status).toBe(403);
  });
});

describe("batches", () => {
  it("creates an inline batch that succeeds after the configured delay", async () => {
    upstream.configure({ batchDelayMs: 100 });
    const owner = newKey();
    const ai = client(owner);
    const batch = await ai.batches.create({
      model: "gemini-2.5-flash",
      src: [{ contents: [{ role: "user", parts: [{ text: "one" }] }] }, { contents: [{ role: "user", parts: [{ text: "two" }] }] }],
      config: { displayName: "two prompts" },
    });
    expect(batch).toMatchObject({ displayName: "two prompts", state: "JOB_STATE_PENDING", model: "models/gemini-2.5-flash" });
    expect(batch.name).toMatch(/^batches\/[a-z0-9]+$/);

    await sleep(120);
    const done = await ai.batches.get({ name: batch.name! });
    expect(done.state).toBe("JOB_STATE_SUCCEEDED");
    expect(done.endTime).toBeTruthy();
    expect(done.dest?.inlinedResponses?.map((item) => item.response?.candidates?.[0]?.content?.parts?.[0]?.text)).toEqual([
      "Hello from the fake Gemini upstream.",
      "Hello from the fake Gemini upstream.",
    ]);

    const listed: string[] = [];
    for await (const item of await ai.batches.list()) listed.push(item.name ?? "");
    expect(listed).toEqual([batch.name]);
    expect((await apiError(client(newKey()).batches.get({ name: batch.name! }))).status).toBe(403);
    await ai.batches.delete({ name: batch.name! });
    expect((await apiError(ai.batches.get({ name: batch.name! }))).status).toBe(403);
  });

  it("runs an embeddings batch (:asyncBatchEmbedContent)", async () => {
    upstream.configure({ batchDelayMs: 0 });
    const ai = client(newKey());
    const batch = await ai.batches.createEmbeddings({ model: "gemini-embedding-001", src: { inlinedRequests: { contents: ["a", "b"] } } });
    const done = await ai.batches.get({ name: batch.name! });
    expect(done.state).toBe("JOB_STATE_SUCCEEDED");
    expect(done.dest?.inlinedEmbedContentResponses).toHaveLength(2);
  });

  it("cancels a pending batch", async () => {
    upstream.configure({ batchDelayMs: 60_000 });
    const ai = client(newKey());
    const batch = await ai.batches.create({ model: "gemini-2.5-flash", src: [{ contents: "wait" }] });
    await ai.batches.cancel({ name: batch.name! });
    expect((await ai.batches.get({ name: batch.name! })).state).toBe("JOB_STATE_CANCELLED");
  });

  it("runs a batch from the project's own JSONL file and refuses another project's file", async () => {
    upstream.configure({ batchDelayMs: 0 });
    const owner = newKey();
    const ai = client(owner);
    const lines = [
      { key: "a", request: { contents: [{ parts: [{ text: "first" }] }] } },
      { key: "b", request: { contents: [{ parts: [{ text: "second" }] }] } },
    ];
    const input = await ai.files.upload({
      file: new Blob([lines.map((line) => JSON.stringify(line)).join("\n")], { type: "application/jsonl" }),
    });
    const batch = await ai.batches.create({ model: "gemini-2.5-flash", src: input.name! });
    const done = await ai.batches.get({ name: batch.name! });
    expect(done.state).toBe("JOB_STATE_SUCCEEDED");
    const resultName = done.dest?.fileName;
    expect(resultName).toMatch(/^files\/batch-[a-z0-9]+$/);
    const results = await fetch(`${upstream.origin}/v1beta/${resultName}:download?alt=media`, { headers: { "x-goog-api-key": owner } });
    const keys = (await results.text())
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { key: string }).key);
    expect(keys).toEqual(["a", "b"]);

    const error = await apiError(client(newKey()).batches.create({ model: "gemini-2.5-flash", src: input.name! }));
    expect(error.status).toBe(403);
    expect(error.message).toContain("You do not have permission to access the File");
  });
});

describe("the Live API", () => {
  const model = "gemini-live-2.5-flash-preview";

  it("sets up, answers a turn with text and cumulative usage, and logs the session", async () => {
    const key = newKey();
    const messages: LiveServerMessage[] = [];
    let turnDone: () => void = () => undefined;
    const turn = new Promise<void>((resolve) => (turnDone = resolve));
    const session = await client(key).live.connect({
      model,
      callbacks: {
        onmessage: (message) => {
          messages.push(message);
          if (message.serverContent?.turnComplete) turnDone();
        },
      },
    });
    session.sendClientContent({ turns: "hi there", turnComplete: true });
    await turn;
    session.close();

    const text = messages.map((message) => message.serverContent?.modelTurn?.parts?.map((part) => part.text ?? "").join("") ?? "").join("");
    expect(text).toBe("Hello from the fake Gemini upstream.");
    expect(messages.at(-1)?.usageMetadata).toMatchObject({ promptTokenCount: 2, responseTokenCount: 9, totalTokenCount: 11 });

    await expect.poll(() => upstream.log({ key }).liveSessions[0]?.closedBy).toBe("client");
    const [logged] = upstream.log({ key }).liveSessions;
    expect(logged).toMatchObject({ model, apiKey: key, setupComplete: true, closeCode: 1005 });
    expect(logged!.received).toEqual([{ setup: { model: `models/${model}` } }, { clientContent: { turns: [{ role: "user", parts: [{ text: "hi there" }] }], turnComplete: true } }]);
    expect(logged!.sent[0]).toEqual({ setupComplete: {} });
    expect(upstream.log({ key }).requests).toMatchObject([{ path: expect.stringMatching(/^\/+ws\//), action: "bidiGenerateContent", model, status: 101, keyInQuery: true }]);
    expect(upstream.log({ key }).successes[key]?.[model]).toBe(1);
  });

  it("closes with Google's reason when the key is invalid", async () => {
    const key = newKey();
    upstream.setKey({ key, invalid: true });
    await expect(client(key).live.connect({ model, callbacks: { onmessage: () => undefined } })).rejects.toThrow(
      "(code 1007): API key not valid. Please pass a valid API key.",
    );
    await expect.poll(() => upstream.log({ key }).liveSessions[0]?.closeCode).toBe(1007);
  });

  it("closes with RESOURCE_EXHAUSTED when the project's quota is spent or scripted so", async () => {
    const key = newKey("live-quota");
    upstream.setQuota({ project: "live-quota", model, perDay: 0 });
    const connect = (apiKey: string) => client(apiKey).live.connect({ model, callbacks: { onmessage: () => undefined } });
    await expect(connect(key)).rejects.toThrow(/\(code 1011\): You exceeded your current quota \(RESOURCE_EXHAUSTED, GenerateRequestsPerDayPerProjectPerModel-FreeTier\)/);

    const scripted = newKey();
    upstream.script({ key: scripted, model, outcomes: ["quota-minute"] });
    await expect(connect(scripted)).rejects.toThrow(/code 1011.*RESOURCE_EXHAUSTED.*PerMinute/);
    const session = await connect(scripted);
    session.close();
  });
});
