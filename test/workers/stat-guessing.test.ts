import { describe, expect, it } from "vitest";
import { LOGIN_WINDOW_MS, MAX_FAILED_LOGINS, MAX_SESSIONS_PER_TOKEN } from "../../src/core/stats/session-store";
import { ADMIN_TOKEN, adminHarness, CLIENT_TOKEN, ORIGIN, type AdminHarness } from "./admin-harness";

// Break-it review: a viewer must not be able to guess the admin token (by logging in as a
// viewer between guesses, or by guessing Bearer tokens on /api/*), nor sign the admin out
// by signing in over and over, and the login forms must not take bodies of any size.
// Each test has a Durable Object of its own (adminHarness), so the counts start at zero.

const GUESSER = "198.51.100.7";

function login(h: AdminHarness, token: string, address = GUESSER): Promise<Response> {
  return h.call("/stat/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "cf-connecting-ip": address },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

function statsWith(h: AdminHarness, init: { token?: string; cookie?: string }, address = GUESSER): Promise<Response> {
  const headers: Record<string, string> = { "cf-connecting-ip": address };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  return h.call("/api/stats", { headers });
}

function cookieOf(response: Response): string {
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith("__Host-stat-session="));
  expect(line).toBeDefined();
  return line!.split(";")[0]!;
}

describe("guessing the admin token", () => {
  it("a viewer login between wrong guesses does not start the count over", async () => {
    const h = await adminHarness();
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) statuses.push((await login(h, `guess-${round}-${i}`)).status);
      statuses.push((await login(h, CLIENT_TOKEN)).status);
    }
    expect(statuses.slice(0, MAX_FAILED_LOGINS - 1).every((status) => status === 401)).toBe(true);
    // The second round's first guess is the tenth failure: from then on, everything waits.
    expect(statuses.slice(MAX_FAILED_LOGINS + MAX_FAILED_LOGINS - 1)).toEqual(
      statuses.slice(MAX_FAILED_LOGINS + MAX_FAILED_LOGINS - 1).map(() => 429),
    );
    // The admin token itself is not checked either while the address waits.
    const admin = await login(h, ADMIN_TOKEN);
    expect(admin.status).toBe(429);
    expect(admin.headers.getSetCookie()).toEqual([]);
  });

  it("an admin login still clears the address's count", async () => {
    const h = await adminHarness();
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) expect((await login(h, `typo-${i}`)).status).toBe(401);
    expect((await login(h, ADMIN_TOKEN)).status).toBe(303);
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) expect((await login(h, `typo-again-${i}`)).status).toBe(401);
  });

  it("counts wrong Bearer tokens on /api/*: 429 with Retry-After and how long, for every token while locked", async () => {
    const h = await adminHarness();
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS + 5; i++) statuses.push((await statsWith(h, { token: `guess${i}` })).status);
    expect(statuses.slice(0, MAX_FAILED_LOGINS - 1).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(MAX_FAILED_LOGINS - 1).every((status) => status === 429)).toBe(true);

    for (const token of [CLIENT_TOKEN, ADMIN_TOKEN]) {
      const locked = await statsWith(h, { token });
      expect(locked.status).toBe(429);
      const seconds = Number(locked.headers.get("retry-after"));
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(LOGIN_WINDOW_MS / 1000);
      const body = await locked.json<{ error: { code: number; status: string; message: string } }>();
      expect(body.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
      expect(body.error.message).toMatch(/Too many wrong tokens from your address .*Try again in \d+ min/);
    }
    // The admin routes are locked the same way, and so is the page.
    const keys = await h.call("/api/keys", { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-connecting-ip": GUESSER } });
    expect(keys.status).toBe(429);
    const page = await h.call("/stat", { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-connecting-ip": GUESSER } });
    expect(page.status).toBe(429);
    expect(await page.text()).not.toContain('id="keys"');
    // Another address is not affected.
    expect((await statsWith(h, { token: CLIENT_TOKEN }, "203.0.113.9")).status).toBe(200);
  });

  it("says which tokens open the admin routes: 401 and 403 name ADMIN_API_KEY", async () => {
    const h = await adminHarness();
    for (const [token, status] of [["not-a-token", 401], [CLIENT_TOKEN, 403]] as const) {
      const response = await h.as(token, "POST", "/api/reset", {});
      expect(response.status).toBe(status);
      expect((await response.json<{ error: { message: string } }>()).error.message).toContain("ADMIN_API_KEY");
    }
  });

  it("wrong Bearer tokens and wrong logins add up, and a locked address cannot sign in", async () => {
    const h = await adminHarness();
    const half = Math.ceil(MAX_FAILED_LOGINS / 2);
    for (let i = 0; i < half; i++) expect((await statsWith(h, { token: `bearer-guess${i}` })).status).toBe(401);
    for (let i = half; i < MAX_FAILED_LOGINS; i++) await login(h, `form-guess-${i}`);
    expect((await login(h, ADMIN_TOKEN)).status).toBe(429);
  });

  it("a session cookie keeps working while its address waits: it is no guess", async () => {
    const h = await adminHarness();
    const cookie = cookieOf(await login(h, ADMIN_TOKEN));
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await statsWith(h, { token: `guess${i}` });
    expect((await statsWith(h, { token: ADMIN_TOKEN })).status).toBe(429);
    expect((await statsWith(h, { cookie })).status).toBe(200);
  });
});

describe("without CF-Connecting-IP (as under wrangler dev)", () => {
  it("every client shares one count, and the lock says so and how long", async () => {
    const h = await adminHarness();
    const form = (token: string): Promise<Response> =>
      h.call("/stat/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ token }).toString(),
        redirect: "manual",
      });
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await form(`someone-else-${i}`);
    const page = await form(ADMIN_TOKEN);
    expect(page.status).toBe(429);
    const text = await page.text();
    expect(text).toMatch(/Try again in 15 min\./);
    expect(text).toContain("every client shares this wait");
    const api = await h.call("/api/stats", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(429);
    expect((await api.json<{ error: { message: string } }>()).error.message).toMatch(/Try again in 15 min.*every client shares this wait/);
    // With an address, as Cloudflare always sends one, a client has its own count.
    expect((await login(h, ADMIN_TOKEN, "203.0.113.77")).status).toBe(303);
  });
});

describe("sessions per token", () => {
  it("signing in again and again with the viewer token never signs the admin out", async () => {
    const h = await adminHarness();
    const adminCookie = cookieOf(await login(h, ADMIN_TOKEN, "203.0.113.1"));
    const viewerCookies: string[] = [];
    // Each from its own address: the logins succeed, so none of them is throttled anyway.
    // Batches in parallel to keep the test short; the last ones in order, as the test tells them apart.
    const sequentialFrom = 1_001 - 2 * MAX_SESSIONS_PER_TOKEN;
    for (let batch = 0; batch < sequentialFrom; batch += 50) {
      const size = Math.min(50, sequentialFrom - batch);
      const responses = await Promise.all(Array.from({ length: size }, (_, i) => login(h, CLIENT_TOKEN, `192.0.2.${(batch + i) % 250}`)));
      viewerCookies.push(...responses.map(cookieOf));
    }
    for (let i = sequentialFrom; i < 1_001; i++) {
      // Sessions started in the same millisecond have no order among themselves.
      await new Promise((resolve) => setTimeout(resolve, 2));
      viewerCookies.push(cookieOf(await login(h, CLIENT_TOKEN, `192.0.2.${i % 250}`)));
    }
    expect((await statsWith(h, { cookie: adminCookie }, "203.0.113.1")).status).toBe(200);
    // The viewer token keeps its newest sessions; its oldest ones ended.
    expect((await statsWith(h, { cookie: viewerCookies.at(-1)! })).status).toBe(200);
    expect((await statsWith(h, { cookie: viewerCookies.at(-MAX_SESSIONS_PER_TOKEN)! })).status).toBe(200);
    expect((await statsWith(h, { cookie: viewerCookies.at(-MAX_SESSIONS_PER_TOKEN - 1)! })).status).toBe(401);
    expect((await statsWith(h, { cookie: viewerCookies[0]! })).status).toBe(401);
  }, 30_000);
});

describe("the /stat forms' bodies", () => {
  const big = "x".repeat(64 * 1024);

  for (const [path, field] of [
    ["/stat/login", "token"],
    ["/stat/lang", "lang"],
    ["/stat/logout", "note"],
  ] as const) {
    it(`${path} refuses a body over the small limit with 413, and still takes a normal one`, async () => {
      const h = await adminHarness();
      const post = (value: string, chunked: boolean): Promise<Response> => {
        const text = new URLSearchParams({ [field]: value }).toString();
        // Without a length, the limit must hold while reading too.
        const body = chunked ? new Blob([text]).stream() : text;
        return h.call(path, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "cf-connecting-ip": "203.0.113.50" },
          body,
          redirect: "manual",
          ...(chunked && { duplex: "half" }),
        } as RequestInit);
      };
      for (const chunked of [false, true]) {
        const refused = await post(`${big}`, chunked);
        expect(refused.status).toBe(413);
        expect(refused.headers.getSetCookie()).toEqual([]);
      }
      const normal = await post(path === "/stat/login" ? ADMIN_TOKEN : "en", false);
      expect(normal.status).toBe(303);
    });
  }
});
