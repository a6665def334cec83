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

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

// Comparing fixed-length digests with an accumulated XOR takes the same time whatever
// the presented token is, so response timing tells an attacker nothing about a token.
function equalInConstantTime(presented: Uint8Array, expected: Uint8Array): boolean {
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= (presented[i] ?? 0) ^ (expected[i] ?? 0);
  return difference === 0;
}

// The configured tokens do not change while a configuration lives: their digests are
// computed once per token list, not on every request.
const configuredDigests = new WeakMap<readonly string[], Promise<Uint8Array[]>>();

function digestsOf(tokens: readonly string[]): Promise<Uint8Array[]> {
  let digests = configuredDigests.get(tokens);
  if (digests === undefined) {
    digests = Promise.all(tokens.map(digest));
    configuredDigests.set(tokens, digests);
  }
  return digests;
}

/** True when `presented` equals one of `tokens`; every token is compared, matched or not. */
export async function isAcceptedToken(presented: string, tokens: readonly string[]): Promise<boolean> {
  const [presentedDigest, expected] = await Promise.all([digest(presented), digestsOf(tokens)]);
  let accepted = false;
  for (const digested of expected) {
    if (equalInConstantTime(presentedDigest, digested)) accepted = true;
  }
  return accepted;
}
