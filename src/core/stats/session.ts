import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Role } from "../admin-model";
import type { AppEnv } from "../app";
import { viaHttps } from "../client-address";
import { SESSION_LIFETIME_MS, type StatSession } from "./session-store";

// The /stat login session. The cookie holds only a random id; the key manager holds the
// session under the id's SHA-256 (a copy of its storage opens nothing), with a hash of
// the token that signed in. So logging out ends the session for good, a session ends
// as soon as its token is no longer configured, and none outlives SESSION_LIFETIME_MS.
// `__Host-` + Secure + Path=/ pins the cookie to this origin; SameSite=Strict keeps it
// off cross-site requests (CSRF); HttpOnly keeps it away from scripts. A browser drops a
// Secure cookie set over plain http (but for localhost), so where the request says it came
// over plain http (X-Forwarded-Proto: http: the Node server without a TLS proxy in front)
// the cookie is neither Secure nor `__Host-`, and the login page says the token travels
// unencrypted. Without that header (Workers, which is https) nothing changes.

const COOKIE_NAME = "stat-session";
const SESSION_ID = /^[0-9a-f]{64}$/;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Domain-separated, so the stored hash is useful for nothing but this comparison.
function tokenHash(token: string): Promise<string> {
  return sha256Hex(`gemini-key-pool-proxy stat session\n${token}`);
}

/** True when the client reached the proxy over plain http, so a Secure cookie would never come back. */
export function overPlainHttp(c: Context<AppEnv>): boolean {
  const forwarded = c.req.header("x-forwarded-proto");
  return forwarded !== undefined && !viaHttps(c.req.url, forwarded);
}

function cookieOptions(c: Context<AppEnv>) {
  return overPlainHttp(c)
    ? ({ httpOnly: true, secure: false, path: "/", sameSite: "Strict" } as const)
    : ({ prefix: "host", httpOnly: true, secure: true, sameSite: "Strict" } as const);
}

function sessionIdHash(c: Context<AppEnv>): Promise<string> | null {
  const id = overPlainHttp(c) ? getCookie(c, COOKIE_NAME) : getCookie(c, COOKIE_NAME, "host");
  return id !== undefined && SESSION_ID.test(id) ? sha256Hex(id) : null;
}

/**
 * The client of every request without CF-Connecting-IP. Cloudflare always sets it in
 * production; under wrangler dev it is missing, so all local clients count as this one.
 */
export const UNKNOWN_CLIENT = "unknown";

/** Who is logging in, for counting failed attempts: the address Cloudflare saw. */
export function loginClient(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip") ?? UNKNOWN_CLIENT;
}

export async function startSession(c: Context<AppEnv>, token: string, role: Role): Promise<void> {
  const id = [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const session: StatSession = { tokenHash: await tokenHash(token), role, expiresAt: Date.now() + SESSION_LIFETIME_MS };
  await c.env.services.pool.startStatSession(await sha256Hex(id), session, loginClient(c));
  setCookie(c, COOKIE_NAME, id, { ...cookieOptions(c), maxAge: SESSION_LIFETIME_MS / 1000 });
}

/** Ends the session server-side (the cookie alone would survive a copy) and drops the cookie. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
  const idHash = sessionIdHash(c);
  if (idHash !== null) await c.env.services.pool.endStatSession(await idHash);
  deleteCookie(c, COOKIE_NAME, cookieOptions(c));
}

/** The live session the request carries, signed in with one of `tokens` (its role says what it may do); null if none. */
export async function sessionOf(c: Context<AppEnv>, tokens: readonly string[]): Promise<StatSession | null> {
  const idHash = sessionIdHash(c);
  if (idHash === null) return null;
  const session = await c.env.services.pool.statSession(await idHash);
  if (session === null) return null;
  const current = await Promise.all(tokens.map(tokenHash));
  return current.includes(session.tokenHash) ? session : null;
}

/** True when `session` was signed in with one of `tokens`. */
export async function signedInWith(session: StatSession, tokens: readonly string[]): Promise<boolean> {
  return (await Promise.all(tokens.map(tokenHash))).includes(session.tokenHash);
}
