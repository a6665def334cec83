// Streams pre-framed pieces one write at a time, pausing between them, so clients (and the
// proxy) really receive the first chunk before the last one exists.

import { sleep, writeChunk } from "./http-io.ts";
import type { Exchange } from "./exchange.ts";
import { markStatus } from "./respond.ts";

export interface StreamPlan {
  contentType: string;
  /** Framed chunks; each is written separately, chunkDelayMs apart. */
  pieces: string[];
  /** Written right after the last piece (e.g. `data: [DONE]` or the closing `]`). */
  trailer?: string;
  chunkDelayMs: number;
  /** Destroy the socket once this many pieces are written, instead of ending cleanly. */
  resetAfterChunks?: number;
}

export async function sendStream(ex: Exchange, plan: StreamPlan): Promise<void> {
  const { res, entry, signal } = ex;
  if (res.destroyed || res.headersSent) return;
  res.writeHead(200, { "content-type": plan.contentType, "cache-control": "no-cache" });
  res.flushHeaders();
  entry.streamed = true;
  markStatus(ex, 200);

  const reset = (): void => {
    entry.serverReset = true;
    res.destroy();
  };
  for (const [index, piece] of plan.pieces.entries()) {
    if (index === plan.resetAfterChunks) return reset();
    if (index > 0) await sleep(plan.chunkDelayMs, signal);
    if (signal.aborted) return;
    await writeChunk(res, piece);
  }
  if (plan.pieces.length === plan.resetAfterChunks) return reset();
  if (signal.aborted) return;
  res.end(plan.trailer ?? "");
}
