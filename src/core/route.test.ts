import { describe, expect, it } from "vitest";
import { recognizeRoute, type Recognition } from "./route";

function route(recognition: Recognition) {
  if (!("route" in recognition)) throw new Error(`expected a route, got ${JSON.stringify(recognition.error)}`);
  return recognition.route;
}

describe("recognizeRoute", () => {
  it("recognises native model actions in every version, with the model from the path", () => {
    for (const version of ["v1beta", "v1", "v1alpha"]) {
      expect(route(recognizeRoute(`/${version}/models/gemini-2.5-flash:streamGenerateContent`, "goog-header"))).toEqual({
        style: "gemini",
        version,
        resource: "models/gemini-2.5-flash:streamGenerateContent",
        upload: false,
        model: "gemini-2.5-flash",
        action: "streamGenerateContent",
      });
    }
  });

  it("uses the default version when a native client names none", () => {
    const found = route(recognizeRoute("/models/gemini-2.5-pro:countTokens", null));
    expect(found).toMatchObject({ style: "gemini", version: null, model: "gemini-2.5-pro" });
  });

  it("recognises OpenAI routes under /v1, Google's compat path and the root", () => {
    for (const path of ["/v1/chat/completions", "/v1beta/openai/chat/completions", "/chat/completions"]) {
      expect(route(recognizeRoute(path, "bearer"))).toEqual({
        style: "openai",
        endpoint: "chat/completions",
        modelInBody: true,
        model: null,
      });
    }
    expect(route(recognizeRoute("/v1beta/openai/embeddings", null))).toMatchObject({ endpoint: "embeddings" });
    expect(route(recognizeRoute("/v1/images/generations", null))).toMatchObject({ endpoint: "images/generations" });
  });

  it("decides /v1/models and /models by the credential the client used", () => {
    expect(route(recognizeRoute("/v1/models", "bearer")).style).toBe("openai");
    expect(route(recognizeRoute("/v1/models", "goog-header")).style).toBe("gemini");
    expect(route(recognizeRoute("/v1/models", "query")).style).toBe("gemini");
    expect(route(recognizeRoute("/models", "bearer")).style).toBe("openai");
    expect(route(recognizeRoute("/v1/models/gemini-2.5-flash", "bearer"))).toMatchObject({
      style: "openai",
      endpoint: "models/gemini-2.5-flash",
    });
    // Google's OpenAI model list names models `models/…`; SDKs put that id in the path encoded or as is.
    for (const path of ["/v1/models/models%2Fgemini-2.5-flash", "/v1beta/openai/models/models%2fgemini-2.5-flash", "/models/models/gemini-2.5-flash"]) {
      expect(route(recognizeRoute(path, "bearer")), path).toMatchObject({ style: "openai", endpoint: "models/gemini-2.5-flash" });
    }
    for (const path of ["/v1/models/models%2F..", "/v1/models/models%2F..%2Fx", "/v1/models/other%2Fgemini", "/v1/models/models%2Fa%2Fb"]) {
      expect(recognizeRoute(path, "bearer"), path).toMatchObject({ error: { status: 400 } });
    }
    // An action suffix is native whatever the credential.
    expect(route(recognizeRoute("/v1/models/gemini-2.5-flash:generateContent", "bearer")).style).toBe("gemini");
  });

  it("rejects implausible model names with 400 before anything goes upstream", () => {
    for (const model of ["%3Cimg%20src%3Dx%3E", "a..b", "-flash", "x".repeat(101)]) {
      const recognition = recognizeRoute(`/v1beta/models/${model}:generateContent`, null);
      expect(recognition).toMatchObject({ error: { status: 400 } });
    }
  });

  it("rejects path tricks that could leave the API prefix", () => {
    for (const path of [
      "/v1beta/models/..%2F..%2Fadmin:generateContent",
      "/v1beta/%2e%2e/secret",
      "/v1beta//evil.example/models",
      "/v1beta/models/x%5c..:generateContent",
      "/v1beta/files/../../x",
      "/v1beta/models/a%00:generateContent",
    ]) {
      expect(recognizeRoute(path, null), path).toMatchObject({ error: { status: 400 } });
    }
  });

  it("tells a client whose base URL ends in a slash how to fix it", () => {
    expect(recognizeRoute("/v1beta/openai//chat/completions", "bearer")).toMatchObject({
      error: { status: 400, message: expect.stringContaining("remove the trailing slash") },
    });
  });

  it("answers 404 for paths that are no API route, in the style the client speaks", () => {
    expect(recognizeRoute("/v1beta/openai/nothing", "bearer")).toMatchObject({ error: { status: 404, style: "openai" } });
    expect(recognizeRoute("/v1beta/models/gemini-2.5-flash:explode", null)).toMatchObject({
      error: { status: 404, style: "gemini" },
    });
    expect(recognizeRoute("/admin", null)).toMatchObject({ error: { status: 404 } });
  });

  it("recognises the polling of a model's long-running operation (Veo), and nothing looser", () => {
    expect(route(recognizeRoute("/v1beta/models/veo-3.0-generate-001/operations/abc123", "goog-header"))).toMatchObject({
      style: "gemini",
      version: "v1beta",
      resource: "models/veo-3.0-generate-001/operations/abc123",
      model: null,
      action: null,
    });
    for (const path of [
      "/v1beta/models/veo-3.0-generate-001/operations/abc/extra",
      "/v1beta/models/veo-3.0-generate-001/operations/a.b",
      "/v1beta/models/veo-3.0-generate-001/other/abc",
      "/v1beta/models/veo-3.0-generate-001:predictLongRunning/operations/abc",
    ]) {
      expect(recognizeRoute(path, "goog-header"), path).toMatchObject({ error: { status: 404 } });
    }
  });

  it("passes native resources through with validated segments", () => {
    expect(route(recognizeRoute("/v1beta/files/abc-123", null))).toMatchObject({ resource: "files/abc-123" });
    expect(route(recognizeRoute("/v1beta/batches/b1:cancel", null))).toMatchObject({ resource: "batches/b1:cancel" });
    expect(route(recognizeRoute("/upload/v1beta/files", null))).toMatchObject({ upload: true, resource: "files" });
  });
  it("recognises OpenAI batch routes on every OpenAI prefix, with the batch id encoded, plain or bare", () => {
    for (const prefix of ["/v1", "/v1beta/openai", ""]) {
      expect(route(recognizeRoute(`${prefix}/batches`, "bearer"))).toMatchObject({ style: "openai", endpoint: "batches" });
      for (const id of ["batches%2Fabc123", "batches%2fabc123", "batches/abc123"]) {
        expect(route(recognizeRoute(`${prefix}/batches/${id}`, "bearer"))).toEqual({
          style: "openai",
          endpoint: "batches/batches/abc123",
          modelInBody: false,
          model: null,
          resource: "batches/abc123",
        });
        expect(route(recognizeRoute(`${prefix}/batches/${id}/cancel`, "bearer"))).toMatchObject({
          endpoint: "batches/batches/abc123/cancel",
          resource: "batches/abc123",
        });
      }
      expect(route(recognizeRoute(`${prefix}/batches/abc123`, "bearer"))).toMatchObject({
        endpoint: "batches/abc123",
        resource: "batches/abc123",
      });
    }
    // Only a Bearer client (every OpenAI SDK) is taken for OpenAI where the native API has the same path.
    expect(route(recognizeRoute("/v1/batches/abc123", "goog-header"))).toMatchObject({ style: "gemini", resource: "batches/abc123" });
    expect(route(recognizeRoute("/v1beta/openai/batches/abc123", "goog-header")).style).toBe("openai");
  });

  it("accepts no other encoded slash, and no trick inside a batch id", () => {
    for (const path of [
      "/v1/batches/batches%2F..%2Fsecret",
      "/v1/batches/batches%2F..",
      "/v1/batches/batches%2F%2e%2e",
      "/v1/batches/batches%2Fa%2Fb",
      "/v1/batches/batches%2F",
      "/v1/batches%2Fbatches%2Fabc",
      "/v1beta/batches/batches%2Fabc",
      "/v1/files/files%2Fabc",
      "/v1/batches/batches%2Fabc%2Fcancel",
    ]) {
      expect(recognizeRoute(path, "bearer"), path).toMatchObject({ error: { status: 400 } });
    }
    expect(recognizeRoute("/v1/batches/batches/a.b", "bearer")).toMatchObject({ route: { style: "gemini" } });
    expect(recognizeRoute("/v1beta/openai/batches/batches/a.b", "bearer")).toMatchObject({ error: { status: 404 } });
  });

  it("answers Google's missing OpenAI Files API with a 404 that says what to use instead", () => {
    for (const path of ["/v1beta/openai/files", "/v1beta/openai/files/files%2Fabc/content"]) {
      const recognition = recognizeRoute(path, "bearer");
      expect(recognition).toMatchObject({ error: { status: path.includes("%2F") ? 400 : 404, style: "openai" } });
    }
    expect(recognizeRoute("/v1beta/openai/files", "bearer")).toMatchObject({ error: { message: expect.stringContaining("/upload/v1beta/files") } });
  });
});
