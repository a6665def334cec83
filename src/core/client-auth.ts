// How clients prove they may use the proxy. The official SDKs each put the token in a
// different place (x-goog-api-key, ?key=, Authorization: Bearer); all are accepted in
// both API styles, and the place also hints at which style an ambiguous route wants.

export type CredentialSource = "bearer" | "goog-header" | "query";

export interface ClientCredential {
  token: string;
  source: CredentialSource;
}

export function readClientCredential(headers: Headers, url: URL): ClientCredential | null {
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (bearer) return { token: bearer, source: "bearer" };
  const header = headers.get("x-goog-api-key")?.trim();
  if (header) return { token: header, source: "goog-header" };
  const query = url.searchParams.get("key")?.trim();
  if (query) return { token: query, source: "query" };
  return null;
}

/** PROXY_API_KEY may hold one token or a comma-separated list; empty means "open proxy". */
export function parseProxyTokens(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
}

/** The token the README and .dev.vars.example show: copied as is, it protects nothing. */
export const PLACEHOLDER_TOKEN = "choose-a-long-random-token";
/** Shorter tokens can be guessed or read over a shoulder; a random 16 characters cannot. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Why a configured token protects nothing, in one line that says what to do, or null when
 * every token in PROXY_API_KEY and ADMIN_API_KEY is long enough and not the placeholder.
 */
export function weakTokenProblem(env: { PROXY_API_KEY?: string; ADMIN_API_KEY?: string }): string | null {
  for (const name of ["PROXY_API_KEY", "ADMIN_API_KEY"] as const) {
    for (const token of parseProxyTokens(env[name])) {
      if (token === PLACEHOLDER_TOKEN) return `${name} is the example's placeholder "${PLACEHOLDER_TOKEN}": set it to a long random token (openssl rand -hex 24).`;
      if (token.length < MIN_TOKEN_LENGTH) return `${name} holds a token of ${token.length} characters: use at least ${MIN_TOKEN_LENGTH} random ones (openssl rand -hex 24).`;
    }
  }
  return null;
}

// Compares code units over the presented token's length, with no early exit: the work
// depends only on what the caller sent, never on a configured token (not even its
// length), so response timing tells an attacker nothing about how close a guess was.
// Plain string comparison, which stops at the first difference, would. It replaces hashing
// both sides with SHA-256: a digest and an await on every request, about a twentieth of
// the proxy's CPU for a small request under load (wrangler dev profile, 2026-11-28).
function equalInConstantTime(presented: string, expected: string): boolean {
  let difference = presented.length ^ expected.length;
  for (let i = 0; i < presented.length; i++) {
    difference |= presented.charCodeAt(i) ^ (expected.charCodeAt(i % expected.length) || 0);
  }
  return difference === 0;
}

/** True when `presented` equals one of `tokens`; every token is compared, matched or not. */
export function isAcceptedToken(presented: string, tokens: readonly string[]): boolean {
  let accepted = false;
  for (const token of tokens) {
    if (equalInConstantTime(presented, token)) accepted = true;
  }
  return accepted;
}
