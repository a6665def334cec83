import { joinChunks } from "../bytes";

// The stream plumbing a response body's meter needs, with what standard Web streams offer
// as the default. A runtime that can move bytes without running JavaScript per chunk
// (Workers: IdentityTransformStream, pipes between native streams, BYOB reads into one
// large buffer) provides its own in the services.

/** Reads a byte stream a piece at a time: all that has arrived, up to the reader's buffer. */
export interface PieceReader {
  /**
   * The most one read returns. A shorter piece means the reader took everything that had
   * arrived, so the reader may rest; 0 when that cannot be told (then it never rests).
   */
  readonly capacity: number;
  /** The next piece (at least one byte), or null once the stream has ended. Rejects when it fails. */
  read(): Promise<Uint8Array | null>;
  /** Stops reading: a pending read ends as if the stream had ended. */
  cancel(reason: unknown): Promise<void>;
}

export interface StreamRuntime {
  /**
   * A pass-through pair; the client's side of a response body is piped through it, and an
   * upload on its way upstream. `length`, when known, is kept for the upstream to see.
   */
  passThrough(length?: number): ReadableWritablePair<Uint8Array, Uint8Array>;
  /** `most`: an upper bound on what one read needs to take, when known (a declared length). */
  pieces(stream: ReadableStream<Uint8Array>, most?: number): PieceReader;
  /**
   * Reads the first `bytes` of a stream or more (fewer only if it ends first) and
   * releases it: the rest can still be read, teed or piped.
   */
  readStart(stream: ReadableStream<Uint8Array>, bytes: number): Promise<Uint8Array>;
  /**
   * Reads a stream to its end into `target`, after its first `offset` bytes (which the
   * caller filled), so that a body is held once, in a buffer of its declared size. Resolves
   * with the filled part of the buffer: use it, not `target`, whose memory a native read
   * may have moved. Where the runtime does not hold a request body to its declared length
   * itself, rejects with LongerThanDeclared if the stream holds more than fits.
   */
  fill(stream: ReadableStream<Uint8Array>, target: Uint8Array, offset: number): Promise<Uint8Array>;
}

/** A body holds more bytes than it declared. */
export class LongerThanDeclared extends RangeError {}

/** Standard streams: correct anywhere, but a piece is whatever one chunk the stream yields. */
export const standardStreams: StreamRuntime = {
  passThrough: () => new TransformStream<Uint8Array, Uint8Array>(),
  pieces(stream) {
    const reader = stream.getReader();
    return {
      capacity: 0,
      async read() {
        const { done, value } = await reader.read();
        return done ? null : value;
      },
      cancel: (reason) => reader.cancel(reason),
    };
  },
  async readStart(stream, bytes) {
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    reader.releaseLock();
    return joinChunks(chunks, size);
  },
  async fill(stream, target, offset) {
    const reader = stream.getReader();
    let at = offset;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (at + chunk.value.byteLength > target.byteLength) {
        await reader.cancel();
        throw new LongerThanDeclared("The body is longer than its declared length.");
      }
      target.set(chunk.value, at);
      at += chunk.value.byteLength;
    }
    return target.subarray(0, at);
  },
};

/** One buffer per body, reused for every read: the meter copies what it keeps. */
const PIECE_BYTES = 256 * 1024;

/**
 * Reads a byte stream (a fetch body, on Workers and on Node) with BYOB reads into one large
 * buffer: each read hands over everything that has arrived, up to the buffer, at once,
 * instead of every chunk the network delivered, so the reader may rest between reads.
 */
export function byobPieces(stream: ReadableStream<Uint8Array>, most?: number): PieceReader {
  const reader = stream.getReader({ mode: "byob" });
  // A small answer's buffer is its size: a fresh 256 KiB for each was measurable.
  const capacity = Math.min(PIECE_BYTES, most ?? PIECE_BYTES);
  let buffer = new ArrayBuffer(capacity);
  return {
    capacity,
    async read() {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value !== undefined) buffer = value.buffer;
      return done || value === undefined ? null : value;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
