import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import { keyRingFor } from "../../src/core/key-ring";
import type { StatsApiResponse } from "../../src/core/stats-model";
import { fake, generate, leakedKeys, poolKeys, poolSnapshot, proxyToken, uniqueModel } from "./support";

// /stat and /api/* on real Durable Object storage, with marks made the way production
// makes them: requests through the proxy to the fake upstream. PROXY_API_KEY is set in
// this project, so everything here is behind the token.

const ORIGIN = "http://proxy.test";

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

const bearer = { authorization: `Bearer ${proxyToken}` };

async function stats(): Promise<StatsApiResponse> {
  const response = await call("/api/stats", { headers: bearer });
  expect(response.status).toBe(200);
  return response.json<StatsApiResponse>();
}

async function login(token: string, headers: Record<string, string> = { origin: ORIGIN }): Promise<Response> {
  return call("/stat/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

/** `name=value` of the session cookie a login response sets, as a browser would send it back. */
function sessionCookie(response: Response): string {
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith("__Host-stat-session="));
  expect(cookie).toBeDefined();
  return cookie!.split(";")[0]!;
}

/** One request through the proxy, read to the end: usage is counted once a body has ended. */
async function request(model: string): Promise<void> {
  await (await generate(model)).text();
}

/** Sends requests for `model` until the key at `position` shows `state` for it (the ring picks keys least recently used first). */
async function driveUntil(model: string, position: number, state: "exhausted" | "cooling"): Promise<void> {
  for (let i = 0; i < poolKeys.length * 2; i++) {
    await request(model);
    const key = (await poolSnapshot()).keys.find((candidate) => candidate.position === position);
    if (key?.models[model]?.state === state) return;
  }
  throw new Error(`key #${position} never became ${state} for ${model}`);
}

const exhaustedModel = uniqueModel("stat-exhausted");
const coolingModel = uniqueModel("stat-cooling");
const disablingModel = uniqueModel("stat-disabled");

beforeAll(async () => {
  await fake.quota({ key: poolKeys[0]!, model: exhaustedModel, perDay: 0 });
  await driveUntil(exhaustedModel, 1, "exhausted");
  await fake.script({ key: poolKeys[1]!, model: coolingModel, outcomes: [{ kind: "quota-minute", retryDelay: "300s" }] });
  await driveUntil(coolingModel, 2, "cooling");
  // Google names a suspended key in full in its message: the page must only ever see it masked.
  await fake.script({ key: poolKeys[2]!, model: disablingModel, outcomes: ["suspended"] });
  for (let i = 0; i < poolKeys.length && (await poolSnapshot()).totals.keys.disabled === 0; i++) await request(disablingModel);
  // Usage is recorded off the request path (waitUntil); wait until it has landed.
  await vi.waitUntil(async () => (await poolSnapshot()).totals.requests >= 3, { timeout: 5000 });
});

describe("access when PROXY_API_KEY is set", () => {
  it("refuses /api/stats without a token, with a wrong one, and with the token in the URL", async () => {
    const attempts: RequestInit[] = [{}, { headers: { authorization: "Bearer wrong-token" } }, { headers: { "x-goog-api-key": proxyToken } }];
    for (const init of attempts) {
      const response = await call("/api/stats", init);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ error: { code: 401 } });
    }
    expect((await call(`/api/stats?key=${proxyToken}`)).status).toBe(401);
    expect((await call("/api/reset", { method: "POST", headers: { "content-type": "application/json" } })).status).toBe(401);
  });

  it("serves /api/stats to a Bearer token, uncached and same-origin only", async () => {
    const response = await call("/api/stats", { headers: { ...bearer, origin: "https://elsewhere.example" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const body = await response.json<StatsApiResponse>();
    expect(body.proxyAuthEnabled).toBe(true);
    expect(body.keys).toHaveLength(poolKeys.length);
  });

  it("shows the login form instead of the page, and never accepts a wrong token", async () => {
    const page = await call("/stat");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('action="/stat/login"');
    expect(html).not.toContain("app.client.js");

    const refused = await login("wrong-token");
    expect(refused.status).toBe(401);
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect(await refused.text()).toContain('class="login-error"');
  });

  it("logs in with a cookie that is HttpOnly, Secure, SameSite=Strict and not the token", async () => {
    const response = await login(proxyToken);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/stat");
    const [setCookie] = response.headers.getSetCookie();
    expect(setCookie).toMatch(/^__Host-stat-session=/);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/; SameSite=Strict/i);
    expect(setCookie).toMatch(/; Path=\//i);
    expect(setCookie).not.toContain(proxyToken);
    expect(decodeURIComponent(setCookie!)).not.toContain(proxyToken);

    const cookie = sessionCookie(response);
    const page = await call("/stat", { headers: { cookie } });
    expect(await page.text()).toContain("app.client.js");
    expect((await call("/api/stats", { headers: { cookie } })).status).toBe(200);

    // A tampered cookie is no session.
    const forged = cookie.slice(0, -1) + (cookie.endsWith("0") ? "1" : "0");
    expect((await call("/api/stats", { headers: { cookie: forged } })).status).toBe(401);
  });

  it("refuses a login posted from another site", async () => {
    const response = await login(proxyToken, { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("logs out by clearing the cookie", async () => {
    const response = await call("/stat/logout", { method: "POST", headers: { origin: ORIGIN }, redirect: "manual" });
    expect(response.status).toBe(303);
    const [cleared] = response.headers.getSetCookie();
    expect(cleared).toMatch(/^__Host-stat-session=;/);
    expect(cleared).toMatch(/Max-Age=0/i);
  });
});

describe("what the page is made of", () => {
  it("sends the page with a strict CSP and no data in it", async () => {
    const cookie = sessionCookie(await login(proxyToken));
    const response = await call("/stat", { headers: { cookie } });
    const csp = response.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "img-src 'self' data:",
      "frame-ancestors 'none'",
      "form-action 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const html = await response.text();
    // No inline script or handler: every <script> has a src, no on*= attribute anywhere.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toContain(exhaustedModel);
  });

  it("serves the browser files from their own routes, and no full pool key anywhere", async () => {
    const cookie = sessionCookie(await login(proxyToken));
    const page = await (await call("/stat", { headers: { cookie } })).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/stat\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toEqual(expect.arrayContaining(["/stat/assets/app.client.js", "/stat/assets/stat.client.css"]));
    const script = await call("/stat/assets/app.client.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const scriptText = await script.text();
    // Modules import each other by file name: every one of them is served too.
    for (const imported of scriptText.matchAll(/from "\.\/([\w.-]+)"/g)) assets.push(`/stat/assets/${imported[1]}`);
    let everything = page + JSON.stringify(await stats());
    for (const path of new Set(assets)) {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
      everything += await response.text();
    }
    expect((await call("/stat/assets/nope.js")).status).toBe(404);
    expect(everything).toContain("AIza…");
    expect(leakedKeys(everything)).toEqual([]);
  });
});

describe("the stats", () => {
  it("shows exhausted, cooling and disabled keys with the upstream's reasons", async () => {
    const body = await stats();
    const byPosition = (position: number) => body.keys.find((key) => key.position === position)!;

    const exhausted = byPosition(1).models[exhaustedModel];
    expect(exhausted).toMatchObject({ state: "exhausted" });
    expect(exhausted?.reason).toContain("You exceeded your current quota");
    expect(exhausted?.until).toBe(body.nextResetAt);
    expect(byPosition(1).status).toBe("exhausted");

    const cooling = byPosition(2).models[coolingModel];
    expect(cooling).toMatchObject({ state: "cooling" });
    expect(Date.parse(cooling!.until!)).toBeGreaterThan(Date.now() + 60_000);
    expect(cooling?.reason).toContain("Please retry in 300s");

    expect(byPosition(3)).toMatchObject({ status: "disabled" });
    expect(byPosition(3).disabledReason).toContain("has been suspended");
    expect(byPosition(3).disabledReason).toContain(byPosition(3).masked);

    expect(body.totals.keys).toMatchObject({ total: poolKeys.length, exhausted: 1, cooling: 1, disabled: 1 });
    // Successful requests were counted, for today and in the history.
    const served = body.keys.reduce((sum, key) => sum + (key.models[exhaustedModel]?.requests ?? 0), 0);
    expect(served).toBeGreaterThan(0);
    expect(body.history.hourly.at(-1)?.models[exhaustedModel]).toBe(served);
    expect(body.history.daily).toHaveLength(30);
    expect(leakedKeys(JSON.stringify(body))).toEqual([]);
  });

  it("lifts every mark on POST /api/reset, with a Bearer token or a same-origin session", async () => {
    const cookie = sessionCookie(await login(proxyToken));
    const crossSite = await call("/api/reset", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
    });
    expect(crossSite.status).toBe(403);
    expect((await stats()).totals.keys.disabled).toBe(1);

    const response = await call("/api/reset", { method: "POST", headers: bearer });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const after = await stats();
    expect(after.totals.keys).toMatchObject({ available: poolKeys.length, exhausted: 0, cooling: 0, disabled: 0 });

    const sameOrigin = await call("/api/reset", {
      method: "POST",
      headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(sameOrigin.status).toBe(200);
  });
});

describe("when PROXY_API_KEY is unset", () => {
  // The same app and pool, handed a configuration without tokens, as the worker does when the secret is missing.
  const open = createApp();
  async function callOpen(path: string, init: RequestInit = {}): Promise<Response> {
    const services = {
      config: readConfig({ API_KEYS: poolKeys.join(",") }),
      keyRing: await keyRingFor(poolKeys.join(",")),
      keyManager: env.API_KEY_MANAGER.getByName("pool"),
      waitUntil: () => undefined,
      log: () => undefined,
    };
    return open.fetch(new Request(`${ORIGIN}${path}`, init), { services });
  }

  it("opens the page and the data to anyone, and says so", async () => {
    const page = await callOpen("/stat");
    const html = await page.text();
    expect(html).toContain('id="open-warning"');
    expect(html).toContain("PROXY_API_KEY");
    expect(html).toContain("app.client.js");
    expect(html).not.toContain("/stat/logout");
    const data = await callOpen("/api/stats");
    expect(data.status).toBe(200);
    expect((await data.json<StatsApiResponse>()).proxyAuthEnabled).toBe(false);
    expect((await callOpen("/stat/login", { method: "POST", headers: { origin: ORIGIN }, redirect: "manual" })).status).toBe(303);
  });

  it("still refuses a reset posted from another site", async () => {
    const crossSite = await callOpen("/api/reset", {
      method: "POST",
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    const sameOrigin = await callOpen("/api/reset", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(sameOrigin.status).toBe(200);
  });
});
