import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

// The /stat login session. The cookie holds only an expiry time, signed (Hono's signed
// cookie: HMAC-SHA256) with a key derived from the proxy token that was entered, so it
// never contains the token, cannot be forged without one, dies on its own after
// SESSION_SECONDS, and dies at once when that token is removed from PROXY_API_KEY.
// `__Host-` + Secure + Path=/ pins it to this origin; SameSite=Strict keeps it off
// cross-site requests (CSRF); HttpOnly keeps it away from scripts.

const COOKIE_NAME = "stat-session";
const SESSION_SECONDS = 7 * 24 * 3600;

// A dedicated signing key per token rather than the token itself: the same secret is
// never used for two purposes, and its digest has a fixed length.
function signingKey(token: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(`gemini-key-pool-proxy stat session\n${token}`));
}

export async function startSession(c: Context, token: string): Promise<void> {
  const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
  await setSignedCookie(c, COOKIE_NAME, String(expires), await signingKey(token), {
    prefix: "host",
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    maxAge: SESSION_SECONDS,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, COOKIE_NAME, { prefix: "host", httpOnly: true, secure: true, sameSite: "Strict" });
}

/** True when the request carries an unexpired session signed for one of `tokens`. */
export async function hasSession(c: Context, tokens: readonly string[]): Promise<boolean> {
  const now = Math.floor(Date.now() / 1000);
  let valid = false;
  // Every token is tried, matched or not, so timing does not tell which one signed it.
  for (const token of tokens) {
    const expires = await getSignedCookie(c, await signingKey(token), COOKIE_NAME, "host");
    if (typeof expires === "string" && Number(expires) > now) valid = true;
  }
  return valid;
}
