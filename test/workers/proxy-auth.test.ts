import { describe, expect, it } from "vitest";
import { callProxy, fake, proxyToken, uniqueModel } from "./support";

const body = JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] });

describe("client authentication with PROXY_API_KEY", () => {
  it("accepts the token as Bearer, x-goog-api-key or ?key= in both styles", async () => {
    const model = uniqueModel("auth");
    const native = `/v1beta/models/${model}:generateContent`;
    expect((await callProxy(native, { method: "POST", body, headers: { "x-goog-api-key": proxyToken } })).status).toBe(200);
    expect((await callProxy(`${native}?key=${proxyToken}`, { method: "POST", body })).status).toBe(200);
    expect((await callProxy(native, { method: "POST", body, headers: { authorization: `Bearer ${proxyToken}` } })).status).toBe(200);
    const chat = await callProxy("/v1/chat/completions", {
      method: "POST",
      headers: { "x-goog-api-key": proxyToken, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(200);
  });

  it("answers 401 in the caller's style and sends nothing upstream without a valid token", async () => {
    const model = uniqueModel("denied");
    const missing = await callProxy(`/v1beta/models/${model}:generateContent`, {
      method: "POST",
      body,
      headers: { "x-goog-api-key": "" },
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });

    const wrong = await callProxy(`/v1beta/models/${model}:generateContent`, {
      method: "POST",
      body,
      headers: { "x-goog-api-key": `${proxyToken}x` },
    });
    expect(wrong.status).toBe(401);
    expect((await wrong.json<{ error: { message: string } }>()).error.message).toContain("PROXY_API_KEY");

    const openai = await callProxy("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: "Bearer AIzaSyNotTheProxyToken", "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [] }),
    });
    expect(openai.status).toBe(401);
    expect(await openai.json()).toMatchObject({ error: { type: "authentication_error", code: "invalid_api_key" } });

    expect((await fake.log(model)).requests).toHaveLength(0);
  });
});

describe("the health check", () => {
  it("answers /healthz with 200 without a token, for Docker's HEALTHCHECK and load balancers", async () => {
    const response = await callProxy("/healthz", { headers: { "x-goog-api-key": "" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});
