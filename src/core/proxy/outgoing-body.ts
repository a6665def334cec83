import { declaredLength } from "./declared-length";
import type { StreamRuntime } from "./stream-runtime";

// How an attempt's body goes upstream, and from when UPSTREAM_TIMEOUT_MS counts: a body
// in memory is sent at once; a streamed upload (a resumable upload's chunk, never
// replayed) goes through the runtime's pass-through, whose pipe ends when the client's
// last byte went in, and only then does the timer start; a large body kept replayable
// (replayable-body.ts) goes as the tee() branch it is. Piping that branch through a
// FixedLengthStream to learn when it was sent cost ~3.5 ms of CPU per 15 MB under
// `wrangler dev` (bench, CPU block), as much as the tee itself; handing it to fetch as
// it is costs nothing more. Its timer therefore counts from the attempt's start, and
// gives the upload the time it takes at SLOW_UPLOAD_BYTES_PER_SECOND first.

/**
 * The slowest line a large body's first attempt is given time to upload over before
 * UPSTREAM_TIMEOUT_MS counts: 64 KiB/s (about 0.5 Mbit/s), one second per 64 KiB.
 */
export const SLOW_UPLOAD_BYTES_PER_SECOND = 64 * 1024;

export interface OutgoingBody {
  body: ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | null;
  /** Settles when the upstream's answer may be waited for: UPSTREAM_TIMEOUT_MS counts from then. */
  sent: Promise<void>;
  /** Time added to UPSTREAM_TIMEOUT_MS for an upload that `sent` cannot see the end of. */
  uploadMs: number;
  /**
   * The length the client declared, for a streamed body: sent as Content-Length, since
   * Node's fetch would send a stream chunked and Google's upload protocol counts on it.
   */
  length: number | undefined;
}

const SENT: Promise<void> = Promise.resolve();

/** `replayable`: the body is a branch of a ReplayableBody, not the client's upload itself. */
export function outgoingBody(
  body: ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | null,
  replayable: boolean,
  headers: Headers,
  streams: StreamRuntime,
): OutgoingBody {
  if (!(body instanceof ReadableStream)) return { body, sent: SENT, uploadMs: 0, length: undefined };
  const length = declaredLength(headers);
  if (replayable) return { body, sent: SENT, uploadMs: uploadTimeMs(length ?? 0), length };
  const pair = streams.passThrough(length);
  // A failed or cancelled pipe fails the fetch itself; the timer may start all the same.
  const sent = body.pipeTo(pair.writable).catch(() => undefined);
  return { body: pair.readable, sent, uploadMs: 0, length };
}

/** The time `bytes` take to upload at SLOW_UPLOAD_BYTES_PER_SECOND. */
export function uploadTimeMs(bytes: number): number {
  return Math.ceil((bytes / SLOW_UPLOAD_BYTES_PER_SECOND) * 1000);
}
