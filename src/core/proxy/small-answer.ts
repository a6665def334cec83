import type { TokenUsage } from "../usage-scanner";
import { lastUsage } from "../usage-tail";
import type { Deadline } from "./deadline";
import type { StreamRuntime } from "./stream-runtime";

// A small answer that is not streamed (a generateContent, an embedding, a model list) is
// most of what a proxy serves. Metering it like a stream (tee, native pipe, BYOB reads,
// rest timers) was most of the CPU the proxy added to such a request: profiled under
// `wrangler dev`, about half of it. An answer whose declared length is this small is read
// whole instead, with one timer, and answered with its bytes: it is in memory for a
// moment either way (the runtime buffers that much in flight), and nothing grows with a
// stream's length. An answer whose length is not declared (sent chunked, or compressed
// on the way and decoded by the runtime) is read as far as one byte past the bound, in
// one native read: if it ended by then it is small; if not, what was read goes first
// and the rest is metered as a stream.

/** The largest answer read whole; a larger one is metered as a stream. */
export const SMALL_ANSWER_BYTES = 64 * 1024;

export type SmallAnswer =
  | { bytes: Uint8Array; usage: TokenUsage | null }
  /** The body stalled (no end within the idle timeout) or broke before its end. */
  | { failed: "stalled" | "reset" }
  /** An undeclared length that turned out larger than the bound: its start, and the rest still to read. */
  | { start: Uint8Array; rest: ReadableStream<Uint8Array> };

/**
 * How a success's body is passed on: read whole (a declared small length), read whole if
 * it turns out small (no declared length), or metered as a stream (`streamed`: an event
 * stream, or a stream of another form such as streamGenerateContent's JSON array, which
 * must reach the client as it comes; and a declared large length).
 */
export function answerReading(declared: number | undefined, streamed: boolean): "whole" | "start" | "stream" {
  if (streamed) return "stream";
  if (declared === undefined) return "start";
  return declared <= SMALL_ANSWER_BYTES ? "whole" : "stream";
}

/** How a small answer's read is bounded. */
export interface SmallAnswerWait {
  /** The longest a stream may stay silent: such a body arrives at once, so the whole read gets that long. */
  idleTimeoutMs: number;
  /** The request's timer (deadline.ts). */
  deadline: Deadline;
  /** Aborts the attempt, and with it the upstream request. */
  stop: () => void;
}

/**
 * Reads a small body (`body`, the upstream's) whole within `wait.idleTimeoutMs`; with
 * `reading` "start", at most one byte past the bound. A stall calls `stop`, which aborts
 * the attempt; a client that leaves aborts it too, through the attempt's signal, and the
 * read then ends as "reset".
 */
export async function readSmallAnswer(
  upstream: Response,
  body: ReadableStream<Uint8Array>,
  reading: "whole" | "start",
  wait: SmallAnswerWait,
  streams: StreamRuntime,
): Promise<SmallAnswer> {
  const stalled = new Promise<"stalled">((resolve) => {
    wait.deadline.set(wait.idleTimeoutMs, () => {
      wait.stop();
      resolve("stalled");
    });
  });
  const read = reading === "whole" ? upstream.arrayBuffer().then((whole) => new Uint8Array(whole)) : streams.readStart(body, SMALL_ANSWER_BYTES + 1);
  try {
    const bytes = await Promise.race([read, stalled]);
    if (bytes === "stalled") return { failed: "stalled" };
    if (bytes.byteLength > SMALL_ANSWER_BYTES) return { start: bytes, rest: body };
    return { bytes, usage: lastUsage(bytes) };
  } catch {
    return { failed: "reset" };
  } finally {
    wait.deadline.pause();
  }
}
