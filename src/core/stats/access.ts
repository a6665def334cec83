import type { Context, MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { AppEnv } from "../app";
import type { Role } from "../admin-model";
import { isAcceptedToken, readClientCredential } from "../client-auth";
import { sessionOf, signedInWith } from "./session";

// Who may see the stats and who may change the pool. Viewing: anyone while PROXY_API_KEY
// is unset (the page then says so loudly), otherwise holders of a proxy or admin token,
// by Authorization: Bearer (scripts) or by the login session cookie (the page). Never by
// ?key=: a token in a URL ends up in history, logs and Referer headers. Changing: admins,
// i.e. ADMIN_API_KEY holders, or every viewer while ADMIN_API_KEY is unset.

export function authEnabled(c: Context<AppEnv>): boolean {
  return c.env.services.config.proxyTokens.length > 0;
}

/** True when a login means something: a proxy token or an admin token is configured. */
export function loginEnabled(c: Context<AppEnv>): boolean {
  const { proxyTokens, adminTokens } = c.env.services.config;
  return proxyTokens.length > 0 || adminTokens.length > 0;
}

/** What a proxy token may do: everything while ADMIN_API_KEY is unset, else view. */
function proxyTokenRole(c: Context<AppEnv>): Role {
  return c.env.services.config.adminTokens.length === 0 ? "admin" : "viewer";
}

/** The role a presented token (Bearer or the one entered at login) grants, if any. */
export async function tokenRole(c: Context<AppEnv>, token: string): Promise<Role | null> {
  const { proxyTokens, adminTokens } = c.env.services.config;
  if (adminTokens.length > 0 && (await isAcceptedToken(token, adminTokens))) return "admin";
  if (proxyTokens.length > 0 && (await isAcceptedToken(token, proxyTokens))) return proxyTokenRole(c);
  return null;
}

// Not Hono's bearerAuth: it only accepts RFC 6750 token characters, while PROXY_API_KEY
// may hold any token the proxy itself accepts, and here a session cookie must do as well.
async function bearerRole(c: Context<AppEnv>): Promise<Role | null> {
  const credential = readClientCredential(c.req.raw.headers, new URL(c.req.url));
  return credential?.source === "bearer" ? tokenRole(c, credential.token) : null;
}

/**
 * The role of the login session, if any. The session records the role its token granted at
 * login; what counts is the role that token grants under today's configuration (one key
 * manager call either way), so adding ADMIN_API_KEY demotes every proxy-token session at once.
 */
async function sessionRole(c: Context<AppEnv>): Promise<Role | null> {
  const { proxyTokens, adminTokens } = c.env.services.config;
  const session = await sessionOf(c, [...adminTokens, ...proxyTokens]);
  if (session === null) return null;
  return adminTokens.length > 0 && (await signedInWith(session, adminTokens)) ? "admin" : proxyTokenRole(c);
}

/**
 * The caller's role, or null when it may not even view. An open proxy (no PROXY_API_KEY)
 * shows its stats to anyone, as before; changing the pool then needs the admin token
 * if ADMIN_API_KEY is set, and is open otherwise (the page warns).
 */
export async function roleOf(c: Context<AppEnv>): Promise<Role | null> {
  const role = (await bearerRole(c)) ?? (await sessionRole(c));
  if (role !== null) return role;
  return authEnabled(c) ? null : proxyTokenRole(c);
}

export async function mayView(c: Context<AppEnv>): Promise<boolean> {
  return (await roleOf(c)) !== null;
}

function unauthenticated(c: Context<AppEnv>): Response {
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
}

/** Guards the read-only /api/* routes: 401 with a JSON body, like the rest of the proxy's errors. */
export const requireViewer: MiddlewareHandler<AppEnv> = async (c, next) => {
  const role = await roleOf(c);
  if (role === null) return unauthenticated(c);
  c.set("role", role);
  return next();
};

/** Guards the routes that change the pool: 401 without a valid token, 403 for a viewer. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const role = await roleOf(c);
  if (role === null) return unauthenticated(c);
  if (role !== "admin") {
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        error: {
          code: 403,
          message:
            "Changing the pool needs the admin token (ADMIN_API_KEY); this token may only view it. Send the admin token as Authorization: Bearer, or sign in at /stat with it.",
          status: "PERMISSION_DENIED",
        },
      },
      403,
    );
  }
  c.set("role", role);
  return next();
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
