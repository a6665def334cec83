import { request as httpRequest } from "node:http";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { leakedKeyFragments, poolKeys, proxyToken } from "../setup/test-keys.ts";

// A body over 64 KiB goes upstream as a tee() branch, without a pipe that would tell when
// its upload ended (src/core/proxy/outgoing-body.ts): its attempt waits UPSTREAM_TIMEOUT_MS
// plus the time the body takes at 64 KiB/s. A slow upload is not cut for its own time,
// and an upstream that never answers is still abandoned.

const TIMEOUT_MS = 500;
/** Far longer than any wait above: a request still waiting this long is hanging. */
const HANG_MS = 30_000;
/** 64 KiB/s: one second of allowance per 64 KiB (SLOW_UPLOAD_BYTES_PER_SECOND). */
const ALLOWANCE_MS_PER_BYTE = 1000 / (64 * 1024);

let upstream: FakeUpstream;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    runtime: inject("proxyRuntime"),
    upstreamOrigin: upstream.origin,
    keys: poolKeys,
    proxyToken,
    vars: { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

let models = 0;
const uniqueModel = (label: string): string => `gemini-large-${label}-${++models}`;

/** A generateContent body with an inline image of about `bytes`, as clients send one. */
function imageBody(bytes: number): Buffer {
  const data = randomBytes(Math.floor((bytes * 3) / 4)).toString("base64");
  return Buffer.from(JSON.stringify({ contents: [{ parts: [{ inlineData: { mimeType: "image/png", data } }, { text: "Describe it." }] }] }));
}

/** Posts `body` with its Content-Length in `pieces` writes `gapMs` apart; the status and the time to the answer. */
function slowPost(model: string, body: Buffer, pieces: number, gapMs: number): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${proxy.origin}/v1beta/models/${model}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json", "content-length": String(body.byteLength) },
    });
    request.on("error", reject);
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, ms: Date.now() - started }));
    });
    const size = Math.ceil(body.byteLength / pieces);
    const write = (piece: number): void => {
      if (piece * size >= body.byteLength) return void request.end();
      request.write(body.subarray(piece * size, (piece + 1) * size));
      setTimeout(() => write(piece + 1), gapMs);
    };
    write(0);
  });
}

describe("a large body and UPSTREAM_TIMEOUT_MS", () => {
  it("is not cut while its upload takes longer than the timeout: one attempt, answered", async () => {
    const model = uniqueModel("slow");
    const body = imageBody(256 * 1024);
    // Eight pieces 300 ms apart: 2.1 s of upload, four times the timeout, inside 4 s of allowance.
    const answer = await slowPost(model, body, 8, 300);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeGreaterThan(TIMEOUT_MS);
    // The first key answered: an attempt cut for the upload's time would have been retried
    // on the next key (the fake logs a request once its body has arrived, so not the cut one).
    const { requests } = upstream.log({ model });
    expect(requests.map((entry) => [entry.apiKey, entry.status, entry.headers["content-length"]])).toEqual([
      [poolKeys[0], 200, String(body.byteLength)],
    ]);
  });

  it("is still abandoned when the upstream does not answer, after the timeout and the upload's allowance", async () => {
    const model = uniqueModel("hang");
    upstream.setModel({ model, firstByteDelayMs: HANG_MS });
    const body = imageBody(128 * 1024);
    const allowance = body.byteLength * ALLOWANCE_MS_PER_BYTE;
    const answer = await slowPost(model, body, 1, 0);
    expect(answer.status).toBe(504);
    const { requests } = upstream.log({ model });
    // The first attempt waited for its allowance; retries send the body from memory and wait the timeout alone.
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.length).toBeLessThanOrEqual(3);
    expect(answer.ms).toBeGreaterThanOrEqual(allowance + requests.length * TIMEOUT_MS - 50);
    expect(answer.ms).toBeLessThan(allowance + requests.length * TIMEOUT_MS + 5_000);
  });
});

// What a client that uploads slower than 64 KiB/s, or that leaves half-way through its
// upload, does to the pool. Google waits for a slow upload and never sees a second request;
// a key is not to blame for the client's line.
describe("a large upload slower than 64 KiB/s, or abandoned half-way", () => {
  // A known limit (README, UPSTREAM_TIMEOUT_MS): the first attempt of a body sent as a tee()
  // branch cannot see its upload end, so it is aborted at UPSTREAM_TIMEOUT_MS + length at
  // 64 KiB/s while a slower client is still uploading, recorded as a timeout of that key, and
  // the body, once whole, goes to the next key. The client still gets its answer.
  it.fails("a slow upload past its allowance is not cut, blamed on the key and resent to another key", async () => {
    const model = uniqueModel("slower");
    const body = imageBody(256 * 1024);
    // Eight pieces 1 s apart: 7 s of upload (~37 KiB/s) against 0.5 s + ~4.3 s of allowance.
    const answer = await slowPost(model, body, 8, 1_000);
    const { requests } = upstream.log({ model });
    expect({ status: answer.status, attempts: requests.map((entry) => [entry.apiKey, entry.status]) }).toEqual({
      status: 200,
      attempts: [[poolKeys[0], 200]],
    });
  });

  it("a client that leaves half-way through a large upload sends nothing to a second key and logs no stack", async () => {
    const model = uniqueModel("abandoned");
    const body = imageBody(512 * 1024);
    const before = proxy.output().length;
    await new Promise<void>((resolve) => {
      const request = httpRequest(`${proxy.origin}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": proxyToken, "content-type": "application/json", "content-length": String(body.byteLength) },
      });
      request.on("error", () => resolve());
      request.on("close", () => resolve());
      request.write(body.subarray(0, body.byteLength / 2));
      setTimeout(() => request.destroy(), 500);
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const { requests } = upstream.log({ model });
    const printed = proxy.output().slice(before);
    expect(requests.length).toBeLessThanOrEqual(1);
    expect(printed).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(printed).not.toMatch(/"status":\s*500/);
    expect(leakedKeyFragments(printed)).toEqual([]);
  });
});
