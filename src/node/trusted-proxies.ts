import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { clientAddress, plainAddress, type TrustCheck } from "../core/client-address";
import { StartupFault } from "./startup-fault";

// TRUSTED_PROXIES: the reverse proxies (or the Docker gateway) whose X-Forwarded-For and
// X-Forwarded-Proto the Node server believes. Unset, it believes no header and counts each
// socket address as a client, which is right without a proxy and safe with one.

/** The parsed list; node:net's BlockList does the IPv4/IPv6 range matching. */
export function trustedProxies(raw: string | undefined): TrustCheck {
  const list = new BlockList();
  let entries = 0;
  for (const entry of (raw ?? "").split(/[\s,]+/).filter(Boolean)) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(bits <= max))) {
      throw new StartupFault(`TRUSTED_PROXIES has "${entry}", which is not an address or CIDR range: list addresses such as 172.17.0.1 or ranges such as 10.0.0.0/8 or fd00::/8, separated by commas.`);
    }
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
    entries++;
  }
  if (entries === 0) return () => false;
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * Sets what the app reads of the client the way Cloudflare would: CF-Connecting-IP (the
 * address failed logins count under) and X-Forwarded-Proto: http unless a trusted proxy said otherwise.
 */
export function markClient(headers: Headers, incoming: Pick<IncomingMessage, "socket">, trusted: TrustCheck): void {
  const peer = plainAddress(incoming.socket.remoteAddress ?? "unknown");
  headers.set("cf-connecting-ip", clientAddress(peer, headers.get("x-forwarded-for"), trusted));
  // The Node server itself speaks only http: without a trusted proxy saying otherwise, that
  // is what the client used (and the /stat cookie must not be Secure, see session.ts).
  if (!trusted(peer) || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", "http");
}
