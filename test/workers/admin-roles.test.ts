import { describe, expect, it } from "vitest";
import type { StatsApiResponse } from "../../src/core/stats-model";
import { ADMIN_TOKEN, adminHarness, CLIENT_TOKEN, listKeys, newKey, ORIGIN } from "./admin-harness";

// Who may view and who may change the pool, for every combination of PROXY_API_KEY and
// ADMIN_API_KEY and every kind of caller; a refused change changes nothing.

type Caller = "none" | "wrong" | "client" | "admin";
const TOKENS: Record<Caller, string | null> = { none: null, wrong: "not-a-configured-token", client: CLIENT_TOKEN, admin: ADMIN_TOKEN };

interface Expectation {
  view: 200 | 401;
  role?: "admin" | "viewer";
  change: 200 | 401 | 403;
}

const MATRIX: { name: string; tokens: { proxy?: string; admin?: string }; expect: Record<Caller, Expectation> }[] = [
  {
    name: "PROXY_API_KEY and ADMIN_API_KEY set",
    tokens: { proxy: CLIENT_TOKEN, admin: ADMIN_TOKEN },
    expect: {
      none: { view: 401, change: 401 },
      wrong: { view: 401, change: 401 },
      client: { view: 200, role: "viewer", change: 403 },
      admin: { view: 200, role: "admin", change: 200 },
    },
  },
  {
    name: "only PROXY_API_KEY set: its holders are admins, as before",
    tokens: { proxy: CLIENT_TOKEN },
    expect: {
      none: { view: 401, change: 401 },
      wrong: { view: 401, change: 401 },
      client: { view: 200, role: "admin", change: 200 },
      admin: { view: 401, change: 401 },
    },
  },
  {
    name: "an open proxy with ADMIN_API_KEY: anyone views, only the admin changes",
    tokens: { admin: ADMIN_TOKEN },
    expect: {
      none: { view: 200, role: "viewer", change: 403 },
      wrong: { view: 200, role: "viewer", change: 403 },
      client: { view: 200, role: "viewer", change: 403 },
      admin: { view: 200, role: "admin", change: 200 },
    },
  },
  {
    name: "an open proxy without ADMIN_API_KEY: open to anyone (the page warns)",
    tokens: {},
    expect: {
      none: { view: 200, role: "admin", change: 200 },
      wrong: { view: 200, role: "admin", change: 200 },
      client: { view: 200, role: "admin", change: 200 },
      admin: { view: 200, role: "admin", change: 200 },
    },
  },
];

/** Every endpoint that changes the pool, each with a body that would change it. */
function changes(runtimeId: string): [string, string, unknown][] {
  return [
    ["POST", "/api/keys", { keys: [newKey()], verify: false }],
    ["POST", `/api/keys/${runtimeId}/disable`, { reason: "test" }],
    ["POST", `/api/keys/${runtimeId}/enable`, undefined],
    ["POST", `/api/keys/${runtimeId}/verify`, undefined],
    ["POST", "/api/keys/verify", { ids: [runtimeId] }],
    ["POST", "/api/keys/bulk", { action: "disable", ids: [runtimeId] }],
    ["POST", "/api/reset", {}],
    ["DELETE", `/api/keys/${runtimeId}`, undefined],
  ];
}

