import { joinChunks } from "../bytes";
import type { BodyMeter } from "./body-meter";
import { inlineMeter } from "./inline-meter";

// The stream plumbing the proxy needs for bodies (a response's meter, an upload's pipe, a
// request body's start and its copy), with what standard Web streams offer as the default.
// A runtime that can move bytes without running JavaScript per chunk (Workers:
// IdentityTransformStream, pipes between native streams, BYOB reads into one large buffer)
// provides its own in the services.

export interface StreamRuntime {
  /**
   * A pass-through pair that an upload on its way upstream is piped through. `length`, when
   * known, is kept for the upstream to see.
   */
  passThrough(length?: number): ReadableWritablePair<Uint8Array, Uint8Array>;
  /** How a response body is passed to the client and counted (body-meter.ts). */
  meter: BodyMeter;
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

/** Standard streams: correct anywhere; each chunk a stream yields is handled as it comes. */
export const standardStreams: StreamRuntime = {
  passThrough: () => new TransformStream<Uint8Array, Uint8Array>(),
  // Standard pipes and tees run JavaScript per chunk anyway: a tee would only add a copy.
  meter: inlineMeter,
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
