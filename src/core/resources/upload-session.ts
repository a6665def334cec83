import type { PoolKey } from "../key-ring";

// A resumable upload is a session with the key that started it. Google answers the
// start with a session URL on its own host; the proxy points that URL back at itself
// and adds which pool key holds the session (its fingerprint id, not the key), so
// chunks find their key whether the SDK uses the URL as given or swaps only its host.
//
// Google's session URL is a capability: its documented curl flow sends the chunks with
// no API key at all. The proxy's URL is one too, but a narrow one: the signature covers
// the path (so the API version), every query parameter (so the one upload_id, and no
// pageToken or second upload_id can be added) and an expiry. A request without a proxy
// token is admitted on it only as a chunk of that one session (see `isSignedUploadChunk`).

export const UPLOAD_KEY_PARAM = "pool_key_id";
export const UPLOAD_EXPIRY_PARAM = "pool_exp";
export const UPLOAD_SIGNATURE_PARAM = "pool_sig";

/**
 * How long a session URL works without a token. Uploads of Google's largest files (2 GB)
 * over a slow link, resumed after interruptions, take hours; a day covers them, and the
 * file itself only lives 48 hours.
 */
export const UPLOAD_URL_LIFETIME_MS = 24 * 3_600_000;

/** The commands of the resumable protocol a session URL alone may send: chunks and the status query. */
const CHUNK_COMMANDS = new Set(["upload", "upload, finalize", "query"]);
const SESSION_PATH = /^\/upload\/(v1beta|v1|v1alpha)\/files$/;
/**
 * The request headers such a chunk passes on: what the chunk protocol uses, nothing more.
 * Anything else the holder of a leaked URL added (a method override, a header that asks
 * Google for something else) would otherwise go out with the pool key.
 */
const CHUNK_HEADERS = new Set(["x-goog-upload-command", "x-goog-upload-offset", "content-type", "content-length", "accept", "user-agent"]);

const encoder = new TextEncoder();

/** Everything a tokenless request may not change: method-independent path and the full query but the signature. */
function signedText(pathname: string, query: URLSearchParams): string {
  const pairs = [...query].filter(([name]) => name !== UPLOAD_SIGNATURE_PARAM).map(([name, value]) => `${name}=${value}`);
  return `upload-session:v2\n${pathname}\n${pairs.sort().join("&")}`;
}

async function signature(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return [...mac.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** The session URL the client gets: the proxy's origin, Google's path and query, the key id, an expiry and the signature. */
export async function proxiedUploadUrl(
  upstreamUrl: string,
  proxyOrigin: string,
  key: { id: string; secret: string },
  now: number,
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    return null;
  }
  // Anything before /upload/ is the upstream's own prefix (a gateway path), not ours.
  const at = url.pathname.indexOf("/upload/");
  if (at === -1) return null;
  const pathname = url.pathname.slice(at);
  const query = new URLSearchParams(url.search);
  // Google's session URLs carry no key, but one never leaves the proxy in a URL either.
  query.delete("key");
  for (const name of [UPLOAD_KEY_PARAM, UPLOAD_EXPIRY_PARAM, UPLOAD_SIGNATURE_PARAM]) query.delete(name);
  query.set(UPLOAD_KEY_PARAM, key.id);
  // Only a session URL (one upload_id, on the files path) gets a signature; anything else would be a broader capability.
  if (query.getAll("upload_id").length === 1 && SESSION_PATH.test(pathname)) {
    query.set(UPLOAD_EXPIRY_PARAM, String(Math.floor((now + UPLOAD_URL_LIFETIME_MS) / 1000)));
    query.set(UPLOAD_SIGNATURE_PARAM, await signature(key.secret, signedText(pathname, query)));
  }
  return `${proxyOrigin}${pathname}?${query}`;
}

/** The key id an upload chunk names, if it is one. */
export function uploadOwner(url: URL): string | undefined {
  const id = url.searchParams.get(UPLOAD_KEY_PARAM);
  return id !== null && /^[0-9a-f]{16}$/.test(id) ? id : undefined;
}

/**
 * Is this, without a proxy token, exactly a chunk of a session URL the proxy handed out?
 * POST (the only method of Google's resumable protocol), a chunk or status command, the
 * signed path and query unchanged, before the signed expiry.
 */
export async function isSignedUploadChunk(
  method: string,
  url: URL,
  headers: Headers,
  lookup: (keyId: string) => Promise<PoolKey | undefined>,
  now: number,
): Promise<boolean> {
  const command = (headers.get("x-goog-upload-command") ?? "").split(",").map((part) => part.trim().toLowerCase()).join(", ");
  if (method !== "POST" || !CHUNK_COMMANDS.has(command) || !SESSION_PATH.test(url.pathname)) return false;
  const query = url.searchParams;
  // Each parameter once: a repeated one could be read differently by the upstream than by the signature.
  const names = [...query.keys()];
  if (new Set(names).size !== names.length || query.getAll("upload_id").length !== 1) return false;
  const expires = Number(query.get(UPLOAD_EXPIRY_PARAM));
  const presented = query.get(UPLOAD_SIGNATURE_PARAM);
  const keyId = uploadOwner(url);
  // Looked up last: for a runtime key this process has not met yet, the lookup asks the key manager.
  if (keyId === undefined || presented === null || !Number.isSafeInteger(expires) || expires * 1000 <= now) return false;
  const key = await lookup(keyId);
  if (key === undefined) return false;
  return equalInConstantTime(presented, await signature(key.secret, signedText(url.pathname, query)));
}

/** The headers of a chunk admitted by its session URL alone, cut down to CHUNK_HEADERS. */
export function sessionChunkHeaders(headers: Headers): Headers {
  const kept = new Headers();
  for (const [name, value] of headers) if (CHUNK_HEADERS.has(name)) kept.set(name, value);
  return kept;
}
