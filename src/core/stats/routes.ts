import { Hono, type Context } from "hono";
import { etag } from "hono/etag";
import type { AppEnv } from "../app";
import type { StatsApiResponse } from "../stats-model";
import { accessOf, authEnabled, loginEnabled, requireAdmin, requireViewer, sameOriginUnlessBearer, tokenRole, waitMinutes } from "./access";
import { ASSET_PREFIX, findAsset } from "./assets";
import { pageStrings, rememberLanguage } from "./language";
import { dashboardPage, loginPage } from "./page-shell";
import { noStore, statSecurityHeaders } from "./security-headers";
import { BodyTooLarge, readBody } from "../proxy/read-body";
import { apiError } from "./json-input";
import { endSession, loginClient, overPlainHttp, startSession, UNKNOWN_CLIENT } from "./session";

/** Too many failed logins from this client: 429, the wait, and the login form saying so. */
function throttled(c: Context<AppEnv>, waitMs: number): Response | Promise<Response> {
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  const sharedAddress = loginClient(c) === UNKNOWN_CLIENT;
  return c.html(loginPage(pageStrings(c), { kind: "throttled", waitMinutes: waitMinutes(waitMs), sharedAddress }, overPlainHttp(c)), 429);
}

/** The /stat forms hold a token or a language: a few hundred bytes. They are read before any token is checked, so small. */
export const MAX_FORM_BYTES = 4 * 1024;

/**
 * The form fields of a /stat form post, read with a small limit (413 beyond it): these
 * routes answer without a token, so a body of any size must not be taken in.
 */
async function readForm(c: Context<AppEnv>): Promise<{ form: FormData } | { response: Response }> {
  let bytes: ArrayBuffer | null;
  try {
    bytes = await readBody(c.req.raw, MAX_FORM_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    return { response: apiError(c, 413, `The form is over the limit of ${MAX_FORM_BYTES} bytes.`) };
  }
  const parsed = new Request(c.req.url, { method: "POST", headers: { "content-type": c.req.header("content-type") ?? "" }, body: bytes });
  try {
    return { form: await parsed.formData() };
  } catch {
    // Not a form at all: as good as an empty one.
    return { form: new FormData() };
  }
}

/**
 * /stat (the page, its login and its static files) and /api/stats, /api/reset (its data).
 * Mounted ahead of the proxy's catch-all route; nothing here reaches the upstream.
 */
export function statsRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  for (const path of ["/stat", "/stat/*", "/api/stats", "/api/reset"]) routes.use(path, statSecurityHeaders);

  routes.get("/stat", async (c) => {
    noStore(c);
    // The page's language comes from these request headers (see ./language.ts).
    c.header("Vary", "Accept-Language, Cookie");
    const strings = pageStrings(c);
    const access = await accessOf(c);
    if ("waitMs" in access) return throttled(c, access.waitMs);
    if (access.role === null) return c.html(loginPage(strings, null, overPlainHttp(c)));
    return c.html(dashboardPage(strings, authEnabled(c)));
  });

  // After a failed login the address bar shows /stat/login; reloading or revisiting it lands on the form.
  routes.get("/stat/login", (c) => c.redirect("/stat", 303));

  routes.post("/stat/login", sameOriginUnlessBearer, async (c) => {
    noStore(c);
    if (!loginEnabled(c)) return c.redirect("/stat", 303);
    const { pool } = c.env.services;
    const client = loginClient(c);
    // While a client waits, its attempts are not even checked: guessing gains nothing.
    const waiting = await pool.loginWait(client);
    if (waiting > 0) return throttled(c, waiting);
    const input = await readForm(c);
    if ("response" in input) return input.response;
    const field = input.form.get("token");
    const token = typeof field === "string" ? field.trim() : "";
    // Proxy and admin tokens both sign in; the session records the role its token grants.
    const role = token === "" ? null : tokenRole(c, token);
    if (role !== null) {
      await startSession(c, token, role);
      return c.redirect("/stat", 303);
    }
    const wait = await pool.loginFailed(client);
    if (wait > 0) return throttled(c, wait);
    return c.html(loginPage(pageStrings(c), { kind: "failed" }, overPlainHttp(c)), 401);
  });

  // The language switch: a plain form post, so it works without script and before login
  // (the words are no secret). Same-origin only, like every form here.
  routes.post("/stat/lang", sameOriginUnlessBearer, async (c) => {
    noStore(c);
    const input = await readForm(c);
    if ("response" in input) return input.response;
    const lang = input.form.get("lang");
    if (typeof lang === "string") rememberLanguage(c, lang);
    return c.redirect("/stat", 303);
  });
  routes.get("/stat/lang", (c) => c.redirect("/stat", 303));

  routes.post("/stat/logout", sameOriginUnlessBearer, async (c) => {
    noStore(c);
    // The body means nothing here, but the platform would take it in whole otherwise.
    const input = await readForm(c);
    if ("response" in input) return input.response;
    await endSession(c);
    return c.redirect("/stat", 303);
  });

  // Public on purpose: the files hold no data (the login page needs the styles), and an
  // ETag lets browsers revalidate instead of downloading them on every visit.
  routes.get(`${ASSET_PREFIX}:file`, etag(), (c) => {
    const asset = findAsset(c.req.param("file"));
    if (asset === undefined) return c.notFound();
    c.header("Cache-Control", "no-cache");
    c.header("Content-Type", asset.contentType);
    return c.body(asset.body);
  });

  routes.get("/api/stats", requireViewer, async (c) => {
    noStore(c);
    // ?keys=none: the summary without the per-key list, for pools too big to fetch whole (GET /api/keys pages).
    const withKeys = c.req.query("keys") !== "none";
    const snapshot = await c.env.services.pool.snapshot({ keys: withKeys });
    const body: StatsApiResponse = {
      ...snapshot,
      proxyAuthEnabled: authEnabled(c),
      access: { role: c.get("role"), adminTokenSet: c.env.services.config.adminTokens.length > 0 },
    };
    return c.json(body);
  });

  routes.post("/api/reset", requireAdmin, sameOriginUnlessBearer, async (c) => {
    noStore(c);
    await c.env.services.pool.reset("all", c.get("role"));
    return c.json({ ok: true });
  });

  return routes;
}
