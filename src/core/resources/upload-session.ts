// A resumable upload is a session with the key that started it. Google answers the
// start with a session URL on its own host; the proxy points that URL back at itself
// and adds which pool key holds the session (its fingerprint id, not the key), so
// chunks find their key whether the SDK uses the URL as given or swaps only its host.

export const UPLOAD_KEY_PARAM = "pool_key_id";

/** The session URL the client gets: the proxy's origin, Google's path and query, plus the key id. */
export function proxiedUploadUrl(upstreamUrl: string, proxyOrigin: string, keyId: string): string | null {
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
  query.set(UPLOAD_KEY_PARAM, keyId);
  return `${proxyOrigin}${url.pathname.slice(at)}?${query}`;
}

/** The key id an upload chunk names, if it is one. */
export function uploadOwner(url: URL): string | undefined {
  const id = url.searchParams.get(UPLOAD_KEY_PARAM);
  return id !== null && /^[0-9a-f]{16}$/.test(id) ? id : undefined;
}
