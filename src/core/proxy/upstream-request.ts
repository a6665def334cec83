import type { ProxyConfig } from "../config";
import type { Route } from "../route";
import { UPLOAD_EXPIRY_PARAM, UPLOAD_KEY_PARAM, UPLOAD_SIGNATURE_PARAM } from "../resources/upload-session";

// Client headers that must not reach Google: the client's own credentials, hop-by-hop
// and platform headers, and the page that made the call (a key restricted to other
// referrers would be refused, and Google has no need to know it).
const DROPPED_REQUEST_HEADERS = new Set([
  "authorization",
  "x-goog-api-key",
  "cookie",
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // The proxy has read the whole body already; an expectation is between client and proxy,
  // and an unknown one would make the upstream answer an empty 417 no SDK can parse.
  "expect",
  "accept-encoding",
  "origin",
  "referer",
  "forwarded",
  "x-real-ip",
  "true-client-ip",
  // The proxy decides by the method it sees (which key, whether to retry, who owns what);
  // an override would make Google do something else than what the proxy decided for.
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
]);

const DROPPED_PREFIXES = ["cf-", "x-forwarded-", "sec-"];

export function upstreamUrl(route: Route, config: ProxyConfig, clientUrl: URL): string {
  const query = new URLSearchParams(clientUrl.search);
  query.delete("key");
  for (const name of [UPLOAD_KEY_PARAM, UPLOAD_EXPIRY_PARAM, UPLOAD_SIGNATURE_PARAM]) query.delete(name);
  const search = query.size > 0 ? `?${query}` : "";
  if (route.style === "openai") return `${config.openaiBase}/${route.endpoint}${search}`;
  const version = route.version ?? config.defaultVersion;
  const upload = route.upload ? "/upload" : "";
  return `${config.geminiBase}${upload}/${version}/${route.resource}${search}`;
}

export function upstreamHeaders(route: Route, clientHeaders: Headers, secret: string): Headers {
  const headers = new Headers();
  for (const [name, value] of clientHeaders) {
    if (DROPPED_REQUEST_HEADERS.has(name) || DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    headers.set(name, value);
  }
  if (route.style === "openai") headers.set("authorization", `Bearer ${secret}`);
  else headers.set("x-goog-api-key", secret);
  return headers;
}

const DROPPED_RESPONSE_HEADERS = new Set([
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "alt-svc",
  "set-cookie",
  "server",
]);

/** Upstream response headers worth passing on; the body may be re-framed, so no length. */
export function clientHeaders(upstream: Headers, redact: (text: string) => string): Headers {
  const headers = new Headers();
  // Values are redacted like bodies: a Location or a session URL may carry a key. Header
  // values must stay ASCII, so the mask's ellipsis becomes three dots there.
  for (const [name, value] of upstream) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    const redacted = redact(value);
    headers.append(name, redacted === value ? value : redacted.replaceAll("…", "..."));
  }
  return headers;
}
