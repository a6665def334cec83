// Writing complete (non-streamed) answers and keeping the log entry in step with them.

import type { ErrorReply } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";

const JSON_TYPE = "application/json; charset=UTF-8";

/** Records the status and, for a 2xx answer to a model request, the per-key success count. */
export function markStatus(ex: Exchange, status: number): void {
  ex.entry.status = status;
  const { apiKey, model } = ex.entry;
  if (status >= 200 && status < 300 && apiKey !== null && model !== null) ex.state.requests.countSuccess(apiKey, model);
}

export function sendJson(ex: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  const text = JSON.stringify(body);
  ex.res.writeHead(status, { ...headers, "content-type": JSON_TYPE, "content-length": Buffer.byteLength(text) });
  ex.res.end(text);
  markStatus(ex, status);
}

/**
 * A JSON answer that breaks off: headers with the whole length, half the body, then no
 * more until the client leaves ("stall") or a destroyed socket ("reset"). Google served
 * (and counts) it, so it counts as a success in the log.
 */
export function sendCutJson(ex: Exchange, body: unknown, cut: "stall" | "reset"): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  const text = JSON.stringify(body);
  ex.res.writeHead(200, { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(text) });
  markStatus(ex, 200);
  // Written, then reset a moment later: the client has the headers and half the body by then.
  ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => {
    if (cut !== "reset") return;
    setTimeout(() => {
      ex.entry.serverReset = true;
      ex.res.destroy();
    }, 50);
  });
}

/** A whole JSON answer without a Content-Length: its first half, then a moment later the rest. */
export function sendChunkedJson(ex: Exchange, body: unknown): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  const text = JSON.stringify(body);
  ex.res.writeHead(200, { "content-type": JSON_TYPE });
  markStatus(ex, 200);
  const half = Math.floor(text.length / 2);
  ex.res.write(text.slice(0, half), () => setTimeout(() => ex.res.end(text.slice(half)), 20));
}

/** OpenAI-compatible routes wrap Google's envelope in a JSON array, as Google does. */
export function sendError(ex: Exchange, reply: ErrorReply): void {
  sendJson(ex, reply.status, ex.entry.dialect === "openai" ? [reply.body] : reply.body, reply.headers);
}
