// Who a request came from, when the socket peer may be a reverse proxy. The runtime adapter
// knows the socket's address and which addresses it trusts (TRUSTED_PROXIES); this decides,
// without any runtime API, which address counts. Only a trusted peer's X-Forwarded-For is
// read, and in it only the right-most entry that no trusted proxy added: every entry left of
// it is whatever the client chose to send, so taking the left-most would let any client pick
// the address its failed logins are counted under.

export type TrustCheck = (address: string) => boolean;

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) as `192.0.2.1`, so one list of IPv4 ranges matches both. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** The client's address: the peer itself unless it is trusted, else the right-most untrusted X-Forwarded-For entry. */
export function clientAddress(peer: string, forwardedFor: string | null, trusted: TrustCheck): string {
  const socket = plainAddress(peer);
  if (!trusted(socket) || forwardedFor === null) return socket;
  const hops = forwardedFor
    .split(",")
    .map((hop) => plainAddress(hop.trim()))
    .filter((hop) => hop.length > 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? "";
    if (!trusted(hop)) return hop;
  }
  // Every hop is a trusted proxy: the left-most is the nearest thing to a client there is.
  return hops[0] ?? socket;
}

/**
 * True when the client reached the proxy over https: the request's own scheme, or the
 * X-Forwarded-Proto of a proxy in front that terminated TLS (the adapter passes that header
 * on only from a trusted proxy; Cloudflare sets it itself). With several hops the first
 * names the client's scheme.
 */
export function viaHttps(url: string, forwardedProto: string | undefined): boolean {
  return url.startsWith("https:") || forwardedProto?.split(",")[0]?.trim().toLowerCase() === "https";
}
