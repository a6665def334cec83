import { byobPieces, standardStreams, type StreamRuntime } from "../core/proxy/stream-runtime";

// Node's fetch bodies are byte streams, and so are their tee branches: the counting branch
// reads everything that has arrived at once and rests in between, as on Workers, instead
// of waking for every chunk. The pass-through to the client is a standard one (Node has
// no native identity stream).

export const nodeStreams: StreamRuntime = {
  passThrough: standardStreams.passThrough,
  pieces: byobPieces,
  // A request body's start is read chunk by chunk: a few reads for 64 KiB.
  readStart: standardStreams.readStart,
  fill: standardStreams.fill,
};
