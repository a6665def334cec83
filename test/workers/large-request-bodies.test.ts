import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { workersStreams } from "../../src/cloudflare/native-streams";
import { ReplayableBody } from "../../src/core/proxy/replayable-body";
import { SEARCHED_START_BYTES } from "../../src/core/proxy/request-body";
import { callProxy, fake, generate, poolKeys, proxyToken, uniqueModel, upstreamOrigin } from "./support";

// A body larger than the searched start is never read into memory by the proxy: each
// attempt sends a branch of a tee. These check what must not change because of that: a
// retry sends the same bytes with their length, and names that only appear after the
// start still decide the model and the key.

/** Random base64, as clients send an inline image: several times the searched start. */
function inlineData(bytes = SEARCHED_START_BYTES * 4): string {
  const raw = new Uint8Array(Math.floor((bytes * 3) / 4));
  for (let at = 0; at < raw.byteLength; at += 65_536) crypto.getRandomValues(raw.subarray(at, at + 65_536));
  return Buffer.from(raw).toString("base64");
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** With its Content-Length, as every HTTP client sends a JSON body. */
function sized(body: string, headers: Record<string, string>): RequestInit {
  return { method: "POST", body, headers: { ...headers, "content-length": String(new TextEncoder().encode(body).byteLength) } };
}

async function bytesOf(body: Uint8Array | ReadableStream<Uint8Array>): Promise<string> {
  return body instanceof Uint8Array ? new TextDecoder().decode(body) : new Response(body).text();
}

describe("a replayable body", () => {
  it("gives every attempt the same bytes, searched only at its start, and all of them on demand", async () => {
    const text = `{"data":"${inlineData()}"}`;
    const body = await ReplayableBody.of(new Response(text).body!, text.length, SEARCHED_START_BYTES, workersStreams);
    expect(body.start.byteLength).toBe(SEARCHED_START_BYTES);
    expect(body.complete).toBe(false);
    // The first attempt's branch as it is; then the body read whole, for every retry.
    expect(await bytesOf(await body.next())).toBe(text);
    expect(body.complete).toBe(false);
    expect(await bytesOf(await body.next())).toBe(text);
    expect(body.complete).toBe(true);
    expect(await bytesOf(await body.next())).toBe(text);
    expect(new TextDecoder().decode(await body.whole())).toBe(text);
  });

  it("is read whole into a buffer of exactly its declared length", async () => {
    const text = `{"data":"${inlineData()}"}`;
    const exact = await ReplayableBody.of(new Response(text).body!, text.length, SEARCHED_START_BYTES, workersStreams);
    const whole = await exact.whole();
    expect(whole.buffer.byteLength).toBe(text.length);
    expect(new TextDecoder().decode(whole)).toBe(text);
  });
});

describe("large request bodies", () => {
  it("go upstream unchanged with their length, and again whole to another key after a 429", async () => {
    const model = uniqueModel("large-retry");
    const [free, ...spent] = [...poolKeys].reverse();
    for (const key of spent) await fake.quota({ key, model, perDay: 0 });
    const body = JSON.stringify({ contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data: inlineData() } }, { text: "Describe it." }] }] });

    const response = await generate(model, sized(body, { "content-type": "application/json" }));
    expect(response.status).toBe(200);
    await response.text();

    const requests = (await fake.log(model)).requests;
    // The least recently used keys go first, and all but one are out of quota: several attempts.
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.at(-1)).toMatchObject({ apiKey: free, status: 200 });
    const hash = await sha256(body);
    for (const request of requests) {
      expect(request.status === 429 || request.status === 200).toBe(true);
      expect(request.bodySha256).toBe(hash);
      expect(request.headers["content-length"]).toBe(String(body.length));
    }
  });

  it("an OpenAI-style body that names its model only after a large image still goes out for that model", async () => {
    const model = uniqueModel("large-model-last");
    const body = JSON.stringify({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${inlineData()}` } }] }],
      model,
    });
    const response = await callProxy(
      "/v1/chat/completions",
      sized(body, { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" }),
    );
    expect(response.status).toBe(200);
    await response.text();
    const [request] = (await fake.log(model)).requests;
    expect(request?.bodySha256).toBe(await sha256(body));
  });

  it("a cache named after a large inline image is found when a key that cannot see it refuses", async () => {
    const model = uniqueModel("large-cache-last");
    // Created with the last key straight at the upstream: the proxy has no record of its owner.
    const owner = poolKeys.at(-1)!;
    const created = await fetch(`${upstreamOrigin}/v1beta/cachedContents`, {
      method: "POST",
      headers: { "x-goog-api-key": owner, "content-type": "application/json" },
      body: JSON.stringify({ model: `models/${model}`, contents: [{ role: "user", parts: [{ text: "a long document" }] }], ttl: "600s" }),
    });
    expect(created.status).toBe(200);
    const { name } = await created.json<{ name: string }>();
    const body = JSON.stringify({
      contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data: inlineData() } }, { text: "Compare." }] }],
      cachedContent: name,
    });

    const response = await generate(model, sized(body, { "content-type": "application/json" }));
    expect(response.status).toBe(200);
    await response.text();
    const requests = (await fake.log(model)).requests.filter((request) => request.action === "generateContent");
    // A fresh model's keys go in list order: the owner, listed last, was not the first asked.
    expect(requests[0]?.apiKey).not.toBe(owner);
    expect(requests.at(-1)).toMatchObject({ apiKey: owner, status: 200 });
    for (const request of requests) expect(request.bodySha256).toBe(await sha256(body));
  });
});
