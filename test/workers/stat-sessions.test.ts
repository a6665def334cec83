import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/core/app";
import { readConfig } from "../../src/core/config";
import { keyRingFor } from "../../src/core/key-ring";
import { MAX_FAILED_LOGINS } from "../../src/core/stats/session-store";
import { poolKeys, proxyToken } from "./support";

// The /stat login session lives server-side: logging out ends it, a token change ends
// it, and a client guessing tokens is made to wait.

const ORIGIN = "http://proxy.test";

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

function login(token: string, address: string): Promise<Response> {
  return call("/stat/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "cf-connecting-ip": address },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

async function sessionCookie(address: string): Promise<string> {
  const response = await login(proxyToken, address);
  expect(response.status).toBe(303);
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith("__Host-stat-session="));
  return line!.split(";")[0]!;
}

/** A random address from the documentation range, so each test counts its own failures. */
const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 6)}`;

describe("/stat login sessions", () => {
  it("ends the session on logout: the old cookie opens nothing afterwards", async () => {
    const cookie = await sessionCookie(address());
    expect((await call("/api/stats", { headers: { cookie } })).status).toBe(200);
    const out = await call("/stat/logout", { method: "POST", headers: { origin: ORIGIN, cookie }, redirect: "manual" });
    expect(out.status).toBe(303);
    // The browser drops the cookie; a copy of it must not work either.
    expect((await call("/api/stats", { headers: { cookie } })).status).toBe(401);
    expect(await (await call("/stat", { headers: { cookie } })).text()).toContain('action="/stat/login"');
  });

  it("ends every session of a token that is no longer configured", async () => {
    const cookie = await sessionCookie(address());
    const rotated = createApp();
    const services = {
      config: readConfig({ API_KEYS: poolKeys.join(","), PROXY_API_KEY: `${proxyToken}-rotated` }),
      keyRing: await keyRingFor(poolKeys.join(",")),
      keyManager: env.API_KEY_MANAGER.getByName("pool"),
      waitUntil: () => undefined,
      log: () => undefined,
    };
    const response = await rotated.fetch(new Request(`${ORIGIN}/api/stats`, { headers: { cookie } }), { services });
    expect(response.status).toBe(401);
    expect((await call("/api/stats", { headers: { cookie } })).status).toBe(200);
  });

  it("makes a client that keeps sending wrong tokens wait, with a clear message, right token or not", async () => {
    const guesser = address();
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS + 5; i++) statuses.push((await login(`guess-${i}`, guesser)).status);
    expect(statuses.slice(0, MAX_FAILED_LOGINS - 1).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(MAX_FAILED_LOGINS - 1).every((status) => status === 429)).toBe(true);

    const refused = await login(proxyToken, guesser);
    expect(refused.status).toBe(429);
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.text()).toMatch(/Too many wrong tokens from your address\. Try again in \d+ min\./);
    // Another client is not affected.
    expect((await login(proxyToken, address())).status).toBe(303);
  });
});
