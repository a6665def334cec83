import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { SEARCHED_START_BYTES } from "../../src/core/proxy/request-body";
import { callProxy, fake, poolSnapshot, proxyToken, uniqueModel } from "./support";

// A large OpenAI-style body is searched for "model" only in its first 64 KiB. A nested
// "model" string there (a JSON schema's example) must not be taken for the request's
// model when the real one comes later; and bodies at the edge of that start must be
// resent byte for byte on a retry.

function inlineData(bytes = SEARCHED_START_BYTES * 2): string {
  const raw = new Uint8Array(Math.floor((bytes * 3) / 4));
  for (let at = 0; at < raw.byteLength; at += 65_536) crypto.getRandomValues(raw.subarray(at, at + 65_536));
  return Buffer.from(raw).toString("base64");
}

describe("an OpenAI model named after the searched start", () => {
  // It once did: the pool counted (and would have marked on a 429) the decoy model.
  it("a nested \"model\" string in the first 64 KiB does not stand in for the top-level model after it", async () => {
    const model = uniqueModel("model-after-start");
    const decoy = uniqueModel("decoy");
    const body = JSON.stringify({
      response_format: {
        type: "json_schema",
        json_schema: { name: "car", schema: { type: "object", properties: { model: { type: "string" } }, examples: [{ model: decoy }] } },
      },
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${inlineData()}` } }] }],
      model,
    });
    const response = await callProxy("/v1/chat/completions", {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json", "content-length": String(body.length) },
    });
    expect(response.status).toBe(200);
    await response.text();
    expect((await fake.log(model)).requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const counted = (await poolSnapshot()).keys.flatMap((key) => Object.keys(key.models));
    expect({ real: counted.includes(model), decoy: counted.includes(decoy) }).toEqual({ real: true, decoy: false });
  });
});

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("bodies at the searched start's edge, retried after a 429", () => {
  for (const delta of [-1, 0, 1, 2]) {
    it(`a body of 64 KiB ${delta >= 0 ? "+" : ""}${delta} bytes reaches every key byte for byte, with its length`, async () => {
      const model = uniqueModel(`edge${delta}`);
      const { poolKeys } = await import("./support");
      const [free, ...spent] = [...poolKeys].reverse();
      for (const key of spent) await fake.quota({ key, model, perDay: 0 });
      const skeleton = (data: string): string =>
        JSON.stringify({ contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data } }, { text: "Describe it." }] }] });
      const target = SEARCHED_START_BYTES + delta;
      const body = skeleton("A".repeat(target - skeleton("").length));
      const bytes = new TextEncoder().encode(body);
      expect(bytes.byteLength).toBe(target);
      const response = await callProxy(`/v1beta/models/${model}:generateContent`, {
        method: "POST",
        body,
        headers: { "x-goog-api-key": proxyToken, "content-type": "application/json", "content-length": String(target) },
      });
      expect(response.status).toBe(200);
      await response.text();
      const requests = (await fake.log(model)).requests;
      expect(requests.length).toBeGreaterThan(1);
      expect(free).toBeDefined();
      const hash = await sha256(bytes);
      for (const request of requests) {
        expect(request.bodySha256).toBe(hash);
        expect(request.headers["content-length"]).toBe(String(target));
      }
    });
  }
});
