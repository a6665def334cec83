import { UsageScanner, type TokenUsage } from "../usage-scanner";

export interface MeterOptions {
  /** Longest silence allowed between two upstream chunks. */
  idleTimeoutMs: number;
  /** Runs once, when the body ends, fails, stalls or the client goes away. */
  onEnd(usage: TokenUsage | null): void;
  /**
   * The last words for a client whose stream broke (upstream reset or stalled): an error
   * event in the stream's own format, after which the stream ends cleanly. Null where
   * the format has no such thing; the connection is then closed with an error.
   */
  failureTail(cause: "stalled" | "reset"): Uint8Array | null;
}

/**
 * Watches the upstream reads of one body: a read that waits longer than `idleMs` means the
 * upstream stalled. One timer per quiet period, not one (and a promise race) per chunk;
 * time the client takes to ask for the next chunk does not count.
 */
function stallWatch(idleMs: number, onStall: () => void) {
  let readingSince: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (delay: number): void => {
    timer = setTimeout(() => {
      timer = undefined;
      if (readingSince === null) return;
      const waited = Date.now() - readingSince;
      if (waited >= idleMs) onStall();
      else arm(idleMs - waited);
    }, delay);
  };
  return {
    reading(): void {
      readingSince = Date.now();
      if (timer === undefined) arm(idleMs);
    },
    read(): void {
      readingSince = null;
    },
    stop(): void {
      readingSince = null;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * Passes a response body through untouched, chunk by chunk as the client reads it (no
 * read-ahead: highWaterMark 0), noting the token usage on the way. A client that goes
 * away cancels the upstream read, which closes the upstream connection.
 */
export function meteredBody(body: ReadableStream<Uint8Array>, options: MeterOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const scanner = new UsageScanner();
  let stalled = false;
  const watch = stallWatch(options.idleTimeoutMs, () => {
    stalled = true;
    // Ends the pending read (done), which pull() then reports as a stall.
    void reader.cancel("upstream stalled").catch(() => undefined);
  });
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    watch.stop();
    options.onEnd(scanner.usage);
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, cause: "stalled" | "reset", error: unknown): void => {
    end();
    const tail = options.failureTail(cause);
    if (tail === null) {
      controller.error(error);
      return;
    }
    controller.enqueue(tail);
    controller.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        watch.reading();
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          fail(controller, stalled ? "stalled" : "reset", error);
          return;
        }
        watch.read();
        if (stalled) {
          fail(controller, "stalled", new Error("The upstream stopped sending in the middle of the body."));
          return;
        }
        if (result.done) {
          end();
          controller.close();
          return;
        }
        controller.enqueue(result.value);
        scanner.push(result.value);
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
