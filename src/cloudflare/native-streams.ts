import { byobPieces, type StreamRuntime } from "../core/proxy/stream-runtime";

// Workers move the bytes of an IdentityTransformStream, and of a pipe between native
// streams, without running JavaScript; a BYOB read hands JavaScript everything that has
// arrived (up to its buffer) at once, instead of every chunk the network delivered, and
// one that asks for at least N bytes returns once they have all arrived.

export const workersStreams: StreamRuntime = {
  // A FixedLengthStream keeps a known Content-Length on the subrequest, as the request's own body did.
  passThrough: (length) =>
    (length === undefined ? new IdentityTransformStream() : new FixedLengthStream(length)) as ReadableWritablePair<Uint8Array, Uint8Array>,
  pieces: byobPieces,
  async readStart(stream, bytes) {
    // One native read that returns once `bytes` have arrived: no JavaScript per chunk.
    const reader = stream.getReader({ mode: "byob" });
    const { value } = await reader.readAtLeast(bytes, new Uint8Array(bytes));
    reader.releaseLock();
    return value ?? new Uint8Array(0);
  },
};
