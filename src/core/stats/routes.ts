import { Hono } from "hono";
import { etag } from "hono/etag";
import type { AppEnv } from "../app";
import { isAcceptedToken } from "../client-auth";
import type { StatsApiResponse } from "../stats-model";
import { authEnabled, mayView, requireViewer, sameOriginUnlessBearer } from "./access";
import { ASSET_PREFIX, findAsset } from "./assets";
import { dashboardPage, loginPage } from "./page-shell";
import { noStore, statSecurityHeaders } from "./security-headers";
import { endSession, startSession } from "./session";
import { stringsFor } from "./strings";

/**
 * /stat (the page, its login and its static files) and /api/stats, /api/reset (its data).
 * Mounted ahead of the proxy's catch-all route; nothing here reaches the upstream.
 */
export function statsRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  for (const path of ["/stat", "/stat/*", "/api/stats", "/api/reset"]) routes.use(path, statSecurityHeaders);

  routes.get("/stat", async (c) => {
    noStore(c);
    const strings = stringsFor(c.req.header("accept-language"));
    if (!(await mayView(c))) return c.html(loginPage(strings, false));
    return c.html(dashboardPage(strings, authEnabled(c)));
  });

  // After a failed login the address bar shows /stat/login; reloading or revisiting it lands on the form.
  routes.get("/stat/login", (c) => c.redirect("/stat", 303));

  routes.post("/stat/login", sameOriginUnlessBearer, async (c) => {
    noStore(c);
    if (!authEnabled(c)) return c.redirect("/stat", 303);
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    if (token !== "" && (await isAcceptedToken(token, c.env.services.config.proxyTokens))) {
      await startSession(c, token);
      return c.redirect("/stat", 303);
    }
    return c.html(loginPage(stringsFor(c.req.header("accept-language")), true), 401);
  });

  routes.post("/stat/logout", sameOriginUnlessBearer, (c) => {
    noStore(c);
    endSession(c);
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
    const snapshot = await c.env.services.pool.snapshot();
    const body: StatsApiResponse = { ...snapshot, proxyAuthEnabled: authEnabled(c) };
    return c.json(body);
  });

  routes.post("/api/reset", requireViewer, sameOriginUnlessBearer, async (c) => {
    noStore(c);
    await c.env.services.pool.reset("all");
    return c.json({ ok: true });
  });

  return routes;
}
