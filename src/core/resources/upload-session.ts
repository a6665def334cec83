import type { KeyRing } from "../key-ring";

// A resumable upload is a session with the key that started it. Google answers the
// start with a session URL on its own host; the proxy points that URL back at itself
// and adds which pool key holds the session (its fingerprint id, not the key), so
// chunks find their key whether the SDK uses the URL as given or swaps only its host.
//
// Google's session URL is a capability: its documented curl flow sends the chunks with
// no API key at all. The proxy's URL is one too, signed with the session's pool key, so
// such chunks are accepted without the proxy token, and only for the session they name.

export const UPLOAD_KEY_PARAM = "pool_key_id";
export const UPLOAD_SIGNATURE_PARAM = "pool_sig";

const encoder = new TextEncoder();

async function signature(secret: string, uploadId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`upload-session:${uploadId}`)));
  return [...mac.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** The session URL the client gets: the proxy's origin, Google's path and query, the key id and its signature. */
export async function proxiedUploadUrl(upstreamUrl: string, proxyOrigin: string, key: { id: string; secret: string }): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    return null;
  }
  // Anything before /upload/ is the upstream's own prefix (a gateway path), not ours.
  const at = url.pathname.indexOf("/upload/");
  if (at === -1) return null;
  const query = new URLSearchParams(url.search);
  // Google's session URLs carry no key, but one never leaves the proxy in a URL either.
  query.delete("key");
  query.set(UPLOAD_KEY_PARAM, key.id);
  const uploadId = query.get("upload_id");
  if (uploadId !== null) query.set(UPLOAD_SIGNATURE_PARAM, await signature(key.secret, uploadId));
  return `${proxyOrigin}${url.pathname.slice(at)}?${query}`;
}

/** The key id an upload chunk names, if it is one. */
export function uploadOwner(url: URL): string | undefined {
  const id = url.searchParams.get(UPLOAD_KEY_PARAM);
  return id !== null && /^[0-9a-f]{16}$/.test(id) ? id : undefined;
}

/** Is this a chunk for a session URL the proxy itself handed out (so it needs no proxy token)? */
export async function isSignedUploadChunk(url: URL, keyRing: KeyRing): Promise<boolean> {
  const uploadId = url.searchParams.get("upload_id");
  const presented = url.searchParams.get(UPLOAD_SIGNATURE_PARAM);
  const keyId = uploadOwner(url);
  const key = keyId === undefined ? undefined : keyRing.byId(keyId);
  if (!url.pathname.startsWith("/upload/") || uploadId === null || presented === null || key === undefined) return false;
  return equalInConstantTime(presented, await signature(key.secret, uploadId));
}
