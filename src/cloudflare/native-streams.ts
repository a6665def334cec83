import { byobPieces } from "../core/proxy/piece-reader";
import type { StreamRuntime } from "../core/proxy/stream-runtime";
import { teedMeter } from "../core/proxy/teed-meter";

// Workers move the bytes of an IdentityTransformStream, and of a pipe between native
// streams, without running JavaScript; a BYOB read hands JavaScript everything that has
// arrived (up to its buffer) at once, instead of every chunk the network delivered, and
// one that asks for at least N bytes returns once they have all arrived.

// A FixedLengthStream keeps a known Content-Length on the subrequest, as the request's own body did.
const passThrough = (length?: number): ReadableWritablePair<Uint8Array, Uint8Array> =>
  (length === undefined ? new IdentityTransformStream() : new FixedLengthStream(length)) as ReadableWritablePair<Uint8Array, Uint8Array>;

export const workersStreams: StreamRuntime = {
  passThrough,
  // JavaScript per chunk is CPU the Free plan does not have: the body is teed, the client's
  // branch piped natively, the other read a few times per answer.
  meter: teedMeter({ passThrough, pieces: byobPieces }),
  async readStart(stream, bytes) {
    // One native read that returns once `bytes` have arrived: no JavaScript per chunk.
    const reader = stream.getReader({ mode: "byob" });
    const { value } = await reader.readAtLeast(bytes, new Uint8Array(bytes));
    reader.releaseLock();
    return value ?? new Uint8Array(0);
  },
  // Workers hold a request body to its Content-Length themselves: what fills the buffer is all of it.
  async fill(stream, target, offset) {
    if (offset >= target.byteLength) return target.subarray(0, offset);
    const reader = stream.getReader({ mode: "byob" });
    try {
      // One native read into the caller's buffer, returning once it is full or the stream ended.
      const { value } = await reader.readAtLeast(target.byteLength - offset, target.subarray(offset));
      if (value === undefined) throw new TypeError("The body ended without an answer to the read.");
      return new Uint8Array(value.buffer, 0, offset + value.byteLength);
    } finally {
      reader.releaseLock();
    }
  },
};
