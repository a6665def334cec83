import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import type { FakeConfig } from "../fake-upstream/resource-types.ts";
import type { KeyConfig, LogSnapshot, ModelShape, QuotaConfig, ScriptConfig } from "../fake-upstream/types.ts";

// Shared by the proxy suites that run inside workerd: the proxy is called through the
// worker's real fetch handler, the fake upstream over loopback HTTP.

export const upstreamOrigin = inject("upstreamOrigin");
export const poolKeys = inject("poolKeys");
export const proxyToken = inject("proxyToken");

let models = 0;

/** Tests isolate themselves from each other by model: key state is tracked per model. */
export function uniqueModel(label: string): string {
  return `gemini-test-${label}-${++models}-${crypto.randomUUID().slice(0, 8)}`;
}

export function callProxy(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization") && !headers.has("x-goog-api-key") && !path.includes("key=")) {
    headers.set("x-goog-api-key", proxyToken);
  }
  return exports.default.fetch(new Request(`http://proxy.test${path}`, { ...init, headers }));
}

export function generate(model: string, init: RequestInit = {}, action = "generateContent"): Promise<Response> {
  return callProxy(`/v1beta/models/${model}:${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello to the proxy tests" }] }] }),
    ...init,
  });
}

async function control(path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${upstreamOrigin}/__fake/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`fake control ${path}: ${response.status} ${await response.text()}`);
  return response;
}

export const fake = {
  keys: (configs: KeyConfig[]) => control("keys", configs),
  quota: (config: QuotaConfig) => control("quota", config),
  script: (config: ScriptConfig) => control("script", config),
  model: (shape: ModelShape) => control("model", shape),
  configure: (config: FakeConfig) => control("config", config),
  log: async (model: string): Promise<LogSnapshot> =>
    (await control(`log?model=${encodeURIComponent(model)}`)).json<LogSnapshot>(),
  /** Requests made with one key, whatever the route. */
  byKey: async (key: string): Promise<LogSnapshot> => (await control(`log?key=${encodeURIComponent(key)}`)).json<LogSnapshot>(),
  /** Requests that carried this x-fake-tag header: for routes that name no model (uploads, files). */
  tagged: async (tag: string): Promise<LogSnapshot> =>
    (await control(`log?tag=${encodeURIComponent(tag)}`)).json<LogSnapshot>(),
};

/** Starts a resumable upload through the proxy, as @google/genai's files.upload does; returns its session URL. */
export async function startUpload(tag: string, file: { size?: number; type?: string; displayName?: string } = {}): Promise<URL> {
  const start = await callProxy("/upload/v1beta/files", {
    method: "POST",
    headers: {
      "x-fake-tag": tag,
      "content-type": "application/json",
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      ...(file.size !== undefined && { "x-goog-upload-header-content-length": String(file.size) }),
      ...(file.type !== undefined && { "x-goog-upload-header-content-type": file.type }),
    },
    body: JSON.stringify({ file: { displayName: file.displayName ?? "test upload" } }),
  });
  if (start.status !== 200) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  return new URL(start.headers.get("x-goog-upload-url")!);
}

/** The pool's view, straight from the Durable Object. */
export function poolSnapshot() {
  return env.API_KEY_MANAGER.getByName("pool").snapshot();
}

export { leakedKeyFragments, leakedKeys } from "../setup/test-keys.ts";
