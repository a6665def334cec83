import type { TokenUsage } from "../usage-scanner";

// How a response body reaches the client and is counted on the way: one function type,
// two implementations, chosen by the runtime (StreamRuntime.meter). Workers tee the body
// and pipe one branch natively, so JavaScript runs per read, not per chunk (teed-meter.ts);
// where streams run JavaScript per chunk anyway (Node), the body passes through one
// stream that looks at each chunk as it goes by (inline-meter.ts), without a tee's copy.

export interface MeterOptions {
  /** Longest the upstream may stay silent in the middle of a body. */
  idleTimeoutMs: number;
  /** Runs once, when the body ends, fails, stalls or the client goes away. */
  onEnd(usage: TokenUsage | null): void;
  /**
   * The last words for a client whose stream broke (upstream reset or stalled): an error
   * event in the stream's own format, after which the stream ends cleanly. Null where
   * the format has no such thing; the connection is then closed with an error.
   */
  failureTail(cause: "stalled" | "reset"): Uint8Array | null;
  /**
   * The body's length, when the upstream declared it (an answer that is not streamed): a
   * meter that reads the body apart from the client stops counting once it has read that
   * much, with no buffer larger than the body.
   */
  length?: number;
  /** The body's start, already read from it: the client gets it first, and it is counted. */
  prefix?: Uint8Array;
}

/**
 * Hands `body` to the client as the returned stream and counts it: `onEnd` runs exactly
 * once, with the usage found at the body's end. A client that leaves cancels `body` (and
 * with it the upstream request) at once; a body silent for `idleTimeoutMs` is cancelled
 * and ends as `failureTail` says; a slow client slows the reading of `body` instead of
 * making the meter hold it.
 */
export type BodyMeter = (body: ReadableStream<Uint8Array>, options: MeterOptions) => ReadableStream<Uint8Array>;
