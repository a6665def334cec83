import { describe, expect, it } from "vitest";
import { newKey } from "./admin-harness";
import { sleep, twoIsolates } from "./isolate-harness";
import { fake, leakedKeyFragments, poolKeys, proxyToken, uniqueModel, upstreamOrigin } from "./support";

// Attempts to break the aged-view check (issue 11): an idle isolate chooses from its old
// view, asks for a fresh one at the same moment, and abandons the attempt when that view
// says the key can no longer serve. Real key manager (Durable Object), fake upstream; the
// manager's changes are made on the object directly, as another isolate's would be.
// Findings: /work/briefs/break11b-findings.md.

/** Long enough for the warm-up's usage report and the view its answer brought to be past a second old. */
const IDLE_MS = 1_700;

const sha256 = async (bytes: Uint8Array): Promise<string> =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((byte) => byte.toString(16).padStart(2, "0")).join("");

/** The fake's log settles when it sees a connection close: poll for it. */
async function attemptsOf(model: string) {
  await expect.poll(async () => (await fake.log(model)).requests.every((request) => request.endedAt !== null)).toBe(true);
  return (await fake.log(model)).requests;
}

/** An isolate that served once and then sat idle; the first key disabled meanwhile, by another isolate. */
async function idleWithFirstDisabled() {
  const isolates = await twoIsolates();
  expect((await isolates.a(uniqueModel("warm"))).status).toBe(200);
  await sleep(IDLE_MS);
  await isolates.stub.disableKey(isolates.ids[0]!, "disabled elsewhere", "admin");
  // The object some way off; Google slower still with the first key.
  isolates.late.viewMs = 300;
  return isolates;
}

/**
 * The first attempt (with the first key, disabled elsewhere) was abandoned unanswered, the
 * second key served the request and is the only one counted for it, and no key leaked into
 * what the client saw (`seen`) or the log.
 */
async function expectServedBySecondKeyOnce(model: string, isolate: Pick<Awaited<ReturnType<typeof idleWithFirstDisabled>>, "settle" | "stub" | "ids" | "logs">, seen: string) {
  const { settle, stub, ids, logs } = isolate;
  expect((await attemptsOf(model)).map(({ apiKey, status }) => ({ apiKey, status }))).toEqual([
    { apiKey: poolKeys[0], status: null },
    { apiKey: poolKeys[1], status: 200 },
  ]);
  await settle();
  const keys = (await stub.snapshot()).keys;
  expect(keys.find((key) => key.id === ids[0])?.models[model]).toBeUndefined();
  expect(keys.find((key) => key.id === ids[1])?.models[model]?.requests).toBe(1);
  expect(leakedKeyFragments(seen + JSON.stringify(logs))).toEqual([]);
}

