import type { StreamRuntime } from "../core/proxy/stream-runtime";

// Workers move the bytes of an IdentityTransformStream, and of a pipe between native
// streams, without running JavaScript; a BYOB read hands JavaScript everything that has
// arrived (up to its buffer) at once, instead of every chunk the network delivered.

/** One buffer per body, reused for every read: the meter copies what it keeps. */
const PIECE_BYTES = 256 * 1024;

export const workersStreams: StreamRuntime = {
  passThrough: () => new IdentityTransformStream() as ReadableWritablePair<Uint8Array, Uint8Array>,
  pieces(stream) {
    const reader = stream.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(PIECE_BYTES);
    return {
      capacity: PIECE_BYTES,
      async read() {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (value !== undefined) buffer = value.buffer;
        return done || value === undefined ? null : value;
      },
      cancel: (reason) => reader.cancel(reason),
    };
  },
};
