// Small promise wrappers over node:http streams.

import type { IncomingMessage, ServerResponse } from "node:http";

export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req)).toString("utf8");
}

/** Resolves early (without throwing) when the signal aborts, so handlers just check the signal. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Resolves once the data is handed to the socket, so a following destroy cannot swallow it. */
export function writeChunk(res: ServerResponse, data: string): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    // A socket closed mid-write may never call back; 'close' settles the promise instead.
    const done = (): void => {
      res.off("close", done);
      resolve();
    };
    res.once("close", done);
    res.write(data, done);
  });
}

export type JsonParse = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: text.trim() === "" ? {} : (JSON.parse(text) as unknown) };
  } catch {
    return { ok: false };
  }
}
