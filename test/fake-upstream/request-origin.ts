// Google names resources by its own host (upload session URLs, file URIs); the fake uses
// the host the request came to, so the URLs it hands out point back at itself.

import type { IncomingMessage } from "node:http";

export function requestOrigin(req: IncomingMessage): string {
  return `http://${req.headers.host ?? "127.0.0.1"}`;
}