describe("the aged-view check, attacked", () => {
  // FINDING 1. The README said "its next request chooses from the old copy"; it now says what
  // happens: every request that reaches an idle isolate before the first fresh view lands
  // starts on the old view (each makes its own poolView call, local-pool.ts update()), and each
  // one whose model this isolate has not used chooses the first key in pool order. Observed:
  // all three requests of a burst reached Google with the disabled key, then were abandoned and
  // retried. This is the stronger bound an operator would expect; it fails today.
  it.fails("lets at most one request of a burst reach Google with a key disabled elsewhere", async () => {
    const first = poolKeys[0]!;
    const { a, settle } = await idleWithFirstDisabled();
    const models = [uniqueModel("burst-a"), uniqueModel("burst-b"), uniqueModel("burst-c")];
    for (const model of models) await fake.model({ model, firstByteDelayMsByKey: { [first]: 2_000 } });

    const responses = await Promise.all(models.map((model) => a(model)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    const withDisabled = [];
    for (const model of models) withDisabled.push(...(await attemptsOf(model)).filter((request) => request.apiKey === first));
    await settle();
    expect(withDisabled.length).toBeLessThanOrEqual(1);
  });

  it("retries a large body abandoned in the middle of its upload with the same bytes, whole", async () => {
    const model = uniqueModel("aged-large");
    const first = poolKeys[0]!;
    const { a, settle, logs } = await idleWithFirstDisabled();
    await fake.model({ model, firstByteDelayMsByKey: { [first]: 2_000 } });
    // 256 KiB of JSON, the model named at its start, sent in eight pieces over about 800 ms:
    // the fresh view (300 ms) arrives while the first attempt is still uploading.
    const text = "x".repeat(256 * 1024);
    const bytes = new TextEncoder().encode(JSON.stringify({ contents: [{ parts: [{ text }] }] }));
    const upload = new FixedLengthStream(bytes.byteLength);
    const writing = (async () => {
      const writer = upload.writable.getWriter();
      const piece = Math.ceil(bytes.byteLength / 8);
      for (let at = 0; at < bytes.byteLength; at += piece) {
        await writer.write(bytes.slice(at, at + piece));
        await sleep(100);
      }
      await writer.close();
    })();

    const response = await a.send(`/v1beta/models/${model}:generateContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(bytes.byteLength) },
      body: upload.readable,
    });
    const answer = await response.text();
    await writing;
    expect(response.status).toBe(200);
    const attempts = await attemptsOf(model);
    const served = attempts.filter((request) => request.status === 200);
    expect(served.map((request) => request.apiKey)).toEqual([poolKeys[1]]);
    expect(served[0]!.bodySha256).toBe(await sha256(bytes));
    expect(attempts.filter((request) => request.apiKey === first).every((request) => request.status === null)).toBe(true);
    await settle();
    expect(leakedKeyFragments(answer + JSON.stringify([...response.headers]) + JSON.stringify(logs))).toEqual([]);
  });

  it("gives a client one clean event stream when the first attempt of an SSE request is abandoned", async () => {
    const model = uniqueModel("aged-sse");
    const first = poolKeys[0]!;
    const { a, settle, stub, ids, logs } = await idleWithFirstDisabled();
    await fake.model({ model, chunks: 4, firstByteDelayMsByKey: { [first]: 2_000 } });

    const response = await a.send(`/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
    });
    const events = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(events.match(/^data: /gm)).toHaveLength(4);
    expect(events).not.toContain("error");
    await expectServedBySecondKeyOnce(model, { settle, stub, ids, logs }, events + JSON.stringify([...response.headers]));
  });

  it("retries an OpenAI-style chat completion abandoned before its answer on another key, once", async () => {
    const model = uniqueModel("aged-openai");
    const first = poolKeys[0]!;
    const { a, settle, stub, ids, logs } = await idleWithFirstDisabled();
    await fake.model({ model, firstByteDelayMsByKey: { [first]: 2_000 } });

    const response = await a.send("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${proxyToken}` },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
    });
    const answer = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(answer)).toHaveProperty("choices");
    await expectServedBySecondKeyOnce(model, { settle, stub, ids, logs }, answer + JSON.stringify([...response.headers]));
  });

  it("answers resource_owner_unavailable, as with a fresh view, when a cache's owner was disabled elsewhere", async () => {
    const model = uniqueModel("aged-owner");
    const { a, settle, stub, late, ids } = await twoIsolates();
    const created = await a.send("/v1beta/cachedContents", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: `models/${model}`, contents: [{ role: "user", parts: [{ text: "a long document ".repeat(50) }] }] }),
    });
    expect(created.status).toBe(200);
    const { name } = await created.json<{ name: string }>();
    const useCache = () =>
      a.send(`/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ cachedContent: name, contents: [{ parts: [{ text: "summarise" }] }] }),
      });
    // The first use looks the owner up and caches it in the isolate's view.
    const first = await useCache();
    expect(first.status).toBe(200);
    await first.text();
    const owner = (await fake.log(model)).requests.at(-1)!.apiKey!;
    await sleep(IDLE_MS);
    await stub.disableKey(ids[poolKeys.indexOf(owner)]!, "disabled elsewhere", "admin");
    late.viewMs = 300;
    await fake.model({ model, firstByteDelayMsByKey: { [owner]: 2_000 } });
    const before = (await fake.log(model)).requests.length;

    const refused = await useCache();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { status: "PERMISSION_DENIED", message: expect.stringContaining("belongs to a pool key that is disabled") } });
    // It reached Google with the owner first (the view was old), and no other key.
    const attempts = (await attemptsOf(model)).slice(before);
    expect(attempts.map(({ apiKey, status }) => ({ apiKey, status }))).toEqual([{ apiKey: owner, status: null }]);
    await settle();
  });

  // FINDING 2 (fixed in forward.ts): an abandoned attempt has reached Google, which acts on it
  // whether or not the proxy waits for the answer. For a request that creates something (a
  // cache, a batch, an upload session), the retry on another key created it a second time: the
  // first copy was left in the disabled key's project (a cache is billed by the hour on a paid
  // key), unknown to the proxy and to the client. A creation now waits for the check.
  it("creates a cache once, even when the key it started with was disabled elsewhere", async () => {
    const model = uniqueModel("aged-cache");
    const first = poolKeys[0]!;
    const { a, settle } = await idleWithFirstDisabled();
    await fake.model({ model, firstByteDelayMsByKey: { [first]: 2_000 } });

    const response = await a.send("/v1beta/cachedContents", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: `models/${model}`, contents: [{ role: "user", parts: [{ text: "a long document ".repeat(50) }] }], ttl: "600s" }),
    });
    expect(response.status).toBe(200);
    await response.text();
    await settle();
    // The check said no before anything was sent: Google never saw the disabled key.
    expect((await attemptsOf(model)).map((request) => request.apiKey)).toEqual([poolKeys[1]]);
    // What the disabled key's project holds now, asked of Google (the fake) with that key.
    const orphans = await fetch(`${upstreamOrigin}/v1beta/cachedContents`, { headers: { "x-goog-api-key": first } });
    const listed = (await orphans.json<{ cachedContents?: { model: string }[] }>()).cachedContents ?? [];
    expect(listed.filter((cache) => cache.model.endsWith(model))).toEqual([]);
  });
});

describe("a Live session on an idle isolate", () => {
  // FINDING 3 (fixed in live-session.ts): the session acquired a key and ignored the lease's
  // check: a session set up with a key disabled elsewhere ran on it for as long as the client
  // stayed (minutes). The check is now awaited before the upstream socket opens.
  it("is not opened with a key disabled elsewhere", async () => {
    const model = uniqueModel("aged-live");
    const first = poolKeys[0]!;
    const { a, settle } = await idleWithFirstDisabled();

    const response = await a.send("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent", {
      headers: { upgrade: "websocket" },
    });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    socket.binaryType = "arraybuffer";
    socket.accept();
    const setupAnswered = new Promise<string>((resolve, reject) => {
      socket.addEventListener("message", (event) => resolve(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer)));
      socket.addEventListener("close", (event) => reject(new Error(`closed ${event.code} ${event.reason}`)));
    });
    socket.send(JSON.stringify({ setup: { model: `models/${model}` } }));
    expect(await setupAnswered).toContain("setupComplete");
    socket.close(1000, "done");
    await settle();
    const opened = (await fake.log(model)).requests.map((request) => request.apiKey);
    expect(opened).not.toContain(first);
    expect(opened).toEqual([poolKeys[1]]);
  }, 15_000);
});

describe("the check racing the upstream and the client", () => {
  it("ends a request whose client left after its first attempt was abandoned: no third attempt, nothing recorded", async () => {
    const model = uniqueModel("aged-left");
    const [first, second] = poolKeys;
    const { a, settle, stub, ids, calls } = await idleWithFirstDisabled();
    await fake.model({ model, firstByteDelayMsByKey: { [first!]: 2_000, [second!]: 2_000 } });
    const before = calls.length;
    const client = new AbortController();
    // The fresh view says no at about 300 ms; the client leaves during the retry.
    setTimeout(() => client.abort(), 700);
    const started = Date.now();
    const outcome = await a
      .send(`/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
        signal: client.signal,
      })
      .then(
        (response) => response.status,
        (error: unknown) => (error instanceof Error ? error.name : String(error)),
      );
    // Settled when the client left, not when Google would have answered.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(outcome).not.toBe(200);
    expect((await attemptsOf(model)).map(({ apiKey, clientAborted }) => ({ apiKey, clientAborted }))).toEqual([
      { apiKey: first, clientAborted: true },
      { apiKey: second, clientAborted: true },
    ]);
    await settle();
    expect(calls.slice(before).filter((name) => name !== "poolView" && name !== "recordUsage")).toEqual([]);
    const keys = (await stub.snapshot()).keys;
    expect(keys.filter((key) => ids.slice(0, 2).includes(key.id)).map((key) => key.models[model])).toEqual([undefined, undefined]);
  });

  it("counts a request once when Google's 429 and the check's no arrive together", async () => {
    const model = uniqueModel("aged-429");
    const [first, second] = poolKeys;
    const { a, settle, stub, ids } = await idleWithFirstDisabled();
    await fake.quota({ key: first!, model, perDay: 0 });
    // Google refuses the first key at about the moment the fresh view arrives (300 ms).
    await fake.model({ model, firstByteDelayMsByKey: { [first!]: 300 } });

    expect((await a(model)).status).toBe(200);
    const attempts = await attemptsOf(model);
    expect(attempts.filter((request) => request.status === 200).map((request) => request.apiKey)).toEqual([second]);
    expect(attempts.filter((request) => request.apiKey === first)).toHaveLength(1);
    await settle();
    const keys = (await stub.snapshot()).keys;
    expect(keys.find((key) => key.id === ids[1])?.models[model]?.requests).toBe(1);
    expect(keys.find((key) => key.id === ids[0])?.models[model]?.requests ?? 0).toBe(0);
  });
});

