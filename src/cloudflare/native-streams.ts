import { byobPieces, type StreamRuntime } from "../core/proxy/stream-runtime";

// Workers move the bytes of an IdentityTransformStream, and of a pipe between native
// streams, without running JavaScript; a BYOB read hands JavaScript everything that has
// arrived (up to its buffer) at once, instead of every chunk the network delivered.

export const workersStreams: StreamRuntime = {
  passThrough: () => new IdentityTransformStream() as ReadableWritablePair<Uint8Array, Uint8Array>,
  pieces: byobPieces,
};
