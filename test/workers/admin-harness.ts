import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { AddKeysResult, VerifyJob } from "../../src/core/admin-model";
import { createApp } from "../../src/core/app";
import { readConfig, type ProxyEnv } from "../../src/core/config";
import { keyRingFor } from "../../src/core/key-ring";
import { RefreshableKeyRing } from "../../src/core/ring-refresh";
import type { RuntimeServices } from "../../src/core/services";
import type { KeyListPage } from "../../src/core/stats-model";
import { poolKeys, upstreamOrigin } from "./support";

// The proxy's app over a Durable Object of its own (so keys added here never reach
// other suites' pool), configured per test: with or without PROXY_API_KEY and
// ADMIN_API_KEY, as the worker configures it from its secrets.

export const ORIGIN = "http://proxy.test";
export const CLIENT_TOKEN = "client-token-for-admin-tests";
export const ADMIN_TOKEN = "admin-token-for-admin-tests";

export interface AdminHarness {
  call(path: string, init?: RequestInit): Promise<Response>;
  /** A call with `Authorization: Bearer token` (and a JSON body when given). */
  as(token: string | null, method: string, path: string, body?: unknown): Promise<Response>;
  /** Every response body this harness returned, for the key-leak check. */
  bodies: string[];
  pool: RuntimeServices["keyManager"];
  services: RuntimeServices;
}

/** `poolName` reuses a Durable Object, as a redeploy with other secrets keeps its state. */
export async function adminHarness(
  tokens: { proxy?: string; admin?: string } = { proxy: CLIENT_TOKEN, admin: ADMIN_TOKEN },
  poolName = `admin-test-${crypto.randomUUID()}`,
  vars: ProxyEnv = {},
): Promise<AdminHarness> {
  const app = createApp();
  const pool = env.API_KEY_MANAGER.getByName(poolName);
  const services: RuntimeServices = {
    config: readConfig({
      GEMINI_UPSTREAM_URL: `${upstreamOrigin}/v1beta`,
      OPENAI_UPSTREAM_URL: `${upstreamOrigin}/v1beta/openai`,
      API_KEYS: poolKeys.join(","),
      ...(tokens.proxy !== undefined && { PROXY_API_KEY: tokens.proxy }),
      ...(tokens.admin !== undefined && { ADMIN_API_KEY: tokens.admin }),
      ...vars,
    }),
    keyRing: new RefreshableKeyRing(await keyRingFor(poolKeys.join(","))),
    keyManager: pool,
    waitUntil: () => undefined,
    log: () => undefined,
  };
  const bodies: string[] = [];
  let calls = 0;
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const response = await app.fetch(new Request(`${ORIGIN}${path}`, init), { services });
    bodies.push(await response.clone().text());
    return response;
  };
  const as = (token: string | null, method: string, path: string, body?: unknown): Promise<Response> => {
    // Each call from an address of its own: the role suites send wrong tokens on purpose, and
    // a shared address would soon be made to wait (stat-guessing.test.ts tests the waiting).
    const headers: Record<string, string> = { "cf-connecting-ip": `2001:db8::${(++calls).toString(16)}` };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return call(path, { method, headers, ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }) });
  };
  return { call, as, bodies, pool, services };
}

/** A key shaped like Google's (AIzaSy + 33 URL-safe characters), new each time. */
export function newKey(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const bytes = crypto.getRandomValues(new Uint8Array(33));
  return `AIzaSy${[...bytes].map((byte) => alphabet[byte % 64]).join("")}`;
}

export async function addKeys(h: AdminHarness, keys: string[] | string, verify?: boolean): Promise<AddKeysResult> {
  const response = await h.as(ADMIN_TOKEN, "POST", "/api/keys", { keys, ...(verify !== undefined && { verify }) });
  expect(response.status).toBe(200);
  return response.json<AddKeysResult>();
}

export async function listKeys(h: AdminHarness, query = "", token: string | null = ADMIN_TOKEN): Promise<KeyListPage> {
  const response = await h.as(token, "GET", `/api/keys${query}`);
  expect(response.status).toBe(200);
  return response.json<KeyListPage>();
}

export async function currentJob(h: AdminHarness): Promise<VerifyJob | null> {
  const response = await h.as(ADMIN_TOKEN, "GET", "/api/keys/verify");
  expect(response.status).toBe(200);
  return (await response.json<{ job: VerifyJob | null }>()).job;
}

/** Waits until no verification runs (the Durable Object's alarm works through it) and returns the last job. */
export async function settledJob(h: AdminHarness): Promise<VerifyJob> {
  await vi.waitUntil(async () => (await currentJob(h))?.running === false, { timeout: 20_000, interval: 50 });
  const job = await currentJob(h);
  expect(job).not.toBeNull();
  return job!;
}
