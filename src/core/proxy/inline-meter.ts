import { UsageTail } from "../usage-tail";
import type { BodyMeter } from "./body-meter";

// The meter for runtimes whose streams run JavaScript per chunk anyway (Node's web
// streams: their tee, their pipes and their reads are JavaScript). There a tee would only
// add a copy of every chunk for its second branch: garbage outside the JavaScript heap that
// V8 frees late (with it, a 200 MB stream through a warm Node server grew it by up to 44 MiB;
// without it, by 0 to 2, bench/README.md). Instead the body passes through one stream: each
// chunk the client asks for is read from the upstream, its tail copied into the usage ring
// and handed on as it is.

const STALLED = "The upstream stopped sending in the middle of the body.";

/**
 * Passes `body` through a pull stream with no buffer of its own (high-water mark 0): the
 * upstream is read only when the client asks for the next chunk, so a slow client slows
 * the upstream instead of making the proxy hold the body. A chunk costs a read, a timestamp
 * and a copy of at most 64 KiB into the usage ring; no timer is set per chunk: one timer
 * wakes once per idle period and re-arms itself for what is left of it since the last byte.
 * No byte for `idleTimeoutMs` (an upstream that stalled, or a client that stopped reading,
 * as with the teed meter) cancels the upstream request and ends the stream as `failureTail`
 * says. `length` needs nothing here: nothing is read apart from the client's reads, and the
 * runtime's fetch holds a body to its declared length (a short one fails as a reset).
 */
export const inlineMeter: BodyMeter = (body, options) => {
  const reader = body.getReader();
  const usage = new UsageTail();
  let lastByteAt = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;

  /** Counts the body, the first time it ends (whichever way); false if it had ended already. */
  const end = (): boolean => {
    if (ended) return false;
    ended = true;
    clearTimeout(timer);
    options.onEnd(usage.usage);
    return true;
  };
  /** The body broke off: the client gets the error event in its format, or a broken stream. */
  const breakOff = (controller: ReadableStreamDefaultController<Uint8Array>, cause: "stalled" | "reset", error: unknown): void => {
    if (!end()) return;
    const tail = options.failureTail(cause);
    if (tail === null) return controller.error(error);
    controller.enqueue(tail);
    controller.close();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const { prefix } = options;
        if (prefix !== undefined) {
          usage.push(prefix);
          controller.enqueue(prefix);
        }
        const watch = (): void => {
          const silentMs = Date.now() - lastByteAt;
          if (silentMs < options.idleTimeoutMs) {
            timer = setTimeout(watch, options.idleTimeoutMs - silentMs);
            return;
          }
          const error = new Error(STALLED);
          // Cancelling the reader ends the upstream request; a read still waiting ends as done.
          void reader.cancel(error).catch(() => undefined);
          breakOff(controller, "stalled", error);
        };
        timer = setTimeout(watch, options.idleTimeoutMs);
      },
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          return breakOff(controller, "reset", error);
        }
        // Stalled (or the client left) while this read waited: the stream was settled there.
        if (ended) return;
        if (chunk.done) {
          end();
          return controller.close();
        }
        lastByteAt = Date.now();
        usage.push(chunk.value);
        controller.enqueue(chunk.value);
      },
      // The client left: count what it was served, and let the upstream request go now.
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
};
