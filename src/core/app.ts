import { Hono, type ExecutionContext } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { Role } from "./admin-model";
import { errorResponse } from "./error-response";
import { handleApiRequest } from "./proxy/api-entry";
import { budgetedPool, SubrequestBudget } from "./proxy/subrequest-budget";
import { guardedPool, KeyManagerUnavailable, keyManagerUnavailableResponse } from "./proxy/guarded-pool";
import { localPool } from "./proxy/local-pool";
import { LocalView } from "./proxy/local-view";
import { UsageBatch } from "./proxy/usage-batch";
import type { ProxyServices, RuntimeServices } from "./services";
import { keyRoutes } from "./stats/key-routes";
import { limitRoutes } from "./stats/limit-routes";
import { statsRoutes } from "./stats/routes";

export interface AppEnv {
  Bindings: { services: ProxyServices };
  /** Set by the /api/* guards (stats/access.ts). */
  Variables: { role: Role };
}

/** Headers a browser client of the Gemini or OpenAI API may need to read back. */
const EXPOSED_HEADERS = [
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  "x-goog-upload-url",
  "x-goog-upload-status",
  "x-goog-upload-chunk-granularity",
  "x-goog-upload-control-url",
  "x-goog-upload-size-received",
];

export interface ProxyApp {
  fetch(request: Request, env: { services: RuntimeServices }, ctx?: ExecutionContext): Promise<Response>;
}

/** What differs per runtime in how the app itself works, chosen by the runtime adapter. */
export interface AppOptions {
  /**
   * How long usage reports gather before one call records them (usage-batch.ts): the
   * Worker's default batches Durable Object calls; 0 writes them at once, for a key
   * manager in the same process.
   */
  usageDelayMs?: number;
  /**
   * The key manager runs in the same process: a request whose pool view is past a second
   * old waits for a fresh one (no round trip) instead of starting on the old one while it
   * is checked (local-pool.ts).
   */
  awaitAgedView?: boolean;
}

/**
 * The runtime-neutral application: each runtime adapter passes its services in as the env
 * (RuntimeServices); the app adds what is per request. One app per process (isolate): it
 * holds the process's pool view and usage batch.
 */
export function createApp(options: AppOptions = {}): ProxyApp {
  const app = routes();
  const view = new LocalView();
  const usage = new UsageBatch(options.usageDelayMs);
  return {
    async fetch(request, { services: { keyManager, ...services } }, ctx) {
      // Every request gets its own subrequest budget. Every route reaches the key manager
      // through the guard, so none can hang on it, and counts each call against that budget.
      const budget = new SubrequestBudget(services.config.subrequestLimit);
      const guarded = guardedPool(budgetedPool(keyManager, budget), (text) => services.keyRing.redact(text));
      const pool = localPool(guarded, view, usage, services.waitUntil, { awaitAgedView: options.awaitAgedView ?? false });
      return app.fetch(request, { services: { ...services, budget, pool } }, ctx);
    },
  };
}

function routes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The API answers its own errors in the caller's style; this catches the rest (/stat, /api/*).
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    if (error instanceof KeyManagerUnavailable) return keyManagerUnavailableResponse("gemini", error.message);
    const message = c.env.services.keyRing.redact(error instanceof Error ? error.message : String(error));
    return errorResponse("gemini", 500, `Unexpected proxy error: ${message}`);
  });

  app.get("/", (c) =>
    c.json({
      name: "gemini-key-pool-proxy",
      gemini: "/v1beta/models/{model}:generateContent",
      openai: "/v1/chat/completions",
      stats: "/stat",
    }),
  );

  // For container health checks and load balancers: answers without a token and without
  // touching the key manager, so a busy or stuck pool never gets the server restarted.
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  // Browser clients of the API may call from any origin (the preflight reflects the
  // requested headers, x-goog-api-key and x-stainless-* included); /stat and /api/* stay
  // same-origin. The middleware is made once, not per request. A request without an
  // Origin header is no browser's cross-origin call, so it gets no CORS headers, as from
  // Google: the middleware's headers make Hono copy the handler's response into a new one,
  // which profiled as a tenth of a small request's JavaScript.
  const apiCors = cors({ origin: "*", exposeHeaders: EXPOSED_HEADERS, maxAge: 86_400 });
  app.use("*", async (c, next) => {
    if (c.req.header("origin") === undefined) return next();
    if (c.req.path.startsWith("/api/") || c.req.path === "/stat" || c.req.path.startsWith("/stat/")) return next();
    return apiCors(c, next);
  });

  app.route("/", statsRoutes());
  app.route("/", keyRoutes());
  app.route("/", limitRoutes());

  app.all("*", (c) => handleApiRequest(c.req.raw, c.env.services));

  return app;
}
