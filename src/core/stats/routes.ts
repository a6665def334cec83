import { Hono, type Context } from "hono";
import { etag } from "hono/etag";
import type { AppEnv } from "../app";
import type { StatsApiResponse } from "../stats-model";
import { authEnabled, loginEnabled, mayView, requireAdmin, requireViewer, sameOriginUnlessBearer, tokenRole } from "./access";
import { ASSET_PREFIX, findAsset } from "./assets";
import { pageStrings, rememberLanguage } from "./language";
import { dashboardPage, loginPage } from "./page-shell";
import { noStore, statSecurityHeaders } from "./security-headers";
import { endSession, loginClient, startSession } from "./session";

/** Too many failed logins from this client: 429, the wait, and the login form saying so. */
function throttled(c: Context<AppEnv>, waitMs: number): Response | Promise<Response> {
  const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  return c.html(loginPage(pageStrings(c), "throttled", minutes), 429);
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
    if (!(await mayView(c))) return c.html(loginPage(strings, null));
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
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    // Proxy and admin tokens both sign in; the session records the role its token grants.
    const role = token === "" ? null : await tokenRole(c, token);
    if (role !== null) {
      await startSession(c, token, role);
      return c.redirect("/stat", 303);
    }
    const wait = await pool.loginFailed(client);
    if (wait > 0) return throttled(c, wait);
    return c.html(loginPage(pageStrings(c), "failed"), 401);
  });

  // The language switch: a plain form post, so it works without script and before login
  // (the words are no secret). Same-origin only, like every form here.
  routes.post("/stat/lang", sameOriginUnlessBearer, async (c) => {
    noStore(c);
    const form = await c.req.parseBody();
    if (typeof form.lang === "string") rememberLanguage(c, form.lang);
    return c.redirect("/stat", 303);
  });
  routes.get("/stat/lang", (c) => c.redirect("/stat", 303));

  routes.post("/stat/logout", sameOriginUnlessBearer, async (c) => {
    noStore(c);
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