describe("roles", () => {
  for (const variant of MATRIX) {
    it(`${variant.name}`, async () => {
      // The pool is set up and inspected by an admin of an otherwise identical harness on the same object.
      const h = await adminHarness(variant.tokens);
      const adminCaller = variant.expect.admin.change === 200 ? TOKENS.admin : TOKENS.client;
      const setup = await h.as(adminCaller, "POST", "/api/keys", { keys: [newKey()], verify: false });
      expect(setup.status).toBe(200);
      const runtimeId = (await setup.json<{ added: { id: string }[] }>()).added[0]!.id;
      // Keys and their states; the events are left out (reading them is no change).
      const inspect = async (): Promise<string> =>
        JSON.stringify((await listKeys(h, "?limit=500", adminCaller)).keys.map((key) => [key.id, key.status, key.disabled ?? null]));

      for (const [caller, expected] of Object.entries(variant.expect) as [Caller, Expectation][]) {
        const token = TOKENS[caller];
        for (const path of ["/api/stats", "/api/keys", "/api/events", "/api/keys/verify"]) {
          const response = await h.as(token, "GET", path);
          expect(response.status, `${caller} GET ${path}`).toBe(expected.view);
          if (path === "/api/stats" && expected.view === 200) {
            const body = await response.json<StatsApiResponse>();
            expect(body.access).toEqual({ role: expected.role, adminTokenSet: variant.tokens.admin !== undefined });
          }
        }
        if (expected.change === 200) continue;
        const before = await inspect();
        for (const [method, path, body] of changes(runtimeId)) {
          const response = await h.as(token, method, path, body);
          expect(response.status, `${caller} ${method} ${path}`).toBe(expected.change);
          const error = await response.json<{ error: { code: number; status: string; message: string } }>();
          expect(error.error.code).toBe(expected.change);
          if (expected.change === 403) {
            expect(error.error.status).toBe("PERMISSION_DENIED");
            expect(error.error.message).toContain("ADMIN_API_KEY");
          }
        }
        expect(await inspect(), `${caller}'s refused changes changed nothing`).toBe(before);
      }

      // The admin's (or, without ADMIN_API_KEY, everybody's) changes go through.
      const verdicts = [];
      for (const [method, path, body] of changes(runtimeId)) {
        const response = await h.as(adminCaller, method, path, body);
        verdicts.push(`${method} ${path} ${response.status}`);
      }
      // Every change goes through (the verification job answers 202).
      expect(verdicts.every((line) => / (200|202)$/.test(line)), verdicts.join("\n")).toBe(true);
    });
  }

  it("keeps ADMIN_API_KEY out of the API: it is no proxy token unless PROXY_API_KEY has it", async () => {
    const h = await adminHarness({ proxy: CLIENT_TOKEN, admin: ADMIN_TOKEN });
    const generate = (token: string) =>
      h.call("/v1beta/models/gemini-2.5-flash:generateContent", {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
      });
    expect((await generate(ADMIN_TOKEN)).status).toBe(401);
    expect((await generate(CLIENT_TOKEN)).status).toBe(200);
  });

  it("gives a session the role its token has now: setting ADMIN_API_KEY demotes proxy-token sessions at once", async () => {
    const poolName = `admin-test-${crypto.randomUUID()}`;
    const before = await adminHarness({ proxy: CLIENT_TOKEN }, poolName);
    const login = await before.call("/stat/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token: CLIENT_TOKEN }).toString(),
      redirect: "manual",
    });
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith("__Host-stat-session="))!.split(";")[0]!;
    const roleIn = async (h: typeof before) => (await (await h.call("/api/stats", { headers: { cookie } })).json<StatsApiResponse>()).access.role;
    expect(await roleIn(before)).toBe("admin");
    const after = await adminHarness({ proxy: CLIENT_TOKEN, admin: ADMIN_TOKEN }, poolName);
    expect(await roleIn(after)).toBe("viewer");
    const reset = await after.call("/api/reset", { method: "POST", headers: { cookie, origin: ORIGIN, "content-type": "application/json" }, body: "{}" });
    expect(reset.status).toBe(403);
  });

  it("signs in with either token at /stat; the session keeps the token's role", async () => {
    const h = await adminHarness({ proxy: CLIENT_TOKEN, admin: ADMIN_TOKEN });
    const sessionFor = async (token: string): Promise<string> => {
      const response = await h.call("/stat/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ token }).toString(),
        redirect: "manual",
      });
      expect(response.status).toBe(303);
      return response.headers.getSetCookie().find((line) => line.startsWith("__Host-stat-session="))!.split(";")[0]!;
    };
    for (const [token, role, change] of [
      [CLIENT_TOKEN, "viewer", 403],
      [ADMIN_TOKEN, "admin", 200],
    ] as const) {
      const cookie = await sessionFor(token);
      const stats = await h.call("/api/stats", { headers: { cookie } });
      expect((await stats.json<StatsApiResponse>()).access.role).toBe(role);
      const add = await h.call("/api/keys", {
        method: "POST",
        headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
        body: JSON.stringify({ keys: [newKey()], verify: false }),
      });
      expect(add.status).toBe(change);
      // A session's change from another site is refused whatever its role.
      const crossSite = await h.call("/api/keys", {
        method: "POST",
        headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" },
        body: JSON.stringify({ keys: [newKey()], verify: false }),
      });
      expect(crossSite.status).toBe(403);
    }
  });
});
