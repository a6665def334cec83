import type { Context, MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { AppEnv } from "../app";
import type { Role } from "../admin-model";
import { isAcceptedToken, readClientCredential } from "../client-auth";
import { loginClient, sessionOf, signedInWith, UNKNOWN_CLIENT } from "./session";
import { LOGIN_WINDOW_MS, MAX_FAILED_LOGINS } from "./session-store";
import { en } from "./strings-en";

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
export function tokenRole(c: Context<AppEnv>, token: string): Role | null {
  const { proxyTokens, adminTokens } = c.env.services.config;
  if (adminTokens.length > 0 && isAcceptedToken(token, adminTokens)) return "admin";
  if (proxyTokens.length > 0 && isAcceptedToken(token, proxyTokens)) return proxyTokenRole(c);
  return null;
}

// Not Hono's bearerAuth: it only accepts RFC 6750 token characters, while PROXY_API_KEY
// may hold any token the proxy itself accepts, and here a session cookie must do as well.
// A Bearer token that matches nothing is a guess, counted per address like a wrong login
// (one more key manager call per Bearer request, on these routes only, never the proxy's).
// While the address waits no token is checked, the right one included: otherwise 429
// against 200 would tell a guesser which guess hit.
async function bearerAccess(c: Context<AppEnv>): Promise<Access | null> {
  const credential = readClientCredential(c.req.raw.headers, new URL(c.req.url));
  if (credential?.source !== "bearer" || !loginEnabled(c)) return null;
  const { pool } = c.env.services;
  const client = loginClient(c);
  const waiting = await pool.loginWait(client);
  if (waiting > 0) return { waitMs: waiting };
  const role = tokenRole(c, credential.token);
  if (role !== null) return { role };
  const wait = await pool.loginFailed(client);
  return wait > 0 ? { waitMs: wait } : null;
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

/** What the caller may do (a null role: not even view), or how long its address must wait. */
export type Access = { role: Role | null } | { waitMs: number };

/**
 * The caller's access. An open proxy (no PROXY_API_KEY) shows its stats to anyone, as
 * before; changing the pool then needs the admin token if ADMIN_API_KEY is set, and is
 * open otherwise (the page warns).
 */
export async function accessOf(c: Context<AppEnv>): Promise<Access> {
  const bearer = await bearerAccess(c);
  if (bearer !== null) return bearer;
  const role = await sessionRole(c);
  if (role !== null) return { role };
  return { role: authEnabled(c) ? null : proxyTokenRole(c) };
}

function unauthenticated(c: Context<AppEnv>): Response {
  c.header("WWW-Authenticate", 'Bearer realm="gemini-key-pool-proxy stats"');
  c.header("Cache-Control", "no-store");
  return c.json(
    {
      error: {
        code: 401,
        status: "UNAUTHENTICATED",
        message: "Send a PROXY_API_KEY or ADMIN_API_KEY token as Authorization: Bearer, or sign in at /stat.",
      },
    },
    401,
  );
}

/** Whole minutes left of a wait, at least 1: what the messages tell a person. */
export function waitMinutes(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 60_000));
}

/** Too many wrong tokens from this address: 429 with Retry-After and how long, in the proxy's JSON error style. */
function tooManyWrongTokens(c: Context<AppEnv>, waitMs: number): Response {
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  c.header("Cache-Control", "no-store");
  return c.json(
    {
      error: {
        code: 429,
        status: "RESOURCE_EXHAUSTED",
        message: `Too many wrong tokens from your address (${MAX_FAILED_LOGINS} within ${LOGIN_WINDOW_MS / 60_000} minutes). Try again in ${waitMinutes(waitMs)} min; until then no token from this address is checked, the right one included.${
          loginClient(c) === UNKNOWN_CLIENT ? ` ${en.loginThrottledNoAddress}` : ""
        }`,
      },
    },
    429,
  );
}

function permissionDenied(c: Context<AppEnv>): Response {
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

/** Guards the read-only /api/* routes: 401 with a JSON body, like the rest of the proxy's errors. */
export const requireViewer: MiddlewareHandler<AppEnv> = async (c, next) => {
  const access = await accessOf(c);
  if ("waitMs" in access) return tooManyWrongTokens(c, access.waitMs);
  if (access.role === null) return unauthenticated(c);
  c.set("role", access.role);
  return next();
};

/** Guards the routes that change the pool: 401 without a valid token, 403 for a viewer. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const access = await accessOf(c);
  if ("waitMs" in access) return tooManyWrongTokens(c, access.waitMs);
  if (access.role === null) return unauthenticated(c);
  if (access.role !== "admin") return permissionDenied(c);
  c.set("role", access.role);
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
