import type { TokenUsage } from "../usage-scanner";
import { lastUsage } from "../usage-tail";

// A small answer that is not streamed (a generateContent, an embedding, a model list) is
// most of what a proxy serves. Metering it like a stream (tee, native pipe, BYOB reads,
// rest timers) was most of the CPU the proxy added to such a request: profiled under
// `wrangler dev`, about half of it. An answer whose declared length is this small is read
// whole instead, with one timer, and answered with its bytes: it is in memory for a
// moment either way (the runtime buffers that much in flight), and nothing grows with a
// stream's length.

/** The largest declared length read whole; larger or undeclared bodies are metered as streams. */
export const SMALL_ANSWER_BYTES = 64 * 1024;

export type SmallAnswer =
  | { bytes: ArrayBuffer; usage: TokenUsage | null }
  /** The body stalled (no end within the idle timeout) or broke before its end. */
  | { failed: "stalled" | "reset" };

/** Whether an answer is read whole: a declared length within the bound, and not an event stream. */
export function isSmallAnswer(upstream: Response, declared: number | undefined): boolean {
  if (declared === undefined || declared > SMALL_ANSWER_BYTES) return false;
  return !(upstream.headers.get("content-type")?.includes("text/event-stream") ?? false);
}

/**
 * Reads a small body whole within `idleTimeoutMs` (the longest a stream may stay silent:
 * such a body arrives at once, so the whole read gets that long). A stall calls `stop`,
 * which aborts the attempt and with it the upstream request; so does a client that
 * leaves, through the attempt's signal, and the read then ends as "reset".
 */
export async function readSmallAnswer(upstream: Response, idleTimeoutMs: number, stop: () => void): Promise<SmallAnswer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<"stalled">((resolve) => {
    timer = setTimeout(() => {
      stop();
      resolve("stalled");
    }, idleTimeoutMs);
  });
  try {
    const bytes = await Promise.race([upstream.arrayBuffer(), stalled]);
    if (bytes === "stalled") return { failed: "stalled" };
    return { bytes, usage: lastUsage(new Uint8Array(bytes)) };
  } catch {
    return { failed: "reset" };
  } finally {
    clearTimeout(timer);
  }
}
