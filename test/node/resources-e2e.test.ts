import { ApiError, createPartFromUri, createUserContent, GoogleGenAI, type Session } from "@google/genai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { leakedKeys, poolKeys, proxyToken } from "../setup/test-keys.ts";

// Everything a key creates stays with that key: with a pool of several keys (each its
// own Google project in the fake), the official SDK uploads, caches and chats through
// the proxy and never meets the 403 that key rotation causes elsewhere.

let upstream: FakeUpstream;
let proxy: RunningProxy;
let ai: GoogleGenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken });
  ai = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: proxy.origin } });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

function keysUsed(filter: (path: string, action: string | null) => boolean): string[] {
  return upstream
    .log()
    .requests.filter((request) => filter(request.path, request.action))
    .map((request) => request.apiKey ?? "");
}

async function upload(text: string) {
  return ai.files.upload({ file: new Blob([text], { type: "text/plain" }), config: { displayName: text.slice(0, 20) } });
}

describe("files through the proxy", () => {
  it("uploads with one key, then uses the file in many generate calls, all with the owner's key", async () => {
    const file = await upload("The quick brown fox jumps over the lazy dog.");
    expect(file.name).toMatch(/^files\//);
    expect(file.uri).toBeTruthy();
    const [owner] = keysUsed((path) => path.startsWith("/upload/"));
    expect(new Set(keysUsed((path) => path.startsWith("/upload/")))).toEqual(new Set([owner]));

    const model = "gemini-files-e2e";
    for (let i = 0; i < poolKeys.length * 2; i++) {
      const response = await ai.models.generateContent({
        model,
        contents: createUserContent([createPartFromUri(file.uri!, file.mimeType!), `question ${i}`]),
      });
      expect(response.text).toBeTruthy();
    }
    expect(new Set(keysUsed((path) => path.includes(model)))).toEqual(new Set([owner]));

    const fetched = await ai.files.get({ name: file.name! });
    expect(fetched.name).toBe(file.name);
    const listed: string[] = [];
    for await (const item of await ai.files.list()) listed.push(item.name ?? "");
    expect(listed).toContain(file.name);
    await ai.files.delete({ name: file.name! });
  });

  it("takes the chunks of Google's documented curl flow, which carry no key, for the session URL it handed out only", async () => {
    const text = "uploaded the way Google's curl example does it";
    const start = await fetch(`${proxy.origin}/upload/v1beta/files?key=${proxyToken}`, {
      method: "POST",
      headers: {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": String(text.length),
        "x-goog-upload-header-content-type": "text/plain",
        "content-type": "application/json",
      },
      body: JSON.stringify({ file: { display_name: "curl" } }),
    });
    expect(start.status).toBe(200);
    const sessionUrl = start.headers.get("x-goog-upload-url") ?? "";
    expect(sessionUrl.startsWith(`${proxy.origin}/upload/`)).toBe(true);
    expect(leakedKeys(sessionUrl)).toEqual([]);
    const chunk = (url: string) =>
      fetch(url, {
        method: "POST",
        headers: { "x-goog-upload-offset": "0", "x-goog-upload-command": "upload, finalize" },
        body: text,
      });

    // A forged or borrowed signature is refused before anything goes upstream.
    const session = new URL(sessionUrl);
    const forged = new URL(session);
    forged.searchParams.set("pool_sig", "0".repeat(32));
    const otherSession = new URL(session);
    otherSession.searchParams.set("upload_id", "someone-elses-session");
    const sentBefore = upstream.log().requests.length;
    expect((await chunk(forged.href)).status).toBe(401);
    expect((await chunk(otherSession.href)).status).toBe(401);
    expect(upstream.log().requests.length).toBe(sentBefore);

    const finished = await chunk(sessionUrl);
    expect(finished.status).toBe(200);
    expect(finished.headers.get("x-goog-upload-status")).toBe("final");
    expect(((await finished.json()) as { file: { name: string } }).file.name).toMatch(/^files\//);
    // Google's upload protocol counts on the length: the chunk goes upstream with it, not chunked.
    const sent = upstream.log().requests.at(-1);
    expect(sent?.headers["content-length"]).toBe(String(text.length));
    expect(sent?.headers["transfer-encoding"]).toBeUndefined();
  });

  it("refuses one request that uses files of two different keys with a clear 400", async () => {
    const first = await upload("first file of the mixed request");
    const second = await upload("second file of the mixed request");
    // Each upload is a start and one or more chunks; the start picks the key.
    const owners = keysUsed((_path, action) => action === "upload.start");
    expect(new Set(owners.slice(-2)).size).toBe(2);
    const error = await ai.models
      .generateContent({
        model: "gemini-files-mixed",
        contents: createUserContent([createPartFromUri(first.uri!, "text/plain"), createPartFromUri(second.uri!, "text/plain"), "compare"]),
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain("different API keys");
    expect(keysUsed((path) => path.includes("gemini-files-mixed"))).toEqual([]);
  });

  it("answers 429 with Retry-After when the file's owner is out of quota, rather than sending it with a key that cannot see it", async () => {
    const file = await upload("a file whose owner runs dry");
    const owner = keysUsed((path) => path.startsWith("/upload/")).at(-1)!;
    const model = "gemini-files-owner-spent";
    upstream.setQuota({ key: owner, model, perDay: 0 });
    const response = await fetch(`${proxy.origin}/v1beta/models/${model}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ fileData: { fileUri: file.uri, mimeType: "text/plain" } }, { text: "hi" }] }] }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await response.json()) as unknown).toMatchObject({ error: { status: "RESOURCE_EXHAUSTED" } });
    expect(new Set(keysUsed((path) => path.includes(model)))).toEqual(new Set([owner]));
  });

  it("retries the file's owner after a 5xx, since no other key can see the file", async () => {
    const file = await upload("a file whose owner is briefly overloaded");
    const owner = keysUsed((_path, action) => action === "upload.start").at(-1)!;
    const model = "gemini-files-owner-overloaded";
    upstream.script({ key: owner, model, outcomes: ["overloaded"] });
    const response = await ai.models.generateContent({
      model,
      contents: createUserContent([createPartFromUri(file.uri!, "text/plain"), "still there?"]),
    });
    expect(response.text).toBeTruthy();
    expect(keysUsed((path) => path.includes(model))).toEqual([owner, owner]);
  });

  it("finds the owner of a file the proxy never saw by asking the other keys, then remembers it", async () => {
    const outsider = poolKeys[3]!;
    const direct = new GoogleGenAI({ apiKey: outsider, httpOptions: { baseUrl: upstream.origin } });
    const file = await direct.files.upload({ file: new Blob(["uploaded elsewhere"], { type: "text/plain" }) });
    const model = "gemini-files-discovery";
    const ask = () =>
      ai.models.generateContent({ model, contents: createUserContent([createPartFromUri(file.uri!, "text/plain"), "hello"]) });
    expect((await ask()).text).toBeTruthy();
    const firstRound = keysUsed((path) => path.includes(model));
    expect(firstRound.at(-1)).toBe(outsider);
    expect((await ask()).text).toBeTruthy();
    expect(keysUsed((path) => path.includes(model)).slice(firstRound.length)).toEqual([outsider]);
  });
});

describe("long-running video operations through the proxy", () => {
  // Google's REST flow for Veo (the JS SDK sends generateVideos to Vertex AI only):
  // POST :predictLongRunning, then GET the operation it names until it is done.
  it("polls a Veo operation with the key that started it, whichever key is least recently used", async () => {
    const model = "veo-3.0-generate-001";
    const headers = { "x-goog-api-key": proxyToken, "content-type": "application/json" };
    const started = await fetch(`${proxy.origin}/v1beta/models/${model}:predictLongRunning`, {
      method: "POST",
      headers,
      body: JSON.stringify({ instances: [{ prompt: "a cat made of clouds" }] }),
    });
    expect(started.status).toBe(200);
    const { name } = (await started.json()) as { name: string };
    expect(name).toMatch(new RegExp(`^models/${model}/operations/`));
    for (let i = 0; i < poolKeys.length * 2; i++) {
      const poll = await fetch(`${proxy.origin}/v1beta/${name}`, { headers });
      expect(poll.status).toBe(200);
      expect(((await poll.json()) as { done?: boolean }).done).toBe(true);
    }
    const [owner] = keysUsed((path) => path.includes(`${model}:predictLongRunning`));
    const polls = upstream.log().requests.filter((entry) => entry.action === "getOperation");
    expect(polls).toHaveLength(poolKeys.length * 2);
    expect(new Set(polls.map((entry) => entry.apiKey))).toEqual(new Set([owner]));
  });
});

describe("caches through the proxy", () => {
  it("creates a cache from a file and uses it in generate calls with the owner's key", async () => {
    const file = await upload("Context worth caching for a while.");
    const owner = keysUsed((path) => path.startsWith("/upload/")).at(-1)!;
    const model = "gemini-cache-e2e";
    const cache = await ai.caches.create({
      model,
      config: { contents: createUserContent([createPartFromUri(file.uri!, "text/plain")]), ttl: "300s" },
    });
    expect(cache.name).toMatch(/^cachedContents\//);
    for (let i = 0; i < poolKeys.length; i++) {
      const response = await ai.models.generateContent({ model, contents: `question ${i}`, config: { cachedContent: cache.name! } });
      expect(response.text).toBeTruthy();
    }
    expect(new Set(keysUsed((path) => path.includes(model) || path.startsWith("/v1beta/cachedContents")))).toEqual(new Set([owner]));
    expect((await ai.caches.get({ name: cache.name! })).name).toBe(cache.name);
    await ai.caches.delete({ name: cache.name! });
  });
});

describe("the Live API through the proxy", () => {
  it("connects with a pool key, exchanges messages and closes", async () => {
    const messages: string[] = [];
    let turnDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (turnDone = resolve));
    const session: Session = await ai.live.connect({
      model: "gemini-live-2.5-flash-preview",
      callbacks: {
        onmessage: (message) => {
          const text = message.serverContent?.modelTurn?.parts?.map((part) => part.text ?? "").join("");
          if (text) messages.push(text);
          if (message.serverContent?.turnComplete) turnDone();
        },
      },
    });
    session.sendClientContent({ turns: "Hello over the socket", turnComplete: true });
    await done;
    session.close();
    expect(messages.join("").length).toBeGreaterThan(0);
  });
});
