import { describe, expect, it } from "vitest";
import { callProxy, proxyToken } from "./support";

// Browser clients of the API may call from any origin; the stats page and its API may
// not be read or driven from another origin (they hold the whole pool's state).

const HOSTILE_ORIGIN = "https://evil.example";
const CLIENT_HEADERS = [
  "x-goog-api-key",
  "x-goog-api-client",
  "authorization",
  "content-type",
  "x-stainless-os",
  "x-stainless-lang",
  "x-stainless-retry-count",
  "x-stainless-package-version",
];

function preflight(path: string, headers: string[] = CLIENT_HEADERS): Promise<Response> {
  return callProxy(path, {
    method: "OPTIONS",
    headers: {
      origin: HOSTILE_ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": headers.join(", "),
    },
  });
}

describe("CORS on the API", () => {
  it("preflights allow x-goog-api-key and every x-stainless-* header on native and OpenAI routes", async () => {
    for (const path of ["/v1beta/models/gemini-2.5-flash:streamGenerateContent", "/v1/chat/completions", "/v1beta/openai/embeddings", "/chat/completions"]) {
      const response = await preflight(path);
      expect(response.status, path).toBe(204);
      expect(response.headers.get("access-control-allow-origin"), path).toBe("*");
      const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const header of CLIENT_HEADERS) expect(allowed, `${path} ${header}`).toContain(header);
    }
  });

  it("lets a browser read Retry-After and friends on an actual response", async () => {
    const response = await callProxy("/v1beta/models", { headers: { origin: HOSTILE_ORIGIN } });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-expose-headers")).toContain("retry-after");
    await response.body?.cancel();
  });
});

describe("CORS on the stats page and its API", () => {
  it("grants no cross-origin read of /api/stats, even to a request carrying the token", async () => {
    const response = await callProxy("/api/stats", { headers: { origin: HOSTILE_ORIGIN, authorization: `Bearer ${proxyToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    await response.body?.cancel();
  });

  it("grants no preflight for /api/stats, /api/reset, /stat or its login", async () => {
    for (const path of ["/api/stats", "/api/reset", "/stat", "/stat/login", "/stat/logout"]) {
      const response = await preflight(path, ["authorization", "content-type"]);
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
      expect(response.headers.get("access-control-allow-headers"), path).toBeNull();
      await response.body?.cancel();
    }
  });

  it("serves /stat without cross-origin headers", async () => {
    const response = await callProxy("/stat", { headers: { origin: HOSTILE_ORIGIN } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    await response.body?.cancel();
  });
});
