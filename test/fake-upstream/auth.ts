// Where each dialect carries the API key, as Google reads it.

import type { IncomingMessage } from "node:http";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const match = header(req, "authorization")?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim();
}

/** Native routes: `x-goog-api-key` header first, then `?key=`. A bearer token is not an API key there. */
export function nativeApiKey(req: IncomingMessage, url: URL): string | undefined {
  const fromHeader = header(req, "x-goog-api-key");
  if (fromHeader !== undefined && fromHeader !== "") return fromHeader;
  const fromQuery = url.searchParams.get("key");
  return fromQuery === null || fromQuery === "" ? undefined : fromQuery;
}

/** OpenAI-compatible routes: `Authorization: Bearer <key>`. */
export function openAiApiKey(req: IncomingMessage): string | undefined {
  return bearerToken(req);
}
