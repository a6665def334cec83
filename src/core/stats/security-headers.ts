import type { Context } from "hono";
import { secureHeaders } from "hono/secure-headers";

// The page shows text that came from clients (model names) and from the upstream (error
// messages). It builds its DOM with textContent only; this policy is the second line:
// no inline script or style, nothing from other origins, no framing, forms post here only.
export const statSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    connectSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xFrameOptions: "DENY",
  // HSTS is the domain owner's decision (and meaningless on the http:// of `wrangler dev`).
  strictTransportSecurity: false,
});

/** Stats and pages built from them must not sit in any cache, shared or not. */
export function noStore(c: Context): void {
  c.header("Cache-Control", "no-store");
}
