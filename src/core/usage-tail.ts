import { concatBytes, lastIndexOfBytes, marker } from "./bytes";
import { UsageScanner, type TokenUsage } from "./usage-scanner";

// The token usage of a response body, from the end of the body only. Usage is reported
// last: a non-streamed answer ends with its usage object (Gemini's `usageMetadata`,
// OpenAI's `usage`, followed at most by a model version and a response id), and in a
// stream every event's usage is the running total, so the last one is the answer's.
// Keeping the last TAIL_BYTES of the body and looking for the last marker in them at the
// end costs the same whether the answer has forty events or four thousand.

/** Far more than the few hundred bytes a usage object and what follows it take. */
const TAIL_BYTES = 64 * 1024;
const MARKERS = ['"usageMetadata":', '"usage":'].map(marker);
/** Markers tried from the end; a tail of `"usage":null` (never seen in practice) stops here. */
const MAX_TRIES = 8;

/**
 * The last TAIL_BYTES of a body, pushed in pieces. They are copied into one buffer that is
 * reused as a ring, so a piece costs a copy of at most TAIL_BYTES and no allocation: the
 * Node server pushes every chunk of a stream (tens of thousands for 200 MB), and a fresh
 * buffer per chunk would be garbage outside the JavaScript heap that V8 frees late. A
 * copy, not a reference: a piece may be a reused BYOB buffer, overwritten by the next read.
 */
export class UsageTail {
  #ring: Uint8Array | undefined;
  /** Where the next byte goes; while the ring has not wrapped, also how many it holds. */
  #end = 0;
  #wrapped = false;

  /** Takes the next piece of the body (any size). */
  push(piece: Uint8Array): void {
    const bytes = piece.byteLength > TAIL_BYTES ? piece.subarray(piece.byteLength - TAIL_BYTES) : piece;
    const ring = (this.#ring ??= new Uint8Array(TAIL_BYTES));
    const first = Math.min(bytes.byteLength, TAIL_BYTES - this.#end);
    ring.set(bytes.subarray(0, first), this.#end);
    ring.set(bytes.subarray(first), 0);
    const end = this.#end + bytes.byteLength;
    if (end >= TAIL_BYTES) this.#wrapped = true;
    this.#end = end % TAIL_BYTES;
  }

  /**
   * The last complete usage object in the tail. A body cut off inside its last usage
   * object (a broken stream) falls back to the one before, as the streaming scanner did.
   */
  get usage(): TokenUsage | null {
    const ring = this.#ring;
    if (ring === undefined) return null;
    return lastUsage(this.#wrapped ? concatBytes(ring.subarray(this.#end), ring.subarray(0, this.#end)) : ring.subarray(0, this.#end));
  }
}

/**
 * The last complete usage object in `bytes` (a whole small answer, or the tail of a long
 * one), found from the end without copying or decoding what precedes it.
 */
export function lastUsage(bytes: Uint8Array): TokenUsage | null {
  let before = bytes.byteLength;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const at = Math.max(...MARKERS.map((marked) => lastIndexOfBytes(bytes, marked, before)));
    if (at < 0) return null;
    const scanner = new UsageScanner();
    scanner.push(bytes.subarray(at));
    if (scanner.usage !== null) return scanner.usage;
    before = at - 1;
  }
  return null;
}
