import { GoogleGenAI } from "@google/genai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { AddKeysResult, VerifyJob } from "../../src/core/admin-model.ts";
import type { KeyListPage } from "../../src/core/stats-model.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { leakedKeys, poolKeys, proxyToken } from "../setup/test-keys.ts";

// Keys added through the API as an operator does, on either runtime: requests use
// them without a redeploy, a restart keeps them, a delete takes them out of service,
// and no page or endpoint ever shows one.

const ADMIN = "e2e-admin-token-of-16-or-more";
const MODEL = "gemini-e2e-runtime-keys";
// Realistic shape (AIzaSy + 33), fixed so a failure reproduces; not in API_KEYS.
const RUNTIME_KEY = "AIzaSyRUNTIMEe2eKEYxxxxxxxxxxxxxxxx0001";
const INVALID_KEY = "AIzaSyRUNTIMEe2eKEYxxxxxxxxxxxxxxxx0002";
const [spent] = poolKeys;

let upstream: FakeUpstream;
let stateDir: string;
let proxy: RunningProxy | undefined;

const start = (): Promise<RunningProxy> =>
  startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: [spent!], proxyToken, persistTo: stateDir, vars: { ADMIN_API_KEY: ADMIN } });

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // The one API_KEYS key is out for the day on MODEL: only a runtime key can serve it.
  upstream.setQuota({ key: spent!, model: MODEL, perDay: 0 });
  upstream.setKey({ key: INVALID_KEY, invalid: true });
  stateDir = await mkdtemp(join(tmpdir(), "proxy-runtime-keys-"));
  proxy = await start();
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

const origin = (): string => proxy!.origin;

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${origin()}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

async function generate(): Promise<number> {
  const google = new GoogleGenAI({ apiKey: proxyToken, httpOptions: { baseUrl: origin(), retryOptions: { attempts: 1 } } });
  try {
    await google.models.generateContent({ model: MODEL, contents: "Which key serves me?" });
    return 200;
  } catch (error) {
    return (error as { status?: number }).status ?? 0;
  }
}

const usedBy = (key: string, since: number): number =>
  upstream.log({ model: MODEL, key }).requests.filter((request) => request.at >= since && request.action === "generateContent").length;

describe("keys added at runtime", () => {
  it("serve requests without a redeploy, survive a restart, and stop serving once deleted", async () => {
    expect(await generate()).toBe(429);

    const added = await admin("POST", "/api/keys", { keys: `${RUNTIME_KEY}\n${INVALID_KEY}` });
    expect(added.status).toBe(200);
    const result = (await added.json()) as AddKeysResult;
    expect(result.added.map((key) => key.masked)).toEqual(["AIza…0001", "AIza…0002"]);
    await vi.waitFor(
      async () => {
        const { job } = (await (await admin("GET", "/api/keys/verify")).json()) as { job: VerifyJob };
        expect(job.running).toBe(false);
        expect(job.counts).toMatchObject({ valid: 1, invalid: 1 });
      },
      { timeout: 15_000, interval: 100 },
    );

    const before = Date.now();
    expect(await generate()).toBe(200);
    expect(usedBy(RUNTIME_KEY, before)).toBe(1);
    expect(usedBy(INVALID_KEY, 0)).toBe(0);

    await proxy!.stop();
    proxy = undefined;
    proxy = await start();
    const keys = (await (await admin("GET", "/api/keys")).json()) as KeyListPage;
    expect(keys.keys.map((key) => [key.position, key.source, key.status])).toEqual([
      [1, "env", "exhausted"],
      [2, "runtime", "available"],
      [3, "runtime", "disabled"],
    ]);
    const restarted = Date.now();
    expect(await generate()).toBe(200);
    expect(usedBy(RUNTIME_KEY, restarted)).toBe(1);

    const deleted = await admin("DELETE", `/api/keys/${result.added[0]!.id}`);
    expect(deleted.status).toBe(200);
    const afterDelete = Date.now();
    expect(await generate()).toBe(429);
    expect(usedBy(RUNTIME_KEY, afterDelete)).toBe(0);
  });

  it("shows no key material on any endpoint, page or log line", async () => {
    await admin("POST", "/api/keys", { keys: [RUNTIME_KEY], verify: false });
    // A request through the runtime key, so the log and the stats have something to say about it.
    expect(await generate()).toBe(200);
    const login = await fetch(`${origin()}/stat/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: origin() },
      body: new URLSearchParams({ token: ADMIN }).toString(),
      redirect: "manual",
    });
    const cookie = login.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
    const page = await (await fetch(`${origin()}/stat`, { headers: { cookie } })).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/stat\/[^"]+)"/g)].map((match) => match[1]!);
    const ids = ((await (await admin("GET", "/api/keys")).json()) as KeyListPage).keys.map((key) => key.id);
    const paths = [
      "/",
      "/stat",
      ...assets,
      "/api/stats",
      "/api/stats?keys=none",
      "/api/keys?limit=500",
      "/api/keys?q=AIza",
      "/api/events?limit=1000",
      "/api/keys/verify",
      "/v1beta/models",
      ...ids.map((id) => `/api/events?key=${id}`),
    ];
    const texts: string[] = [page];
    for (const path of paths) {
      const response = await fetch(`${origin()}${path}`, { headers: { cookie, authorization: `Bearer ${ADMIN}`, "x-goog-api-key": proxyToken } });
      texts.push(`${path} ${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    }
    for (const id of ids) {
      const verified = await admin("POST", `/api/keys/${id}/verify`);
      texts.push(await verified.text());
    }
    texts.push(proxy!.output());
    const all = texts.join("\n");
    expect(all).toContain("AIza…0001");
    for (const secret of [RUNTIME_KEY, INVALID_KEY, ...leakedKeys(all)]) expect(all).not.toContain(secret);
    expect(all).not.toContain(ADMIN);
  });
});
