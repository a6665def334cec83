import { UsageTail } from "../usage-tail";
import type { BodyMeter } from "./body-meter";
import type { PieceReader } from "./piece-reader";

/** The plumbing the teed meter needs from the runtime. */
export interface TeeStreams {
  /** The pass-through the client's branch is piped into, natively where the runtime can. */
  passThrough(): ReadableWritablePair<Uint8Array, Uint8Array>;
  /** Reads the counting branch; `most` bounds what one read needs (a declared length). */
  pieces(stream: ReadableStream<Uint8Array>, most?: number): PieceReader;
}

/** Between reads the counting branch rests, and the runtime buffers what arrives for it. */
const MIN_REST_MS = 50;
const MAX_REST_MS = 1_000;
/** ...but never so long that more than this would pile up at the rate seen so far. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * How long to let the counting branch rest before its next read: an eighth of the time
 * the body has flowed so far (so a long answer is read a bounded number of times a
 * second, however many events it has), within the bounds above.
 */
function restMs(received: number, elapsedMs: number): number {
  const perMs = received / Math.max(1, elapsedMs);
  const byMemory = perMs > 0 ? MAX_BUFFERED_BYTES / perMs : MAX_REST_MS;
  return Math.max(MIN_REST_MS, Math.min(MAX_REST_MS, elapsedMs / 8, byMemory));
}

/** Writes `bytes` through a writable that is then piped into: the lock is released either way. */
async function writeFirst(writable: WritableStream<Uint8Array>, bytes: Uint8Array): Promise<void> {
  const writer = writable.getWriter();
  try {
    await writer.write(bytes);
  } finally {
    writer.releaseLock();
  }
}

/**
 * The meter for a runtime that pipes natively (Workers): it hands a response body to the
 * client natively and counts it on the side. The body is
 * teed: one branch is piped (by the runtime, no JavaScript per chunk) through a
 * pass-through to the client; the other is read now and then, everything that arrived
 * in between at once, keeping only its tail, where the usage is. JavaScript runs per
 * read, not per event: a few times for a fast answer, a bounded number of times a second
 * for a slow one. Because the client's branch is piped, the runtime reads the upstream
 * no faster than the client takes it, so a slow client does not make the tee buffer the
 * body for it; the counting branch holds at most what arrives while it rests.
 *
 * The upstream request ends when both branches are cancelled: a client that goes away
 * breaks the pipe, and then both branches are cancelled. A read that waits longer than the idle timeout for a byte means the
 * upstream stalled; it stops the pipe the same way. (A client that stops reading for
 * that long holds the reads back too, and is treated the same.)
 */
export const teedMeter = (streams: TeeStreams): BodyMeter => (body, options) => {
  const [toClient, toCount] = body.tee();
  const { readable, writable } = streams.passThrough();
  const { length } = options;
  const pieces = streams.pieces(toCount, length === undefined ? undefined : length + 1);
  const stopPipe = new AbortController();
  let stalled = false;

  // preventCancel: the pipe must not cancel the client's branch itself. Cancelling one
  // branch of a standard tee settles only once the other is cancelled too, and a pipe waits
  // for its cancel before it rejects, so a stall would wait for the counting branch, which
  // is cancelled only below: the stream would hang until the upstream ended by itself.
  // (Workers' native tee settles at once; Node's follows the Streams standard.)
  const pipe = { preventClose: true, preventAbort: true, preventCancel: true, signal: stopPipe.signal };
  const { prefix } = options;
  void (prefix === undefined ? toClient.pipeTo(writable, pipe) : writeFirst(writable, prefix).then(() => toClient.pipeTo(writable, pipe)))
    .then(
      () => writable.close(),
      async (error: unknown) => {
        // The upstream broke or stalled, or the client left: both branches are cancelled
        // here, together, and with both cancelled the upstream request ends.
        void pieces.cancel(error).catch(() => undefined);
        void toClient.cancel(error).catch(() => undefined);
        const writer = writable.getWriter();
        const tail = options.failureTail(stalled ? "stalled" : "reset");
        if (tail === null) return writer.abort(error);
        await writer.write(tail);
        return writer.close();
      },
    )
    .catch(() => undefined); // The client is gone: there is no one left to tell.

  void (async () => {
    const usage = new UsageTail();
    if (prefix !== undefined) usage.push(prefix);
    const started = Date.now();
    let received = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        timer = setTimeout(() => {
          stalled = true;
          stopPipe.abort(new Error("The upstream stopped sending in the middle of the body."));
        }, options.idleTimeoutMs);
        const piece = await pieces.read();
        clearTimeout(timer);
        if (piece === null) break;
        received += piece.byteLength;
        usage.push(piece);
        if (length !== undefined && received >= length) {
          // All of it: what remains of the branch is its end, which the client's pipe reads.
          void pieces.cancel(undefined).catch(() => undefined);
          break;
        }
        // A full piece means more is waiting: read on, or the tee would pile it up for this branch.
        if (piece.byteLength < pieces.capacity) {
          await new Promise((resolve) => setTimeout(resolve, restMs(received, Date.now() - started)));
        }
      }
    } catch {
      // Reset, stalled or abandoned: what was served so far is still counted.
    } finally {
      clearTimeout(timer);
      options.onEnd(usage.usage);
    }
  })();

  return readable;
};
