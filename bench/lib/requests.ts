// The requests every scenario sends, in one place so proxy, floor and upstream get the
// same bytes. Clients authenticate with the proxy token; the floor ignores it and the
// fake upstream takes any key it has not been told is invalid.

import { proxyToken } from "../../test/setup/test-keys.ts";

export const LOAD_MODEL = "gemini-2.5-flash";
export const STREAM_MODEL = "gemini-bench-stream";
export const LARGE_MODEL = "gemini-bench-large";
export const QUOTA_MODEL = "gemini-bench-quota";
export const RETRY_MODEL = "gemini-bench-retry";

export const promptBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });

export const clientHeaders: Record<string, string> = {
  "x-goog-api-key": proxyToken,
  "content-type": "application/json",
};

export function generatePath(model: string): string {
  return `/v1beta/models/${model}:generateContent`;
}

export function streamPath(model: string): string {
  return `/v1beta/models/${model}:streamGenerateContent?alt=sse`;
}
