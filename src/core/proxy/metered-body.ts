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

class Stalled extends Error {}

function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Stalled()), ms);
  });
  return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
}

/**
 * Passes a response body through untouched, chunk by chunk as the client reads it (no
 * read-ahead: highWaterMark 0), noting the token usage on the way. A client that goes
 * away cancels the upstream read, which closes the upstream connection.
 */
export function meteredBody(body: ReadableStream<Uint8Array>, options: MeterOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const scanner = new UsageScanner();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    options.onEnd(scanner.usage);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await readWithin(reader, options.idleTimeoutMs);
          if (done) {
            end();
            controller.close();
            return;
          }
          controller.enqueue(value);
          scanner.push(value);
        } catch (error) {
          end();
          if (error instanceof Stalled) void reader.cancel("upstream stalled").catch(() => undefined);
          const tail = options.failureTail(error instanceof Stalled ? "stalled" : "reset");
          if (tail === null) {
            controller.error(error);
            return;
          }
          controller.enqueue(tail);
          controller.close();
        }
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
