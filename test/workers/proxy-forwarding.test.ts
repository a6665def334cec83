import { describe, expect, it } from "vitest";
import { callProxy, fake, generate, leakedKeys, poolKeys, proxyToken, uniqueModel } from "./support";

describe("native requests", () => {
  it("forward to the same version with a pool key in x-goog-api-key, the client's credentials stripped", async () => {
    const model = uniqueModel("native");
    const response = await callProxy(`/v1alpha/models/${model}:generateContent?key=${proxyToken}&foo=bar`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${proxyToken}`, cookie: "a=b" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    });
    expect(response.status).toBe(200);
    const body = await response.json<{ candidates: unknown[]; usageMetadata: { promptTokenCount: number } }>();
    expect(body.candidates).toHaveLength(1);

    const [request] = (await fake.log(model)).requests;
    expect(request).toMatchObject({ method: "POST", apiVersion: "v1alpha", action: "generateContent", keyInQuery: false });
    expect(request?.path).toBe(`/v1alpha/models/${model}:generateContent`);
    expect(request?.query).toEqual({ foo: "bar" });
    expect(poolKeys).toContain(request?.apiKey);
    expect(request?.authorizationHeaderPresent).toBe(false);
    expect(request?.headers.cookie).toBeUndefined();
  });

  it("never passes on a method override: Google would do something else than the proxy decided for", async () => {
    const model = uniqueModel("override");
    const overrides = { "x-http-method-override": "DELETE", "x-http-method": "DELETE", "x-method-override": "DELETE" };
    expect((await generate(model, { headers: { "content-type": "application/json", ...overrides } })).status).toBe(200);
    const [request] = (await fake.log(model)).requests;
    expect(request?.method).toBe("POST");
    for (const name of Object.keys(overrides)) expect(request?.headers[name], name).toBeUndefined();
  });

  it("uses the default version of GEMINI_UPSTREAM_URL when the client names none", async () => {
    const model = uniqueModel("noversion");
    expect((await callProxy(`/models/${model}:countTokens`, { method: "POST", body: "{}" })).status).toBe(200);
    expect((await fake.log(model)).requests[0]?.path).toBe(`/v1beta/models/${model}:countTokens`);
  });

  it("lists models in the native format for Gemini credentials", async () => {
    const response = await callProxy("/v1beta/models");
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("models");
  });

  it("streams SSE chunk by chunk: the first chunk arrives long before the upstream finishes", async () => {
    const model = uniqueModel("sse");
    await fake.model({ model, chunks: 4, chunkDelayMs: 400 });
    const started = Date.now();
    const response = await generate(model, {}, "streamGenerateContent?alt=sse");
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{/);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    const lastAt = Date.now() - started;
    // Four chunks 400 ms apart: the whole stream takes >= 1.2 s; the first chunk must not wait for it.
    expect(lastAt).toBeGreaterThanOrEqual(1_150);
    expect(firstAt).toBeLessThan(lastAt - 800);
    expect(rest.split("\r\n\r\n").filter(Boolean).length).toBeGreaterThanOrEqual(3);
  });

  it("streams the JSON-array form (no alt=sse) incrementally too", async () => {
    const model = uniqueModel("array");
    await fake.model({ model, chunks: 3, chunkDelayMs: 400 });
    const started = Date.now();
    const response = await generate(model, {}, "streamGenerateContent");
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Date.now() - started).toBeLessThan(700);
    expect(new TextDecoder().decode(first.value).trimStart()).toMatch(/^\[/);
    let text = new TextDecoder().decode(first.value);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    expect(JSON.parse(text)).toHaveLength(3);
  });

  it("passes client errors through unchanged and does not retry them", async () => {
    const model = `${uniqueModel("x")}-nonexistent`;
    const response = await generate(model);
    expect(response.status).toBe(404);
    const body = await response.json<{ error: { status: string; message: string } }>();
    expect(body.error.status).toBe("NOT_FOUND");
    expect((await fake.log(model)).requests).toHaveLength(1);
  });

  it("rejects implausible model names and path tricks with 400 and sends nothing upstream", async () => {
    for (const path of [
      "/v1beta/models/%3Cimg%20src%3Dx%3E:generateContent",
      "/v1beta/models/..%2F..%2Fx:generateContent",
      "/v1beta//evil.example/models",
    ]) {
      const response = await callProxy(path, { method: "POST", body: "{}" });
      expect(response.status, path).toBe(400);
      expect(await response.json(), path).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    }
    // WHATWG URL parsing resolves %2e%2e segments before the proxy sees the path, so
    // these can only land on a path that is no route at all.
    for (const path of ["/v1beta/%2e%2e/%2e%2e/admin", "/v1beta/models/%2e%2e/%2e%2e/%2e%2e/x"]) {
      expect((await callProxy(path, { method: "POST", body: "{}" })).status, path).toBe(404);
    }
    const traversal = uniqueModel("dots");
    const response = await callProxy(`/v1beta/models/${traversal}%2F..%2F..:generateContent`, { method: "POST", body: "{}" });
    expect(response.status).toBe(400);
    expect((await fake.log(traversal)).requests).toHaveLength(0);
  });

  it("answers unknown routes with 404 in the caller's style", async () => {
    const native = await callProxy("/v1beta/nothing-here");
    expect(native.status).toBe(404);
    expect(await native.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
    const openai = await callProxy("/v1beta/openai/nothing", { headers: { authorization: `Bearer ${proxyToken}` } });
    expect(await openai.json()).toMatchObject({ error: { type: "not_found_error" } });
  });
});

describe("OpenAI-style requests", () => {
  const chat = (path: string, model: string, extra: Record<string, unknown> = {}) =>
    callProxy(path, {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }], ...extra }),
    });

  it("forward chat/completions from /v1, Google's compat path and the root with a pool key as Bearer", async () => {
    for (const path of ["/v1/chat/completions", "/v1beta/openai/chat/completions", "/chat/completions"]) {
      const model = uniqueModel("chat");
      const response = await chat(path, model);
      expect(response.status, path).toBe(200);
      expect(await response.json()).toMatchObject({ object: "chat.completion" });
      const [request] = (await fake.log(model)).requests;
      expect(request?.path).toBe("/v1beta/openai/chat/completions");
      expect(poolKeys).toContain(request?.apiKey);
      expect(request?.googApiKeyHeaderPresent).toBe(false);
    }
  });

  it("accepts the model with a models/ prefix", async () => {
    const model = uniqueModel("prefixed");
    expect((await chat("/v1/chat/completions", `models/${model}`)).status).toBe(200);
    expect((await fake.log(model)).requests).toHaveLength(1);
  });

  it("streams chat completions through to [DONE]", async () => {
    const model = uniqueModel("chatstream");
    const response = await chat("/v1/chat/completions", model, { stream: true });
    const text = await response.text();
    expect(text).toContain("chat.completion.chunk");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("serves the OpenAI model list to Bearer clients on /v1/models", async () => {
    const response = await callProxy("/v1/models", { headers: { authorization: `Bearer ${proxyToken}` } });
    expect(await response.json()).toMatchObject({ object: "list" });
  });

  it("forwards embeddings", async () => {
    const model = uniqueModel("embed");
    const response = await callProxy("/v1/embeddings", {
      method: "POST",
      headers: { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model, input: "embed me" }),
    });
    expect(await response.json()).toMatchObject({ object: "list" });
  });

  it("rejects bodies without a valid model, in OpenAI style, before going upstream", async () => {
    const headers = { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" };
    const missing = await callProxy("/v1/chat/completions", { method: "POST", headers, body: '{"messages":[]}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { type: "invalid_request_error", code: "missing_model" } });
    const hostile = await callProxy("/v1/chat/completions", {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "<img src=x onerror=alert(1)>", messages: [] }),
    });
    expect(hostile.status).toBe(400);
    const broken = await callProxy("/v1/chat/completions", { method: "POST", headers, body: "{not json" });
    expect(await broken.json()).toMatchObject({ error: { code: "invalid_json" } });
  });
});

describe("CORS", () => {
  it("lets browser clients preflight the API with Gemini and OpenAI headers", async () => {
    const response = await callProxy("/v1beta/models/gemini-2.5-flash:generateContent", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-goog-api-key, content-type, x-stainless-os",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-headers")).toContain("x-goog-api-key");
    expect(response.headers.get("access-control-allow-headers")).toContain("x-stainless-os");
  });
});

describe("an upstream answer that names a pool key", () => {
  it("reaches the client with the key masked, in the body and in every header", async () => {
    const model = uniqueModel("leaky");
    for (const key of poolKeys) {
      await fake.script({
        key,
        model,
        outcomes: [
          {
            kind: "bad-request",
            message: `Request with key ${key} is malformed`,
            headers: { location: `https://example.invalid/retry?key=${key}`, "x-upstream-debug": `used ${key}` },
          },
        ],
      });
    }
    const response = await generate(model);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain("is malformed");
    expect(response.headers.get("x-upstream-debug")).toMatch(/^used AIza\.\.\.\w{4}$/);
    expect(leakedKeys(text + JSON.stringify([...response.headers]))).toEqual([]);
  });
});
