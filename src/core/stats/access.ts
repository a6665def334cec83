import type { Context, MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { AppEnv } from "../app";
import { isAcceptedToken, readClientCredential } from "../client-auth";
import { hasSession } from "./session";

// Who may see the stats and reset marks: anyone while PROXY_API_KEY is unset (the page
// then says so loudly), otherwise holders of a proxy token, by Authorization: Bearer
// (scripts) or by the login session cookie (the page). Never by ?key=: a token in a URL
// ends up in history, logs and Referer headers.

export function authEnabled(c: Context<AppEnv>): boolean {
  return c.env.services.config.proxyTokens.length > 0;
}

// Not Hono's bearerAuth: it only accepts RFC 6750 token characters, while PROXY_API_KEY
// may hold any token the proxy itself accepts, and here a session cookie must do as well.
async function bearerAccepted(c: Context<AppEnv>): Promise<boolean> {
  const credential = readClientCredential(c.req.raw.headers, new URL(c.req.url));
  if (credential?.source !== "bearer") return false;
  return isAcceptedToken(credential.token, c.env.services.config.proxyTokens);
}

export async function mayView(c: Context<AppEnv>): Promise<boolean> {
  if (!authEnabled(c)) return true;
  return (await bearerAccepted(c)) || hasSession(c, c.env.services.config.proxyTokens);
}

/** Guards /api/*: 401 with a JSON body, like the rest of the proxy's errors. */
export const requireViewer: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (await mayView(c)) return next();
  c.header("WWW-Authenticate", 'Bearer realm="gemini-key-pool-proxy stats"');
  c.header("Cache-Control", "no-store");
  return c.json(
    {
      error: {
        code: 401,
        status: "UNAUTHENTICATED",
        message: "Send a PROXY_API_KEY token as Authorization: Bearer, or sign in at /stat.",
      },
    },
    401,
  );
};

const sameOriginForms = csrf();

/**
 * Hono's CSRF check (Origin / Sec-Fetch-Site must be this origin) for state-changing
 * requests a browser could send cross-site. A request with an Authorization header
 * cannot be one of those (setting it cross-origin needs a CORS preflight, which
 * /api/* does not grant), so `curl -X POST -H "Authorization: Bearer …"` still works.
 */
export const sameOriginUnlessBearer: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("authorization") !== undefined) return next();
  return sameOriginForms(c, next);
};