describe("an idle isolate in a pool the manager knows is mostly exhausted", () => {
  // FINDING 5 (fixed in local-pool.ts): after Google's fast 429 the retry's acquire found the
  // view still aged (the fresh one on its way), so it started on the old view again, with a
  // poolView call of its own, and so did the next: every key the manager already knew was out
  // of quota was tried, one after another, three subrequests each (fetch, poolView,
  // recordFailure), until the budget ran out. Observed before the fix with 36 keys: 16 refused
  // attempts, 17 poolView calls, and the client got 503 subrequest_limit though the manager
  // knew a usable key. A retry now waits for the view its request already asked for.
  it("goes to the key the manager knows is usable after one refusal, not through every key it knows is spent", async () => {
    const model = uniqueModel("aged-exhausted");
    const { a, settle, stub, late, calls } = await twoIsolates();
    const added = Array.from({ length: 30 }, () => newKey());
    await stub.addKeys(added.map((secret) => ({ secret })), false, "admin");
    expect((await a(uniqueModel("warm"))).status).toBe(200);
    await sleep(IDLE_MS);
    // Meanwhile other isolates learned that every key but the last added is out of quota for the model.
    const keys = [...poolKeys, ...added];
    const ids = (await stub.snapshot()).keys.map((key) => key.id);
    expect(ids).toHaveLength(keys.length);
    for (const [index, key] of keys.slice(0, -1).entries()) {
      await fake.quota({ key, model, perDay: 0 });
      await stub.recordFailure({ keyId: ids[index]!, model, fault: { kind: "quota-day", reason: "You exceeded your current quota" } }, null);
    }
    // The object is far away: every answer it sends is late, not only the views; Google's 429s are not.
    late.viewMs = 300;
    late.answerMs = 300;
    const before = calls.length;

    expect((await a(model)).status).toBe(200);
    const attempts = await attemptsOf(model);
    await settle();
    expect(attempts.filter((request) => request.status === 429)).toHaveLength(1);
    expect(attempts.at(-1)).toMatchObject({ apiKey: keys.at(-1), status: 200 });
    expect(calls.slice(before).filter((name) => name === "poolView")).toHaveLength(1);
  }, 20_000);
});
