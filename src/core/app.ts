import { Hono } from "hono";
import { cors } from "hono/cors";
import { handleProxy } from "./proxy/handle-proxy";
import type { ProxyServices } from "./services";
import { statsRoutes } from "./stats/routes";

export interface AppEnv {
  Bindings: { services: ProxyServices };
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

/** The runtime-neutral application: each runtime adapter passes its services in as the env. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) =>
    c.json({
      name: "gemini-key-pool-proxy",
      gemini: "/v1beta/models/{model}:generateContent",
      openai: "/v1/chat/completions",
      stats: "/stat",
    }),
  );

  // Browser clients of the API may call from any origin (the preflight reflects the
  // requested headers, x-goog-api-key and x-stainless-* included); /stat and /api/* stay same-origin.
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/api/") || c.req.path === "/stat" || c.req.path.startsWith("/stat/")) return next();
    return cors({ origin: "*", exposeHeaders: EXPOSED_HEADERS, maxAge: 86_400 })(c, next);
  });

  app.route("/", statsRoutes());

  app.all("*", (c) => handleProxy(c.req.raw, c.env.services));

  return app;
}
