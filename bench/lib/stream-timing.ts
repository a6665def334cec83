// Times one streamed response from the moment the request is written: first body chunk
// and end of body. node:http hands over bytes as the socket delivers them, with no
// buffering of its own, so the first 'data' event is the first chunk on the wire.

import { request, type Agent } from "node:http";

export interface StreamTiming {
  status: number;
  firstChunkMs: number;
  lastChunkMs: number;
  bytes: number;
}

export interface StreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  agent: Agent;
  /** Called with every chunk's size, e.g. to sample memory while a large body flows. */
  onChunk?: (bytes: number) => void;
  /** Read no faster than this (a slow client): the socket is paused whenever it gets ahead. */
  maxBytesPerSecond?: number;
}

export function timeStream(options: StreamRequest): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstChunkMs = Number.NaN;
    let bytes = 0;
    const req = request(options.url, { method: "POST", headers: options.headers, agent: options.agent }, (res) => {
      res.on("data", (chunk: Buffer) => {
        if (bytes === 0) firstChunkMs = performance.now() - started;
        bytes += chunk.byteLength;
        options.onChunk?.(chunk.byteLength);
        if (options.maxBytesPerSecond === undefined) return;
        const aheadMs = (bytes / options.maxBytesPerSecond) * 1000 - (performance.now() - started);
        if (aheadMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), aheadMs);
        }
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, firstChunkMs, lastChunkMs: performance.now() - started, bytes }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
