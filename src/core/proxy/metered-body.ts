import { UsageScanner, type TokenUsage } from "../usage-scanner";

/**
 * Passes a response body through untouched, chunk by chunk as the client reads it (no
 * read-ahead: highWaterMark 0), noting the token usage on the way. `onEnd` runs once,
 * when the body ends, fails or the client goes away; a client that goes away cancels
 * the upstream read, which closes the upstream connection.
 */
export function meteredBody(
  body: ReadableStream<Uint8Array>,
  onEnd: (usage: TokenUsage | null) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const scanner = new UsageScanner();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd(scanner.usage);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            end();
            controller.close();
            return;
          }
          controller.enqueue(value);
          scanner.push(value);
        } catch (error) {
          end();
          controller.error(error);
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
